import { describe, expect, it } from 'vitest';
import { SERVE_THREADPOOL_SIZE, threadPoolSizeFor } from './thread-pool.js';

describe('threadPoolSizeFor', () => {
  it('sizes the pool of serve only', () => {
    expect(threadPoolSizeFor(['serve', '--config', 'c.yml'], {})).toBe(
      String(SERVE_THREADPOOL_SIZE),
    );
    expect(threadPoolSizeFor(['--detailed-errors', 'serve'], {})).toBe('16');
    expect(threadPoolSizeFor(['project', 'create', '--name', 'serve'], {})).toBeUndefined();
    expect(threadPoolSizeFor([], {})).toBeUndefined();
  });

  it("keeps the user's own value; an empty one counts as unset", () => {
    expect(threadPoolSizeFor(['serve'], { UV_THREADPOOL_SIZE: '4' })).toBeUndefined();
    expect(threadPoolSizeFor(['serve'], { UV_THREADPOOL_SIZE: '' })).toBe('16');
  });
});
