// tools/replay-matrix.mjs on the committed sample (the fast scenarios only), and how it
// reports settings this deja does not take (SKIP) and wrong expectations (FAIL).

import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, tmp } from './helpers/cli.js';

const MATRIX = join(ROOT, 'tools/replay-matrix.mjs');

function matrix(args: string[]) {
  const r = spawnSync(process.execPath, [MATRIX, ...args], { cwd: ROOT, encoding: 'utf8' });
  const lines = r.stdout.trim().split('\n');
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, lines, summary: lines[lines.length - 1] };
}

describe('replay-matrix', () => {
  it('replays the committed sample exactly under its fast settings', () => {
    const r = matrix(['--fast']);
    expect(r.stderr).toBe('');
    expect(r.status, r.stdout).toBe(0);
    const runs = r.lines.filter((l) => /^(PASS|FAIL|SKIP) /.test(l));
    expect(runs.filter((l) => l.startsWith('FAIL'))).toEqual([]);
    expect(r.lines).toContainEqual(expect.stringMatching(/^PASS {2}ticker-panic {2}\[--tier interp\] {2}fail\(66\) exit 1 icount \d+, (\d+)\/\1 checkpoints verified/));
    expect(r.summary).toMatch(/^replay-matrix: [1-9]\d* passed, 0 failed, \d+ skipped/);
    // The same lines in the same order, one replay at a time or two at once (times aside).
    const untimed = (x: { stdout: string }) => x.stdout.replace(/\d+\.\d+s\b/g, 'Ts');
    expect(untimed(matrix(['--fast', '--jobs', '1']))).toBe(untimed(matrix(['--fast', '--jobs', '2'])));
  });

  it('skips settings this deja rejects, fails wrong expectations', () => {
    const dir = tmp('deja-matrix-');
    writeFileSync(
      join(dir, 'sample.json'),
      JSON.stringify({
        recording: 'recordings/ticker-panic.deja',
        settings: [{ tier: 'warp' }, { tier: 'interp', 'warp-threshold': 3 }, { tier: 'interp' }],
        expect: { reason: 'fail', code: 66, status: 1, icount: 'recorded', checkpoints: 'all' },
      }),
    );
    writeFileSync(
      join(dir, 'wrong.json'),
      JSON.stringify({ recording: 'recordings/ticker-panic.deja', settings: [{ tier: 'interp' }], expect: { reason: 'poweroff', icount: 12 } }),
    );
    writeFileSync(join(dir, 'broken.json'), '{ "recording": ');
    const r = matrix(['--dir', dir]);
    expect(r.status, r.stdout).toBe(1);
    expect(r.lines).toContainEqual(expect.stringMatching(/^SKIP {2}sample {2}\[--tier warp\] .*'warp'/));
    expect(r.lines).toContainEqual(expect.stringMatching(/^SKIP {2}sample {2}\[--tier interp --warp-threshold 3\] .*--warp-threshold/));
    expect(r.lines).toContainEqual(expect.stringMatching(/^PASS {2}sample {2}\[--tier interp\] /));
    expect(r.lines).toContainEqual(expect.stringMatching(/^FAIL {2}wrong {2}\[--tier interp\] .*exit reason fail, expected poweroff.*icount \d+, expected 12/));
    expect(r.lines).toContainEqual(expect.stringMatching(/^FAIL {2}broken .*bad scenario file/));
    expect(r.summary).toMatch(/^replay-matrix: 1 passed, 2 failed, 2 skipped \(5 runs, /);
  });
});
