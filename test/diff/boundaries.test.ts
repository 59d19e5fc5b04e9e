// Bisect's stopping point: the first run-loop boundary where a faulty replay's state
// differs from the reference's. A probe under the reference's settings stopped there
// matches, the faulty one does not, and one stopped at the boundary before matches too.

import { describe, expect, it } from 'vitest';
import { firstBadBoundary } from '../../src/diff/boundaries.js';
import { verifyReplay } from '../../src/diff/replays.js';
import { diffRecording } from '../../src/diff/diff.js';
import { INTERP, recordProgram, settings } from './helpers.js';
import { bisectRecording } from '../../src/diff/bisect.js';
import { inProcessReplays } from '../../src/diff/replays.js';

describe('the first boundary that differs', () => {
  it('lies after the first differing instruction; probes compare their state with the reference there', async () => {
    // (Its checkpoints, every 1000 instructions, end the run loop's slices: boundaries at their limits.)
    const rec = await recordProgram('calls');
    const b = settings('tier=block,block-threshold=1,jit-fault=missing-icount');
    const full = verifyReplay(rec, b);
    expect(full.diverged).toBe(true);
    const at = firstBadBoundary(rec, INTERP, b, full.icount!);
    expect(at).not.toBeNull();
    const d = diffRecording(rec, INTERP, b);
    expect(at!.icount).toBeGreaterThan(d.first!.icount);
    expect(at!.lastGood).toBeLessThanOrEqual(d.first!.icount);
    expect(at!.exercised.blocks).toBeGreaterThan(0);

    const stop = { icount: at!.icount, hash: at!.hash };
    const ref = verifyReplay(rec, INTERP, undefined, stop);
    expect(ref.diverged, ref.what ?? '').toBe(false);
    expect(ref.exit).toBe(`stopped at icount ${at!.icount}`);
    const bad = verifyReplay(rec, b, undefined, stop);
    expect(bad.diverged).toBe(true);
    expect(bad.icount).toBe(at!.icount);
    expect(bad.what).toMatch(/state differs from the reference's at icount \d+, a run-loop boundary|checkpoint at icount/);
    // Another tier without the fault agrees with the reference there.
    const clean = verifyReplay(rec, settings('tier=trace,block-threshold=1,trace-threshold=1'), undefined, stop);
    expect(clean.diverged, clean.what ?? '').toBe(false);
    expect(clean.exercised.blocks).toBeGreaterThan(0);
  });

  it('is null for a replay that matches the reference', async () => {
    const rec = await recordProgram('branches-jumps');
    const b = settings('tier=block,block-threshold=1');
    expect(firstBadBoundary(rec, INTERP, b, 1_000_000)).toBeNull();
  });

  it('only slice limits count: where timer writes end slices early, bisect blames the unit probes run to their first failure blame', async () => {
    // interrupts.S programs the CLINT: each mtimecmp write makes the run loop return before
    // its slice's limit, and a probe stopped there by its own limit would not enter the
    // block that got there.
    const rec = await recordProgram('interrupts');
    const cases: [string, number][] = [['wrong-imm', 14], ['wrong-imm', 26], ['wrong-imm', 36], ['wrong-imm', 37], ['missing-icount', 13], ['missing-icount', 19], ['missing-icount', 25], ['missing-icount', 27]];
    let stopped = 0;
    for (const [kind, from] of cases) {
      const b = settings(`tier=block,block-threshold=0,jit-fault=${kind},jit-fault-from=${from}`);
      const r = await bisectRecording(rec, INTERP, b, inProcessReplays(rec), { diff: false });
      const whole = await bisectRecording(rec, INTERP, b, inProcessReplays(rec), { diff: false, boundaries: false });
      expect({ kind: r.kind, index: r.index }, `${kind} from ${from}`).toEqual({ kind: whole.kind, index: whole.index });
      expect(r.index, `${kind} from ${from}`).toBe(from);
      if (r.stop) stopped++;
    }
    expect(stopped).toBeGreaterThan(0);
  });
});
