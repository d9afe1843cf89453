/** Characters (code points) of a key per directory level in the posixflat layout. */
export const FLAT_CHUNK = 8;
/** Suffix of a file whose key length is a non-zero multiple of {@link FLAT_CHUNK}. */
export const FLAT_FILE_MARKER = '.f';

function escapeChar(c: string): string {
  if (c === '/') return '%2F';
  if (c === '%') return '%25';
  return c;
}

/**
 * A chunk made only of `.` or `..` would be a path traversal (the key `abcdefgh..` is valid
 * but its second chunk is `..`); its dots are escaped as `%2E`. Agola's scheme has no such
 * case: its paths there are broken, so no existing store holds one.
 */
function safeChunk(chunk: string): string {
  return chunk === '.' || chunk === '..' ? chunk.replaceAll('.', '%2E') : chunk;
}

/** The escaped chunks of a key: every {@link FLAT_CHUNK} code points, `/` and `%` escaped. */
function escapedChunks(key: string): string[] {
  const chunks: string[] = [];
  let cur = '';
  let n = 0;
  for (const c of key) {
    cur += escapeChar(c);
    if (++n === FLAT_CHUNK) {
      chunks.push(safeChunk(cur));
      cur = '';
      n = 0;
    }
  }
  if (n > 0) chunks.push(safeChunk(cur));
  return chunks;
}

/**
 * Agola's posixflat escaping: `/` becomes `%2F` and `%` becomes `%25`, then a real `/` is
 * put after every 8 characters of the key so keys spread over directories. When the key's
 * length is a non-zero multiple of 8, the last `/` would be a trailing one; the file gets the
 * marker `.f` instead, so it never collides with the directory of the same name.
 *
 * @example
 * ```ts
 * escapeFlatKey('a/b');       // 'a%2Fb'
 * escapeFlatKey('abcdefgh');  // 'abcdefgh.f'
 * escapeFlatKey('abcdefghi'); // 'abcdefgh/i'
 * ```
 */
export function escapeFlatKey(key: string): string {
  const chunks = escapedChunks(key);
  const full = key.length > 0 && [...key].length % FLAT_CHUNK === 0;
  return chunks.join('/') + (full ? FLAT_FILE_MARKER : '');
}

/** Decodes one escaped chunk into its code points, or undefined if it is malformed. */
function decodeChunk(chunk: string): string[] | undefined {
  const out: string[] = [];
  const chars = [...chunk];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] as string;
    if (c === '/') return undefined;
    if (c !== '%') {
      out.push(c);
      continue;
    }
    const hex = `${chars[i + 1] ?? ''}${chars[i + 2] ?? ''}`;
    if (hex === '2F') out.push('/');
    else if (hex === '25') out.push('%');
    else if (hex === '2E') out.push('.');
    else return undefined;
    i += 2;
  }
  return out;
}

/**
 * Reverses {@link escapeFlatKey}. Returns `undefined` for a path that no key escapes to
 * (a real `/` not after exactly 8 characters, a bad `%` escape, an empty path), so stray
 * files in the tree are ignored instead of producing wrong keys.
 */
export function unescapeFlatKey(path: string): string | undefined {
  if (path === '') return undefined;
  const parts = path.split('/');
  const last = parts.pop() as string;
  let key = '';
  for (const part of parts) {
    const decoded = decodeChunk(part);
    if (!decoded || decoded.length !== FLAT_CHUNK) return undefined;
    key += decoded.join('');
  }
  let result: string | undefined;
  const marked = last.endsWith(FLAT_FILE_MARKER)
    ? decodeChunk(last.slice(0, -FLAT_FILE_MARKER.length))
    : undefined;
  if (marked && marked.length === FLAT_CHUNK) {
    result = key + marked.join('');
  } else {
    const decoded = decodeChunk(last);
    if (!decoded || decoded.length === 0 || decoded.length >= FLAT_CHUNK) return undefined;
    result = key + decoded.join('');
  }
  // Only the one canonical spelling is a key (`%2E` only where it is required, and so on).
  return escapeFlatKey(result) === path ? result : undefined;
}

/**
 * The escaped directory (with trailing `/`, or `''`) under which every key that starts with
 * `prefix` lives: the complete chunks of the prefix, less the last one when the prefix ends
 * exactly on a chunk boundary (that chunk may be a `.f` file or a directory).
 */
export function flatListRoot(prefix: string): string {
  const chunks = escapedChunks(prefix);
  const length = [...prefix].length;
  const complete = Math.floor(length / FLAT_CHUNK);
  const keep = length % FLAT_CHUNK === 0 ? Math.max(0, complete - 1) : complete;
  return chunks
    .slice(0, keep)
    .map((c) => `${c}/`)
    .join('');
}
