// The one encoding table of deja: every RV32IMAC + Zicsr + Zifencei + privileged encoding,
// declared once. Compressed encodings map straight to the base instruction they expand to
// (`op`), with their own field extractors, so no tier and no disassembler ever sees RVC.

import type { FieldSpec } from './fields.js';

export type Ext = 'I' | 'M' | 'A' | 'C' | 'Zicsr' | 'Zifencei' | 'Priv';

/** How the disassembler prints the operands of a base instruction. */
export type Syntax =
  | 'r' // rd,rs1,rs2
  | 'i' // rd,rs1,imm
  | 'shift' // rd,rs1,shamt
  | 'load' // rd,imm(rs1)
  | 'store' // rs2,imm(rs1)
  | 'branch' // rs1,rs2,target
  | 'u' // rd,imm>>>12 (hex)
  | 'jal' // rd,target
  | 'jalr' // rd,imm(rs1)
  | 'csr' // rd,csr,rs1
  | 'csri' // rd,csr,zimm
  | 'amo' // rd,rs2,(rs1)
  | 'lr' // rd,(rs1)
  | 'fence' // pred,succ
  | 'sfence' // rs1,rs2
  | 'none';

export interface Encoding {
  /** Encoding name as the ISA manual gives it ('addi', 'c.addi'). */
  name: string;
  /** Base instruction whose semantics this encoding has. */
  op: string;
  mask: number;
  match: number;
  len: 2 | 4;
  ext: Ext;
  fields: Partial<Record<'rd' | 'rs1' | 'rs2' | 'imm' | 'csr', FieldSpec>>;
  /** Extra source condition over `inst` for reserved encodings (false = illegal). */
  valid?: string;
}

/** Base instructions: operand syntax for the disassembler, by op name. */
export const SYNTAX: Record<string, Syntax> = {};

const table: Encoding[] = [];

function base(name: string, mask: number, match: number, ext: Ext, syntax: Syntax, fields: Encoding['fields']): void {
  SYNTAX[name] = syntax;
  table.push({ name, op: name, mask: mask | 0, match: match | 0, len: 4, ext, fields });
}

function rvc(name: string, op: string, mask: number, match: number, fields: Encoding['fields'], valid?: string): void {
  table.push({ name, op, mask, match, len: 2, ext: 'C', fields, valid });
}

const R = { rd: 'rd', rs1: 'rs1', rs2: 'rs2' } as const;
const I = { rd: 'rd', rs1: 'rs1', imm: 'immI' } as const;
const MASK_R = 0xfe00707f;
const MASK_I = 0x0000707f;

