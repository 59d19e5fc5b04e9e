// JavaScript for one guest instruction inside a compiled unit, instantiated from the one
// semantics table (src/isa/semantics.ts) exactly as the interpreter instantiates it. Only
// the operand sources differ: registers are array slots (blocks) or locals (traces), and
// immediates and pcs are numbers this module formats itself, never guest-controlled text.

import type { Decoded } from '../isa/decode.js';
import { instantiate, SEMANTICS } from '../isa/semantics.js';
import { OP_INDEX } from '../isa/semantics.js';
import { memoryMacros, type PageCache } from '../cpu/interpreter.js';
import { disassemble } from '../isa/disasm.js';

/** A decoded guest instruction at its virtual pc (unsigned). */
export interface Insn {
  d: Decoded;
  pc: number;
  /** A remark for annotated code (an injected fault names itself there). */
  note?: string;
}

/** The comment line annotated code has before an instruction (src/diff turns these into probes). */
export function insnComment(i: Insn): string {
  return `// ${hex(i.pc)}: ${disassemble(i.d.raw, i.pc)}${i.note ? `  (${i.note})` : ''}`;
}

/** How a unit names registers and leaves. */
export interface UnitEnv {
  /** Source reading register r (1..31). */
  read(r: number): string;
  /** Statement writing register r (1..31). */
  write(r: number, v: string): string;
  /** Expression making hart.pc/icount exact for the instruction at pc, `k` instructions in. */
  sync(pc: number, k: number): string;
  /** Statement leaving the unit at `pc` (a source expression) after `k` retired, returning `exit`. */
  leave(pc: string, k: number, exit: number): string;
  /** Statements storing register locals back to hart.x (empty when registers live there). */
  flush(): string;
  /** How the unit leaves after a system instruction has run (hart.pc and icount are exact). */
  leaveAfterSystem(): string;
  /** The unit's page caches (see pageCaches), or none. */
  caches?: PageCaches;
  /** Loads and stores call the shared helpers of translation-cache.ts (compact code) instead of inlining the TLB lookup. */
  compact?: boolean;
}

/**
 * Memory macros for compact code: an access calls a shared helper (`M.lw(addr, pc, icount)`,
 * translation-cache.ts) that does the TLB lookup and, with the exact pc and icount of its
 * instruction, the slow path. Only a slow path can raise the hart's attention, so the unit
 * leaves when it is raised after the access.
 */
function compactMacros(pc: number, k: number, inline: () => Record<string, (...a: string[]) => string>): Record<string, (...a: string[]) => string> {
  const at = `${hex(pc)}, ic + ${k}`;
  const load = (name: string) => (a: string) => `M.${name}(${a}, ${at})`;
  const store = (name: string) => (a: string, v: string) => `M.${name}(${a}, ${v}, ${at})`;
  return {
    ...PURE_MACROS,
    // LR and SC count as a load and a store too: they keep the inline macros' slow path
    // (made only for them).
    LR: (a) => inline().LR(a),
    SC: (a, v) => inline().SC(a, v),
    LOAD32: load('lw'), LOAD_U16: load('lhu'), LOAD_S16: load('lh'), LOAD_U8: load('lbu'), LOAD_S8: load('lb'),
    STORE32: store('sw'), STORE16: store('sh'), STORE8: store('sb'),
  };
}

/**
 * Per-unit page caches, one for loads and one for stores per base register: repeated
 * accesses to one page (a stack frame, an array walked by a loop) translate once. Every
 * slow path forgets them all (it may have refilled or evicted TLB entries).
 */
export interface PageCaches {
  load(r: number): PageCache;
  store(r: number): PageCache;
  /** `let` declarations, for the unit's prologue (empty if it has no loads or stores). */
  decl: string;
  /** Forgets every cached page (an expression). */
  reset: string;
}

export function pageCaches(insns: Insn[]): PageCaches {
  const loads = new Set<number>();
  const stores = new Set<number>();
  for (const { d } of insns) {
    const mem = SEMANTICS[d.op].mem;
    if (mem === 'load') loads.add(d.rs1);
    else if (mem === 'store') stores.add(d.rs1);
  }
  const names = [...[...loads].map((r) => `lp${r}`), ...[...stores].map((r) => `sp${r}`)];
  const decl = [...[...loads].map((r) => `lp${r} = 1, lo${r} = 0`), ...[...stores].map((r) => `sp${r} = 1, so${r} = 0`)];
  return {
    load: (r) => ({ page: `lp${r}`, off: `lo${r}` }),
    store: (r) => ({ page: `sp${r}`, off: `so${r}` }),
    decl: decl.length ? `let ${decl.join(', ')};` : '',
    reset: names.length ? `${names.join(' = ')} = 1` : '',
  };
}

