// decode() on hand-picked encodings of every format, field edges (most negative and most
// positive immediates), and the reserved RVC encodings that must decode as illegal.
// Words were assembled by riscv64-linux-gnu-as; the text is what was assembled.

import { describe, expect, it } from 'vitest';
import { decode, type Decoded } from '../../src/isa/decode.js';
import { CSR, CSR_NAMES } from '../../src/cpu/constants.js';
import { csrName } from '../../src/isa/disasm.js';

// ABI register numbers used below.
const ra = 1, sp = 2, t0 = 5, t1 = 6, t2 = 7, s0 = 8, s1 = 9, a0 = 10, a1 = 11, a2 = 12, a3 = 13;
const a4 = 14, a5 = 15, s2 = 18, s3 = 19, s4 = 20, t5 = 30, t6 = 31;

type Want = Partial<Pick<Decoded, 'op' | 'rd' | 'rs1' | 'rs2' | 'imm' | 'csr' | 'len'>> & { enc?: string };
type Row = [text: string, word: number, want: Want];

const R = (op: string, rd: number, rs1: number, rs2: number): Want => ({ op, rd, rs1, rs2, len: 4 });
const I = (op: string, rd: number, rs1: number, imm: number): Want => ({ op, rd, rs1, imm, len: 4 });
const S = (op: string, rs2: number, rs1: number, imm: number): Want => ({ op, rs1, rs2, imm, len: 4 });
const AMO = (op: string): Want => R(op, a0, a1, a2);

