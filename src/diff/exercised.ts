// What a replay exercised (DESIGN.md I10): the units its JIT compiled and the instructions
// each tier ran. Every replay, diff side, bisect probe, threshold and fuzz draw reports one,
// in the one text form below; a check whose suspect compiled nothing is not a pass.

import type { Jit } from '../jit/jit.js';
import type { Tier } from '../session/tier.js';

export interface Exercised {
  tier: Tier;
  /** Blocks and traces compiled (distinct units: a trace regrown with a new branch counts once). */
  blocks: number;
  traces: number;
  /** Instructions run by the interpreter, in blocks and in traces: they sum to the icount replayed. */
  insns: { interp: number; block: number; trace: number };
}

/** What a replay under `tier` (with its JIT, if any) exercised, having run to `icount` from 0. */
export function exercised(tier: Tier, jit: Jit | null, icount: number): Exercised {
  if (!jit) return { tier, blocks: 0, traces: 0, insns: { interp: icount, block: 0, trace: 0 } };
  const s = jit.finalStats();
  return { tier, blocks: s.blocksCompiled, traces: jit.traces.length, insns: { ...s.insns } };
}

function addExercised(a: Exercised, b: Exercised): Exercised {
  return { tier: a.tier, blocks: a.blocks + b.blocks, traces: a.traces + b.traces, insns: { interp: a.insns.interp + b.insns.interp, block: a.insns.block + b.insns.block, trace: a.insns.trace + b.insns.trace } };
}

/**
 * What a run exercised over JITs reset or replaced on the way (a debugging session's): each
 * counts from where it started, so what one did is banked before it goes.
 */
export class ExercisedTally {
  private banked: Exercised;

  constructor(
    private readonly tier: Tier,
    /** The icount the current JIT (or interpreter) counts from. */
    private from: number,
  ) {
    this.banked = { tier, blocks: 0, traces: 0, insns: { interp: 0, block: 0, trace: 0 } };
  }

  /** The current JIT, at `icount`, is about to be reset or dropped: keeps what it did; the next counts from `icount`. */
  bank(jit: Jit | null, icount: number): void {
    this.banked = this.total(jit, icount);
    this.from = icount;
  }

  /** A new JIT (or interpreter run) that counts from `icount` replaces the current one, banked already. */
  startAt(icount: number): void {
    this.from = icount;
  }

  total(jit: Jit | null, icount: number): Exercised {
    return addExercised(this.banked, exercised(this.tier, jit, icount - this.from));
  }
}

export function compiledNothing(e: Exercised): boolean {
  return e.blocks + e.traces === 0;
}

/** `[block tier: 14434 blocks, 0 traces compiled; insns interp 160532, block 35845999, trace 0]` */
export function formatExercised(e: Exercised): string {
  const i = e.insns;
  const n = (k: number, what: string) => `${k} ${what}${k === 1 ? '' : 's'}`;
  return `[${e.tier} tier: ${n(e.blocks, 'block')}, ${n(e.traces, 'trace')} compiled; insns interp ${i.interp}, block ${i.block}, trace ${i.trace}]`;
}

/** The verdict of a check that would pass but exercised no compiled code (exit code 10). */
export const VACUOUS = 'vacuous: the suspect compiled nothing';
