// The reference guest's kernel mode (tools/guest/init/kernel-load.h): forked workers
// preempted by the timer, pipes, signals, futexes, page faults, AMOs and LR/SC. Its
// checksum does not depend on scheduling order, so the same workload built with the host's
// gcc as an ordinary Linux program (tools/guest/kernel-host.c) must print the same line.

import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, deja, tmp } from '../helpers/cli.js';

const ROUNDS = 3;
const hasGcc = spawnSync('gcc', ['--version']).status === 0;

function hostBuild(): string {
  const exe = join(tmp('deja-kernel-host-'), 'kernel-host');
  const cc = spawnSync('gcc', ['-O2', '-Wall', '-Werror', '-o', exe, join(ROOT, 'tools/guest/kernel-host.c')], { encoding: 'utf8' });
  expect(cc.status, cc.stderr).toBe(0);
  return exe;
}

const marker = (out: string) => out.match(/^KERNEL-OK workers=6 rounds=\d+ checksum=0x[0-9a-f]{8}$/m)?.[0];

describe('reference guest, kernel mode', () => {
  it(`kerneliter=${ROUNDS} ends with KERNEL-OK, its workers preempted by the timer, and powers off`, () => {
    const r = deja(['run', '--mode', 'kernel', '--append-extra', `kerneliter=${ROUNDS}`], { stats: true });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stats?.exit).toEqual({ reason: 'poweroff', code: 0 });
    expect(r.stdout).not.toContain('KERNEL-FAIL');
    expect(marker(r.stdout)).toMatch(new RegExp(`^KERNEL-OK workers=6 rounds=${ROUNDS} `));
    const usage = r.stdout.match(/^kernel: 6 workers x \d+ rounds; context switches (\d+) voluntary, (\d+) preempted; (\d+) minor faults$/m);
    expect(usage, r.stdout).not.toBeNull();
    // The workers block (pipes, futexes, yields) and are preempted in their compute phases.
    expect(Number(usage![1])).toBeGreaterThan(0);
    expect(Number(usage![2])).toBeGreaterThan(0);
    expect(Number(usage![3])).toBeGreaterThan(6 * ROUNDS * 32);
  });

  it.skipIf(!hasGcc)(`prints the checksum its host build prints (gcc, kerneliter=${ROUNDS})${hasGcc ? '' : ': skipped, no gcc on this machine'}`, () => {
    const exe = hostBuild();
    const host = spawnSync(exe, [String(ROUNDS)], { encoding: 'utf8', timeout: 60_000 });
    expect(host.status, host.stdout + host.stderr).toBe(0);
    const want = marker(host.stdout);
    expect(want, host.stdout).toBeDefined();
    // (under the trace tier: the first test ran the interpreter)
    const guest = deja(['run', '--mode', 'kernel', '--append-extra', `kerneliter=${ROUNDS}`, '--tier', 'trace']);
    expect(guest.status, guest.stderr).toBe(0);
    expect(marker(guest.stdout)).toBe(want);
  });
});