const BASE: Row[] = [
  // U and J
  ['lui a0,0x12345', 0x12345537, { op: 'lui', rd: a0, imm: 0x12345000 }],
  ['lui a0,0xfffff', 0xfffff537, { op: 'lui', rd: a0, imm: -4096 }],
  ['auipc sp,0x1', 0x00001117, { op: 'auipc', rd: sp, imm: 0x1000 }],
  ['jal ra,.+2048', 0x001000ef, { op: 'jal', rd: ra, imm: 2048 }],
  ['jal zero,.-4', 0xffdff06f, { op: 'jal', rd: 0, imm: -4 }],
  ['jal zero,.-0x100000', 0x8000006f, { op: 'jal', rd: 0, imm: -0x100000 }],
  ['jalr ra,-12(a5)', 0xff4780e7, I('jalr', ra, a5, -12)],
  ['jalr zero,0(ra)', 0x00008067, I('jalr', 0, ra, 0)],
  // B
  ['beq a0,a1,.+16', 0x00b50863, { op: 'beq', rs1: a0, rs2: a1, imm: 16 }],
  ['bne t0,t1,.-4096', 0x80629063, { op: 'bne', rs1: t0, rs2: t1, imm: -4096 }],
  ['bltu s0,s1,.+4094', 0x7e946fe3, { op: 'bltu', rs1: s0, rs2: s1, imm: 4094 }],
  ['bge a5,zero,.-2', 0xfe07dfe3, { op: 'bge', rs1: a5, rs2: 0, imm: -2 }],
  ['blt a0,a1,.+8', 0x00b54463, { op: 'blt', rs1: a0, rs2: a1, imm: 8 }],
  ['bgeu a0,a1,.+8', 0x00b57463, { op: 'bgeu', rs1: a0, rs2: a1, imm: 8 }],
  // loads and stores
  ['lb a0,-2048(sp)', 0x80010503, I('lb', a0, sp, -2048)],
  ['lh a1,2(a0)', 0x00251583, I('lh', a1, a0, 2)],
  ['lw a0,2047(s0)', 0x7ff42503, I('lw', a0, s0, 2047)],
  ['lbu t6,0(t5)', 0x000f4f83, I('lbu', t6, t5, 0)],
  ['lhu a0,-2(a1)', 0xffe5d503, I('lhu', a0, a1, -2)],
  ['sb a1,-1(a0)', 0xfeb50fa3, S('sb', a1, a0, -1)],
  ['sh a2,64(sp)', 0x04c11023, S('sh', a2, sp, 64)],
  ['sw ra,-2048(sp)', 0x80112023, S('sw', ra, sp, -2048)],
  // OP-IMM
  ['addi sp,sp,-16', 0xff010113, I('addi', sp, sp, -16)],
  ['slti a0,a1,-1', 0xfff5a513, I('slti', a0, a1, -1)],
  ['sltiu a0,a1,1', 0x0015b513, I('sltiu', a0, a1, 1)],
  ['xori a0,a1,-1', 0xfff5c513, I('xori', a0, a1, -1)],
  ['ori a0,a1,0x7ff', 0x7ff5e513, I('ori', a0, a1, 2047)],
  ['andi a0,a1,255', 0x0ff5f513, I('andi', a0, a1, 255)],
  ['slli a0,a1,31', 0x01f59513, I('slli', a0, a1, 31)],
  ['srli a0,a1,12', 0x00c5d513, I('srli', a0, a1, 12)],
  ['srai a0,a1,1', 0x4015d513, I('srai', a0, a1, 1)],
  // OP
  ['add a0,a1,a2', 0x00c58533, R('add', a0, a1, a2)],
  ['sub t0,t1,t2', 0x407302b3, R('sub', t0, t1, t2)],
  ['sll s2,s3,s4', 0x01499933, R('sll', s2, s3, s4)],
  ['slt a0,zero,a1', 0x00b02533, R('slt', a0, 0, a1)],
  ['sltu a0,zero,a1', 0x00b03533, R('sltu', a0, 0, a1)],
  ['xor a0,a1,a2', 0x00c5c533, R('xor', a0, a1, a2)],
  ['srl a0,a1,a2', 0x00c5d533, R('srl', a0, a1, a2)],
  ['sra a0,a1,a2', 0x40c5d533, R('sra', a0, a1, a2)],
  ['or a0,a1,a2', 0x00c5e533, R('or', a0, a1, a2)],
  ['and a0,a1,a2', 0x00c5f533, R('and', a0, a1, a2)],
  // MISC-MEM and SYSTEM
  ['fence rw,rw', 0x0330000f, { op: 'fence', imm: 0x33 }],
  ['fence', 0x0ff0000f, { op: 'fence', imm: 0xff }],
  ['fence.i', 0x0000100f, { op: 'fence.i' }],
  ['ecall', 0x00000073, { op: 'ecall' }],
  ['ebreak', 0x00100073, { op: 'ebreak' }],
  ['sret', 0x10200073, { op: 'sret' }],
  ['mret', 0x30200073, { op: 'mret' }],
  ['wfi', 0x10500073, { op: 'wfi' }],
  ['sfence.vma a0,a1', 0x12b50073, { op: 'sfence.vma', rs1: a0, rs2: a1 }],
  ['sfence.vma', 0x12000073, { op: 'sfence.vma', rs1: 0, rs2: 0 }],
  // Zicsr
  ['csrrw a0,mstatus,a1', 0x30059573, { op: 'csrrw', rd: a0, rs1: a1, csr: CSR.mstatus }],
  ['csrrs a0,time,zero', 0xc0102573, { op: 'csrrs', rd: a0, rs1: 0, csr: CSR.time }],
  ['csrrc zero,sstatus,t0', 0x1002b073, { op: 'csrrc', rd: 0, rs1: t0, csr: CSR.sstatus }],
  ['csrrwi a0,sstatus,31', 0x100fd573, { op: 'csrrwi', rd: a0, imm: 31, csr: CSR.sstatus }],
  ['csrrsi zero,mie,8', 0x30446073, { op: 'csrrsi', rd: 0, imm: 8, csr: CSR.mie }],
  ['csrrci a5,0xfff,1', 0xfff0f7f3, { op: 'csrrci', rd: a5, imm: 1, csr: 0xfff }],
  // M
  ['mul a0,a1,a2', 0x02c58533, R('mul', a0, a1, a2)],
  ['mulh a0,a1,a2', 0x02c59533, R('mulh', a0, a1, a2)],
  ['mulhsu a0,a1,a2', 0x02c5a533, R('mulhsu', a0, a1, a2)],
  ['mulhu a0,a1,a2', 0x02c5b533, R('mulhu', a0, a1, a2)],
  ['div a0,a1,a2', 0x02c5c533, R('div', a0, a1, a2)],
  ['divu a0,a1,a2', 0x02c5d533, R('divu', a0, a1, a2)],
  ['rem a0,a1,a2', 0x02c5e533, R('rem', a0, a1, a2)],
  ['remu a0,a1,a2', 0x02c5f533, R('remu', a0, a1, a2)],
  // A (aq/rl do not change the decoded record)
  ['lr.w a0,(a1)', 0x1005a52f, { op: 'lr.w', rd: a0, rs1: a1 }],
  ['lr.w.aq a0,(a1)', 0x1405a52f, { op: 'lr.w', rd: a0, rs1: a1 }],
  ['sc.w.rl a0,a2,(a1)', 0x1ac5a52f, AMO('sc.w')],
  ['amoswap.w.aqrl a0,a2,(a1)', 0x0ec5a52f, AMO('amoswap.w')],
  ['amoadd.w a0,a2,(a1)', 0x00c5a52f, AMO('amoadd.w')],
  ['amoxor.w a0,a2,(a1)', 0x20c5a52f, AMO('amoxor.w')],
  ['amoand.w a0,a2,(a1)', 0x60c5a52f, AMO('amoand.w')],
  ['amoor.w a0,a2,(a1)', 0x40c5a52f, AMO('amoor.w')],
  ['amomin.w a0,a2,(a1)', 0x80c5a52f, AMO('amomin.w')],
  ['amomax.w a0,a2,(a1)', 0xa0c5a52f, AMO('amomax.w')],
  ['amominu.w a0,a2,(a1)', 0xc0c5a52f, AMO('amominu.w')],
  ['amomaxu.w a0,a2,(a1)', 0xe0c5a52f, AMO('amomaxu.w')],
];

