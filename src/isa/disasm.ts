// The disassembler: one decoded record -> text, exactly as `riscv64-linux-gnu-objdump -d`
// (binutils 2.40, aliases on) prints it. Built only on `decode()` and the table's operand
// syntax; the alias rules below are data over decoded fields, in binutils' match order.
//
// Where it differs from objdump, on purpose (test/isa/disasm.test.ts names each class):
// - Reserved encodings objdump decodes anyway (RV32 shifts with shamt[5]=1, c.addi16sp with
//   imm 0) are illegal to deja and print as ".2byte"/".4byte", as objdump prints unknowns.
// - FENCE/FENCE.I with nonzero reserved fields: objdump prints ".4byte"; deja executes them
//   as plain fences (as the spec asks), so they print as fences.
// - The code is taken to have Zihintpause (the kernel is built with it): fence w,0 is
//   "pause". Extensions outside rv32imac (F, D, V, H, Zicbom...) print as unknown words, and
//   48-bit and longer encodings are not told apart from 32-bit ones.

import { decode, type Decoded } from './decode.js';
import { SYNTAX, type Syntax } from './encodings.js';

export const REG_NAMES: readonly string[] = [
  'zero', 'ra', 'sp', 'gp', 'tp', 't0', 't1', 't2', 's0', 's1', 'a0', 'a1', 'a2', 'a3', 'a4', 'a5',
  'a6', 'a7', 's2', 's3', 's4', 's5', 's6', 's7', 's8', 's9', 's10', 's11', 't3', 't4', 't5', 't6',
];

/**
 * Privileged spec whose CSR names objdump uses: an ELF's Tag_RISCV_priv_spec, or 1.12 (the
 * newest binutils 2.40 knows) when the file has none, as the Linux vmlinux does.
 */
export type PrivSpec = '1.11' | '1.12';

export interface DisasmOptions {
  privSpec?: PrivSpec;
}

/**
 * Operand templates, one character per operand (anything else is printed as is):
 *   d rd   s rs1   t rs2   j imm (decimal)   x imm (hex)   u imm >>> 12 (hex)
 *   a pc + imm (hex address)   E csr name   P fence predecessor   Q fence successor
 */
const OPERANDS: Record<Syntax, string> = {
  r: 'd,s,t',
  i: 'd,s,j',
  shift: 'd,s,x',
  load: 'd,j(s)',
  store: 't,j(s)',
  branch: 's,t,a',
  u: 'd,u',
  jal: 'd,a',
  jalr: 'd,j(s)',
  csr: 'd,E,s',
  csri: 'd,E,j',
  amo: 'd,t,(s)',
  lr: 'd,(s)',
  fence: 'P,Q',
  sfence: 's,t',
  none: '',
};

type Rule = readonly [mnemonic: string, operands: string, when: (d: Decoded) => boolean];

const always = (): boolean => true;
const rdZero = (d: Decoded): boolean => d.rd === 0;

/**
 * objdump's choice of name and operands, per base op, first match wins; an op without a
 * matching rule prints as itself with its syntax's operands. Some rules test which encoding
 * matched (`enc.name`), because binutils keys those aliases on the compressed encoding.
 */
