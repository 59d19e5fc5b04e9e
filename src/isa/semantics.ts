// The one semantics table: what each base instruction does, as a short JavaScript source
// template over named operands. Every tier instantiates these templates (the interpreter
// with operands in variables, the block and trace tiers with operands as formatted
// constants and registers as array slots or locals), so the arithmetic is written once.
//
// Names a template may use:
//   rs1, rs2   source register values (int32)      imm   immediate (int32)
//   pc         this instruction's address (int32)  npc   pc + length (int32)
//   OP         this op's index in OP_INDEX
// Macros, expanded by each tier (addresses are int32 virtual addresses):
//   LOAD_S8 LOAD_U8 LOAD_S16 LOAD_U16 LOAD32 (addr)      value as int32
//   STORE8 STORE16 STORE32 (addr, value)
//   MULH MULHSU MULHU (a, b)                             plain functions from arith.ts
//   AMO(OP, addr, value) LR(addr) SC(addr, value)        hart helpers (may trap)

import { OP_NAMES } from './encodings.js';

export interface Semantics {
  /** Value written to rd, computed after all sources are read. */
  rd?: string;
  /** Statement run for its effect (stores). */
  effect?: string;
  /** Conditional branch: taken when true, to pc + imm. */
  cond?: string;
  /** Unconditional jump target (rd, if any, gets npc). */
  target?: string;
  /**
   * Executed by the hart's `system` helper with exact pc and icount: it retires or traps
   * the instruction itself and may change privilege, interrupt state or translation, so a
   * compiled unit always ends after it.
   */
  system?: true;
  /** For AMOs: the new memory value from `old` (memory) and `val` (rs2). */
  amo?: string;
  /** Touches memory: may fault or reach MMIO. */
  mem?: 'load' | 'store' | 'amo';
}

const ADDR = '(rs1 + imm) | 0';

export const SEMANTICS: Record<string, Semantics> = {
  lui: { rd: 'imm' },
  auipc: { rd: '(pc + imm) | 0' },
  jal: { rd: 'npc', target: '(pc + imm) | 0' },
  jalr: { rd: 'npc', target: '(rs1 + imm) & -2' },
  beq: { cond: 'rs1 === rs2' },
  bne: { cond: 'rs1 !== rs2' },
  blt: { cond: 'rs1 < rs2' },
  bge: { cond: 'rs1 >= rs2' },
  bltu: { cond: '(rs1 >>> 0) < (rs2 >>> 0)' },
  bgeu: { cond: '(rs1 >>> 0) >= (rs2 >>> 0)' },
  lb: { rd: `LOAD_S8(${ADDR})`, mem: 'load' },
  lh: { rd: `LOAD_S16(${ADDR})`, mem: 'load' },
  lw: { rd: `LOAD32(${ADDR})`, mem: 'load' },
  lbu: { rd: `LOAD_U8(${ADDR})`, mem: 'load' },
  lhu: { rd: `LOAD_U16(${ADDR})`, mem: 'load' },
  sb: { effect: `STORE8(${ADDR}, rs2)`, mem: 'store' },
  sh: { effect: `STORE16(${ADDR}, rs2)`, mem: 'store' },
  sw: { effect: `STORE32(${ADDR}, rs2)`, mem: 'store' },
  addi: { rd: '(rs1 + imm) | 0' },
  slti: { rd: 'rs1 < imm ? 1 : 0' },
  sltiu: { rd: '(rs1 >>> 0) < (imm >>> 0) ? 1 : 0' },
  xori: { rd: 'rs1 ^ imm' },
  ori: { rd: 'rs1 | imm' },
  andi: { rd: 'rs1 & imm' },
  slli: { rd: 'rs1 << imm' },
  srli: { rd: '(rs1 >>> imm) | 0' },
  srai: { rd: 'rs1 >> imm' },
  // JavaScript shifts take the count mod 32, exactly as RV32 does.
  add: { rd: '(rs1 + rs2) | 0' },
  sub: { rd: '(rs1 - rs2) | 0' },
  sll: { rd: 'rs1 << rs2' },
  slt: { rd: 'rs1 < rs2 ? 1 : 0' },
  sltu: { rd: '(rs1 >>> 0) < (rs2 >>> 0) ? 1 : 0' },
  xor: { rd: 'rs1 ^ rs2' },
  srl: { rd: '(rs1 >>> rs2) | 0' },
  sra: { rd: 'rs1 >> rs2' },
  or: { rd: 'rs1 | rs2' },
  and: { rd: 'rs1 & rs2' },
  mul: { rd: 'Math.imul(rs1, rs2)' },
  mulh: { rd: 'MULH(rs1, rs2)' },
  mulhsu: { rd: 'MULHSU(rs1, rs2)' },
  mulhu: { rd: 'MULHU(rs1, rs2)' },
  div: { rd: 'rs2 === 0 ? -1 : rs1 === -2147483648 && rs2 === -1 ? rs1 : (rs1 / rs2) | 0' },
  divu: { rd: 'rs2 === 0 ? -1 : ((rs1 >>> 0) / (rs2 >>> 0)) | 0' },
  rem: { rd: 'rs2 === 0 ? rs1 : rs1 === -2147483648 && rs2 === -1 ? 0 : (rs1 % rs2) | 0' },
  remu: { rd: 'rs2 === 0 ? rs1 : ((rs1 >>> 0) % (rs2 >>> 0)) | 0' },
  fence: {}, // one hart, in order, no caches to order: a no-op
  'fence.i': { system: true },
  ecall: { system: true },
  ebreak: { system: true },
  sret: { system: true },
  mret: { system: true },
  wfi: { system: true },
  'sfence.vma': { system: true },
  csrrw: { system: true },
  csrrs: { system: true },
  csrrc: { system: true },
  csrrwi: { system: true },
  csrrsi: { system: true },
  csrrci: { system: true },
  'lr.w': { rd: 'LR(rs1)', mem: 'load' },
  'sc.w': { rd: 'SC(rs1, rs2)', mem: 'store' },
  'amoswap.w': { rd: 'AMO(OP, rs1, rs2)', amo: 'val', mem: 'amo' },
  'amoadd.w': { rd: 'AMO(OP, rs1, rs2)', amo: '(old + val) | 0', mem: 'amo' },
  'amoxor.w': { rd: 'AMO(OP, rs1, rs2)', amo: 'old ^ val', mem: 'amo' },
  'amoand.w': { rd: 'AMO(OP, rs1, rs2)', amo: 'old & val', mem: 'amo' },
  'amoor.w': { rd: 'AMO(OP, rs1, rs2)', amo: 'old | val', mem: 'amo' },
  'amomin.w': { rd: 'AMO(OP, rs1, rs2)', amo: 'old < val ? old : val', mem: 'amo' },
  'amomax.w': { rd: 'AMO(OP, rs1, rs2)', amo: 'old > val ? old : val', mem: 'amo' },
  'amominu.w': { rd: 'AMO(OP, rs1, rs2)', amo: '(old >>> 0) < (val >>> 0) ? old : val', mem: 'amo' },
  'amomaxu.w': { rd: 'AMO(OP, rs1, rs2)', amo: '(old >>> 0) > (val >>> 0) ? old : val', mem: 'amo' },
};

