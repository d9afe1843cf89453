import { LineCounter, parseDocument, isMap, isNode, isScalar, type Document } from 'yaml';
import { newError } from '@agola-ts/errors';
import { RunconfigErrorCodes } from '../codes.js';
import type { Locator } from '../decode/reader.js';

/** A parsed document: its plain JSON-like value and a way to find a path's position. */
export interface ParsedDocument {
  /** The document as plain values. */
  value: unknown;
  /** Line and column of the node at a path (or its nearest existing parent). */
  locate: Locator;
}

/**
 * Parses YAML (and JSON, which Agola reads the same way) into plain values. YAML 1.1 rules
 * apply as in Agola's Go YAML library (`yes`/`on` are booleans, `<<` merge keys work), but
 * timestamps stay strings, as they do when Agola converts YAML to JSON.
 *
 * @throws AgolaError `ERR_RUNCONFIG_PARSE` with the file, line and column of a syntax error.
 */
export function parseYamlDocument(text: string, file: string): ParsedDocument {
  const lineCounter = new LineCounter();
  let doc: Document;
  let value: unknown;
  try {
    doc = parseDocument(text, {
      version: '1.1',
      merge: true,
      uniqueKeys: false,
      prettyErrors: false,
      lineCounter,
      customTags: goYamlTags,
    });
    const first = doc.errors[0];
    if (first) {
      const pos = lineCounter.linePos(first.pos[0]);
      const where = `:${pos.line}:${pos.col}`;
      throw newError(`${file}${where}: ${firstLine(first.message)}`, {
        code: RunconfigErrorCodes.Parse,
      });
    }
    value = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    if ((err as { code?: unknown }).code === RunconfigErrorCodes.Parse) throw err;
    throw newError(`${file}: ${firstLine(err instanceof Error ? err.message : String(err))}`, {
      code: RunconfigErrorCodes.Parse,
    });
  }
  const locate: Locator = (path, options = {}) => {
    const last = path[path.length - 1];
    if (options.key && typeof last === 'string') {
      const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
      if (isMap(parent)) {
        const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === last);
        if (pair && isNode(pair.key) && pair.key.range) {
          const pos = lineCounter.linePos(pair.key.range[0]);
          return { line: pos.line, column: pos.col };
        }
      }
    }
    for (let i = path.length; i >= 0; i--) {
      const node = i === 0 ? doc.contents : doc.getIn(path.slice(0, i), true);
      if (isNode(node) && node.range) {
        const pos = lineCounter.linePos(node.range[0]);
        return { line: pos.line, column: pos.col };
      }
    }
    return undefined;
  };
  return { value, locate };
}

const FLOAT = 'tag:yaml.org,2002:float';
/** A plain float needs at least one digit, as Go's ParseFloat does: `.` alone stays a string. */
const GO_FLOAT = /^[-+]?(?:[0-9][0-9_]*\.[0-9_]*|\.[0-9][0-9_]*)$/;

/**
 * Adjusts the YAML 1.1 schema to what Agola's Go reader resolves: no timestamps and no
 * sexagesimal numbers (both stay strings), and no float made of a lone dot (`dest_dir: .`).
 */
function goYamlTags(tags: Tags): Tags {
  const out: Tags = [];
  for (const t of tags) {
    if (typeof t === 'string') {
      if (t !== 'timestamp') out.push(t);
      continue;
    }
    if (t.tag === 'tag:yaml.org,2002:timestamp' || t.format === 'TIME') continue;
    if (t.tag === FLOAT && !t.format && t.test?.source.includes('\\.[0-9_]*$')) {
      out.push({ ...t, test: GO_FLOAT } as typeof t);
      continue;
    }
    out.push(t);
  }
  return out;
}

type Tags = Exclude<Parameters<typeof parseDocument>[1], undefined>['customTags'] extends infer C
  ? C extends (tags: infer T) => unknown
    ? T
    : never
  : never;

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
