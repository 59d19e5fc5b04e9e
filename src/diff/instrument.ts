// Observing a compiled unit instruction by instruction, and describing it in reports.
//
// A unit's generated code is regenerated with the JIT's own generator in its annotated
// form (blockSource / buildTrace with annotate=true), whose only difference from the code
// that runs is one comment line before each guest instruction. We check exactly that (the
// annotated text without its comment lines must equal the unit's compiled source), then
// replace each instruction comment with a call to a probe that receives the registers as
// the unit holds them at that point (the hart's array in a block; the trace's locals in a
// trace). The instrumented function is therefore the very code under test, injected faults
// included, plus read-only observation points between its instructions.

import { DirectLinks, blockListing, blockUnit } from '../jit/block-compiler.js';
import { hartArrays, TranslationCache } from '../jit/translation-cache.js';
import { traceListing, traceUnit } from '../jit/trace-compiler.js';
import { faultedBlockSource as blockSource, faultedTrace as buildTrace } from '../jit/faults.js';
import { Block, Trace } from '../jit/unit.js';
import type { Hart } from '../cpu/hart.js';
import { disassemble } from '../isa/disasm.js';
import { insnCount } from './report.js';

/** The global the instrumented code calls (new Function code sees only globals besides its parameters). */
export const PROBE = '__dejaDiffProbe';

export type ProbeFn = (pc: number, locals: number[] | null) => void;

export type UnitFn = (hart: unknown, limit: number) => number;

export interface Instrumented {
  fn: UnitFn;
  /** Registers the trace keeps in locals, in the order the probe receives them (empty for blocks). */
  locals: number[];
}

const INSN_COMMENT = /^(\s*)\/\/ (0x[0-9a-f]+): .*$/;

function stripComments(s: string): string {
  return s.split('\n').filter((l) => !/^\s*\/\//.test(l)).join('\n');
}

function annotated(u: Block | Trace): { ann: string; plain: string } {
  if (u instanceof Block) return { ann: blockSource(u, true, u.fault), plain: u.source };
  const lost = u.fault === 'lost-writeback';
  return { ann: buildTrace(u.id, u.root!, u.compact, true, lost).body, plain: u.source };
}

/**
 * The unit's code with a probe before every guest instruction, or null (with the reason)
 * when the regenerated code is not exactly the code the unit runs.
 */
export function instrumentUnit(u: Block | Trace, hart: Hart): Instrumented | string {
  if (u instanceof Trace && !u.root) return 'the trace has no recorded paths';
  const { ann, plain } = annotated(u);
  if (plain && stripComments(ann) !== plain) return 'its regenerated code differs from the code it runs';
  let locals: number[] = [];
  if (u instanceof Trace) {
    const m = /let ((?:r\d+ = x\[\d+\](?:, )?)+);/.exec(ann);
    if (m) locals = [...m[1].matchAll(/r(\d+) = x/g)].map((g) => Number(g[1]));
  }
  const arg = u instanceof Trace ? `[${locals.map((r) => `r${r}`).join(', ')}]` : 'null';
  const body = ann
    .split('\n')
    .map((l) => {
      const m = INSN_COMMENT.exec(l);
      return m ? `${m[1]}${PROBE}(${m[2]}, ${arg});` : l;
    })
    .join('\n');
  if (u instanceof Block) {
    // Its direct links stay unset: every block it runs returns to the dispatcher, which
    // the lockstep observer watches.
    const unit = blockUnit(`diff_blk_${u.vpc.toString(16)}`, body, u.compact);
    const made = new TranslationCache().make<UnitFn | [UnitFn]>(unit, hartArrays(hart), u.id * 4, new DirectLinks());
    // A compact block's factory returns its function; another's, the function and its link setter.
    return { fn: u.compact ? (made as UnitFn) : (made as [UnitFn])[0], locals };
  }
  const fn = new TranslationCache().make<UnitFn>(traceUnit(`diff_trace_${u.head.vpc.toString(16)}`, body), hartArrays(hart), u);
  return { fn, locals };
}

const hex = (v: number) => '0x' + (v >>> 0).toString(16).padStart(8, '0');

export interface UnitInfo {
  kind: 'block' | 'trace';
  id: number;
  /** Virtual pc of the first instruction (the trace's head). */
  pc: number;
  /** Blocks it spans (a block spans itself). */
  blocks: { id: number; pc: number; insns: number }[];
  /** Instructions in one pass (longest pass for a trace). */
  insns: number;
  /** False if the unit had been invalidated when it ran (stale code). */
  valid: boolean;
  /** An injected fault it carries (--jit-fault), or null. */
  fault: string | null;
  /** Guest disassembly. */
  listing: string;
  /** The generated JavaScript, annotated with the guest instructions. */
  code: string;
}

export function unitInfo(u: Block | Trace): UnitInfo {
  if (u instanceof Block) {
    return {
      kind: 'block', id: u.id, pc: u.vpc, blocks: [{ id: u.id, pc: u.vpc, insns: u.n }], insns: u.n, valid: u.valid, fault: u.fault,
      listing: `block ${u.id} at ${hex(u.vpc)} (priv ${u.priv}, ${insnCount(u.n)})\n${blockListing(u)}`,
      code: blockSource(u, true, u.fault),
    };
  }
  return {
    kind: 'trace', id: u.id, pc: u.head.vpc, blocks: u.blocks.map((b) => ({ id: b.id, pc: b.vpc, insns: b.n })), insns: u.iterLen,
    valid: u.valid, fault: u.fault, listing: traceListing(u),
    code: u.root ? buildTrace(u.id, u.root, u.compact, true, u.fault === 'lost-writeback').body : u.source,
  };
}

/** The unit's instruction at a pc (the bytes it was compiled from), if it has one there. */
export function unitInsnAt(u: Block | Trace, pc: number): { raw: number; text: string; block: Block; index: number; off: number } | null {
  const blocks = u instanceof Block ? [u] : u.blocks;
  for (const b of blocks) {
    let off = b.off;
    for (let i = 0; i < b.insns.length; i++) {
      const ins = b.insns[i];
      if (ins.pc >>> 0 === pc >>> 0) return { raw: ins.d.raw, text: disassemble(ins.d.raw, ins.pc), block: b, index: i, off };
      off += ins.d.len;
    }
  }
  return null;
}
