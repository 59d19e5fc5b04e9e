// The decoder: raw bits -> a base-instruction record, from the one encoding table.

import { ENCODINGS, type Encoding } from './encodings.js';
import { fieldSource } from './fields.js';
import { OP_INDEX } from './semantics.js';

export interface Decoded {
  /** The encoding that matched ('c.addi'); `op` is the base instruction ('addi'). */
  enc: Encoding;
  op: string;
  opIndex: number;
  rd: number;
  rs1: number;
  rs2: number;
  imm: number;
  csr: number;
  len: 2 | 4;
  raw: number;
}

interface Matcher {
  enc: Encoding;
  opIndex: number;
  extract: (inst: number) => [number, number, number, number, number];
  valid: (inst: number) => boolean;
}

function makeMatcher(enc: Encoding): Matcher {
  const f = enc.fields;
  const part = (k: 'rd' | 'rs1' | 'rs2' | 'imm' | 'csr') => (f[k] === undefined ? '0' : fieldSource(f[k]!));
  const extract = new Function(
    'inst',
    `return [${part('rd')}, ${part('rs1')}, ${part('rs2')}, ${part('imm')}, ${part('csr')}];`,
  ) as Matcher['extract'];
  const valid = new Function('inst', `return ${enc.valid ?? 'true'};`) as Matcher['valid'];
  return { enc, opIndex: OP_INDEX[enc.op], extract, valid };
}

/**
 * Encodings grouped by the bits every encoding fixes: for 32-bit ones opcode[6:2] and
 * funct3 (lui/auipc/jal fix no funct3 and sit in all eight), for RVC quadrant and funct3.
 */
export function groupKey(inst: number): number {
  return (inst & 3) === 3 ? 32 + (((inst >>> 2) & 31) << 3 | ((inst >>> 12) & 7)) : ((inst & 3) << 3) | ((inst >>> 13) & 7);
}

const GROUPS: Matcher[][] = Array.from({ length: 32 + 256 }, () => []);
for (const enc of ENCODINGS) {
  const m = makeMatcher(enc);
  for (let k = 0; k < GROUPS.length; k++) {
    // A group holds an encoding if some instruction with this key can match it.
    const probe = keyProbe(k);
    if (probe === null) continue;
    if (((probe.bits ^ enc.match) & enc.mask & probe.mask) === 0 && (enc.len === 4) === k >= 32) GROUPS[k].push(m);
  }
}

/** The bits a group key fixes, as (mask, bits). */
function keyProbe(k: number): { mask: number; bits: number } | null {
  if (k >= 32) {
    const v = k - 32;
    return { mask: 0x707f, bits: (((v >>> 3) & 31) << 2) | 3 | ((v & 7) << 12) };
  }
  if ((k >>> 3) === 3) return null;
  return { mask: 0xe003, bits: (k >>> 3) | ((k & 7) << 13) };
}

/** Decodes one instruction (low 16 bits only for RVC); null if illegal. */
export function decode(inst: number): Decoded | null {
  inst |= 0;
  const len: 2 | 4 = (inst & 3) === 3 ? 4 : 2;
  if (len === 2) inst &= 0xffff;
  for (const m of GROUPS[groupKey(inst)]) {
    if ((inst & m.enc.mask) !== m.enc.match || !m.valid(inst)) continue;
    const [rd, rs1, rs2, imm, csr] = m.extract(inst);
    return { enc: m.enc, op: m.enc.op, opIndex: m.opIndex, rd, rs1, rs2, imm, csr, len, raw: inst };
  }
  return null;
}

/** The candidate encodings for a group key, in match order (for generators). */
export function groupEncodings(key: number): readonly Encoding[] {
  return GROUPS[key].map((m) => m.enc);
}

export const GROUP_COUNT = GROUPS.length;
