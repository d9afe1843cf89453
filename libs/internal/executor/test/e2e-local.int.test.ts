import { describeE2E } from './e2e-suite.js';

describeE2E(
  'end to end, local driver',
  async () => ({ driver: { type: 'local' }, image: 'busybox' }),
  true,
);
