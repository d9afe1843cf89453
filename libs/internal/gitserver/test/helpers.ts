import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { createGitserver, type Gitserver, type GitserverConfig } from '../src/index.js';

const exec = promisify(execFile);

/** Runs git in `cwd` with a fixed identity; resolves with stdout. */
export async function git(
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<string> {
  const { stdout } = await exec('git', args, {
    cwd,
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Test',
      GIT_AUTHOR_EMAIL: 'test@example.com',
      GIT_COMMITTER_NAME: 'Test',
      GIT_COMMITTER_EMAIL: 'test@example.com',
      GIT_TERMINAL_PROMPT: '0',
      ...env,
    },
    maxBuffer: 64 * 1024 * 1024,
  });
  return stdout;
}

/** A fresh temporary directory, removed by the returned cleanup. */
export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `agola-gitserver-${prefix}-`));
}

/** A work tree with `files` committed on `main` (commit dates from `env`). */
export async function workTree(
  files: Record<string, string>,
  env: Record<string, string> = {},
): Promise<string> {
  const dir = await tempDir('work');
  await git(['init', '--quiet', '-b', 'main'], dir);
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  await git(['add', '-A'], dir);
  await git(['commit', '--quiet', '-m', 'first'], dir, env);
  return dir;
}

/** A started git server on a free loopback port over a temporary data dir. */
export async function startGitserver(
  config: Partial<GitserverConfig> = {},
): Promise<{ gs: Gitserver; url: string; dataDir: string; stop: () => Promise<void> }> {
  const dataDir = config.dataDir ?? (await tempDir('data'));
  const gs = createGitserver({
    dataDir,
    web: { listen: { host: '127.0.0.1', port: 0 } },
    ...config,
  });
  await gs.start();
  return {
    gs,
    url: gs.url!,
    dataDir,
    stop: async () => {
      await gs.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