const RULES: Record<string, readonly Rule[]> = {
  addi: [
    // RVC HINTs (rd = x0, or c.addi by 0) print in binutils' own c.* hint syntax.
    ['c.li', 'd,j', (d) => d.enc.name === 'c.li' && d.rd === 0],
    ['c.nop', 'j', (d) => d.enc.name === 'c.addi' && d.rd === 0 && d.imm !== 0],
    ['add', 'd,s,j', (d) => d.enc.name === 'c.addi' && d.imm === 0 && d.rd !== 0],
    ['nop', '', (d) => d.rd === 0 && d.rs1 === 0 && d.imm === 0],
    ['li', 'd,j', (d) => d.rs1 === 0],
    ['mv', 'd,s', (d) => d.imm === 0],
    // binutils 2.40 lists "add rd,rs1,imm" (an assembler convenience) ahead of addi.
    ['add', 'd,s,j', always],
  ],
  andi: [
    ['zext.b', 'd,s', (d) => d.imm === 255],
    ['and', 'd,s,j', always],
  ],
  ori: [['or', 'd,s,j', always]],
  xori: [
    ['not', 'd,s', (d) => d.imm === -1],
    ['xor', 'd,s,j', always],
  ],
  sltiu: [['seqz', 'd,s', (d) => d.imm === 1]],
  slli: [
    ['c.slli64', 'd', (d) => d.enc.name === 'c.slli' && d.imm === 0],
    ['c.slli', 'd,x', (d) => d.enc.name === 'c.slli' && d.rd === 0],
    ['sll', 'd,s,x', always],
  ],
  srli: [
    ['c.srli64', 'd', (d) => d.enc.name === 'c.srli' && d.imm === 0],
    ['srl', 'd,s,x', always],
  ],
  srai: [
    ['c.srai64', 'd', (d) => d.enc.name === 'c.srai' && d.imm === 0],
    ['sra', 'd,s,x', always],
  ],
  lui: [['c.lui', 'd,u', (d) => d.enc.name === 'c.lui' && d.rd === 0]],
  add: [
    ['c.mv', 'd,t', (d) => d.enc.name === 'c.mv' && d.rd === 0],
    ['c.add', 'd,t', (d) => d.enc.name === 'c.add' && d.rd === 0],
    ['mv', 'd,t', (d) => d.enc.name === 'c.mv'],
  ],
  sub: [['neg', 'd,t', (d) => d.rs1 === 0]],
  sltu: [['snez', 'd,t', (d) => d.rs1 === 0]],
  slt: [
    ['sltz', 'd,s', (d) => d.rs2 === 0],
    ['sgtz', 'd,t', (d) => d.rs1 === 0],
  ],
  beq: [['beqz', 's,a', (d) => d.rs2 === 0]],
  bne: [['bnez', 's,a', (d) => d.rs2 === 0]],
  blt: [
    ['bltz', 's,a', (d) => d.rs2 === 0],
    ['bgtz', 't,a', (d) => d.rs1 === 0],
  ],
  bge: [
    ['blez', 't,a', (d) => d.rs1 === 0],
    ['bgez', 's,a', (d) => d.rs2 === 0],
  ],
  jal: [
    ['j', 'a', rdZero],
    ['jal', 'a', (d) => d.rd === 1],
  ],
  jalr: [
    ['ret', '', (d) => d.rd === 0 && d.rs1 === 1 && d.imm === 0],
    ['jr', 's', (d) => d.rd === 0 && d.imm === 0],
    ['jr', 'j(s)', rdZero],
    ['jalr', 's', (d) => d.rd === 1 && d.imm === 0],
    ['jalr', 'j(s)', (d) => d.rd === 1],
    ['jalr', 'd,s', (d) => d.imm === 0],
  ],
  csrrw: [
    ['unimp', '', (d) => d.rd === 0 && d.rs1 === 0 && d.csr === 0xc00],
    ['csrw', 'E,s', rdZero],
  ],
  csrrs: [
    ['rdcycle', 'd', (d) => d.rs1 === 0 && d.csr === 0xc00],
    ['rdtime', 'd', (d) => d.rs1 === 0 && d.csr === 0xc01],
    ['rdinstret', 'd', (d) => d.rs1 === 0 && d.csr === 0xc02],
    ['rdcycleh', 'd', (d) => d.rs1 === 0 && d.csr === 0xc80],
    ['rdtimeh', 'd', (d) => d.rs1 === 0 && d.csr === 0xc81],
    ['rdinstreth', 'd', (d) => d.rs1 === 0 && d.csr === 0xc82],
    ['csrr', 'd,E', (d) => d.rs1 === 0],
    ['csrs', 'E,s', rdZero],
  ],
  csrrc: [['csrc', 'E,s', rdZero]],
  // binutils 2.40 lists the immediate forms under the register mnemonics first.
  csrrwi: [
    ['csrw', 'E,j', rdZero],
    ['csrrw', 'd,E,j', always],
  ],
  csrrsi: [
    ['csrs', 'E,j', rdZero],
    ['csrrs', 'd,E,j', always],
  ],
  csrrci: [
    ['csrc', 'E,j', rdZero],
    ['csrrc', 'd,E,j', always],
  ],
  fence: [
    // The decoder keeps only pred/succ (fm, rd and rs1 are hints it ignores); objdump's
    // fence.tso and pause are exact encodings, so these two rules look at the raw word.
    ['pause', '', (d) => d.raw === 0x0100000f],
    ['fence.tso', '', (d) => (d.raw & 0xfff0707f) === (0x8330000f | 0)],
    ['fence', '', (d) => d.imm === 0xff],
  ],
  'sfence.vma': [
    ['sfence.vma', '', (d) => d.rs1 === 0 && d.rs2 === 0],
    ['sfence.vma', 's', (d) => d.rs2 === 0],
  ],
};

/** aq/rl suffixes of A-extension mnemonics (bits 26:25 of the raw word; semantics ignore them). */
const AQRL = ['', '.rl', '.aq', '.aqrl'];

