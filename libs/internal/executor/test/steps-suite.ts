import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { is } from '@agola-ts/errors';
import {
  createMemoryArtifactStore,
  ExecutorErrorCodes,
  prepareWorkingDir,
  restoreCache,
  restoreWorkspace,
  runStep,
  saveCache,
  saveToWorkspace,
  type Driver,
  type Pod,
  type StepContext,
} from '../src/index.js';
import { Collector, entriesOf, run } from './helpers.js';

/** What the step suite needs from a driver. */
export interface StepsFixture {
  driver: Driver;
  image: string;
}

/** Step primitives against a real driver. */
export function describeSteps(name: string, fixture: () => Promise<StepsFixture>): void {
  describe(`steps: ${name}`, () => {
    let fx: StepsFixture;
    const pods: Pod[] = [];
    beforeAll(async () => {
      fx = await fixture();
      await fx.driver.setup();
    });
    afterAll(async () => {
      for (const p of pods) await p.remove().catch(() => undefined);
      await fx?.driver.close();
    });

    const newCtx = async (extra: Partial<StepContext> = {}) => {
      const pod = await fx.driver.newPod({
        id: randomUUID(),
        taskId: 't',
        containers: [{ image: fx.image, ...(extra.user ? { user: extra.user } : {}) }],
      });
      pods.push(pod);
      const log = new Collector();
      const ctx: StepContext = { pod, env: { FOO: 'task-foo', BAR: 'task-bar' }, log, ...extra };
      const workingDir = await prepareWorkingDir(ctx);
      return { ctx, log, pod, workingDir };
    };
    const sh = async (pod: Pod, script: string) => {
      const r = await run(pod, ['sh', '-c', script]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      return r.stdout;
    };

    test('run: shell, env overlay, ~ working dir, tty, exit code', async () => {
      const { ctx, log, pod, workingDir } = await newCtx();
      const home = (await sh(pod, 'echo $HOME')).trim();
      expect(workingDir).toBe(`${home}/project`);
      const code = await runStep(ctx, {
        command: 'echo "$FOO $BAR"\npwd\necho to-stderr >&2\nexit 4',
        environment: { BAR: 'step-bar' },
        tty: false,
      });
      expect(code).toBe(4);
      expect(log.text()).toBe(`task-foo step-bar\n${home}/project\nto-stderr\n`);

      const ttyLog = new Collector();
      await sh(pod, `mkdir -p ${home}/project/sub`);
      const ttyCode = await runStep(
        { ...ctx, log: ttyLog },
        { command: 'test -t 1 && echo tty; pwd', workingDir: 'sub' },
      );
      expect(ttyCode).toBe(0);
      expect(ttyLog.text()).toBe(`tty\r\n${home}/project/sub\r\n`);
    });

    test('run: the default shell stops at the first failing command', async () => {
      const { ctx, log } = await newCtx();
      const code = await runStep(ctx, { command: 'echo one\nfalse\necho not-reached', tty: false });
      expect(code).toBe(1);
      expect(log.text()).toBe('one\n');
      const missing = new Collector();
      const code2 = await runStep(
        { ...ctx, log: missing },
        { command: 'no-such-tool --version', tty: false },
      );
      expect(code2).toBe(127);
      expect(missing.text()).toContain('no-such-tool');
    });

    test('save_to_workspace: globs, dest dirs, hidden files; restore_workspace: layers in order, no overwrite', async () => {
      const a = await newCtx();
      await sh(
        a.pod,
        `cd ${a.workingDir} && mkdir -p bin src/pkg docs && echo A > bin/app && echo B > bin/tool.txt ` +
          `&& echo X > src/pkg/x.go && echo H > src/.hidden && echo D > docs/readme && ln -s app bin/app-link`,
      );
      const out = new Collector();
      await saveToWorkspace(
        a.ctx,
        [
          { sourceDir: 'bin', destDir: 'out/bin', paths: ['*'] },
          { sourceDir: '.', paths: ['src/**'] },
        ],
        out,
      );
      const archive = out.buffer();
      const entries = await entriesOf(Readable.from([archive]));
      expect(entries).toEqual({
        'out/bin/app': 'A\n',
        'out/bin/app-link': '-> app',
        'out/bin/tool.txt': 'B\n',
        src: '<dir>',
        'src/.hidden': 'H\n',
        'src/pkg': '<dir>',
        'src/pkg/x.go': 'X\n',
      });

      const store = createMemoryArtifactStore();
      store.setArchive('task-a', 3, archive);
      const b = await newCtx();
      await sh(b.pod, `cd ${b.workingDir} && echo other > other.txt`);
      const second = new Collector();
      await saveToWorkspace(b.ctx, [{ sourceDir: '.', paths: ['other.txt'] }], second);
      store.setArchive('task-b', 1, second.buffer());

      const c = await newCtx();
      await restoreWorkspace(
        c.ctx,
        '.',
        [
          { taskId: 'task-a', step: 3 },
          { taskId: 'task-b', step: 1 },
        ],
        store,
      );
      expect(
        await sh(c.pod, `cd ${c.workingDir} && cat out/bin/app src/pkg/x.go src/.hidden other.txt`),
      ).toBe('A\nX\nH\nother\n');
      expect(await sh(c.pod, `readlink ${c.workingDir}/out/bin/app-link`)).toBe('app\n');

      // Restoring a layer again clashes with its own files: nothing is overwritten.
      await sh(c.pod, `echo changed > ${c.workingDir}/other.txt`);
      const err = await restoreWorkspace(c.ctx, '.', [{ taskId: 'task-b', step: 1 }], store).catch(
        (e: unknown) => e,
      );
      expect(is(err, ExecutorErrorCodes.ArchiveRejected)).toBe(true);
      expect(c.log.text()).toContain('file already exists');
      expect(await sh(c.pod, `cat ${c.workingDir}/other.txt`)).toBe('changed\n');
      // Into another dir it works (existing dirs are merged into).
      await restoreWorkspace(c.ctx, 'again', [{ taskId: 'task-a', step: 3 }], store);
      await restoreWorkspace(c.ctx, 'again', [{ taskId: 'task-b', step: 1 }], store);
      expect(
        await sh(c.pod, `cat ${c.workingDir}/again/other.txt ${c.workingDir}/again/src/pkg/x.go`),
      ).toBe('other\nX\n');
    });

    test('save_to_workspace of a missing source dir fails the step', async () => {
      const { ctx, log } = await newCtx();
      const err = await saveToWorkspace(
        ctx,
        [{ sourceDir: 'nope', paths: ['**'] }],
        new Collector(),
      ).catch((e: unknown) => e);
      expect(is(err, ExecutorErrorCodes.StepFailed)).toBe(true);
      expect(log.text()).toContain('"nope" not found');
    });

    test('save_cache and restore_cache: key templates, skip when present, prefix restore (newest wins)', async () => {
      const a = await newCtx({ env: { GOOS: 'linux-env' }, arch: 'amd64' });
      await sh(
        a.pod,
        `cd ${a.workingDir} && echo 'module x' > go.sum && mkdir -p deps && echo v1 > deps/lib`,
      );
      const store = createMemoryArtifactStore();
      const opts = { cachePrefix: 'pg1', store };
      const step = {
        key: 'deps-{{ md5sum "go.sum" }}-{{ sha256sum "go.sum" }}-{{ env "GOOS" }}-{{ os }}-{{ arch }}',
        contents: [{ sourceDir: 'deps', paths: [] }],
      };
      expect(await saveCache(a.ctx, step, opts)).toBe('saved');
      const md5 = createHash('md5').update('module x\n').digest('hex');
      const sha = createHash('sha256').update('module x\n').digest('hex');
      const key1 = `pg1-deps-${md5}-${sha}-linux-env-linux-amd64`;
      expect(store.cacheKeys()).toEqual([key1]);
      expect(a.log.text()).toContain(`archiving cache with key "${key1.slice(4)}"`);
      // Present: not archived again.
      expect(await saveCache(a.ctx, step, opts)).toBe('exists');
      expect(a.log.text()).toContain('already exists');

      // A newer cache under the same prefix.
      await sh(a.pod, `cd ${a.workingDir} && echo 'module y' > go.sum && echo v2 > deps/lib`);
      expect(await saveCache(a.ctx, step, opts)).toBe('saved');
      expect(store.cacheKeys()).toHaveLength(2);

      const b = await newCtx();
      const restored = await restoreCache(
        b.ctx,
        { keys: ['nothing-{{ year }}', 'deps-'], destDir: 'cache' },
        opts,
      );
      expect(restored).toBe('pg1-deps-');
      expect(b.log.text()).toContain('no cache available for key "nothing-');
      expect(await sh(b.pod, `cat ${b.workingDir}/cache/lib`)).toBe('v2\n');
      expect(await restoreCache(b.ctx, { keys: ['none-'], destDir: 'x' }, opts)).toBeUndefined();
    });

    test('save_cache: a cache saved meanwhile by someone else (304) is success', async () => {
      const a = await newCtx();
      await sh(a.pod, `cd ${a.workingDir} && echo data > f`);
      const inner = createMemoryArtifactStore();
      const racing = {
        ...inner,
        headCache: async () => false,
        putCache: async () => 'exists' as const,
      };
      const result = await saveCache(
        a.ctx,
        { key: 'k', contents: [{ sourceDir: '.', paths: ['f'] }] },
        { cachePrefix: 'p', store: racing },
      );
      expect(result).toBe('exists');
      expect(a.log.text()).toContain('saved meanwhile');
    });

    test('a cache key over a missing file fails the step with the reason in the log', async () => {
      const a = await newCtx();
      const store = createMemoryArtifactStore();
      const err = await saveCache(
        a.ctx,
        { key: 'k-{{ md5sum "no-such.lock" }}', contents: [{ sourceDir: '.', paths: [] }] },
        { cachePrefix: 'p', store },
      ).catch((e: unknown) => e);
      expect(is(err, ExecutorErrorCodes.StepFailed)).toBe(true);
      expect(a.log.text()).toContain('no-such.lock');
      expect(store.cacheKeys()).toEqual([]);
    });

    test('steps as a non-root user: files it saves and restores stay its own', async () => {
      const a = await newCtx({ user: 'nobody' });
      const code = await runStep(a.ctx, {
        command: 'id -u > who && mkdir -p out && echo data > out/f',
        tty: false,
      });
      expect(a.log.text()).toBe('');
      expect(code).toBe(0);
      const archive = new Collector();
      await saveToWorkspace(a.ctx, [{ sourceDir: '.', paths: ['**'] }], archive);
      const store = createMemoryArtifactStore();
      store.setArchive('ta', 0, archive.buffer());

      const b = await newCtx({ user: 'nobody' });
      await restoreWorkspace(b.ctx, 'restored', [{ taskId: 'ta', step: 0 }], store);
      const code2 = await runStep(b.ctx, {
        command:
          'cat restored/who && echo more >> restored/out/f && touch restored/new && cat restored/out/f',
        tty: false,
      });
      expect(b.log.text()).toBe('65534\ndata\nmore\n');
      expect(code2).toBe(0);
    });
  });
}
