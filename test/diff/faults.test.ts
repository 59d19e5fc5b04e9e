// diff and bisect against deliberate JIT bugs (--jit-fault): for each kind, a guest that
// really misbehaves under it, bisect naming the unit the fault was injected into (or the
// unit whose compilation exposes it), and diff naming the first instruction that goes
// wrong, inside that unit.

import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { ROOT } from '../helpers/cli.js';
import { loadRecording } from '../../src/session/replay-session.js';
import { diffRecording, type DiffResult } from '../../src/diff/diff.js';
import { bisectRecording, verifyReplay } from '../../src/diff/bisect.js';
import { inProcessReplays } from '../../src/diff/replays.js';
import { wrongImmIndex, type FaultKind, type FaultSite } from '../../src/jit/faults.js';
import type { Jit } from '../../src/jit/jit.js';
import type { Recording } from '../../src/record/reader.js';
import { INTERP, recordProgram, settings } from './helpers.js';

interface FaultCase {
  kind: FaultKind;
  /** An ISA program (recorded by the test) or the shipped ticker-panic recording. */
  program: string;
  base: string;
  /**
   * The first --jit-fault-from to try; later ones are tried until the replay diverges (a
   * fault shows only in a unit that runs at the right moment, and which unit that is
   * depends on the JIT's compile order).
   */
  from: number;
  tries: number;
  check(d: DiffResult, site: FaultSite, jit: Jit): void;
  /**
   * The unit bisect names, when not the one the fault was injected into: the smallest
   * compile limit that diverges may need another unit compiled too.
   */
  bisectIndex?(site: FaultSite, jit: Jit): number;
}

async function recording(program: string): Promise<Recording> {
  return program === 'ticker-panic' ? loadRecording(join(ROOT, 'recordings/ticker-panic.deja')) : recordProgram(program);
}

/** The settings (with --jit-fault-from) under which the fault makes the replay diverge. */
function findFault(rec: Recording, c: FaultCase): { text: string; site: FaultSite; jit: Jit; what: string } {
  for (let from = c.from; from < c.from + c.tries; from++) {
    const text = `${c.base},jit-fault=${c.kind},jit-fault-from=${from}`;
    const v = verifyReplay(rec, settings(text));
    if (v.diverged && v.jit?.faultSite) return { text, site: v.jit.faultSite, jit: v.jit, what: `${v.what} (icount ${v.icount})` };
  }
  throw new Error(`no --jit-fault-from in ${c.from}..${c.from + c.tries - 1} makes ${c.kind} diverge under ${c.base}`);
}

const lastInsn = (jit: Jit, site: FaultSite) => jit.blocks[site.id].insns.at(-1)!;

