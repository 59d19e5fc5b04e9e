// Deliberate JIT bugs, for proving that `deja diff` and `deja bisect` find real ones. Off
// unless --jit-fault is given (and then announced loudly). Each kind corrupts exactly one
// unit, chosen deterministically: the first eligible unit whose compile index (blocks) or
// trace id (traces) is at least `from`. A fault is one step, `applyFault`, that changes what
// the compilers generate a unit's code from; the compilers know no fault kinds.

import { blockInput, blockSource, type BlockInput } from './block-compiler.js';
import { kindOf, type Insn } from './emit.js';
import { buildTrace, traceInput, type TraceInput, type TracePath } from './trace-compiler.js';
import type { Block, Trace } from './unit.js';

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
export function wrongImmIndex(b: { insns: Insn[] }): number {
  return b.insns.findIndex((i) => IMM_OPS.has(i.d.op) && i.d.rd !== 0);
}

/** The instruction with its immediate off by one (lui/auipc: by one page). */
function withWrongImm(i: Insn): Insn {
  const delta = i.d.op === 'lui' || i.d.op === 'auipc' ? 4096 : 1;
  return { pc: i.pc, d: { ...i.d, imm: (i.d.imm + delta) | 0 }, note: 'JIT FAULT: wrong immediate' };
}

/** Whether a block can carry a fault of this kind when it is compiled. */
function blockEligible(kind: FaultKind, b: Block): boolean {
  switch (kind) {
    case 'wrong-imm': return wrongImmIndex(b) >= 0;
    // A block that ends in a system instruction leaves through the hart, which counts it.
    case 'missing-icount': return kindOf(b.insns[b.insns.length - 1].d) !== 'system';
    case 'skip-irq-check': return /^csrr[wsc]i?$/.test(b.insns[b.insns.length - 1].d.op);
    default: return false;
  }
}

/**
 * Injects fault `kind` into what a unit's code is generated from (a unit that carries it).
 * stale-link changes no code: the links into a dropped block survive (code-cache.ts).
 */
function applyFault(kind: FaultKind, input: BlockInput | TraceInput): void {
  if ('block' in input) {
    const env = input.env;
    switch (kind) {
      case 'wrong-imm': {
        const bad = wrongImmIndex(input);
        input.insns = input.insns.map((i, k) => (k === bad ? withWrongImm(i) : i));
        break;
      }
      // Every exit of the block counts one instruction too few.
      case 'missing-icount': input.env = { ...env, leave: (pc, k, exit) => env.leave(pc, k - 1, exit) }; break;
      // The interrupt check after the block's CSR write is skipped: the block clears the hart's attention.
      case 'skip-irq-check': input.env = { ...env, leaveAfterSystem: () => `hart.attention = false; ${env.leaveAfterSystem()}` }; break;
    }
  } else if (kind === 'lost-writeback') {
    // Side exits forget the first register the trace writes.
    input.sideWrites = (written) => written.slice(1);
  }
}

/** A block's source as it runs: generated with the fault it carries (`b.fault`). */
export function faultedBlockSource(b: Block, annotate = false, fault = b.fault): string {
  const input = blockInput(b);
  if (fault !== null) applyFault(fault, input);
  return blockSource(input, annotate);
}

/**
 * A trace's code as it runs: generated with lost-writeback if it carries it (the one fault
 * a trace can carry; src/diff passes `t.fault === 'lost-writeback'`).
 */
export function faultedTrace(id: number, root: TracePath, compact: boolean, annotate = false, lostWriteback = false): { trace: Trace; body: string } {
  const input = traceInput(id, root, compact);
  if (lostWriteback) applyFault('lost-writeback', input);
  return buildTrace(input, annotate);
}

/** Chooses the one unit a --jit-fault lands in, and says where it landed. */
export class FaultInjector {
  /** Where the fault landed (null: no fault, or not yet). */
  site: FaultSite | null = null;

  constructor(private readonly spec: FaultSpec | null) {}

  /** The fault block `b` (just given its compile index) is to carry, or null. */
  forBlock(b: Block): FaultKind | null {
    const f = this.spec;
    if (f === null || this.site !== null || FAULT_UNIT[f.kind] !== 'block' || b.id < f.from || !blockEligible(f.kind, b)) return null;
    this.site = { kind: f.kind, unit: 'block', id: b.id, pc: b.vpc };
    return f.kind;
  }

  /** Whether trace `id` (head at `pc`), compiled now or grown again, carries lost-writeback. */
  forTrace(id: number, pc: number): boolean {
    const f = this.spec;
    const s = this.site;
    if (f?.kind !== 'lost-writeback' || id < f.from || (s !== null && (s.unit !== 'trace' || s.id !== id))) return false;
    this.site = { kind: f.kind, unit: 'trace', id, pc };
    return true;
  }

  /** Whether the links into `b`, being dropped, survive (stale-link); marks `b` if so. */
  keepsLinks(b: Block): boolean {
    const f = this.spec;
    if (f?.kind !== 'stale-link' || this.site !== null || b.id < f.from) return false;
    this.site = { kind: f.kind, unit: 'block', id: b.id, pc: b.vpc };
    b.fault = f.kind;
    return true;
  }
}