/** CSR names as objdump prints them under priv spec 1.12 (others print as hex numbers). */
const CSR_TEXT: Record<number, string> = buildCsrNames();
/** Differences under priv spec 1.11: the N-extension user CSRs exist, the 1.12 ones do not. */
const CSR_ONLY_1_11: Record<number, string> = {
  0x000: 'ustatus', 0x004: 'uie', 0x005: 'utvec', 0x040: 'uscratch', 0x041: 'uepc', 0x042: 'ucause',
  0x043: 'utval', 0x044: 'uip', 0x102: 'sedeleg', 0x103: 'sideleg',
};
const CSR_SINCE_1_12 = new Set([
  0x10a, 0x30a, 0x310, 0x31a, 0x34a, 0x34b, 0x747, 0x757, 0xf15,
  ...range(0x3a4, 12), // pmpcfg4..15
  ...range(0x3c0, 48), // pmpaddr16..63
]);

/** Disassembles one instruction at `pc` (only the low 16 bits are used for RVC). */
export function disassemble(inst: number, pc: number, opts: DisasmOptions = {}): string {
  const d = decode(inst);
  if (d === null) return unknown(inst);
  const syntax = SYNTAX[d.op];
  let mnemonic = d.op;
  let operands = OPERANDS[syntax];
  for (const [name, ops, when] of RULES[d.op] ?? []) {
    if (when(d)) {
      mnemonic = name;
      operands = ops;
      break;
    }
  }
  if (syntax === 'amo' || syntax === 'lr') mnemonic += AQRL[(d.raw >>> 25) & 3];
  if (operands === '') return mnemonic;
  return `${mnemonic}\t${formatOperands(operands, d, pc, opts.privSpec ?? '1.12')}`;
}

/** Names a CSR number as objdump does. */
export function csrName(csr: number, privSpec: PrivSpec = '1.12'): string {
  const name = privSpec === '1.11' ? (CSR_ONLY_1_11[csr] ?? (CSR_SINCE_1_12.has(csr) ? undefined : CSR_TEXT[csr])) : CSR_TEXT[csr];
  return name ?? `0x${csr.toString(16)}`;
}

function formatOperands(template: string, d: Decoded, pc: number, privSpec: PrivSpec): string {
  let out = '';
  for (const c of template) {
    switch (c) {
      case 'd': out += REG_NAMES[d.rd]; break;
      case 's': out += REG_NAMES[d.rs1]; break;
      case 't': out += REG_NAMES[d.rs2]; break;
      case 'j': out += String(d.imm); break;
      case 'x': out += `0x${(d.imm >>> 0).toString(16)}`; break;
      case 'u': out += `0x${(d.imm >>> 12).toString(16)}`; break;
      case 'a': out += ((pc + d.imm) >>> 0).toString(16); break;
      case 'E': out += csrName(d.csr, privSpec); break;
      case 'P': out += fenceSet(d.imm >>> 4); break;
      case 'Q': out += fenceSet(d.imm & 15); break;
      default: out += c;
    }
  }
  return out;
}

function fenceSet(bits: number): string {
  if (bits === 0) return 'unknown';
  return 'iorw'.split('').filter((_, i) => bits & (8 >>> i)).join('');
}

/** What objdump prints for a word no entry of its table matches. */
function unknown(inst: number): string {
  if ((inst & 3) !== 3) {
    const half = inst & 0xffff;
    // binutils names the all-zero halfword (defined illegal) "unimp".
    return half === 0 ? 'unimp' : `.2byte\t0x${half.toString(16)}`;
  }
  return `.4byte\t0x${(inst >>> 0).toString(16)}`;
}

