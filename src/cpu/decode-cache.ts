// Decoded instructions by physical page, for the interpreter: every halfword slot holds
// two words, w0 = key | rd << 8 (6 bits: 32 is the sink for x0) | rs1 << 14 | (rs2 or csr) << 19 and w1 = imm (or, for
// system instructions, the raw bits), and HEAT_BASE on holds heat counters (see below).
// Key 0 means "not decoded yet"; a w0 with its sign bit set (SLOT_HANDOVER) marks the first
// instruction of a compiled block, where the interpreter hands over to the JIT. A page with decoded
// slots carries PAGE_CODE, so a store to it reaches the slow path, which clears PAGE_CODE
// and calls `pageWritten` to forget the page (DESIGN.md I6).

import { decode, type Decoded } from '../isa/decode.js';
import { endsBlock, SEMANTICS, OP_INDEX } from '../isa/semantics.js';
import { OP_NAMES } from '../isa/encodings.js';
import { PAGE_CODE, PAGE_SHIFT, type PhysMemory } from './memory.js';
import { TLB_MASK, type Mmu } from './mmu.js';
import type { Hart } from './hart.js';

export const KEY_ILLEGAL = 1;

/**
 * A slot word that hands the instruction to the JIT: the first instruction of a compiled
 * block. Its sign bit is set (a decoded word's never is), so the interpreter's one
 * "not decoded" test, w <= 0, catches it at no cost to other instructions: it returns
 * there, or, where it started the run (the dispatcher chose not to run the block),
 * decodes the instruction without caching it.
 */
export const SLOT_HANDOVER = 1 << 31;

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

/** 1 for the keys of what ends a block (control transfers, system instructions, illegal ones). */
const ENDS_BLOCK = new Uint8Array(KEY_COUNT);
ENDS_BLOCK[KEY_ILLEGAL] = 1;
for (const op of OP_NAMES) if (endsBlock(op)) ENDS_BLOCK[keyOf(OP_INDEX[op], 2)] = ENDS_BLOCK[keyOf(OP_INDEX[op], 4)] = 1;

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

const PACKED_BITS = 16;
const PACKED_SIZE = 1 << PACKED_BITS;

export class DecodeCache {
  /** By buffer page; dense, so lookups stay fast (a sparse array becomes a dictionary). */
  readonly pages: (Int32Array | null)[];
  /** Under the JIT: heat at which the counting interpreter leaves a head to the dispatcher. */
  heatThreshold = HEAT_HOT;
  /** Where the last `blockRun` found its head's heat counter (a page's slots, an index). */
  headHeat: Int32Array;
  headAt = 0;
  /** Result of the last `decodeAt`, for the interpreter. */
  w = 0;
  imm = 0;

  constructor(
    private readonly mem: PhysMemory,
    private readonly mmu: Mmu,
    private readonly hart: Hart,
  ) {
    this.pages = new Array<Int32Array | null>(mem.pageFlags.length).fill(null);
    this.headHeat = this.none;
  }

  /** A placeholder page for "no page yet". */
  readonly none = new Int32Array(PAGE_SLOTS);

  /** The decoded page holding virtual `pc` (translates for fetch; may throw TRAP). */
  pageFor(pc: number): Int32Array {
    return this.page(this.fetchOffset(pc) >>> PAGE_SHIFT);
  }

  /**
   * The buffer offset of pc's page (or of pc) for a fetch: the fetch TLB's, or a
   * translation (may throw TRAP). It translates pc itself, not its page base: a fetch fault
   * must report the faulting pc as mtval/stval. Only the page of the offset is used.
   */
  private fetchOffset(pc: number): number {
    const vpn = pc >>> 12;
    const t = vpn & TLB_MASK;
    return this.mmu.xTag[t] === vpn ? this.mmu.xOff[t] : this.hart.fetchSlow(pc);
  }

  /** The decoded page at physical page number p, made if missing. */
  page(p: number): Int32Array {
    return this.pages[p] ?? (this.pages[p] = new Int32Array(PAGE_SLOTS));
  }

  /**
   * Slot words by instruction bits: a boot decodes about 144K instructions but only 30K
   * distinct ones (pages are decoded again after a write or a remap). An open-addressed
   * table in typed arrays (a Map keyed by instruction bits boxes most of them, which have
   * bit 31 or 30 set); a slot whose w is 0 is empty, and a table half full starts over.
   */
  private readonly packedRaw = new Int32Array(PACKED_SIZE);
  private readonly packedW = new Int32Array(PACKED_SIZE);
  private readonly packedImm = new Int32Array(PACKED_SIZE);
  private packedCount = 0;

  /** Decodes the instruction at pc into `w`/`imm`, caching it in `page` at slot index i. */
  decodeAt(pc: number, page: Int32Array, i: number): void {
    const raw = this.decodeOnly(pc);
    // An instruction that crosses into the next page depends on that page's mapping too:
    // it is decoded every time rather than cached.
    if ((pc & 4095) === 4094 && (raw & 3) === 3) return;
    // The fetch has just filled the fetch TLB (unless PMP splits the page).
    const off = this.fetchOffset(pc);
    const p = off >>> PAGE_SHIFT;
    if (!(this.mem.pageFlags[p] & PAGE_CODE)) {
      this.mem.pageFlags[p] |= PAGE_CODE;
      this.mmu.dropWritePage(off);
    }
    page[i] = this.w;
    page[i + 1] = this.imm;
  }

  /**
   * The instructions from pc through the end of its block as the counting interpreter
   * sees block heads: to the first control transfer, system or illegal instruction, the
   * page's end or `max` instructions, short of a compiled block's first instruction; -1
   * where pc is one. Decodes what it meets; translates pc as a fetch would (may throw
   * TRAP). Leaves the head's heat counter in headHeat[headAt].
   */
  blockRun(pc: number, max: number): number {
    const code = this.pageFor(pc);
    this.headHeat = code;
    this.headAt = heatIndex(pc);
    let a = pc;
    let n = 0;
    for (;;) {
      const i = a & 4094;
      let w = code[i];
      if (w === SLOT_HANDOVER) return a === pc ? -1 : n;
      if (w === 0) {
        this.decodeAt(a, code, i);
        w = this.w;
      }
      n++;
      const key = w & 255;
      if (ENDS_BLOCK[key] === 1 || n >= max) return n;
      a = (a + (key & 1 ? 4 : 2)) | 0;
      if ((a & -4096) !== (pc & -4096)) return n;
    }
  }

  /** Decodes the instruction at pc into `w`/`imm` without caching it (a handover slot); returns its bits. */
  decodeOnly(pc: number): number {
    const raw = this.hart.fetch(pc) | 0;
    const keys = this.packedRaw;
    const ws = this.packedW;
    let h = Math.imul(raw, 0x9e3779b1) >>> (32 - PACKED_BITS);
    while (ws[h] !== 0 && keys[h] !== raw) h = (h + 1) & (PACKED_SIZE - 1);
    if (ws[h] === 0) {
      if (this.packedCount >= PACKED_SIZE / 2) {
        ws.fill(0);
        this.packedCount = 0;
        h = Math.imul(raw, 0x9e3779b1) >>> (32 - PACKED_BITS);
      }
      const [w, imm] = pack(decode(raw), raw);
      keys[h] = raw;
      ws[h] = w;
      this.packedImm[h] = imm;
      this.packedCount++;
    }
    this.w = ws[h];
    this.imm = this.packedImm[h];
    return raw;
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
