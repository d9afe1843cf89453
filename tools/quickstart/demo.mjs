// The quickstart demo: a tour of the libraries built so far, against real components.
import { formatError, newError, toHttpError, wrap, badRequest } from '@agola-ts/errors';

const section = (title) => console.log(`\n--- ${title} ---`);

section('@agola-ts/errors: a chain with a frame per layer');
function readWal(seq) {
  return wrap(newError('disk full', { code: 'ERR_DEMO_DISK_FULL' }), `writing wal ${seq}`);
}
function checkpoint() {
  return wrap(readWal('0000000001-0000000042'), 'checkpoint');
}
const err = checkpoint();
console.log('compact:  ', formatError(err));
console.log('detailed:\n' + formatError(err, { detailed: true }));

section('@agola-ts/errors: API errors as HTTP responses');
console.log(JSON.stringify(toHttpError(badRequest('invalid user name "1abc"'))));
console.log(JSON.stringify(toHttpError(wrap(new Error('password=secret rejected'), 'login'))));

console.log('\nNext: `npm test` runs lint, typecheck, build, tests and docs.');
