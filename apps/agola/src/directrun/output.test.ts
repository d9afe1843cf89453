import { describe, expect, it } from 'vitest';
import type { RunResponse } from '@agola-ts/gateway-client';
import { createRunOutput, progressLine } from './output.js';

type Task = RunResponse['tasks'][string];

function task(name: string, level: number, status: string, extra: Partial<Task> = {}): Task {
  return {
    id: `id-${name}`,
    name,
    status,
    level,
    depends: {},
    waiting_approval: false,
    approved: false,
    approval_annotations: {},
    start_time: null,
    end_time: null,
    ...extra,
  };
}

function run(tasks: Task[], extra: Partial<RunResponse> = {}): RunResponse {
  return {
    number: 3,
    name: 'hello',
    annotations: {},
    phase: 'running',
    result: 'unknown',
    setup_errors: [],
    stopping: false,
    tasks: Object.fromEntries(tasks.map((t) => [t.id, t])),
    tasks_waiting_approval: [],
    enqueue_time: null,
    start_time: null,
    end_time: null,
    can_restart_from_scratch: false,
    can_restart_from_failed_tasks: false,
    ...extra,
  };
}

const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

function sink(isTTY = false) {
  let text = '';
  return {
    stream: { write: (t: string) => (text += t), isTTY, columns: 200 },
    text: () => text,
  };
}

describe('progressLine', () => {
  it('shows the graph level by level with states and durations', () => {
    const r = run([
      task('publish', 2, 'notstarted'),
      task('build', 0, 'success', { start_time: at(0), end_time: at(1200) }),
      task('lint', 1, 'failed', { start_time: at(1300), end_time: at(1800) }),
      task('test', 1, 'running', { start_time: at(1300) }),
    ]);
    expect(progressLine(r, T0 + 2000)).toBe(
      'hello #3 running: build ✓ 1.2s → lint ✗ 0.5s, test ● 0.7s → publish ○',
    );
    expect(
      progressLine(
        run([task('deploy', 0, 'notstarted', { waiting_approval: true })], {
          phase: 'finished',
          result: 'failed',
        }),
      ),
    ).toBe('hello #3 failed: deploy ⏸ approval');
  });
});

describe('createRunOutput', () => {
  it('prefixes complete lines by task, keeps partial lines until flushed', () => {
    const out = sink();
    const err = sink();
    const o = createRunOutput({ stdout: out.stream, stderr: err.stream, color: false });
    o.labels(['build', 'publish']);
    o.log('build', 'one\ntw');
    o.log('publish', 'x\r\n');
    o.log('build', 'o\nthr');
    o.flush('build');
    expect(out.text()).toBe('build   | one\npublish | x\nbuild   | two\nbuild   | thr\n');
    expect(err.text()).toBe('');
  });

  it('prints one stderr line per task change when stderr is not a terminal', () => {
    const out = sink();
    const err = sink();
    const o = createRunOutput({ stdout: out.stream, stderr: err.stream, now: () => T0 + 5000 });
    const b = task('build', 0, 'notstarted');
    o.progress([run([b])]);
    o.progress([run([{ ...b, status: 'running', start_time: at(0) }])]);
    o.progress([run([{ ...b, status: 'running', start_time: at(0) }])]);
    o.progress([run([{ ...b, status: 'success', start_time: at(0), end_time: at(2500) }])]);
    expect(err.text()).toBe('agola: task build running\nagola: task build success (2.5s)\n');
  });

  it('keeps a live progress line on a terminal and clears it around log lines', () => {
    const out = sink(true);
    const err = sink(true);
    const o = createRunOutput({ stdout: out.stream, stderr: err.stream, color: false });
    o.progress([run([task('build', 0, 'running', { start_time: new Date().toISOString() })])]);
    // eslint-disable-next-line no-control-regex -- the terminal's escape sequences are the subject
    expect(err.text()).toMatch(/\r\x1b\[2Khello #3 running: build ● \d+\.\ds$/);
    o.log('build', 'hi\n');
    // cleared before the log line, drawn again after it
    // eslint-disable-next-line no-control-regex -- the terminal's escape sequences are the subject
    expect(err.text()).toMatch(/\r\x1b\[2K\r\x1b\[2Khello #3 running: build ● \d+\.\ds$/);
    expect(out.text()).toBe('build | hi\n');
    o.done();
    // the last state stays, on its own line; a note after it starts a new line
    expect(err.text()).toMatch(/hello #3 running: build ● \d+\.\ds\n$/);
    o.note('agola: bye');
    expect(err.text()).toMatch(/s\nagola: bye\n$/);
  });
});