const CASES: FaultCase[] = [
  {
    kind: 'wrong-imm', program: 'branches-jumps', base: 'tier=block,block-threshold=1', from: 0, tries: 20,
    check(d, site, jit) {
      // The instruction with the wrong immediate: the block's first addi/andi/ori/xori/slti/sltiu/lui/auipc with rd != 0.
      const b = jit.blocks[site.id];
      const insn = b.insns[wrongImmIndex(b)];
      expect(d.first!.pc).toBe(insn.pc);
      expect(d.first!.where).toBe('instruction');
      expect(d.first!.registers.map((r) => r.name)).toContain(`x${insn.d.rd}`);
    },
  },
  {
    kind: 'wrong-imm', program: 'ticker-panic', base: 'tier=block,block-threshold=0', from: 30, tries: 20,
    check(d, site, jit) {
      const b = jit.blocks[site.id];
      expect(d.first!.pc).toBe(b.insns[wrongImmIndex(b)].pc);
      expect(d.first!.where).toBe('instruction');
    },
  },
  {
    kind: 'missing-icount', program: 'branches-jumps', base: 'tier=block,block-threshold=1', from: 0, tries: 20,
    check(d, site, jit) {
      // Every exit of the block counts one instruction too few: wrong as the block leaves.
      expect(d.first!.pc).toBe(lastInsn(jit, site).pc);
      expect(d.first!.where).toBe('unit-exit');
      const ic = d.first!.registers.find((r) => r.name === 'icount');
      expect(ic && ic.reference - ic.suspect).toBe(1);
    },
  },
  {
    kind: 'skip-irq-check', program: 'interrupts', base: 'tier=block,block-threshold=0', from: 0, tries: 150,
    check(d, site, jit) {
      // The block's last instruction, a CSR write, enabled a pending interrupt; the
      // reference takes it right after, the suspect runs on.
      const last = lastInsn(jit, site);
      expect(last.d.op).toMatch(/^csrr[wsc]i?$/);
      expect(d.first!.pc).toBe(last.pc);
      expect(d.first!.where).toBe('between-units');
      const traps = d.first!.registers.find((r) => r.name === 'traps');
      expect(traps && traps.reference - traps.suspect).toBe(1);
    },
  },
  {
    kind: 'stale-link', program: 'smc', base: 'tier=block,block-threshold=1', from: 0, tries: 20,
    check(d, site, jit) {
      // The invalidated block ran through a surviving link: its old code, not memory's.
      expect(d.first!.unit!.valid).toBe(false);
      expect(d.first!.unit!.stale).not.toBeNull();
      expect(d.first!.unitInsn).not.toBeNull();
      expect(jit.blocks[site.id].insns.map((i) => i.pc)).toContain(d.first!.pc);
      expect(d.first!.where).toBe('instruction');
    },
    // Only compiled blocks link, so the stale code runs once a block holding a surviving
    // link into it is compiled too: bisect names the first such block (or the stale one).
    bisectIndex(site, jit) {
      // (Its own link back to itself does not count: something else must lead into it.)
      const holders = jit.blocks[site.id].incoming.map(([u]) => (u as { id: number }).id).filter((id) => id >= 0 && id !== site.id);
      expect(holders.length).toBeGreaterThan(0);
      return Math.max(site.id, Math.min(...holders));
    },
  },
  {
    kind: 'lost-writeback', program: 'branches-jumps', base: 'tier=trace,block-threshold=0,trace-threshold=1', from: 0, tries: 10,
    check(d) {
      // Registers are right inside the trace; a side exit forgets to write one back.
      expect(d.first!.where).toBe('unit-exit');
      expect(d.first!.registers.some((r) => /^x\d+$/.test(r.name))).toBe(true);
    },
  },
];

describe('diff and bisect find injected JIT faults', () => {
  it.each(CASES.map((c) => [`${c.kind} in ${c.program}`, c] as const))('%s', async (_name, c) => {
    const rec = await recording(c.program);
    const f = findFault(rec, c);
    const b = settings(f.text);

    const d = diffRecording(rec, INTERP, b);
    // The guest misbehaves: the suspect leaves the recording and ends differently or fails a checkpoint.
    expect(d.diverged).toBe(true);
    expect(d.outcome!.suspect.divergence, f.what).not.toBeNull();
    expect(d.outcome!.reference.divergence).toBeNull();
    // diff names the unit the fault was injected into, and the instruction.
    expect(d.first, JSON.stringify(d.notes)).not.toBeNull();
    expect(d.first!.unit).not.toBeNull();
    expect({ kind: d.first!.unit!.kind, id: d.first!.unit!.id }).toEqual({ kind: f.site.unit, id: f.site.id });
    expect(d.first!.unit!.fault).toBe(c.kind);
    expect(d.first!.unit!.code.length).toBeGreaterThan(0);
    c.check(d, f.site, f.jit);

    // bisect names the same unit, by limiting compilation alone.
    const r = await bisectRecording(rec, INTERP, b, inProcessReplays(rec));
    const index = c.bisectIndex ? c.bisectIndex(f.site, f.jit) : f.site.id;
    expect({ kind: r.kind, index: r.index }).toEqual({ kind: f.site.unit, index });
    expect(r.unit?.id).toBe(index);
    expect(r.diff?.first?.unit?.id).toBe(f.site.id);
    expect(r.diff?.first?.pc).toBe(d.first!.pc);
    // Its probes stopped at the first boundary where the state differs: after the first
    // difference, and no later than where the failing replay leaves the recording.
    if (r.stop) {
      expect(r.stop.icount).toBeGreaterThan(d.first!.icount);
      expect(r.stop.icount).toBeLessThanOrEqual(r.failing.icount!);
      for (const s of r.steps) if (s.diverged) expect(s.icount).toBeLessThanOrEqual(r.stop.icount);
    }
    // Probes that each run to their first failure blame the same unit.
    const whole = await bisectRecording(rec, INTERP, b, inProcessReplays(rec), { boundaries: false, diff: false });
    expect(whole.stop).toBeNull();
    expect({ kind: whole.kind, index: whole.index }).toEqual({ kind: r.kind, index: r.index });
  });
});