// RV32I
base('lui', 0x7f, 0x37, 'I', 'u', { rd: 'rd', imm: 'immU' });
base('auipc', 0x7f, 0x17, 'I', 'u', { rd: 'rd', imm: 'immU' });
base('jal', 0x7f, 0x6f, 'I', 'jal', { rd: 'rd', imm: 'immJ' });
base('jalr', MASK_I, 0x67, 'I', 'jalr', I);
const B = { rs1: 'rs1', rs2: 'rs2', imm: 'immB' } as const;
base('beq', MASK_I, 0x0063, 'I', 'branch', B);
base('bne', MASK_I, 0x1063, 'I', 'branch', B);
base('blt', MASK_I, 0x4063, 'I', 'branch', B);
base('bge', MASK_I, 0x5063, 'I', 'branch', B);
base('bltu', MASK_I, 0x6063, 'I', 'branch', B);
base('bgeu', MASK_I, 0x7063, 'I', 'branch', B);
base('lb', MASK_I, 0x0003, 'I', 'load', I);
base('lh', MASK_I, 0x1003, 'I', 'load', I);
base('lw', MASK_I, 0x2003, 'I', 'load', I);
base('lbu', MASK_I, 0x4003, 'I', 'load', I);
base('lhu', MASK_I, 0x5003, 'I', 'load', I);
const S = { rs1: 'rs1', rs2: 'rs2', imm: 'immS' } as const;
base('sb', MASK_I, 0x0023, 'I', 'store', S);
base('sh', MASK_I, 0x1023, 'I', 'store', S);
base('sw', MASK_I, 0x2023, 'I', 'store', S);
base('addi', MASK_I, 0x0013, 'I', 'i', I);
base('slti', MASK_I, 0x2013, 'I', 'i', I);
base('sltiu', MASK_I, 0x3013, 'I', 'i', I);
base('xori', MASK_I, 0x4013, 'I', 'i', I);
base('ori', MASK_I, 0x6013, 'I', 'i', I);
base('andi', MASK_I, 0x7013, 'I', 'i', I);
const SH = { rd: 'rd', rs1: 'rs1', imm: 'shamt' } as const;
base('slli', MASK_R, 0x00001013, 'I', 'shift', SH);
base('srli', MASK_R, 0x00005013, 'I', 'shift', SH);
base('srai', MASK_R, 0x40005013, 'I', 'shift', SH);
base('add', MASK_R, 0x00000033, 'I', 'r', R);
base('sub', MASK_R, 0x40000033, 'I', 'r', R);
base('sll', MASK_R, 0x00001033, 'I', 'r', R);
base('slt', MASK_R, 0x00002033, 'I', 'r', R);
base('sltu', MASK_R, 0x00003033, 'I', 'r', R);
base('xor', MASK_R, 0x00004033, 'I', 'r', R);
base('srl', MASK_R, 0x00005033, 'I', 'r', R);
base('sra', MASK_R, 0x40005033, 'I', 'r', R);
base('or', MASK_R, 0x00006033, 'I', 'r', R);
base('and', MASK_R, 0x00007033, 'I', 'r', R);
// fence: fm/pred/succ are hints to us; rd/rs1 are reserved and ignored as QEMU does.
base('fence', MASK_I, 0x000f, 'I', 'fence', { imm: 'fence' });
base('fence.i', MASK_I, 0x100f, 'Zifencei', 'none', {});
base('ecall', 0xffffffff, 0x00000073, 'Priv', 'none', {});
base('ebreak', 0xffffffff, 0x00100073, 'Priv', 'none', {});
base('sret', 0xffffffff, 0x10200073, 'Priv', 'none', {});
base('mret', 0xffffffff, 0x30200073, 'Priv', 'none', {});
base('wfi', 0xffffffff, 0x10500073, 'Priv', 'none', {});
base('sfence.vma', 0xfe007fff, 0x12000073, 'Priv', 'sfence', { rs1: 'rs1', rs2: 'rs2' });
// Zicsr
const CSR = { rd: 'rd', rs1: 'rs1', csr: 'csr' } as const;
const CSRI = { rd: 'rd', imm: 'zimm', csr: 'csr' } as const;
base('csrrw', MASK_I, 0x1073, 'Zicsr', 'csr', CSR);
base('csrrs', MASK_I, 0x2073, 'Zicsr', 'csr', CSR);
base('csrrc', MASK_I, 0x3073, 'Zicsr', 'csr', CSR);
base('csrrwi', MASK_I, 0x5073, 'Zicsr', 'csri', CSRI);
base('csrrsi', MASK_I, 0x6073, 'Zicsr', 'csri', CSRI);
base('csrrci', MASK_I, 0x7073, 'Zicsr', 'csri', CSRI);
// RV32M
base('mul', MASK_R, 0x02000033, 'M', 'r', R);
base('mulh', MASK_R, 0x02001033, 'M', 'r', R);
base('mulhsu', MASK_R, 0x02002033, 'M', 'r', R);
base('mulhu', MASK_R, 0x02003033, 'M', 'r', R);
base('div', MASK_R, 0x02004033, 'M', 'r', R);
base('divu', MASK_R, 0x02005033, 'M', 'r', R);
base('rem', MASK_R, 0x02006033, 'M', 'r', R);
base('remu', MASK_R, 0x02007033, 'M', 'r', R);
// RV32A: aq/rl (bits 26:25) are ignored by a single in-order hart.
const MASK_AMO = 0xf800707f;
base('lr.w', 0xf9f0707f, 0x1000202f, 'A', 'lr', { rd: 'rd', rs1: 'rs1' });
base('sc.w', MASK_AMO, 0x1800202f, 'A', 'amo', R);
base('amoswap.w', MASK_AMO, 0x0800202f, 'A', 'amo', R);
base('amoadd.w', MASK_AMO, 0x0000202f, 'A', 'amo', R);
base('amoxor.w', MASK_AMO, 0x2000202f, 'A', 'amo', R);
base('amoand.w', MASK_AMO, 0x6000202f, 'A', 'amo', R);
base('amoor.w', MASK_AMO, 0x4000202f, 'A', 'amo', R);
base('amomin.w', MASK_AMO, 0x8000202f, 'A', 'amo', R);
base('amomax.w', MASK_AMO, 0xa000202f, 'A', 'amo', R);
base('amominu.w', MASK_AMO, 0xc000202f, 'A', 'amo', R);
base('amomaxu.w', MASK_AMO, 0xe000202f, 'A', 'amo', R);

