// Batches of due blocks (heat.ts) are compiled at instruction counts alone: a run watched
// unit by unit (as `deja diff` watches the suspect, with no chaining of blocks) compiles
// the same blocks and runs the same instructions in each tier as a plain run (DESIGN.md I7),
// and a --block-limit run compiles the unlimited run's first blocks.

import { beforeAll, describe, expect, it } from 'vitest';
import { buildGuestPrograms, isaPrograms, runElf } from '../helpers/run-elf.js';
import { tierSettings, type TierOptions } from '../../src/session/tier.js';
import { Jit } from '../../src/jit/jit.js';

// hot-loop.S runs about 9 M instructions: past the first 2^20, where batching starts.
const elf = isaPrograms().find((p) => p.name === 'hot-loop')!.elf;

function run(settings: TierOptions, watch: boolean) {
  let jit: Jit | null = null;
  const r = runElf(elf, {
    setup: (m) => {
      jit = new Jit(m.hart, tierSettings(settings).jit!);
      if (watch) jit.onUnit = () => {};
      m.useJit(jit);
    },
  });
  expect(r.exit).toEqual({ reason: 'poweroff', code: 0 });
  const s = jit!.finalStats();
  return { s, vpcs: jit!.blocks.map((b) => b.vpc), icount: r.icount };
}

describe('batches', () => {
  beforeAll(() => buildGuestPrograms());

  it.each([
    [{ tier: 'block', blockThreshold: '1' }],
    [{ tier: 'trace', blockThreshold: '1', traceThreshold: '1' }],
  ] as [TierOptions][])('compile alike whether or not the run is watched unit by unit (%o)', (settings) => {
    const plain = run(settings, false);
    const watched = run(settings, true);
    expect(plain.s.batches).toBeGreaterThan(0);
    expect(watched.s.batches).toBe(plain.s.batches);
    expect(watched.vpcs).toEqual(plain.vpcs);
    expect(watched.s.insns).toEqual(plain.s.insns);
    expect(watched.s.tracesCompiled).toBe(plain.s.tracesCompiled);
  });

  it('a --block-limit run compiles the unlimited run\'s first blocks', () => {
    const all = run({ tier: 'block', blockThreshold: '1' }, false);
    const n = all.vpcs.length - 1;
    const limited = run({ tier: 'block', blockThreshold: '1', blockLimit: String(n) }, false);
    expect(limited.vpcs).toEqual(all.vpcs.slice(0, n));
  });
});
