// Without faults, diff finds nothing between the interpreter and the JIT tiers: not from the
// checkpoints, and not when every instruction of the whole run is compared in lockstep
// (which checks diff's own instrumentation and stepping for false differences). And a
// difference planted in RAM alone, which no checkpoint sees, is found where it was made.

import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ROOT } from '../helpers/cli.js';
import { loadRecording } from '../../src/session/replay-session.js';
import { diffRecording } from '../../src/diff/diff.js';
import { runPass } from '../../src/diff/lockstep.js';
import { INTERP, recordProgram, settings } from './helpers.js';

const PROGRAMS = ['branches-jumps', 'interrupts', 'smc', 'rv32a', 'sv32', 'traps', 'uart-plic'];
const TIERS = ['tier=block,block-threshold=0', 'tier=trace,block-threshold=0,trace-threshold=1', 'tier=trace,block-threshold=1,trace-threshold=2,max-block-insns=3,max-trace-blocks=2'];

describe('no divergence without faults', () => {
  it.each(PROGRAMS)('%s', async (program) => {
    const rec = await recordProgram(program);
    for (const t of TIERS) {
      const d = diffRecording(rec, INTERP, settings(t));
      expect(d.diverged, `${program} under ${t}: ${JSON.stringify(d.first)}`).toBe(false);
      // Every instruction, in lockstep, from the start to the end.
      const p = runPass(rec, INTERP, settings(t), undefined, { start: 0, mode: 'insn', giveUpAt: Infinity, outcome: true });
      const m = p.mismatch;
      expect(m && `${t}: ${m.at.kind} at icount ${m.at.icount}: ${JSON.stringify(m.fields)}`).toBeNull();
      expect(p.uninstrumented.size).toBe(0);
      expect(p.outcome!.suspect.divergence).toBeNull();
    }
  });

  it('ticker-panic (timer and UART interrupts, 13 M instructions) in lockstep under the trace tier', async () => {
    const rec = await loadRecording(join(ROOT, 'recordings/ticker-panic.deja'));
    const p = runPass(rec, INTERP, settings('tier=trace,block-threshold=0,trace-threshold=1'), undefined, { start: 0, mode: 'insn', giveUpAt: Infinity, outcome: true });
    expect(p.mismatch && `${p.mismatch.at.kind} at icount ${p.mismatch.at.icount}: ${JSON.stringify(p.mismatch.fields)}`).toBeNull();
    expect(p.outcome!.reference.divergence).toBeNull();
    expect(p.outcome!.suspect.divergence).toBeNull();
  });

  it('a byte changed in RAM alone is found at the boundary where it was changed', async () => {
    const rec = await loadRecording(join(ROOT, 'recordings/ticker-panic.deja'));
    const AT = 3_000_000;
    const d = diffRecording(rec, INTERP, settings('tier=block,block-threshold=0'), {
      setup: (side, role) => {
        if (role !== 'suspect') return;
        const m = side.machine;
        const prev = m.boundaryHook;
        let done = false;
        m.boundaryHook = (mm) => {
          prev?.(mm);
          if (!done && mm.hart.icount >= AT) {
            done = true;
            mm.mem.u8[mm.mem.ramBytes - 100] ^= 0x5a;
          }
        };
      },
    });
    expect(d.diverged).toBe(true);
    // Checkpoints hash registers and console only: both match the recording.
    expect(d.suspectVsRecording).toBeNull();
    expect(d.first!.ram.ranges[0]).toMatchObject({ address: 0x80000000 + (128 << 20) - 100, size: 1, reference: '0x00', suspect: '0x5a' });
    expect(d.first!.registers).toEqual([]);
    expect(d.first!.icount).toBeGreaterThanOrEqual(AT);
    expect(d.first!.icount).toBeLessThan(AT + 100);
  });
});
