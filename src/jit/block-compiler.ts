// The block tier's translator: finds a guest basic block in physical memory and turns it
// into one generated JavaScript function whose registers are the hart's own array.

import { decode } from '../isa/decode.js';
import { disassemble } from '../isa/disasm.js';
import type { DebugStops } from '../cpu/debug-stops.js';
import type { PhysMemory } from '../cpu/memory.js';
import { instantiate, type HartArrays, type TranslationCache, type UnitSource } from './translation-cache.js';
import { TLB_MASK } from '../cpu/mmu.js';
import { branchCondition, branchTarget, emitJump, emitPlain, emitSystem, hex, insnComment, isCall, kindOf, type Insn, type UnitEnv } from './emit.js';
import { Block, type BlockFn, type LinkFn } from './unit.js';

/**
 * Exit slots of a block: 0 is the taken branch or jump, 1 the fall-through, 2 an indirect
 * jump (never linked; its exit code tells a caller's block that its callee has returned).
 */
export const SLOT_TAKEN = 0;
export const SLOT_NEXT = 1;
export const SLOT_INDIRECT = 2;
/** Not an exit: the block after a call, run when the callee returns (see leaveBy). */
export const SLOT_RETURN = 3;

/**
 * Reads the block starting at buffer offset `off` (virtual `pc`). It ends after a control
 * transfer or system instruction, before an illegal instruction or one that crosses the
 * page, at the page's end, or at `maxInsns`. An empty result means the head itself cannot
 * be translated; the interpreter runs it.
 */
export function scanBlock(mem: PhysMemory, off: number, pc: number, priv: number, maxInsns: number, debug: DebugStops | null = null): Block {
  const insns: Insn[] = [];
  // A debugger's breakpoint is never compiled: a block that starts there stays interpreted
  // (the interpreter stops there), and one that reaches it ends before it.
  if (debug !== null && debug.hasBreakpoint(pc)) return new Block(pc >>> 0, off, priv, insns, 1, []);
  const u16 = mem.u16;
  let o = off;
  let p = pc >>> 0;
  let last: Insn | null = null;
  while (insns.length < maxInsns) {
    const lo = u16[o >>> 1];
    if ((lo & 3) === 3 && (o & 4095) === 4094) break;
    const raw = (lo & 3) === 3 ? lo | (u16[(o >>> 1) + 1] << 16) : lo;
    const d = decode(raw);
    if (!d || (debug !== null && last !== null && debug.hasBreakpoint(p))) break;
    last = { d, pc: p };
    insns.push(last);
    if (kindOf(d) !== 'plain') break;
    o += d.len;
    p = (p + d.len) >>> 0;
    if ((o & 4095) === 0) break;
  }
  if (!last) return new Block(pc >>> 0, off, priv, insns, 1, []);
  const end = (last.pc + last.d.len) >>> 0;
  let exits: number[];
  switch (kindOf(last.d)) {
    case 'branch': exits = [branchTarget(last), end]; break;
    case 'jump': exits = last.d.op === 'jal' ? [(last.pc + last.d.imm) >>> 0] : []; break;
    case 'system': exits = []; break;
    default: exits = [-1, end];
  }
  return new Block(pc >>> 0, off, priv, insns, insns.length, exits);
}

/**
 * Leaving a block by exit `slot`: while the caller allows (depth `d`), the budget admits it
 * and the exit is linked, the block calls its successor directly (the link is a variable of
 * the block's closure, so the call site stays monomorphic); otherwise it returns
 * `exitCode(id, slot)` to the dispatcher. A successor on another virtual page is entered
 * only while the fetch TLB maps it where it was translated (O<slot>, set with the link).
 */
function leaveBy(b: Block, pc: string, k: number, slot: number): string {
  // An indirect jump's target is looked up by the dispatcher.
  if (slot === SLOT_INDIRECT) return `{ hart.pc = ${pc}; hart.icount = ic + ${k}; return ${exitCode(slot)}; }`;
  const v = linkVars(b);
  let guard = `d > 0 && ${v}L${slot} !== null && ic + ${k} + ${v}N${slot} <= limit`;
  if (b.cross[slot] === 1) {
    const vpn = b.exitPcs[slot] >>> 12;
    guard += ` && hart.mmu.xTag[${vpn & TLB_MASK}] === ${vpn} && hart.mmu.xOff[${vpn & TLB_MASK}] === ${v}O${slot}`;
  }
  const ret = returnPc(b);
  if (ret === null || slot === SLOT_NEXT) {
    if (b.compact && b.cross[slot] !== 1) return `return M.go${slot}(K, hart, limit, d, ${pc}, ic + ${k}, ${exitCode(slot)});`;
    return `{ hart.pc = ${pc}; hart.icount = ic + ${k}; return ${guard} ? ${v}L${slot}(hart, limit, d - 1) : ${exitCode(slot)}; }`;
  }
  // A call: when the callee's blocks come back here by a return (a block's exit code with
  // slot 2, pc at the call's return address, nothing else in between), run on into the
  // block there (L3). (A trace's exit code is negative: the callee ran into a trace.)
  const vpn = ret >>> 12;
  const mapped = `hart.mmu.xTag[${vpn & TLB_MASK}] === ${vpn} && hart.mmu.xOff[${vpn & TLB_MASK}] === ${b.pageOff}`;
  const back = `rr >= 0 && (rr & 3) === ${SLOT_INDIRECT} && hart.pc === ${hex(ret)} && ${v}L3 !== null && d > 1 && hart.icount + ${v}N3 <= limit && ${mapped}`;
  return `{ hart.pc = ${pc}; hart.icount = ic + ${k}; if (!(${guard})) return ${exitCode(slot)}; const rr = ${v}L${slot}(hart, limit, d - 1); return ${back} ? ${v}L3(hart, limit, d - 1) : rr; }`;
}

