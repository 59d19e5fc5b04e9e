#!/usr/bin/env node
// `npm test`: builds deja (npm run build), runs vitest, and ends with one line "N passed, N failed"
// (what CI reads). Extra arguments go to vitest (e.g. a test file filter).
// DEJA_EXTRA_FAILURES=N adds N failures run before it (CI: a failed `npm run replay-matrix`)
// to that line and to the exit status.

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const build = spawnSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
if (build.status !== 0) {
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const out = join(tmpdir(), `deja-vitest-${process.pid}.json`);
const r = spawnSync('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile=${out}`, ...process.argv.slice(2)], {
  stdio: 'inherit',
});
let passed = 0;
let failed = 0;
if (existsSync(out)) {
  const j = JSON.parse(readFileSync(out, 'utf8'));
  passed = j.numPassedTests ?? 0;
  // A file that fails before running any test (import error, failed beforeAll) counts once.
  const brokenFiles = (j.testResults ?? []).filter((t) => t.status === 'failed' && !(t.assertionResults ?? []).some((a) => a.status === 'failed')).length;
  failed = (j.numFailedTests ?? 0) + brokenFiles;
  rmSync(out, { force: true });
} else failed = 1;
if (r.status !== 0 && failed === 0) failed = 1;
const extra = Math.max(0, Number.parseInt(process.env.DEJA_EXTRA_FAILURES ?? '0', 10) || 0);
if (extra) console.log(`(counting ${extra} failure${extra === 1 ? '' : 's'} from before the test suite: DEJA_EXTRA_FAILURES)`);
console.log(`${passed} passed, ${failed + extra} failed`);
process.exit(extra && r.status === 0 ? 1 : (r.status ?? 1));
