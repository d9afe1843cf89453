// Every package's code (src/, tests excluded) imports at run time only what its package.json
// lists in dependencies, peerDependencies or optionalDependencies. A devDependency imported by
// code is bundled into the package's dist by tsup (which leaves out only the runtime
// dependencies): the gateway once pulled etcd3 and grpc in that way, and agola serve failed.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';

const root = resolve(import.meta.dirname, '../../..');

function packageDirs(): string[] {
  const dirs: string[] = [];
  for (const base of ['libs', 'libs/internal', 'apps']) {
    for (const name of readdirSync(join(root, base))) {
      const dir = join(root, base, name);
      if (existsSync(join(dir, 'package.json'))) dirs.push(dir);
    }
  }
  return dirs;
}

function codeFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...codeFiles(path));
    else if (/\.(?:ts|vue)$/.test(name) && !/\.(?:test|d)\.ts$/.test(name)) out.push(path);
  }
  return out;
}

/** The packages a file's code imports at run time (type-only imports left out). */
export function runtimeImports(text: string): string[] {
  const out: string[] = [];
  // statement by statement: `import … from '…'`, `export … from '…'`, `import '…'`
  for (const raw of text.split(';')) {
    // the statement starts on a line of its own (after a `<script>` tag in a .vue file)
    const at = raw.search(/^[ \t]*(?:import|export)\b/m);
    if (at < 0) continue;
    const statement = raw.slice(at).trim();
    if (/^(?:import|export)\s+type\s/.test(statement)) continue;
    const spec = /(?:\bfrom|^import)\s*['"]([^'"]+)['"]$/.exec(statement)?.[1];
    if (spec !== undefined) out.push(spec);
  }
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push(m[1]!);
  return out
    .filter((s) => !s.startsWith('.') && !s.startsWith('node:'))
    .filter((s) => !builtinModules.includes(s.split('/')[0]!))
    .map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!));
}

describe('runtime dependencies', () => {
  test('the scan finds value imports, side-effect and dynamic imports, not type-only ones', () => {
    const text = [
      "import { sleep } from '@agola-ts/etcd';",
      "import type { Run } from '@agola-ts/types';",
      "export { x } from 'fastify/types';",
      "import 'reflect-metadata';",
      "const m = await import('yaml');",
      "import { join } from 'node:path';",
      "import { a } from './a.js';",
      "import { readFile } from 'fs';",
      '<template><p/></template>',
      '<script setup lang="ts">',
      "import { ref } from 'vue';",
    ].join('\n');
    expect(runtimeImports(text).sort()).toEqual([
      '@agola-ts/etcd',
      'fastify',
      'reflect-metadata',
      'vue',
      'yaml',
    ]);
  });

  test('no package imports a devDependency (or an undeclared package) from its code', () => {
    const problems: string[] = [];
    const dirs = packageDirs();
    expect(dirs.length).toBeGreaterThan(10);
    for (const dir of dirs) {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name: string;
        dependencies?: Record<string, string>;
        peerDependencies?: Record<string, string>;
        optionalDependencies?: Record<string, string>;
      };
      const allowed = new Set([
        pkg.name,
        ...Object.keys(pkg.dependencies ?? {}),
        ...Object.keys(pkg.peerDependencies ?? {}),
        ...Object.keys(pkg.optionalDependencies ?? {}),
      ]);
      for (const file of codeFiles(join(dir, 'src'))) {
        for (const name of runtimeImports(readFileSync(file, 'utf8'))) {
          if (!allowed.has(name)) problems.push(`${relative(root, file)} imports ${name}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});
