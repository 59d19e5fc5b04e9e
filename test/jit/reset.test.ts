// Jit.reset(): the JIT forgets every unit, link, heat count, trace and statistic, as if it
// were made new at that icount: the replay goes on exactly (every checkpoint verified), and
// compiles what a JIT attached new at that icount compiles.

import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ROOT, tmp } from '../helpers/cli.js';
import { initZstd } from '../../src/record/zstd.js';
import type { Recording } from '../../src/record/reader.js';
import { PAGE_CODE } from '../../src/cpu/memory.js';
import type { Jit } from '../../src/jit/jit.js';
import { ReplaySession, loadRecording, recordingEnd } from '../../src/session/replay-session.js';
import { attachTier, tierSettings, type TierOptions } from '../../src/session/tier.js';
import { tinyRecording } from '../record/tiny-guest.js';

const SETTINGS: TierOptions[] = [
  { tier: 'block', blockThreshold: '1' },
  { tier: 'trace', blockThreshold: '1', traceThreshold: '1' },
  { tier: 'trace', blockThreshold: '0', traceThreshold: '2', maxTraceBlocks: '3' },
];

/** What a JIT decided: its units in order, and its counts (host times and translation reuse aside). */
function decisions(jit: Jit) {
  const { blockCompileMs, traceCompileMs, blockCompileUsMean, traceCompileUsMean, translationsMade, translationsReused, ...counts } = jit.finalStats();
  return {
    blocks: jit.blocks.map((b) => [b.vpc, b.priv, b.n]),
    traces: jit.traces.map((t) => [t.id, t.head.vpc, t.blocks.length]),
    counts: structuredClone(counts),
  };
}

describe('Jit.reset', () => {
  let tiny: Recording;
  let ticker: Recording;

  beforeAll(async () => {
    await initZstd();
    tiny = tinyRecording(tmp('deja-jit-reset-'));
    ticker = await loadRecording(join(ROOT, 'recordings/ticker-panic.deja'));
  });

  for (const t of SETTINGS) {
    it(`empties the JIT, and the replay goes on exactly (${JSON.stringify(t)})`, () => {
      for (const rec of [tiny, ticker]) {
        const checkpoints = rec.events.filter((e) => e.kind === 'checkpoint').length;
        const s = new ReplaySession(rec, tierSettings(t));
        const jit = s.jit!;
        const n = Math.floor(s.stopAt / 2) + 3;
        s.replay(n);
        expect(jit.blocks.length).toBeGreaterThan(0);
        jit.reset();
        expect(jit.blocks).toEqual([]);
        expect(jit.traces).toEqual([]);
        const st = jit.finalStats();
        expect(st.insns).toEqual({ interp: 0, block: 0, trace: 0 });
        expect(st.blocksCompiled + st.tracesCompiled + st.linksMade + st.lookups + st.invalidations).toBe(0);
        // No page is left flagged for code, and no heat counter or handover slot is left.
        expect(s.machine.mem.pageFlags.some((f) => (f & PAGE_CODE) !== 0)).toBe(false);
        expect(s.machine.hart.decodeCache.pages.every((p) => !p || p.every((w) => w === 0))).toBe(true);
        const r = s.replay();
        expect(r.divergence).toBeNull();
        expect(r.checkpoints).toBe(checkpoints);
        expect(jit.blocks.length).toBeGreaterThan(0);
        // Its instructions count from the reset.
        const ins = jit.finalStats().insns;
        expect(ins.interp + ins.block + ins.trace).toBe(r.icount - n);
      }
    });
  }

  it('after a reset the JIT decides as a JIT attached new at that icount', () => {
    for (const rec of [tiny, ticker]) {
      for (const t of SETTINGS) {
        const settings = tierSettings(t);
        const n = Math.floor(recordingEnd(rec).icount / 3) + 1;
        const reset = new ReplaySession(rec, settings);
        reset.replay(n);
        reset.jit!.reset();
        reset.replay();
        // The same replay under the interpreter up to n, then a new JIT.
        const fresh = new ReplaySession(rec);
        fresh.replay(n);
        const jit = attachTier(fresh.machine, settings)!;
        expect(fresh.replay().divergence).toBeNull();
        expect(decisions(reset.jit!), JSON.stringify(t)).toEqual(decisions(jit));
        expect(jit.blocks.length).toBeGreaterThan(0);
      }
    }
  });

  it('keeps the translations: code made before the reset is reused after it', () => {
    const s = new ReplaySession(tiny, tierSettings({ tier: 'block', blockThreshold: '1' }));
    s.replay(Math.floor(s.stopAt / 2));
    const made = s.jit!.translations.made;
    s.jit!.reset();
    expect(s.replay().divergence).toBeNull();
    expect(s.jit!.finalStats().translationsReused).toBeGreaterThan(0);
    expect(s.jit!.translations.made).toBeGreaterThanOrEqual(made);
  });
});