// RVC (RV32): quadrant 0
rvc('c.addi4spn', 'addi', 0xe003, 0x0000, { rd: 'cRs2P', rs1: 2, imm: 'cImm4spn' }, '((inst >>> 5) & 0xff) !== 0');
rvc('c.lw', 'lw', 0xe003, 0x4000, { rd: 'cRs2P', rs1: 'cRdP', imm: 'cImmLS' });
rvc('c.sw', 'sw', 0xe003, 0xc000, { rs2: 'cRs2P', rs1: 'cRdP', imm: 'cImmLS' });
// quadrant 1
rvc('c.addi', 'addi', 0xe003, 0x0001, { rd: 'cRd', rs1: 'cRd', imm: 'cImmCI' });
rvc('c.jal', 'jal', 0xe003, 0x2001, { rd: 1, imm: 'cImmJ' });
rvc('c.li', 'addi', 0xe003, 0x4001, { rd: 'cRd', rs1: 0, imm: 'cImmCI' });
rvc('c.addi16sp', 'addi', 0xef83, 0x6101, { rd: 2, rs1: 2, imm: 'cImm16sp' }, '(inst & 0x107c) !== 0');
rvc('c.lui', 'lui', 0xe003, 0x6001, { rd: 'cRd', imm: 'cImmLui' }, '(inst & 0x107c) !== 0');
rvc('c.srli', 'srli', 0xec03, 0x8001, { rd: 'cRdP', rs1: 'cRdP', imm: 'cShamt' }, '(inst & 0x1000) === 0');
rvc('c.srai', 'srai', 0xec03, 0x8401, { rd: 'cRdP', rs1: 'cRdP', imm: 'cShamt' }, '(inst & 0x1000) === 0');
rvc('c.andi', 'andi', 0xec03, 0x8801, { rd: 'cRdP', rs1: 'cRdP', imm: 'cImmCI' });
rvc('c.sub', 'sub', 0xfc63, 0x8c01, { rd: 'cRdP', rs1: 'cRdP', rs2: 'cRs2P' });
rvc('c.xor', 'xor', 0xfc63, 0x8c21, { rd: 'cRdP', rs1: 'cRdP', rs2: 'cRs2P' });
rvc('c.or', 'or', 0xfc63, 0x8c41, { rd: 'cRdP', rs1: 'cRdP', rs2: 'cRs2P' });
rvc('c.and', 'and', 0xfc63, 0x8c61, { rd: 'cRdP', rs1: 'cRdP', rs2: 'cRs2P' });
rvc('c.j', 'jal', 0xe003, 0xa001, { rd: 0, imm: 'cImmJ' });
rvc('c.beqz', 'beq', 0xe003, 0xc001, { rs1: 'cRdP', rs2: 0, imm: 'cImmB' });
rvc('c.bnez', 'bne', 0xe003, 0xe001, { rs1: 'cRdP', rs2: 0, imm: 'cImmB' });
// quadrant 2
rvc('c.slli', 'slli', 0xe003, 0x0002, { rd: 'cRd', rs1: 'cRd', imm: 'cShamt' }, '(inst & 0x1000) === 0');
rvc('c.lwsp', 'lw', 0xe003, 0x4002, { rd: 'cRd', rs1: 2, imm: 'cImmLwsp' }, '(inst & 0x0f80) !== 0');
rvc('c.jr', 'jalr', 0xf07f, 0x8002, { rd: 0, rs1: 'cRd', imm: 0 }, '(inst & 0x0f80) !== 0');
rvc('c.mv', 'add', 0xf003, 0x8002, { rd: 'cRd', rs1: 0, rs2: 'cRs2' }, '(inst & 0x007c) !== 0');
rvc('c.ebreak', 'ebreak', 0xffff, 0x9002, {});
rvc('c.jalr', 'jalr', 0xf07f, 0x9002, { rd: 1, rs1: 'cRd', imm: 0 }, '(inst & 0x0f80) !== 0');
rvc('c.add', 'add', 0xf003, 0x9002, { rd: 'cRd', rs1: 'cRd', rs2: 'cRs2' }, '(inst & 0x007c) !== 0');
rvc('c.swsp', 'sw', 0xe003, 0xc002, { rs2: 'cRs2', rs1: 2, imm: 'cImmSwsp' });

/** All encodings, most specific first within each (mask, match) overlap. */
export const ENCODINGS: readonly Encoding[] = table.sort((a, b) => popcount(b.mask) - popcount(a.mask));

export const OP_NAMES: readonly string[] = Object.keys(SYNTAX);

function popcount(v: number): number {
  let n = 0;
  for (let m = v >>> 0; m; m >>>= 1) n += m & 1;
  return n;
}
