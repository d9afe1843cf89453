import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify, parse } from 'yaml';
import { describe, expect, test } from 'vitest';
import { RunconfigErrorCodes, contextOfRef, parseConfigSync, planRuns } from '../src/index.js';

/** mulberry32: a small seeded PRNG, so every run fuzzes the same documents. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KEYS = [
  'runs',
  'name',
  'tasks',
  'runtime',
  'containers',
  'image',
  'steps',
  'run',
  'clone',
  'type',
  'command',
  'depends',
  'task',
  'conditions',
  'when',
  'branch',
  'tag',
  'ref',
  'include',
  'exclude',
  'environment',
  'from_variable',
  'volumes',
  'path',
  'tmpfs',
  'size',
  'arch',
  'save_cache',
  'restore_cache',
  'key',
  'keys',
  'contents',
  'paths',
  'save_to_workspace',
  'restore_workspace',
  'dest_dir',
  'depth',
  'docker_registries_auth',
  'approval',
  'ignore_failure',
  'tty',
  'shell',
  'working_dir',
  'privileged',
  'x',
];
const STRINGS = [
  '',
  'a',
  'build',
  'pod',
  'vm',
  'on_success',
  'on_failure',
  'bogus',
  '/v.*/',
  '#(#',
  '1Gi',
  'amd64',
  'master',
  'make\nmake test',
  '.',
  'yes',
  '~',
  'basic',
  'encodedauth',
  'clone',
  'run',
];

function randomValue(rand: () => number, depth: number): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const r = rand();
  if (depth <= 0 || r < 0.35) {
    const s = rand();
    if (s < 0.4) return pick(STRINGS);
    if (s < 0.55) return Math.floor(rand() * 2000) - 1000;
    if (s < 0.65) return rand() * 10;
    if (s < 0.75) return rand() < 0.5;
    if (s < 0.85) return null;
    return `s${Math.floor(rand() * 1e6)}`;
  }
  if (r < 0.65)
    return Array.from({ length: Math.floor(rand() * 4) }, () => randomValue(rand, depth - 1));
  const out: Record<string, unknown> = {};
  for (let i = Math.floor(rand() * 5); i > 0; i--) out[pick(KEYS)] = randomValue(rand, depth - 1);
  return out;
}

/** Replaces, deletes or retypes one random node of a (copied) valid document. */
function mutate(doc: unknown, rand: () => number): unknown {
  const copy = structuredClone(doc);
  const nodes: [Record<string, unknown> | unknown[], string | number][] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) {
      v.forEach((x, i) => {
        nodes.push([v, i]);
        walk(x);
      });
    } else if (v && typeof v === 'object') {
      const map = v as Record<string, unknown>;
      for (const k of Object.keys(map)) {
        nodes.push([map, k]);
        walk(map[k]);
      }
    }
  };
  walk(copy);
  for (let n = 1 + Math.floor(rand() * 3); n > 0 && nodes.length > 0; n--) {
    const [parent, key] = nodes[Math.floor(rand() * nodes.length)]!;
    const r = rand();
    if (r < 0.3 && !Array.isArray(parent)) delete parent[key as string];
    else if (r < 0.4 && Array.isArray(parent)) parent.push(structuredClone(parent[key as number]));
    else (parent as Record<string | number, unknown>)[key] = randomValue(rand, 3);
  }
  return copy;
}

const fixtures = join(import.meta.dirname, 'fixtures');
const seeds = [
  'valid/go-service.yml',
  'valid/anchors-and-yaml11.yml',
  'plan/release.yml',
  'short-forms/steps.short.yml',
].map((f) => parse(readFileSync(join(fixtures, f), 'utf8'), { merge: true }) as unknown);

describe('fuzz: random YAML documents', () => {
  // A generous timeout: the 2000 documents take a few seconds, more on a loaded machine.
  test(
    '2000 documents: each parses to a config or fails validation, nothing else',
    { timeout: 120_000 },
    () => {
      const rand = prng(0xa601a);
      const context = contextOfRef('refs/tags/v1.0.0', 'sha')!;
      let valid = 0;
      let invalid = 0;
      for (let i = 0; i < 2000; i++) {
        const doc =
          rand() < 0.75 ? mutate(seeds[i % seeds.length], rand) : { runs: randomValue(rand, 6) };
        const text = stringify(doc, { version: '1.1' });
        try {
          const config = parseConfigSync(text);
          // A valid config always plans.
          planRuns({ config, context, commitMessage: 'x' });
          valid++;
        } catch (err) {
          if ((err as { code?: string }).code !== RunconfigErrorCodes.Invalid) {
            throw new Error(`document ${i} threw something else: ${String(err)}\n${text}`);
          }
          expect((err as { issues: unknown[] }).issues.length).toBeGreaterThan(0);
          invalid++;
        }
      }
      expect(valid + invalid).toBe(2000);
      // Both outcomes must be exercised for the fuzzing to mean something.
      expect(valid).toBeGreaterThan(50);
      expect(invalid).toBeGreaterThan(500);
    },
  );
});
