import { describe, expect, it } from 'vitest';
import { newRunEvent } from './run-events.js';

describe('newRunEvent', () => {
  it('carries the run id, phase and result under Go field names', () => {
    const ev = newRunEvent({ id: 'r1', phase: 'running', result: 'failed' }, '0000000000000042');
    expect(ev).toEqual({
      Sequence: '0000000000000042',
      RunID: 'r1',
      Phase: 'running',
      Result: 'failed',
    });
    expect(JSON.stringify(ev)).toBe(
      '{"Sequence":"0000000000000042","RunID":"r1","Phase":"running","Result":"failed"}',
    );
  });
});
