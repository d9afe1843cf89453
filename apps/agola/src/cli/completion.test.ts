import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commandModules } from '../commands/index.js';
import { bashCompletionScript, completionTree, zshCompletionScript } from './completion.js';
import { createProgram } from './program.js';
import { enumArg } from './validate.js';

const dir = mkdtempSync(join(tmpdir(), 'agola-completion-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The real `agola` tree plus a command only this test adds (it must be completed too). */
function program() {
  const p = createProgram(commandModules);
  p.command('zzfresh')
    .description('a command: added here, completed without editing the scripts')
    .option('--shiny <level>', 'a flag with values', enumArg(['low', 'high']))
    .command('deeper')
    .option('--flag-only', 'a boolean flag');
  return p;
}

function run(shell: string, args: string[], input?: string): string {
  const r = spawnSync(shell, args, { encoding: 'utf8', input, timeout: 20_000 });
  if (r.error) throw new Error(`${shell}: ${r.error.message} (installed by tools/lib/setup.sh)`);
  expect(r.stderr, `${shell} stderr`).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

describe('completionTree', () => {
  it('reads commands, flags (with the global ones) and fixed values from commander', () => {
    const tree = completionTree(program());
    const run = tree.commands.find((c) => c.path[0] === 'run')!;
    expect(run.commands.map((c) => c.path.at(-1))).toEqual([
      'create',
      'list',
      'show',
      'restart',
      'stop',
      'cancel',
      'task',
    ]);
    const list = run.commands.find((c) => c.path.at(-1) === 'list')!;
    const phase = list.flags.find((f) => f.name === '--phase')!;
    expect(phase).toMatchObject({ short: '-s', takesValue: true });
    expect(phase.values).toContain('queued');
    expect(list.flags.map((f) => f.name)).toEqual(expect.arrayContaining(['--json', '--token']));
    const enable = tree.commands
      .find((c) => c.path[0] === 'maintenance')!
      .commands.find((c) => c.path[1] === 'enable')!;
    expect(enable.argValues).toEqual(['configstore', 'runservice']);
    expect(tree.commands.map((c) => c.path[0])).toContain('zzfresh');
  });
});

describe('bash completion', () => {
  const file = join(dir, 'agola.bash');
  writeFileSync(file, bashCompletionScript(program()));

  /** What the completion function offers for the words (the last one is being typed). */
  function complete(...words: string[]): string[] {
    const quoted = words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' ');
    const out = run('bash', [
      '--norc',
      '-c',
      `source '${file}'; COMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _agola_completion; printf '%s\\n' "\${COMPREPLY[@]}"`,
    ]);
    return out.split('\n').filter(Boolean);
  }

  it('registers itself for agola', () => {
    expect(run('bash', ['--norc', '-c', `source '${file}'; complete -p agola`])).toBe(
      'complete -o default -F _agola_completion agola\n',
    );
  });

  it('offers the commands, then the subcommands of run', () => {
    expect(complete('agola', '')).toEqual(
      expect.arrayContaining(['run', 'user', 'maintenance', 'completion', 'zzfresh']),
    );
    expect(complete('agola', 'run', '')).toEqual([
      'create',
      'list',
      'show',
      'restart',
      'stop',
      'cancel',
      'task',
    ]);
    expect(complete('agola', 'run', 's')).toEqual(['show', 'stop']);
  });

  it("offers a command's flags, skipping global flags and their values on the way", () => {
    const flags = complete('agola', '--gateway-url', 'http://gw', 'run', 'cancel', '--');
    expect(flags).toEqual(
      expect.arrayContaining(['--project', '--username', '--runnumber', '--json', '--help']),
    );
    expect(flags).not.toContain('--from-start');
    expect(complete('agola', 'run', 'restart', '--f')).toEqual(['--from-start']);
    // `run` given as the value of --token is not the run command
    expect(complete('agola', '--token', 'run', '')).toContain('user');
  });

  it('offers the values of a flag or an argument with a fixed set, files for other values', () => {
    expect(complete('agola', 'run', 'list', '--phase', 'r')).toEqual(['running']);
    expect(complete('agola', 'run', 'list', '-s', '')).toContain('setuperror');
    expect(complete('agola', 'maintenance', 'enable', '')).toEqual(['configstore', 'runservice']);
    writeFileSync(join(dir, 'export-file.jsonl'), '');
    expect(complete('agola', 'import', 'configstore', '-f', join(dir, 'export-'))).toEqual([
      join(dir, 'export-file.jsonl'),
    ]);
  });

  it('completes a command added to the tree without editing the script', () => {
    expect(complete('agola', 'zzfresh', '')).toEqual(['deeper']);
    expect(complete('agola', 'zzfresh', '--shiny', '')).toEqual(['low', 'high']);
    expect(complete('agola', 'zzfresh', 'deeper', '--fl')).toEqual(['--flag-only']);
  });
});

describe('zsh completion', () => {
  const file = join(dir, '_agola');
  writeFileSync(file, zshCompletionScript(program()));

  it('passes zsh -n', () => {
    run('zsh', ['-n', file]);
  });

  it('offers subcommands with their help, flags, fixed values (zsh builtins stubbed)', () => {
    // compdef, _describe and compadd are compsys functions: stubbed to print what they get
    const out = run('zsh', [
      '-f',
      '-c',
      `compdef() { print -r -- "compdef $*"; }
_describe() { print -r -- "describe $3: \${(Pj:|:)4}"; }
compadd() { print -r -- "compadd \${(Pj:|:)2}"; }
_files() { print files; }
source '${file}'
t() { words=("$@"); CURRENT=$#; _agola; }
t agola run ''
t agola run cancel --
t agola maintenance enable ''
t agola zzfresh --shiny ''
t agola export configstore -o ''`,
    ]);
    const lines = out.split('\n');
    expect(lines[0]).toBe('compdef _agola agola');
    expect(lines[1]).toMatch(
      /^describe command: create:start a run .*\|cancel:cancel a queued run\|task:/,
    );
    expect(lines[2]).toMatch(/^describe option: --project:.*\|--runnumber:run number\|/);
    expect(lines[3]).toBe('compadd configstore|runservice');
    expect(lines[5]).toBe('compadd low|high');
    expect(lines[6]).toBe('files');
  });
});
