import { Writable } from 'node:stream';
import { Readable } from 'node:stream';
import { extract, pack } from 'tar-stream';
import type { ExecConfig, Pod } from '../src/index.js';

/** A Writable that keeps what is written to it. */
export class Collector extends Writable {
  private chunks: Buffer[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.chunks.push(Buffer.from(chunk));
    cb();
  }
  text(): string {
    return this.buffer().toString('utf8');
  }
  buffer(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

/** Runs a command in a pod and returns exit code, stdout and stderr. */
export async function run(
  pod: Pod,
  cmd: string[],
  extra: Omit<ExecConfig, 'cmd' | 'stdout' | 'stderr'> & { input?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Collector();
  const stderr = new Collector();
  const { input, ...config } = extra;
  const exec = await pod.exec({
    ...config,
    cmd,
    stdout,
    stderr,
    attachStdin: input !== undefined || config.attachStdin,
  });
  if (input !== undefined) exec.stdin?.end(input);
  const code = await exec.wait();
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

/** A tar stream of the given entries (a string is a file; `{ link }` a symlink; `{ dir }`). */
export function tarOf(
  entries: Record<string, string | { link: string } | { dir: true }>,
): Readable {
  const p = pack();
  for (const [name, v] of Object.entries(entries)) {
    if (typeof v === 'string') p.entry({ name, mode: 0o644 }, v);
    else if ('link' in v) p.entry({ name, type: 'symlink', linkname: v.link });
    else p.entry({ name, type: 'directory', mode: 0o755 });
  }
  p.finalize();
  return Readable.from(p);
}

/** The entries of a tar stream: name → file content (`<dir>`, `-> target` for others). */
export async function entriesOf(tar: Readable): Promise<Record<string, string>> {
  const ex = extract();
  const out: Record<string, string> = {};
  const done = (async () => {
    for await (const entry of ex) {
      const chunks: Buffer[] = [];
      for await (const c of entry) chunks.push(c as Buffer);
      const h = entry.header;
      out[h.name.replace(/\/$/, '')] =
        h.type === 'directory'
          ? '<dir>'
          : h.type === 'symlink'
            ? `-> ${h.linkname}`
            : Buffer.concat(chunks).toString('utf8');
    }
  })();
  tar.pipe(ex as unknown as NodeJS.WritableStream);
  await done;
  return out;
}