const C = (enc: string, op: string, fields: Omit<Want, 'op' | 'enc' | 'len'>): Want => ({ enc, op, ...fields, len: 2 });

const RVC: Row[] = [
  ['c.addi4spn a0,sp,8', 0x0028, C('c.addi4spn', 'addi', { rd: a0, rs1: sp, imm: 8 })],
  ['c.addi4spn s1,sp,1020', 0x1fe4, C('c.addi4spn', 'addi', { rd: s1, rs1: sp, imm: 1020 })],
  ['c.lw a1,4(a0)', 0x414c, C('c.lw', 'lw', { rd: a1, rs1: a0, imm: 4 })],
  ['c.lw a5,124(a5)', 0x5ffc, C('c.lw', 'lw', { rd: a5, rs1: a5, imm: 124 })],
  ['c.sw a1,64(s0)', 0xc02c, C('c.sw', 'sw', { rs2: a1, rs1: s0, imm: 64 })],
  ['c.addi a0,-1', 0x157d, C('c.addi', 'addi', { rd: a0, rs1: a0, imm: -1 })],
  ['c.addi t6,31', 0x0ffd, C('c.addi', 'addi', { rd: t6, rs1: t6, imm: 31 })],
  ['c.nop', 0x0001, C('c.addi', 'addi', { rd: 0, rs1: 0, imm: 0 })],
  ['c.jal .+2046', 0x2ffd, C('c.jal', 'jal', { rd: ra, imm: 2046 })],
  ['c.jal .-2048', 0x3001, C('c.jal', 'jal', { rd: ra, imm: -2048 })],
  ['c.li a0,31', 0x457d, C('c.li', 'addi', { rd: a0, rs1: 0, imm: 31 })],
  ['c.li a0,-32', 0x5501, C('c.li', 'addi', { rd: a0, rs1: 0, imm: -32 })],
  ['c.addi16sp sp,-512', 0x7101, C('c.addi16sp', 'addi', { rd: sp, rs1: sp, imm: -512 })],
  ['c.addi16sp sp,496', 0x617d, C('c.addi16sp', 'addi', { rd: sp, rs1: sp, imm: 496 })],
  ['c.lui a0,0x1f', 0x657d, C('c.lui', 'lui', { rd: a0, imm: 0x1f000 })],
  ['c.lui a0,0xfffe0', 0x7501, C('c.lui', 'lui', { rd: a0, imm: -0x20000 })],
  ['c.srli a0,31', 0x817d, C('c.srli', 'srli', { rd: a0, rs1: a0, imm: 31 })],
  ['c.srai s1,1', 0x8485, C('c.srai', 'srai', { rd: s1, rs1: s1, imm: 1 })],
  ['c.andi a0,-1', 0x997d, C('c.andi', 'andi', { rd: a0, rs1: a0, imm: -1 })],
  ['c.sub s0,s1', 0x8c05, C('c.sub', 'sub', { rd: s0, rs1: s0, rs2: s1 })],
  ['c.xor a0,a1', 0x8d2d, C('c.xor', 'xor', { rd: a0, rs1: a0, rs2: a1 })],
  ['c.or a4,a5', 0x8f5d, C('c.or', 'or', { rd: a4, rs1: a4, rs2: a5 })],
  ['c.and a2,a3', 0x8e75, C('c.and', 'and', { rd: a2, rs1: a2, rs2: a3 })],
  ['c.j .-2', 0xbffd, C('c.j', 'jal', { rd: 0, imm: -2 })],
  ['c.beqz a0,.+254', 0xcd7d, C('c.beqz', 'beq', { rs1: a0, rs2: 0, imm: 254 })],
  ['c.bnez s1,.-256', 0xf081, C('c.bnez', 'bne', { rs1: s1, rs2: 0, imm: -256 })],
  ['c.slli a0,1', 0x0506, C('c.slli', 'slli', { rd: a0, rs1: a0, imm: 1 })],
  ['c.lwsp a0,252(sp)', 0x557e, C('c.lwsp', 'lw', { rd: a0, rs1: sp, imm: 252 })],
  ['c.jr a5', 0x8782, C('c.jr', 'jalr', { rd: 0, rs1: a5, imm: 0 })],
  ['c.mv a0,a1', 0x852e, C('c.mv', 'add', { rd: a0, rs1: 0, rs2: a1 })],
  ['c.ebreak', 0x9002, C('c.ebreak', 'ebreak', {})],
  ['c.jalr a5', 0x9782, C('c.jalr', 'jalr', { rd: ra, rs1: a5, imm: 0 })],
  ['c.add a0,a1', 0x952e, C('c.add', 'add', { rd: a0, rs1: a0, rs2: a1 })],
  ['c.swsp ra,252(sp)', 0xdf86, C('c.swsp', 'sw', { rs2: ra, rs1: sp, imm: 252 })],
];

