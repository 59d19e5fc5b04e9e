// Cross-tier equality on real recordings: the Linux guest's modes (boot, bench, stress,
// panic, and a shell session typed on piped stdin) and the tiny interrupt-driven guest
// are recorded under the interpreter and replayed under every setting of TIER_MATRIX
// (block thresholds 0, 1, 50; trace thresholds 1, 10, 500; trace limits 0, 1, 7). Every
// replay must verify every checkpoint and end as the recording did.

import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadRecording } from '../../src/cli/replay.js';
import { deja, tmp } from '../helpers/cli.js';
import { replayAllTiers } from '../helpers/tiers.js';
import { recordTiny, tinyConfig } from '../record/tiny-guest.js';

const RTC = ['--rtc', '2026-01-01T00:00:00Z'];
const GUEST = [
  { mode: 'boot', args: [] as string[], input: '', reason: 'poweroff' },
  { mode: 'bench', args: ['--append-extra', 'benchiter=300'], input: '', reason: 'poweroff' },
  { mode: 'stress', args: [], input: '', reason: 'poweroff' },
  { mode: 'panic', args: [], input: '', reason: 'panic' },
  { mode: 'shell', args: [], input: 'echo cross-tier\nuptime\npoweroff\n', reason: 'poweroff' },
];

let dir: string;
beforeAll(() => {
  dir = tmp('deja-cross-tier-');
});

describe('Linux guest recordings replay identically under every tier setting', () => {
  it.each(GUEST.map((g) => [g.mode, g] as const))('%s', async (_m, g) => {
    const file = join(dir, `${g.mode}.deja`);
    const run = deja(['run', '--mode', g.mode, ...g.args, ...RTC, '-q', '--record', file, '--checkpoint-every', '1000000'], { input: g.input, stats: true });
    expect(run.stats?.exit.reason, run.stderr).toBe(g.reason);
    const rec = await loadRecording(file);
    const { failures, runs } = replayAllTiers(rec);
    expect(failures).toEqual([]);
    for (const r of runs) {
      expect(r.exit, r.settings).toEqual(run.stats!.exit);
      expect(r.icount, r.settings).toBe(run.stats!.icount);
      expect(r.checkpoints, r.settings).toBeGreaterThan(20);
    }
    // The JIT settings really ran translated code (threshold 0 and 1 settings).
    const jitRuns = runs.filter((r) => r.jit && (r.settings.includes('blockThreshold=0') || r.settings.includes('blockThreshold=1')));
    for (const r of jitRuns) {
      const s = r.jit!.finalStats();
      expect(s.insns.block + s.insns.trace, r.settings).toBeGreaterThan(s.insns.interp);
    }
  });
});

describe('the tiny interrupt-driven guest replays identically under every tier setting', () => {
  it('with console input, RTC reads and idle periods', async () => {
    const file = join(dir, 'tiny.deja');
    recordTiny(file, tinyConfig(dir), { input: [null, 'hello', null, 'x', 'abcdefghijklmnopqrstuvwxyz', null, '\r\n'], every: 500 });
    const rec = await loadRecording(file);
    expect(rec.events.some((e) => e.kind === 'uart-rx')).toBe(true);
    const { failures } = replayAllTiers(rec);
    expect(failures).toEqual([]);
  });
});
