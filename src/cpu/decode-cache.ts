// Decoded instructions by physical page, for the interpreter: every halfword slot holds
// two words, w0 = key | rd << 8 (6 bits: 32 is the sink for x0) | rs1 << 14 | (rs2 or csr) << 19 and w1 = imm (or, for
// system instructions, the raw bits). Key 0 means "not decoded yet". A page with decoded
// slots carries PAGE_CODE, so a store to it reaches the slow path, which clears PAGE_CODE
// and calls `pageWritten` to forget the page (DESIGN.md I6).

import { decode, type Decoded } from '../isa/decode.js';
import { SEMANTICS, OP_INDEX } from '../isa/semantics.js';
import { OP_NAMES } from '../isa/encodings.js';
import { PAGE_CODE, PAGE_SHIFT, type PhysMemory } from './memory.js';
import { TLB_MASK, type Mmu } from './mmu.js';
import type { Hart } from './hart.js';

export const KEY_ILLEGAL = 1;

/** The switch key for an op at a length: every (op, length) pair gets its own leaf. */
export function keyOf(opIndex: number, len: 2 | 4): number {
  return 2 + opIndex * 2 + (len === 4 ? 1 : 0);
}

export const KEY_COUNT = keyOf(OP_NAMES.length - 1, 4) + 1;

const CSR_IMM = new Set([OP_INDEX.csrrwi, OP_INDEX.csrrsi, OP_INDEX.csrrci]);

/** Packs a decoded instruction into the two slot words. */
export function pack(d: Decoded | null, raw: number): [number, number] {
  if (!d) return [KEY_ILLEGAL, raw];
  const key = keyOf(d.opIndex, d.len);
  const rd = d.rd === 0 ? 32 : d.rd; // writes to x0 land in the sink x[32]
  if (SEMANTICS[d.op].system) {
    const rs1 = CSR_IMM.has(d.opIndex) ? d.imm : d.rs1;
    return [key | (d.rd << 8) | (rs1 << 14) | (d.csr << 19), raw];
  }
  return [key | (rd << 8) | (d.rs1 << 14) | (d.rs2 << 19), d.imm];
}

export class DecodeCache {
  /** By buffer page; dense, so lookups stay fast (a sparse array becomes a dictionary). */
  readonly pages: (Int32Array | null)[];
  /** Result of the last `decodeAt`, for the interpreter. */
  w = 0;
  imm = 0;

  constructor(
    private readonly mem: PhysMemory,
    private readonly mmu: Mmu,
    private readonly hart: Hart,
  ) {
    this.pages = new Array<Int32Array | null>(mem.pageFlags.length).fill(null);
  }

  /** A placeholder page for "no page yet". */
  readonly none = new Int32Array(8192);

  /** The decoded page holding virtual `pc` (translates for fetch; may throw TRAP). */
  pageFor(pc: number): Int32Array {
    const vpn = pc >>> 12;
    const t = vpn & TLB_MASK;
    // Translate pc itself, not its page base: a fetch fault must report the faulting pc
    // as mtval/stval. Only the page of the returned buffer offset is used.
    const off = this.mmu.xTag[t] === vpn ? this.mmu.xOff[t] : this.hart.fetchSlow(pc);
    const p = off >>> PAGE_SHIFT;
    return this.pages[p] ?? (this.pages[p] = new Int32Array(8192));
  }

  /** Decodes the instruction at pc into `w`/`imm`, caching it in `page` at slot index i. */
  decodeAt(pc: number, page: Int32Array, i: number): void {
    const raw = this.hart.fetch(pc);
    const [w, imm] = pack(decode(raw), raw);
    this.w = w;
    this.imm = imm;
    // An instruction that crosses into the next page depends on that page's mapping too:
    // it is decoded every time rather than cached.
    if ((pc & 4095) === 4094 && (raw & 3) === 3) return;
    const off = this.hart.fetchSlow(pc);
    const p = off >>> PAGE_SHIFT;
    if (!(this.mem.pageFlags[p] & PAGE_CODE)) {
      this.mem.pageFlags[p] |= PAGE_CODE;
      this.mmu.dropWritePage(off);
    }
    page[i] = w;
    page[i + 1] = imm;
  }

  /** A store hit a page with decoded code: forget all of it. */
  pageWritten(page: number): void {
    this.pages[page]?.fill(0);
  }

  /** Drops everything (e.g. when the machine state is restored). */
  clear(): void {
    for (const p of this.pages) p?.fill(0);
  }
}
