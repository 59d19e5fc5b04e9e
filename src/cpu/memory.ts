// Physical memory as the hart sees it: RAM and the boot ROM in one buffer (so every
// fast path indexes one set of typed arrays), per-page flags for code and watched pages,
// and MMIO through the bus.

import type { Bus, Device, Width } from '../machine/bus.js';

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;

/** Page flags: a store to a flagged page leaves every fast path. */
export const PAGE_CODE = 1; // holds translated code (DESIGN.md I6)
export const PAGE_WATCH = 2; // a device watches stores here (HTIF tohost)

/** PhysMemory.dirty's readers: checkpoint hashes and snapshots. */
export const DIRTY_CHECKPOINT = 1;
export const DIRTY_SNAPSHOT = 2;
const DIRTY_ALL = DIRTY_CHECKPOINT | DIRTY_SNAPSHOT;

export interface MemoryLayout {
  ramBase: number;
  ramBytes: number;
  romBase: number;
  romBytes: number;
}

export class PhysMemory {
  readonly ramBase: number;
  readonly ramBytes: number;
  readonly romBase: number;
  readonly romBytes: number;
  readonly buf: ArrayBuffer;
  readonly u8: Uint8Array;
  readonly u16: Uint16Array;
  readonly i32: Int32Array;
  readonly pageFlags: Uint8Array;
  /**
   * RAM pages written, one bit per reader (DIRTY_CHECKPOINT, DIRTY_SNAPSHOT), each cleared
   * by that reader's `takeDirty`. A store through a write-TLB entry is not seen here: the
   * entry's fill marks the page, and every reader drops the write TLBs when it takes
   * (Mmu.dropWriteEntries), so the first store after that is seen again.
   */
  readonly dirty: Uint8Array;
  private readonly dirtyLists: number[][] = [[], []];
  /**
   * Called after a store (CPU or DMA) to a page with PAGE_CODE, which is cleared first:
   * whoever cached code there drops it and flags the page again when it next caches code.
   */
  codeWriteListener: ((page: number, from: number, to: number) => void) | null = null;
  /** Called after a store to a page with PAGE_WATCH. */
  watchListener: ((pa: number, width: Width, value: number) => void) | null = null;

  constructor(
    layout: MemoryLayout,
    readonly bus: Bus,
  ) {
    this.ramBase = layout.ramBase;
    this.ramBytes = layout.ramBytes;
    this.romBase = layout.romBase;
    this.romBytes = layout.romBytes;
    this.buf = new ArrayBuffer(this.ramBytes + this.romBytes);
    this.u8 = new Uint8Array(this.buf);
    this.u16 = new Uint16Array(this.buf);
    this.i32 = new Int32Array(this.buf);
    this.pageFlags = new Uint8Array(this.buf.byteLength >>> PAGE_SHIFT);
    this.dirty = new Uint8Array(this.ramBytes >>> PAGE_SHIFT);
  }

  /** Marks RAM page `page` (buffer offset >> PAGE_SHIFT) written for `bits`' readers; ROM pages are ignored. */
  markDirty(page: number, bits = DIRTY_ALL): void {
    const was = this.dirty[page];
    if (page >= this.dirty.length || (was & bits) === bits) return;
    if (bits & ~was & DIRTY_CHECKPOINT) this.dirtyLists[0].push(page);
    if (bits & ~was & DIRTY_SNAPSHOT) this.dirtyLists[1].push(page);
    this.dirty[page] = was | bits;
  }

  /** The RAM pages written since `bit`'s reader last took them, ascending; starts a new set. */
  takeDirty(bit: typeof DIRTY_CHECKPOINT | typeof DIRTY_SNAPSHOT): number[] {
    const i = bit === DIRTY_CHECKPOINT ? 0 : 1;
    const pages = this.dirtyLists[i].sort((a, b) => a - b);
    for (const p of pages) this.dirty[p] &= ~bit;
    this.dirtyLists[i] = [];
    return pages;
  }

  /** The RAM pages `bit`'s reader has not taken yet, ascending (the set is kept). */
  peekDirty(bit: typeof DIRTY_CHECKPOINT | typeof DIRTY_SNAPSHOT): number[] {
    return [...this.dirtyLists[bit === DIRTY_CHECKPOINT ? 0 : 1]].sort((a, b) => a - b);
  }

  /** A copy of one page's bytes. */
  page(page: number): Uint8Array {
    return this.u8.slice(page << PAGE_SHIFT, (page + 1) << PAGE_SHIFT);
  }

  /** Offset of a physical address in `buf`, or -1 if it is not RAM or ROM. */
  offsetOf(pa: number): number {
    if (pa >= this.ramBase && pa < this.ramBase + this.ramBytes) return pa - this.ramBase;
    if (pa >= this.romBase && pa < this.romBase + this.romBytes) return this.ramBytes + (pa - this.romBase);
    return -1;
  }