/** An unsigned constant, as source. */
export const hex = (v: number): string => '0x' + (v >>> 0).toString(16);

/** An int32 constant, as source that is safe inside any expression. */
export const int = (v: number): string => ((v | 0) < 0 ? `(${v | 0})` : String(v | 0));

const CSR_IMM = new Set([OP_INDEX.csrrwi, OP_INDEX.csrrsi, OP_INDEX.csrrci]);

export type Kind = 'plain' | 'branch' | 'jump' | 'system';

/** A jump that links (writes a return address): a call. */
export function isCall(d: Decoded): boolean {
  return kindOf(d) === 'jump' && d.rd !== 0;
}

export function kindOf(d: Decoded): Kind {
  const s = SEMANTICS[d.op];
  if (s.system) return 'system';
  if (s.cond) return 'branch';
  if (s.target) return 'jump';
  return 'plain';
}

function operands(d: Decoded, pc: number, env: UnitEnv): Record<string, string> {
  return {
    rs1: d.rs1 === 0 ? '0' : env.read(d.rs1),
    rs2: d.rs2 === 0 ? '0' : env.read(d.rs2),
    imm: int(d.imm),
    pc: int(pc),
    npc: int(pc + d.len),
    OP: String(d.opIndex),
  };
}

/**
 * The macros an instruction without memory access uses (MULH and the like, which need no
 * pc), and the base of compact code's (compactMacros). Its memory macros, made without a pc,
 * are never used: compact code replaces them, and other accesses make their own. (The
 * whole set, not just the three: translation is measurably faster so.)
 */
const PURE_MACROS = memoryMacros('');

/** A non-control, non-system instruction, `k` instructions into the unit. */
export function emitPlain(i: Insn, k: number, env: UnitEnv): string {
  const { d, pc } = i;
  const sem = SEMANTICS[d.op];
  const names = operands(d, pc, env);
  // A slow path that needs the unit to leave sets `sl` (DESIGN.md I5, I6).
  const c = env.caches;
  const compact = env.compact === true && (sem.mem === 'load' || sem.mem === 'store');
  const inline = () =>
    c && c.reset
      ? memoryMacros(env.sync(pc, k), `sl = hart.attention, ${c.reset}`, c.load(d.rs1), c.store(d.rs1))
      : memoryMacros(env.sync(pc, k), 'sl = hart.attention');
  const macros = !sem.mem ? PURE_MACROS : compact ? compactMacros(pc, k, inline) : inline();
  let s = '';
  if (sem.effect) s += `${instantiate(sem.effect, names, macros)};`;
  if (sem.rd) {
    const v = instantiate(sem.rd, names, macros);
    if (d.rd !== 0) s += env.write(d.rd, v);
    else if (sem.mem) s += `${v};`; // a load to x0 still accesses memory (and may fault)
  }
  // A slow path (MMIO, a store to a page with code) may have changed interrupt state or
  // the code itself: the unit ends right after this instruction (DESIGN.md I5, I6).
  if (sem.mem) s += ` if (${compact ? 'hart.attention' : 'sl'}) ${env.leave(hex(pc + d.len), k + 1, -1)}`;
  return s;
}

/** A conditional branch's condition, as source. */
export function branchCondition(i: Insn, env: UnitEnv): string {
  const names = operands(i.d, i.pc, env);
  return instantiate(SEMANTICS[i.d.op].cond!, names, {});
}

/** Taken-branch target (unsigned). */
export function branchTarget(i: Insn): number {
  return (i.pc + i.d.imm) >>> 0;
}

/**
 * A jump: writes the link register and returns the target as source. For jal the target is
 * a constant (returned in `fixed`); for jalr it is computed before rd is written.
 */
export function emitJump(i: Insn, env: UnitEnv): { code: string; target: string; fixed: number | null } {
  const { d, pc } = i;
  const names = operands(d, pc, env);
  const link = d.rd !== 0 ? env.write(d.rd, names.npc) : '';
  if (d.op === 'jal') return { code: link, target: hex(pc + d.imm), fixed: (pc + d.imm) >>> 0 };
  const t = instantiate(SEMANTICS[d.op].target!, names, {});
  return { code: `t = ${t}; ${link}`, target: 't >>> 0', fixed: null };
}

/** A system instruction: run by the hart with exact state; the unit always leaves after it. */
export function emitSystem(i: Insn, k: number, env: UnitEnv): string {
  const { d, pc } = i;
  const f = CSR_IMM.has(d.opIndex) ? d.imm : d.rs1;
  return `${env.flush()} ${env.sync(pc, k)}; hart.system(${d.opIndex}, ${d.rd}, ${f}, ${f}, ${d.csr}, ${d.len}, ${int(d.raw)}); ${env.leaveAfterSystem()}`;
}
