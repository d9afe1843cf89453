// Prints the closing line of `npm test` from the vitest JSON reports of every project:
// "N passed, N failed[, N skipped]", where failed also counts failed non-test steps
// (argv[2]). Exits non-zero when anything failed or no test ran at all.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const failedSteps = Number(process.argv[2] ?? 0);
const reports = [];
const walk = (dir, depth) => {
  if (depth > 3 || !existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const path = join(dir, name);
    if (name === '.vitest-report.json') reports.push(path);
    else if (statSync(path).isDirectory()) walk(path, depth + 1);
  }
};
for (const top of ['libs', 'apps', 'tools']) walk(top, 0);

let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of reports) {
  const r = JSON.parse(readFileSync(file, 'utf8'));
  passed += r.numPassedTests ?? 0;
  failed += r.numFailedTests ?? 0;
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  // A test file that failed to load counts as a failure too.
  for (const suite of r.testResults ?? []) {
    if (suite.status === 'failed' && (suite.assertionResults ?? []).length === 0) failed += 1;
  }
}
console.log(`  ${reports.length} test reports`);
const total = failed + failedSteps;
console.log(`${passed} passed, ${total} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(total > 0 || passed === 0 ? 1 : 0);