  isRom(off: number): boolean {
    return off >= this.ramBytes;
  }

  /** Physical address of a buffer offset. */
  paOf(off: number): number {
    return off < this.ramBytes ? this.ramBase + off : this.romBase + (off - this.ramBytes);
  }

  readOff(off: number, width: Width): number {
    if (width === 4 && (off & 3) === 0) return this.i32[off >> 2];
    if (width === 1) return this.u8[off];
    if (width === 2 && (off & 1) === 0) return this.u16[off >> 1];
    let v = 0;
    for (let i = width - 1; i >= 0; i--) v = (v << 8) | this.u8[off + i];
    return width === 4 ? v | 0 : v;
  }

  /** Writes RAM at a buffer offset (never ROM) and tells the listeners about flagged pages. */
  writeOff(off: number, width: Width, value: number): void {
    if (width === 4 && (off & 3) === 0) this.i32[off >> 2] = value;
    else if (width === 1) this.u8[off] = value;
    else if (width === 2 && (off & 1) === 0) this.u16[off >> 1] = value;
    else for (let i = 0; i < width; i++) this.u8[off + i] = value >>> (8 * i);
    const page = off >>> PAGE_SHIFT;
    if (this.dirty[page] !== DIRTY_ALL) this.markDirty(page);
    if (width > 1 && (off & (PAGE_SIZE - 1)) > PAGE_SIZE - width) this.markDirty(page + 1);
    const flags = this.pageFlags[page];
    if (flags !== 0) this.flaggedWrite(page, flags, off, width, value);
  }

  private flaggedWrite(page: number, flags: number, off: number, width: Width, value: number): void {
    if (flags & PAGE_CODE) this.codeWritten(page, off, off + width);
    if (width > 1 && ((off + width - 1) >>> PAGE_SHIFT) !== page && this.pageFlags[page + 1] & PAGE_CODE) {
      this.codeWritten(page + 1, off, off + width);
    }
    if (flags & PAGE_WATCH) this.watchListener?.(this.paOf(off), width, value);
  }

  /** Bytes [from, to) (buffer offsets, clipped to the page) of a page with code were written. */
  private codeWritten(page: number, from: number, to: number): void {
    this.pageFlags[page] &= ~PAGE_CODE;
    const start = page << PAGE_SHIFT;
    this.codeWriteListener?.(page, Math.max(from, start), Math.min(to, start + PAGE_SIZE));
  }

  /**
   * Whether [pa, pa + len) lies wholly in RAM: the only memory a device may DMA to or
   * from. (RAM and ROM share one buffer, so a range that runs off the end of RAM must
   * not run on into the ROM, nor a ROM range be taken as RAM.)
   */
  dmaInRam(pa: number, len: number): boolean {
    if (!Number.isInteger(pa) || !Number.isInteger(len) || len < 0) return false;
    const off = pa - this.ramBase;
    return off >= 0 && off + len <= this.ramBytes;
  }

  /** DMA from a device: same invalidation path as CPU stores (DESIGN.md I6). False, and nothing written, outside RAM. */
  dmaWrite(pa: number, bytes: Uint8Array): boolean {
    if (!this.dmaInRam(pa, bytes.length)) return false;
    if (bytes.length === 0) return true;
    const off = pa - this.ramBase;
    this.u8.set(bytes, off);
    const first = off >>> PAGE_SHIFT;
    const last = (off + bytes.length - 1) >>> PAGE_SHIFT;
    for (let p = first; p <= last; p++) {
      this.markDirty(p);
      if (this.pageFlags[p] & PAGE_CODE) this.codeWritten(p, off, off + bytes.length);
    }
    return true;
  }

  /** DMA read by a device: a copy of [pa, pa + len), or null if that is not wholly RAM. */
  dmaRead(pa: number, len: number): Uint8Array | null {
    if (!this.dmaInRam(pa, len)) return null;
    const off = pa - this.ramBase;
    return this.u8.slice(off, off + len);
  }

  /** Loads bytes into RAM or ROM at a physical address (image loading, not a guest store). */
  load(pa: number, bytes: Uint8Array): void {
    const off = this.offsetOf(pa);
    const end = this.offsetOf(pa + bytes.length - 1);
    if (off < 0 || end < 0 || end - off !== bytes.length - 1) {
      throw new RangeError(`0x${pa.toString(16)}..0x${(pa + bytes.length).toString(16)} is not in RAM`);
    }
    this.u8.set(bytes, off);
  }

  device(pa: number): Device | null {
    return this.bus.find(pa);
  }
}
