// Deliberate JIT bugs, for proving that `deja diff` and `deja bisect` find real ones. Off
// unless --jit-fault is given (and then announced loudly). Each kind corrupts exactly one
// unit, chosen deterministically: the first eligible unit whose compile index (blocks) or
// trace id (traces) is at least `from`.

import type { Insn } from './emit.js';
import type { Block } from './unit.js';

export const FAULT_KINDS = ['wrong-imm', 'lost-writeback', 'missing-icount', 'stale-link', 'skip-irq-check'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultSpec {
  kind: FaultKind;
  /** The first unit index that may be corrupted. */
  from: number;
}

/** Where a fault landed, for reports and for tests that check diff and bisect. */
export interface FaultSite {
  kind: FaultKind;
  unit: 'block' | 'trace';
  id: number;
  pc: number;
}

export const FAULT_UNIT: Record<FaultKind, 'block' | 'trace'> = {
  'wrong-imm': 'block',
  'lost-writeback': 'trace',
  'missing-icount': 'block',
  'stale-link': 'block',
  'skip-irq-check': 'block',
};

const IMM_OPS = new Set(['addi', 'andi', 'ori', 'xori', 'slti', 'sltiu', 'lui', 'auipc']);

/** The instruction of a block a wrong-imm fault changes, or -1 if it has none. */
export function wrongImmIndex(b: Block): number {
  return b.insns.findIndex((i) => IMM_OPS.has(i.d.op) && i.d.rd !== 0);
}

/** The instruction with its immediate off by one (lui/auipc: by one page). */
export function withWrongImm(i: Insn): Insn {
  const delta = i.d.op === 'lui' || i.d.op === 'auipc' ? 4096 : 1;
  return { pc: i.pc, d: { ...i.d, imm: (i.d.imm + delta) | 0 } };
}

/** Whether a block can carry a fault of this kind at all. */
export function blockEligible(kind: FaultKind, b: Block): boolean {
  switch (kind) {
    case 'wrong-imm': return wrongImmIndex(b) >= 0;
    case 'missing-icount': return true;
    case 'skip-irq-check': return /^csrr[wsc]i?$/.test(b.insns[b.insns.length - 1].d.op);
    default: return false;
  }
}