/**
 * Where a block's direct links live: variables of its closure, set by a setter compiled
 * with it; a compact block's in a DirectLinks object `K` (no second function for V8 to
 * compile for a block that may run only a few times).
 */
function linkVars(b: Block): string {
  return b.compact ? 'K.' : '';
}

/** A compact block's direct links (its `K`): what linkFn sets. */
export class DirectLinks {
  L0: BlockFn | null = null;
  L1: BlockFn | null = null;
  L3: BlockFn | null = null;
  N0 = 0;
  N1 = 0;
  N3 = 0;
  O0 = 0;
  O1 = 0;

  /** The block's LinkFn. */
  readonly set: LinkFn = (s, f, n, o) => {
    if (s === 0) (this.L0 = f), (this.N0 = n), (this.O0 = o);
    else if (s === 1) (this.L1 = f), (this.N1 = n), (this.O1 = o);
    else (this.L3 = f), (this.N3 = n);
  };
}

/**
 * The return address of a block that ends in a call (a jump that links), when it lies on
 * the block's own page (so the callee's return finds it mapped where it was): else null.
 */
export function returnPc(b: Block): number | null {
  const last = b.insns[b.insns.length - 1];
  if (!last || !isCall(last.d)) return null;
  const end = (last.pc + last.d.len) >>> 0;
  return (end & 4095) === 0 ? null : end;
}

/**
 * What a block returns when it leaves by exit `slot`, as source: its id * 4 + slot (the
 * dispatcher decodes it). `B` (id * 4) is an argument of the block's factory, so blocks
 * translated alike share their code whatever their ids (translation-cache.ts).
 */
function exitCode(slot: number): string {
  return `B + ${slot}`;
}

/**
 * What a block's code is generated from: the block, its instructions and how its code names
 * registers and leaves (an injected fault changes these first: faults.ts).
 */
export interface BlockInput {
  block: Block;
  insns: Insn[];
  env: UnitEnv;
}

/** The block's own input: its instructions, registers in the hart's array. */
export function blockInput(b: Block): BlockInput {
  const env: UnitEnv = {
    read: (r) => `x[${r}]`,
    write: (r, v) => `x[${r}] = ${v};`,
    sync: (pc, k) => `(hart.pc = ${hex(pc)}, hart.icount = ic + ${k})`,
    // (Compact code leaves through a shared helper where it returns to the dispatcher: less
    // source for V8 to compile in blocks that may run only a few times.)
    leave: (pc, k, exit) =>
      exit >= 0 ? leaveBy(b, pc, k, exit) : b.compact && exit === -1 ? `return M.out(${pc}, ic + ${k});` : `{ hart.pc = ${pc}; hart.icount = ic + ${k}; return ${exit}; }`,
    flush: () => '',
    leaveAfterSystem: () => 'return -1;',
    compact: b.compact,
  };
  return { block: b, insns: b.insns, env };
}

/** The body of a block's function. */
export function blockSource({ block: b, insns, env }: BlockInput, annotate = false): string {
  const n = insns.length;
  // A block that branches or jumps back to its own head is a real loop, with the budget
  // checked at the back-edge (as in a trace).
  const loops = selfLoop(b);
  const out: string[] = [`${loops ? 'let' : 'const'} ic = hart.icount;`, ''];
  const tlb = env.compact ? '' : tlbPrologue(insns);
  if (tlb) out.push(`const mmu = hart.mmu${tlb};`);
  if (loops) out.push('for (;;) {');
  for (let k = 0; k < n; k++) {
    if (annotate) out.push(insnComment(insns[k]));
    out.push(...insnSource(insns[k], k, env, b, loops));
  }
  if (loops) out.push('}');
  const last = insns[n - 1];
  if (kindOf(last.d) === 'plain') out.push(env.leave(hex(last.pc + last.d.len), n, SLOT_NEXT));
  // (Declared from the code alone: annotation comments must not change it.)
  out[1] = scratchDeclarations(out.filter((l) => !l.startsWith('//')).join('\n'));
  return out.filter((l) => l !== '').join('\n  ');
}

