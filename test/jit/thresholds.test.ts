// Thresholds mean what they say: --trace-threshold N alone makes a loop head that ran N
// times start a trace, whatever the block threshold (blocks compile at the lower of the
// two under the trace tier), and --block-threshold N alone compiles the blocks that ran N
// times and no others. Loop counts are the programs' own (test/guest/isa/*.S).

import { beforeAll, describe, expect, it } from 'vitest';
import { buildGuestPrograms, isaPrograms, runElf } from '../helpers/run-elf.js';
import { applyTier } from '../../src/cli/tier.js';
import { tierSettings, type TierOptions } from '../../src/session/tier.js';
import type { Jit } from '../../src/jit/jit.js';

const program = (name: string) => isaPrograms().find((p) => p.name === name)!;

function compiled(name: string, settings: TierOptions): { blocks: number; traces: number; insns: { interp: number; block: number; trace: number } } {
  let jit: Jit | null = null;
  const r = runElf(program(name).elf, { setup: (m) => (jit = applyTier(m, tierSettings(settings))) });
  expect(r.exit).toEqual({ reason: 'poweroff', code: 0 });
  const s = jit!.finalStats();
  return { blocks: s.blocksCompiled, traces: s.tracesCompiled, insns: s.insns };
}

describe('thresholds mean what they say', () => {
  beforeAll(() => buildGuestPrograms());

  // loops.S: test 2's outer loop runs 400 times (its head well below the default block threshold of 100000).
  it('--trace-threshold alone forms a trace at a loop head that ran that often', () => {
    const c = compiled('loops', { tier: 'trace', traceThreshold: '100' });
    expect(c.traces).toBeGreaterThan(0);
    expect(c.blocks).toBeGreaterThan(0);
    expect(c.insns.trace).toBeGreaterThan(0);
  });

  it('--trace-threshold 1 alone compiles blocks and traces', () => {
    const c = compiled('loops', { tier: 'trace', traceThreshold: '1' });
    expect(c.traces).toBeGreaterThan(0);
    expect(c.insns.block + c.insns.trace).toBeGreaterThan(c.insns.interp);
  });

  it('no trace forms where no loop head runs trace-threshold times', () => {
    const c = compiled('loops', { tier: 'trace', traceThreshold: '5000' });
    expect(c.traces).toBe(0);
  });

  // hot-loop.S: its loop and helper run 900000 times (heads sampled from 4096 up).
  it('--block-threshold alone compiles the blocks that ran that often, and only those', () => {
    expect(compiled('hot-loop', { tier: 'block', blockThreshold: '1000' }).blocks).toBeGreaterThan(0);
    expect(compiled('hot-loop', { tier: 'block', blockThreshold: '100000' }).blocks).toBeGreaterThan(0);
    expect(compiled('hot-loop', { tier: 'block', blockThreshold: '5000000' }).blocks).toBe(0);
  });
});
