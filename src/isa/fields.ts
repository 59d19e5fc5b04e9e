// Operand fields of RV32 and RVC encodings, each written once as JavaScript source over
// `inst` (the raw instruction bits, int32). The decoder compiles them to functions; the
// interpreter generator pastes the same source into its leaves.

export type FieldName = 'rd' | 'rs1' | 'rs2' | 'imm' | 'csr';

export const FIELD_SRC = {
  // 32-bit formats
  rd: '(inst >>> 7) & 31',
  rs1: '(inst >>> 15) & 31',
  rs2: '(inst >>> 20) & 31',
  csr: '(inst >>> 20) & 4095',
  immI: 'inst >> 20',
  immS: '((inst >> 20) & ~31) | ((inst >>> 7) & 31)',
  immB: '((inst >> 31) << 12) | ((inst << 4) & 0x800) | ((inst >>> 20) & 0x7e0) | ((inst >>> 7) & 0x1e)',
  immU: 'inst & -4096',
  immJ: '((inst >> 31) << 20) | (inst & 0xff000) | ((inst >>> 9) & 0x800) | ((inst >>> 20) & 0x7fe)',
  shamt: '(inst >>> 20) & 31',
  zimm: '(inst >>> 15) & 31', // csrr*i: the rs1 field is a 5-bit unsigned immediate
  fence: '(inst >>> 20) & 255', // pred << 4 | succ

  // 16-bit (RVC) formats
  cRd: '(inst >>> 7) & 31',
  cRs2: '(inst >>> 2) & 31',
  cRdP: '((inst >>> 7) & 7) + 8', // rd' / rs1' in bits 9:7
  cRs2P: '((inst >>> 2) & 7) + 8', // rd' / rs2' in bits 4:2
  cImmCI: '((((inst >>> 2) & 31) | ((inst >>> 7) & 32)) << 26) >> 26',
  cShamt: '((inst >>> 2) & 31) | ((inst >>> 7) & 32)',
  cImmLui: '((((inst << 5) & 0x20000) | ((inst << 10) & 0x1f000)) << 14) >> 14',
  cImm16sp:
    '((((inst >>> 3) & 0x200) | ((inst >>> 2) & 0x10) | ((inst << 1) & 0x40) | ((inst << 4) & 0x180) | ((inst << 3) & 0x20)) << 22) >> 22',
  cImm4spn: '((inst >>> 7) & 0x30) | ((inst >>> 1) & 0x3c0) | ((inst >>> 4) & 4) | ((inst >>> 2) & 8)',
  cImmLS: '((inst >>> 7) & 0x38) | ((inst >>> 4) & 4) | ((inst << 1) & 0x40)',
  cImmLwsp: '((inst >>> 7) & 0x20) | ((inst >>> 2) & 0x1c) | ((inst << 4) & 0xc0)',
  cImmSwsp: '((inst >>> 7) & 0x3c) | ((inst >>> 1) & 0xc0)',
  cImmJ:
    '((((inst >>> 1) & 0x800) | ((inst >>> 7) & 0x10) | ((inst >>> 1) & 0x300) | ((inst << 2) & 0x400) | ((inst >>> 1) & 0x40) | ((inst << 1) & 0x80) | ((inst >>> 2) & 0xe) | ((inst << 3) & 0x20)) << 20) >> 20',
  cImmB:
    '((((inst >>> 4) & 0x100) | ((inst >>> 7) & 0x18) | ((inst << 1) & 0xc0) | ((inst >>> 2) & 6) | ((inst << 3) & 0x20)) << 23) >> 23',
} as const;

export type FieldSrcName = keyof typeof FIELD_SRC;

/** A field of a decoded record: a named extractor, or a fixed register/immediate. */
export type FieldSpec = FieldSrcName | number;

export function fieldSource(spec: FieldSpec): string {
  return typeof spec === 'number' ? String(spec) : `(${FIELD_SRC[spec]})`;
}