const SCRATCH: [string, string][] = [['a', '0'], ['t', '0'], ['vpn', '0'], ['s', '0'], ['sl', 'false']];
const SCRATCH_USE = /\b(?:a|t|vpn|s|sl)\b/g;

/** The scratch variables of the emitters' code that `code` uses, declared (none: empty). */
function scratchDeclarations(code: string): string {
  const seen = new Set(code.match(SCRATCH_USE));
  const used = SCRATCH.filter(([v]) => seen.has(v));
  return used.length ? `let ${used.map(([v, init]) => `${v} = ${init}`).join(', ')};` : '';
}

/** Whether the block's taken exit is its own head. */
export function selfLoop(b: Block): boolean {
  const k = kindOf(b.insns[b.insns.length - 1].d);
  return (k === 'branch' || k === 'jump') && b.exitPcs[SLOT_TAKEN] === b.vpc;
}

/** The back-edge of a self-looping block: count the pass, leave if the next would pass the limit. */
function backEdge(b: Block): string {
  return `{ ic += ${b.n}; if (ic + ${b.n} > limit) { hart.pc = ${hex(b.vpc)}; hart.icount = ic; return ${exitCode(SLOT_TAKEN)}; } continue; }`;
}

/** The TLB arrays a unit's fast paths read (after `const mmu = hart.mmu`), as declarations. */
export function tlbPrologue(insns: Insn[]): string {
  const mem = insns.filter(isMem);
  const loads = mem.some((i) => i.d.op[0] === 'l');
  const stores = mem.some((i) => i.d.op[0] === 's');
  return (loads ? ', rT = mmu.rTag, rO = mmu.rOff' : '') + (stores ? ', wT = mmu.wTag, wO = mmu.wOff' : '');
}

/** Loads and stores: their fast path reads the current TLB arrays. */
export function isMem(i: Insn): boolean {
  return /^(l[bhw]u?|s[bhw])$/.test(i.d.op);
}

function insnSource(i: Insn, k: number, env: UnitEnv, b: Block, loops: boolean): string[] {
  switch (kindOf(i.d)) {
    case 'plain':
      return [emitPlain(i, k, env)];
    case 'branch':
      return [
        `if (${branchCondition(i, env)}) ${loops ? backEdge(b) : env.leave(hex(b.exitPcs[SLOT_TAKEN]), k + 1, SLOT_TAKEN)}`,
        env.leave(hex(b.exitPcs[SLOT_NEXT]), k + 1, SLOT_NEXT),
      ];
    case 'jump': {
      const j = emitJump(i, env);
      return [j.code, loops ? backEdge(b) : env.leave(j.target, k + 1, j.fixed === null ? SLOT_INDIRECT : SLOT_TAKEN)];
    }
    case 'system':
      return [emitSystem(i, k, env)];
  }
}

/**
 * A block's unit: a factory of (B = id * 4) that returns its function and its link setter,
 * or for a compact block, of (B, K: its DirectLinks) that returns its function.
 */
export function blockUnit(name: string, source: string, compact: boolean): UnitSource {
  if (compact) return { name, params: 'B, K', body: `return (function ${name}(hart, limit, d) {\n  ${source}\n});` };
  return {
    name,
    params: 'B',
    body: [
      'let L0 = null, L1 = null, L3 = null, N0 = 0, N1 = 0, N3 = 0, O0 = 0, O1 = 0;',
      `return [(function ${name}(hart, limit, d) {\n  ${source}\n}), (function (s, f, n, o) {`,
      '  if (s === 0) { L0 = f; N0 = n; O0 = o; } else if (s === 1) { L1 = f; N1 = n; O1 = o; } else { L3 = f; N3 = n; }',
      '})];',
    ].join('\n  '),
  };
}

/**
 * Compiles blocks (their ids given) from their sources (blockSource's, as they run:
 * faults.ts), which they keep, into their functions and the setters of their direct links:
 * `linkFn(slot, fn, n, pageOff)` makes exit `slot` (or SLOT_RETURN) call `fn`, a block of
 * `n` instructions translated from the page at `pageOff`, or (fn null) return to the
 * dispatcher. The blocks are compiled together (translation-cache.ts).
 */
export function compileBlocks(bs: Block[], sources: string[], arrays: HartArrays, cache: TranslationCache): void {
  const factories = cache.factoriesFor(bs.map((b, i) => blockUnit(`blk_${b.vpc.toString(16)}`, sources[i], b.compact)));
  bs.forEach((b, i) => {
    b.source = sources[i];
    if (b.compact) {
      const k = new DirectLinks();
      b.fn = instantiate<BlockFn>(factories[i], arrays, b.id * 4, k);
      b.linkFn = k.set;
    } else [b.fn, b.linkFn] = instantiate<[BlockFn, LinkFn]>(factories[i], arrays, b.id * 4);
  });
}

/** A block's guest disassembly, one instruction a line. */
export function blockListing(b: Block): string {
  return b.insns.map((i) => `  ${hex(i.pc)}: ${disassemble(i.d.raw, i.pc)}`).join('\n');
}