/** Whether `op` ends a block: a control transfer or a system instruction (the next instruction is a block head). */
export function endsBlock(op: string): boolean {
  const sem = SEMANTICS[op];
  return sem.cond !== undefined || sem.target !== undefined || sem.system === true;
}

/** Dense op numbers, shared by the decoder, the interpreter and the JIT. */
export const OP_INDEX: Record<string, number> = Object.fromEntries(OP_NAMES.map((n, i) => [n, i]));

for (const name of OP_NAMES) {
  if (!SEMANTICS[name]) throw new Error(`semantics table lacks ${name}`);
}

/** AMO read-modify-write functions by op index (others undefined). */
export const AMO_FUNCS: ((old: number, val: number) => number)[] = OP_NAMES.map((n) => {
  const src = SEMANTICS[n].amo;
  return src ? (new Function('old', 'val', `return (${src}) | 0;`) as (o: number, v: number) => number) : undefined!;
});

/**
 * Expands a template for one tier: `names` maps operand identifiers (rs1, rs2, imm, pc,
 * npc, OP) to source, and macro names to functions of their argument sources. A macro's
 * arguments are expanded before it is; what a macro returns is not expanded again.
 */
export function instantiate(
  template: string,
  names: Record<string, string>,
  macros: Record<string, (...args: string[]) => string>,
): string {
  let parts = parsed.get(template);
  if (parts === undefined) parsed.set(template, (parts = parse(template)));
  return render(parts, names, macros);
}

/**
 * A template parsed once (the JIT instantiates one for every instruction it translates):
 * text, operand names, and macro calls with their arguments' parts.
 */
type Part = string | { name: string } | { macro: string; args: Part[][] };
const parsed = new Map<string, Part[]>();

function render(parts: Part[], names: Record<string, string>, macros: Record<string, (...args: string[]) => string>): string {
  let out = '';
  for (const p of parts) {
    if (typeof p === 'string') out += p;
    else if ('name' in p) {
      const v = names[p.name];
      if (v === undefined) throw new Error(`template operand ${p.name} not bound`);
      out += v;
    } else {
      const expand = macros[p.macro];
      if (!expand) throw new Error(`macro ${p.macro} not bound`);
      out += expand(...p.args.map((a) => render(a, names, macros)));
    }
  }
  return out;
}

function parse(src: string): Part[] {
  const parts: Part[] = [];
  const re = /\b(rs1|rs2|imm|npc|pc|OP)\b|\b([A-Z][A-Z0-9_]*)\(/g;
  let at = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(src))) {
    if (m.index > at) parts.push(src.slice(at, m.index));
    if (m[1] !== undefined) {
      parts.push({ name: m[1] });
      at = m.index + m[0].length;
      continue;
    }
    const open = m.index + m[0].length - 1;
    const close = matchParen(src, open);
    parts.push({ macro: m[2], args: splitArgs(src.slice(open + 1, close)).map(parse) });
    at = close + 1;
    re.lastIndex = at;
  }
  if (at < src.length) parts.push(src.slice(at));
  return parts;
}

function matchParen(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')' && --depth === 0) return i;
  }
  throw new Error(`unbalanced parentheses in template: ${s}`);
}

function splitArgs(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}
