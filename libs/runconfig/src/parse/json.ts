import { newError } from '@agola-ts/errors';
import { RunconfigErrorCodes } from '../codes.js';
import type { Locator } from '../decode/reader.js';
import type { PathSegment } from '../path.js';
import type { ParsedDocument } from './yaml.js';

/** Deepest nesting of arrays and objects accepted (a deeper document is a parse error). */
export const MAX_JSON_DEPTH = 512;

/** Where a value starts and, inside a container, where each child is. */
interface Position {
  offset: number;
  /** For an object member: where its key starts. */
  keyOffset?: number;
  children?: Map<PathSegment, Position>;
}

class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

const WS = new Set([' ', '\t', '\n', '\r']);

/**
 * A strict JSON parser (RFC 8259, as `JSON.parse`) that also records where every value
 * and key is, so validation issues and syntax errors point at a line and column.
 * Strings are decoded by `JSON.parse` itself, so escapes behave exactly as there.
 */
class Parser {
  private pos = 0;

  constructor(private readonly text: string) {}

  parseDocument(): { value: unknown; position: Position } {
    this.skipWs();
    const result = this.value(0);
    this.skipWs();
    if (this.pos < this.text.length) this.fail('unexpected text after the JSON value');
    return result;
  }

  private fail(message: string, offset: number = this.pos): never {
    throw new JsonSyntaxError(message, offset);
  }

  private skipWs(): void {
    while (this.pos < this.text.length && WS.has(this.text[this.pos] as string)) this.pos++;
  }

  private describe(): string {
    if (this.pos >= this.text.length) return 'the end of the input';
    return JSON.stringify(this.text[this.pos]);
  }

  private value(depth: number): { value: unknown; position: Position } {
    const offset = this.pos;
    const c = this.text[this.pos];
    if (c === '{' || c === '[') {
      if (depth >= MAX_JSON_DEPTH) this.fail(`nested deeper than ${MAX_JSON_DEPTH} levels`);
      return c === '{' ? this.object(depth) : this.array(depth);
    }
    if (c === '"') return { value: this.string(), position: { offset } };
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      return { value: this.number(), position: { offset } };
    }
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return { value: v, position: { offset } };
      }
    }
    return this.fail(`unexpected ${this.describe()} (expected a value)`);
  }

  private object(depth: number): { value: unknown; position: Position } {
    const offset = this.pos++;
    const value: Record<string, unknown> = {};
    const children = new Map<PathSegment, Position>();
    this.skipWs();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return { value, position: { offset, children } };
    }
    for (;;) {
      this.skipWs();
      if (this.text[this.pos] !== '"') {
        this.fail(`unexpected ${this.describe()} (expected a double-quoted property name)`);
      }
      const keyOffset = this.pos;
      const key = this.string();
      this.skipWs();
      if (this.text[this.pos] !== ':') this.fail(`unexpected ${this.describe()} (expected ':')`);
      this.pos++;
      this.skipWs();
      const member = this.value(depth + 1);
      // As JSON.parse: an own property even for `__proto__`; a repeated key keeps the last value.
      Object.defineProperty(value, key, {
        value: member.value,
        enumerable: true,
        writable: true,
        configurable: true,
      });
      children.set(key, { ...member.position, keyOffset });
      this.skipWs();
      const next = this.text[this.pos];
      this.pos++;
      if (next === ',') continue;
      if (next === '}') return { value, position: { offset, children } };
      this.pos--;
      this.fail(`unexpected ${this.describe()} (expected ',' or '}' after a property)`);
    }
  }

  private array(depth: number): { value: unknown; position: Position } {
    const offset = this.pos++;
    const value: unknown[] = [];
    const children = new Map<PathSegment, Position>();
    this.skipWs();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return { value, position: { offset, children } };
    }
    for (;;) {
      this.skipWs();
      const item = this.value(depth + 1);
      children.set(value.length, item.position);
      value.push(item.value);
      this.skipWs();
      const next = this.text[this.pos];
      this.pos++;
      if (next === ',') continue;
      if (next === ']') return { value, position: { offset, children } };
      this.pos--;
      this.fail(`unexpected ${this.describe()} (expected ',' or ']' after an element)`);
    }
  }

  private string(): string {
    const start = this.pos++;
    for (;;) {
      if (this.pos >= this.text.length) this.fail('unterminated string', start);
      const code = this.text.charCodeAt(this.pos);
      if (code === 0x22) break; // "
      if (code < 0x20) this.fail('control character in a string (write it escaped)');
      if (code === 0x5c) {
        // backslash: the escape itself is checked by JSON.parse below
        this.pos += 2;
        continue;
      }
      this.pos++;
    }
    this.pos++;
    try {
      return JSON.parse(this.text.slice(start, this.pos)) as string;
    } catch {
      return this.fail('invalid escape sequence in a string', start);
    }
  }

  private number(): number {
    const start = this.pos;
    const digits = (): number => {
      const from = this.pos;
      while (this.pos < this.text.length && /[0-9]/.test(this.text[this.pos] as string)) this.pos++;
      return this.pos - from;
    };
    if (this.text[this.pos] === '-') this.pos++;
    if (this.text[this.pos] === '0') this.pos++;
    else if (digits() === 0) this.fail('invalid number', start);
    if (this.text[this.pos] === '.') {
      this.pos++;
      if (digits() === 0) this.fail('invalid number', start);
    }
    if (this.text[this.pos] === 'e' || this.text[this.pos] === 'E') {
      this.pos++;
      if (this.text[this.pos] === '+' || this.text[this.pos] === '-') this.pos++;
      if (digits() === 0) this.fail('invalid number', start);
    }
    return Number(this.text.slice(start, this.pos));
  }
}

/** Turns offsets into 1-based lines and columns (columns count code points). */
function lineIndex(text: string): (offset: number) => { line: number; column: number } {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((starts[mid] as number) <= offset) lo = mid;
      else hi = mid - 1;
    }
    const start = starts[lo] as number;
    return { line: lo + 1, column: [...text.slice(start, offset)].length + 1 };
  };
}

/**
 * Parses a JSON config (`.agola/config.json`, or what a jsonnet config generated) strictly as
 * JSON: YAML-only syntax such as comments or unquoted strings is a syntax error.
 *
 * @param label - the file name in messages
 * @throws AgolaError `ERR_RUNCONFIG_PARSE` naming the file, line and column of a syntax error.
 */
export function parseJsonDocument(text: string, label: string): ParsedDocument {
  // A byte order mark is not JSON, but editors write one: it is skipped.
  const lineColumn = lineIndex(text);
  const bom = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let parsed: { value: unknown; position: Position };
  try {
    parsed = new Parser(text.slice(bom)).parseDocument();
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
    const { line, column } = lineColumn(err.offset + bom);
    throw newError(`${label}:${line}:${column}: ${err.message}`, {
      code: RunconfigErrorCodes.Parse,
    });
  }
  const root = parsed.position;
  const locate: Locator = (path, options = {}) => {
    let node = root;
    let found = 0;
    for (const segment of path) {
      const child = node.children?.get(segment);
      if (!child) break;
      node = child;
      found++;
    }
    const offset =
      options.key && found === path.length && node.keyOffset !== undefined
        ? node.keyOffset
        : node.offset;
    return lineColumn(offset + bom);
  };
  return { value: parsed.value, locate };
}
