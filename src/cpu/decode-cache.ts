// Decoded instructions by physical page, for the interpreter: every halfword slot holds
// two words, w0 = key | rd << 8 (6 bits: 32 is the sink for x0) | rs1 << 14 | (rs2 or csr) << 19 and w1 = imm (or, for
// system instructions, the raw bits), and HEAT_BASE on holds heat counters (see below).
// Key 0 means "not decoded yet". A page with decoded
// slots carries PAGE_CODE, so a store to it reaches the slow path, which clears PAGE_CODE
// and calls `pageWritten` to forget the page (DESIGN.md I6).

import { decode, type Decoded } from '../isa/decode.js';
import { SEMANTICS, OP_INDEX } from '../isa/semantics.js';
import { OP_NAMES } from '../isa/encodings.js';
import { PAGE_CODE, PAGE_SHIFT, type PhysMemory } from './memory.js';
import { TLB_MASK, type Mmu } from './mmu.js';
import type { Hart } from './hart.js';

export const KEY_ILLEGAL = 1;

/**
 * After a page's 2 x 2048 slot words come 2048 heat counters, one per halfword: under the
 * JIT, how often a block starting there has run in the interpreter (HEAT_HOT once it is
 * compiled, HEAT_NEVER where it never will be). The counting interpreter leaves for the
 * dispatcher at a hot head (interpreter.ts).
 */
export const HEAT_BASE = 8192;
export const PAGE_SLOTS = HEAT_BASE + 2048;
export const HEAT_HOT = 0x3fffffff;
export const HEAT_NEVER = -0x3fffffff;

/** The slot of the heat counter for the instruction at buffer offset `off`, in its page. */
export function heatIndex(off: number): number {
  return HEAT_BASE + ((off & 4095) >> 1);
}

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
  /** Under the JIT: heat at which the counting interpreter leaves a head to the dispatcher. */
  heatThreshold = HEAT_HOT;
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
  readonly none = new Int32Array(PAGE_SLOTS);

  /** The decoded page holding virtual `pc` (translates for fetch; may throw TRAP). */
  pageFor(pc: number): Int32Array {
    const vpn = pc >>> 12;
    const t = vpn & TLB_MASK;
    // Translate pc itself, not its page base: a fetch fault must report the faulting pc
    // as mtval/stval. Only the page of the returned buffer offset is used.
    const off = this.mmu.xTag[t] === vpn ? this.mmu.xOff[t] : this.hart.fetchSlow(pc);
    return this.page(off >>> PAGE_SHIFT);
  }

  /** The decoded page at physical page number p, made if missing. */
  page(p: number): Int32Array {
    return this.pages[p] ?? (this.pages[p] = new Int32Array(PAGE_SLOTS));
  }

  /**
   * Slot words by instruction bits: a boot decodes about 144K instructions but only 30K
   * distinct ones (pages are decoded again after a write or a remap).
   */
  private readonly packed = new Map<number, [number, number]>();

  /** Decodes the instruction at pc into `w`/`imm`, caching it in `page` at slot index i. */
  decodeAt(pc: number, page: Int32Array, i: number): void {
    const raw = this.hart.fetch(pc);
    let words = this.packed.get(raw);
    if (words === undefined) this.packed.set(raw, (words = pack(decode(raw), raw)));
    const w = words[0], imm = words[1];
    this.w = w;
    this.imm = imm;
    // An instruction that crosses into the next page depends on that page's mapping too:
    // it is decoded every time rather than cached.
    if ((pc & 4095) === 4094 && (raw & 3) === 3) return;
    // The fetch has just filled the fetch TLB (unless PMP splits the page).
    const vpn = pc >>> 12;
    const t = vpn & TLB_MASK;
    const off = this.mmu.xTag[t] === vpn ? this.mmu.xOff[t] : this.hart.fetchSlow(pc);
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

  /**
   * Bytes [from, to) (buffer offsets on one page) were written, and the page stays flagged
   * (later stores are still reported): forget just the instructions that overlap them.
   */
  rangeWritten(page: number, from: number, to: number): void {
    const code = this.pages[page];
    if (!code) return;
    const base = page << PAGE_SHIFT;
    // An instruction starting up to 3 bytes before `from` may overlap it; slot i is byte i.
    const lo = Math.max(0, (from - base - 3) & ~1);
    const hi = Math.min(4096, to - base);
    for (let i = lo; i < hi; i += 2) code[i] = 0;
  }

  /** Drops everything (e.g. when the machine state is restored). */
  clear(): void {
    for (const p of this.pages) p?.fill(0);
  }
}
