import { describe, expect, it } from 'vitest';
import {
  formatDuration,
  initiallyUnfolded,
  isStepFinished,
  logSource,
  stepDurationMs,
} from './steps.js';

describe('steps', () => {
  it('follows a running step, fetches a finished one once, waits for one not started', () => {
    expect(logSource({ phase: 'running' })).toBe('follow');
    for (const p of ['success', 'failed', 'stopped', 'cancelled']) {
      expect(logSource({ phase: p })).toBe('fetch');
      expect(isStepFinished(p)).toBe(true);
    }
    expect(logSource({ phase: 'notstarted' })).toBe('none');
    expect(logSource({ phase: '' })).toBe('none');
  });

  it('unfolds running and failed steps at first', () => {
    expect(
      ['running', 'failed', 'success', 'notstarted'].map((phase) => initiallyUnfolded({ phase })),
    ).toEqual([true, true, false, false]);
  });

  it('measures durations, running ones up to now', () => {
    const start = '2026-12-01T10:00:00Z';
    expect(
      stepDurationMs({ phase: 'success', start_time: start, end_time: '2026-12-01T10:01:05.500Z' }),
    ).toBe(65_500);
    expect(stepDurationMs({ phase: 'running', start_time: start }, Date.parse(start) + 1234)).toBe(
      1234,
    );
    expect(stepDurationMs({ phase: 'notstarted', start_time: null })).toBeNull();
    expect(stepDurationMs({ phase: 'running', start_time: 'garbage' })).toBeNull();
  });

  it('formats durations', () => {
    expect(formatDuration(null)).toBe('');
    expect(formatDuration(850)).toBe('850ms');
    expect(formatDuration(12_400)).toBe('12s');
    expect(formatDuration(185_000)).toBe('3m 05s');
    expect(formatDuration(7_380_000)).toBe('2h 03m');
  });
});
