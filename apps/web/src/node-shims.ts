// Browser stand-ins for the three node modules @agola-ts/errors imports (see vite.config.ts).
// Only what that lib calls; the UI never formats stack frames, so these stay minimal.

/** `util.format` for `%s`/`%d`/`%j`/`%o` (what `errorf` uses). */
export function format(fmt: unknown, ...args: unknown[]): string {
  if (typeof fmt !== 'string') return [fmt, ...args].map(String).join(' ');
  let i = 0;
  const out = fmt.replace(/%[sdjoO%]/g, (m) => {
    if (m === '%%') return '%';
    if (i >= args.length) return m;
    const a = args[i++];
    return m === '%j' || m === '%o' || m === '%O' ? JSON.stringify(a) : String(a);
  });
  const rest = args.slice(i).map(String);
  return rest.length > 0 ? `${out} ${rest.join(' ')}` : out;
}

/** `url.fileURLToPath`: the path of a `file:` URL. */
export function fileURLToPath(u: string | URL): string {
  return new URL(String(u)).pathname;
}

/** `path.sep`. */
export const sep = '/';

/** `path.isAbsolute`. */
export function isAbsolute(p: string): boolean {
  return p.startsWith('/');
}

/** `path.relative`, enough for "is this file under cwd". */
export function relative(from: string, to: string): string {
  const base = from.endsWith('/') ? from : `${from}/`;
  return to.startsWith(base) ? to.slice(base.length) : to;
}

export default { format, fileURLToPath, sep, isAbsolute, relative };
