/**
 * The `agola` command's entry (built as CommonJS, `dist/agola.cjs`): it sizes node's libuv
 * thread pool for `agola serve` (see {@link threadPoolSizeFor}) and then loads the ES module
 * `main.js`. It has to be CommonJS: node starts the pool while loading an ES module entry (the
 * module loader reads the file through it), so an ES module can only set `UV_THREADPOOL_SIZE`
 * too late.
 */
import { threadPoolSizeFor } from './thread-pool.js';

const size = threadPoolSizeFor(process.argv.slice(2), process.env);
if (size !== undefined) process.env['UV_THREADPOOL_SIZE'] = size;
void import('./main.js');