/** Encodings that must decode as illegal. */
const ILLEGAL: [why: string, word: number][] = [
  ['all-zero halfword (c.addi4spn with imm 0)', 0x0000],
  ['c.addi4spn a0 with imm 0', 0x0008],
  ['c.lwsp with rd=0', 0x4002],
  ['c.jr with rs1=0', 0x8002],
  ['c.addi16sp with imm 0', 0x6101],
  ['c.lui a0 with imm 0', 0x6501],
  ['RV32 c.slli a0 with shamt[5]=1', 0x1506],
  ['RV32 c.srli a0 with shamt[5]=1', 0x9101],
  ['RV32 c.srai a0 with shamt[5]=1', 0x9501],
  ['c.fld (no D)', 0x2000],
  ['c.flw (RV32 F, not implemented)', 0x6000],
  ['RV32 slli with shamt[5]=1', 0x02051513],
  ['RV32 srai with shamt[5]=1', 0x42055513],
  ['fmadd.s (no F)', 0x00000543],
  ['hfence.gvma (no H)', 0x62b50073],
  ['cbo.flush (no Zicbom)', 0x0025200f],
  ['vse8.v (no V)', 0x02038027],
  ['ecall with a nonzero rs1', 0x00008073],
  ['OP with funct7=0x01 funct3=0 on the wrong major opcode (OP-32)', 0x02c5853b],
];

function check(word: number, want: Want): void {
  const d = decode(word);
  expect(d).not.toBeNull();
  const { enc, ...fields } = want;
  expect(d).toMatchObject(fields);
  if (enc !== undefined) expect(d!.enc.name).toBe(enc);
}

describe('decode()', () => {
  it.each(BASE)('%s', (_text, word, want) => check(word, want));
  it.each(RVC)('%s', (_text, word, want) => check(word, want));
  it.each(ILLEGAL)('%s is illegal', (_why, word) => expect(decode(word)).toBeNull());

  it('keeps the raw word, and only the low halfword of an RVC instruction', () => {
    expect(decode(0x12345537)).toMatchObject({ raw: 0x12345537, len: 4 });
    expect(decode(0xffff0000 | 0x157d)).toMatchObject({ op: 'addi', rd: a0, imm: -1, raw: 0x157d, len: 2 });
    expect(decode(0x8082_0000 | 0x0001)).toMatchObject({ op: 'addi', raw: 0x0001 });
  });
});

describe('CSR names', () => {
  it("every CSR deja implements has the name objdump prints for it", () => {
    for (const [num, name] of Object.entries(CSR_NAMES)) expect(csrName(Number(num)), `csr 0x${Number(num).toString(16)}`).toBe(name);
  });
});
