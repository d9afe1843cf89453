// printf-style formatting for errorf/wrapf without `node:util` (the lib is bundled into
// browser code too).

/** A number as `util.format` prints it: `-0` keeps its sign. */
function numberText(n: number): string {
  return Object.is(n, -0) ? '-0' : String(n);
}

/** JSON text of `value`, `[Circular]` for a cyclic one (as `%j` does). */
function jsonText(value: unknown): string {
  try {
    return String(JSON.stringify(value));
  } catch (err) {
    if (err instanceof TypeError && /circular/i.test(err.message)) return '[Circular]';
    throw err;
  }
}

/**
 * Text of a value outside a `%` placeholder or under `%s`/`%o`/`%O`: a primitive as
 * `util.format` prints it; an Error as its stack (else `Name: message`); any other object as
 * its JSON (where `util.format` would use `util.inspect`, which is not available here).
 */
function valueText(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      return numberText(value);
    case 'bigint':
      return `${value}n`;
    case 'object':
    case 'function':
      if (value === null) return 'null';
      if (value instanceof Error) return value.stack ?? `${value.name}: ${value.message}`;
      if (value instanceof Date)
        return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
      if (typeof value === 'object' && hasOwnToString(value)) return String(value);
      return typeof value === 'function'
        ? `[Function: ${value.name || '(anonymous)'}]`
        : jsonText(value);
    default:
      return String(value);
  }
}

/** Whether a class of `value`'s prototype chain (not Object or Array) defines `toString`. */
function hasOwnToString(value: object): boolean {
  for (let p: object | null = Object.getPrototypeOf(value) as object | null; p;) {
    if (p === Object.prototype || p === Array.prototype) return false;
    if (Object.hasOwn(p, 'toString')) return true;
    p = Object.getPrototypeOf(p) as object | null;
  }
  return false;
}

/** One placeholder's text for `arg`. */
function placeholderText(spec: string, arg: unknown): string {
  switch (spec) {
    case 'd':
      if (typeof arg === 'bigint') return `${arg}n`;
      if (typeof arg === 'symbol') return 'NaN';
      return numberText(Number(arg));
    case 'i':
      if (typeof arg === 'bigint') return `${arg}n`;
      if (typeof arg === 'symbol') return 'NaN';
      return numberText(parseInt(String(arg), 10));
    case 'f':
      return typeof arg === 'symbol' ? 'NaN' : numberText(parseFloat(String(arg)));
    case 'j':
      return jsonText(arg);
    case 'c':
      return '';
    default: // s, o, O
      return valueText(arg);
  }
}

/**
 * `util.format` for what errorf/wrapf need: `%s`, `%d`, `%i`, `%f`, `%j`, `%c` and `%%` as
 * Node prints them for primitives, Errors and JSON-able objects; `%o`/`%O` and objects under
 * `%s` print as JSON (Node uses `util.inspect` there). A placeholder without an argument
 * stays as it is; extra arguments are appended, separated by spaces.
 */
export function formatMessage(fmt: string, args: readonly unknown[]): string {
  let next = 0;
  const text = fmt.replace(/%([sdifjoOc%])/g, (whole, spec: string) => {
    if (spec === '%') return '%';
    if (next >= args.length) return whole;
    return placeholderText(spec, args[next++]);
  });
  const rest = args.slice(next).map(valueText);
  return rest.length > 0 ? [text, ...rest].join(' ') : text;
}
