// Cross-tier equality on the tiny interrupt-driven guest (console input, RTC reads, idle
// periods), replayed under every setting of TIER_MATRIX (block thresholds 0, 1, 50; trace
// thresholds 1, 10, 500; trace limits 0, 1, 7). The Linux guest's recordings get the same
// check where they are made (test/record/guest-modes.test.ts, shell.test.ts, disks.test.ts).

import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadRecording } from '../../src/session/replay-session.js';
import { tmp } from '../helpers/cli.js';
import { replayAllTiers } from '../helpers/tiers.js';
import { recordTiny, tinyConfig } from '../record/tiny-guest.js';
import { initZstd } from '../../src/record/zstd.js';

describe('the tiny interrupt-driven guest replays identically under every tier setting', () => {
  it('with console input, RTC reads and idle periods', async () => {
    await initZstd();
    const dir = tmp('deja-cross-tier-');
    const file = join(dir, 'tiny.deja');
    recordTiny(file, tinyConfig(dir), { input: [null, 'hello', null, 'x', 'abcdefghijklmnopqrstuvwxyz', null, '\r\n'], every: 500 });
    const rec = await loadRecording(file);
    expect(rec.events.some((e) => e.kind === 'uart-rx')).toBe(true);
    const { failures, runs } = replayAllTiers(rec);
    expect(failures).toEqual([]);
    // The JIT settings at threshold 0 and 1 really ran translated code.
    for (const r of runs.filter((x) => x.jit && /blockThreshold=[01]\b/.test(x.settings))) {
      const s = r.jit!.finalStats();
      expect(s.insns.block + s.insns.trace, r.settings).toBeGreaterThan(0);
    }
  });
});