function buildCsrNames(): Record<number, string> {
  const names: Record<number, string> = {};
  const fixed: [number, string][] = [
    [0x001, 'fflags'], [0x002, 'frm'], [0x003, 'fcsr'], [0x008, 'vstart'], [0x009, 'vxsat'], [0x00a, 'vxrm'],
    [0x00f, 'vcsr'], [0x015, 'seed'], [0x100, 'sstatus'], [0x104, 'sie'], [0x105, 'stvec'], [0x106, 'scounteren'],
    [0x10a, 'senvcfg'], [0x10c, 'sstateen0'], [0x10d, 'sstateen1'], [0x10e, 'sstateen2'], [0x10f, 'sstateen3'],
    [0x114, 'sieh'], [0x140, 'sscratch'], [0x141, 'sepc'], [0x142, 'scause'], [0x143, 'stval'], [0x144, 'sip'],
    [0x14d, 'stimecmp'], [0x150, 'siselect'], [0x151, 'sireg'], [0x154, 'siph'], [0x15c, 'stopei'],
    [0x15d, 'stimecmph'], [0x180, 'satp'], [0x200, 'vsstatus'], [0x204, 'vsie'], [0x205, 'vstvec'],
    [0x214, 'vsieh'], [0x240, 'vsscratch'], [0x241, 'vsepc'], [0x242, 'vscause'], [0x243, 'vstval'],
    [0x244, 'vsip'], [0x24d, 'vstimecmp'], [0x250, 'vsiselect'], [0x251, 'vsireg'], [0x254, 'vsiph'],
    [0x25c, 'vstopei'], [0x25d, 'vstimecmph'], [0x280, 'vsatp'], [0x300, 'mstatus'], [0x301, 'misa'],
    [0x302, 'medeleg'], [0x303, 'mideleg'], [0x304, 'mie'], [0x305, 'mtvec'], [0x306, 'mcounteren'],
    [0x308, 'mvien'], [0x309, 'mvip'], [0x30a, 'menvcfg'], [0x30c, 'mstateen0'], [0x30d, 'mstateen1'],
    [0x30e, 'mstateen2'], [0x30f, 'mstateen3'], [0x310, 'mstatush'], [0x313, 'midelegh'], [0x314, 'mieh'],
    [0x318, 'mvienh'], [0x319, 'mviph'], [0x31a, 'menvcfgh'], [0x31c, 'mstateen0h'], [0x31d, 'mstateen1h'],
    [0x31e, 'mstateen2h'], [0x31f, 'mstateen3h'], [0x320, 'mcountinhibit'], [0x340, 'mscratch'], [0x341, 'mepc'],
    [0x342, 'mcause'], [0x343, 'mtval'], [0x344, 'mip'], [0x34a, 'mtinst'], [0x34b, 'mtval2'], [0x350, 'miselect'],
    [0x351, 'mireg'], [0x354, 'miph'], [0x35c, 'mtopei'], [0x5a8, 'scontext'], [0x600, 'hstatus'],
    [0x602, 'hedeleg'], [0x603, 'hideleg'], [0x604, 'hie'], [0x605, 'htimedelta'], [0x606, 'hcounteren'],
    [0x607, 'hgeie'], [0x608, 'hvien'], [0x609, 'hvictl'], [0x60a, 'henvcfg'], [0x60c, 'hstateen0'],
    [0x60d, 'hstateen1'], [0x60e, 'hstateen2'], [0x60f, 'hstateen3'], [0x613, 'hidelegh'], [0x615, 'htimedeltah'],
    [0x618, 'hvienh'], [0x61a, 'henvcfgh'], [0x61c, 'hstateen0h'], [0x61d, 'hstateen1h'], [0x61e, 'hstateen2h'],
    [0x61f, 'hstateen3h'], [0x643, 'htval'], [0x644, 'hip'], [0x645, 'hvip'], [0x646, 'hviprio1'],
    [0x647, 'hviprio2'], [0x64a, 'htinst'], [0x655, 'hviph'], [0x656, 'hviprio1h'], [0x657, 'hviprio2h'],
    [0x680, 'hgatp'], [0x6a8, 'hcontext'], [0x747, 'mseccfg'], [0x757, 'mseccfgh'], [0x7a0, 'tselect'],
    [0x7a1, 'tdata1'], [0x7a2, 'tdata2'], [0x7a3, 'tdata3'], [0x7a4, 'tinfo'], [0x7a5, 'tcontrol'],
    [0x7a8, 'mcontext'], [0x7aa, 'mscontext'], [0x7b0, 'dcsr'], [0x7b1, 'dpc'], [0x7b2, 'dscratch0'],
    [0x7b3, 'dscratch1'], [0xb00, 'mcycle'], [0xb02, 'minstret'], [0xb80, 'mcycleh'], [0xb82, 'minstreth'],
    [0xc00, 'cycle'], [0xc01, 'time'], [0xc02, 'instret'], [0xc20, 'vl'], [0xc21, 'vtype'], [0xc22, 'vlenb'],
    [0xc80, 'cycleh'], [0xc81, 'timeh'], [0xc82, 'instreth'], [0xda0, 'scountovf'], [0xdb0, 'stopi'],
    [0xe12, 'hgeip'], [0xeb0, 'vstopi'], [0xf11, 'mvendorid'], [0xf12, 'marchid'], [0xf13, 'mimpid'],
    [0xf14, 'mhartid'], [0xf15, 'mconfigptr'], [0xfb0, 'mtopi'],
  ];
  for (const [n, name] of fixed) names[n] = name;
  for (let i = 3; i < 32; i++) {
    names[0xc00 + i] = `hpmcounter${i}`;
    names[0xc80 + i] = `hpmcounter${i}h`;
    names[0xb00 + i] = `mhpmcounter${i}`;
    names[0xb80 + i] = `mhpmcounter${i}h`;
    names[0x320 + i] = `mhpmevent${i}`;
    names[0x720 + i] = `mhpmevent${i}h`; // Sscofpmf
  }
  for (let i = 0; i < 16; i++) names[0x3a0 + i] = `pmpcfg${i}`;
  for (let i = 0; i < 64; i++) names[0x3b0 + i] = `pmpaddr${i}`;
  return names;
}

function range(start: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => start + i);
}
