// Guest memory as the hart would load it, read without touching anything: addresses go
// through `Mmu.peek` (no A/D bit, no TLB fill, no fault), and bytes come from RAM and ROM
// only. Device registers are never read (a read can change a device: a UART's FIFO, a
// PLIC claim), so their bytes are unknown, as are those a load could not reach.

import { Cause, PRIV_M } from '../cpu/constants.js';
import { PAGE_SIZE, type PhysMemory } from '../cpu/memory.js';
import { ACCESS_FETCH, ACCESS_READ, type Access, type Mmu } from '../cpu/mmu.js';
import type { Hart } from '../cpu/hart.js';

/** The most bytes one view reads (`deja state --mem`). */
export const MAX_VIEW_BYTES = 1 << 20;

/**
 * What is behind a page: memory (ram, rom), a device's registers (mmio, not read), nothing
 * at that physical address (no-memory); or a load faults: a page fault where the page
 * tables map nothing (unmapped) or the leaf does not allow it (protected: the U bit, SUM,
 * R and MXR), or an access fault (denied: PMP, or page tables outside memory).
 */
export type PageStatus = 'ram' | 'rom' | 'mmio' | 'no-memory' | 'unmapped' | 'protected' | 'denied';

export interface PageView {
  /** The first address of the view in this page (virtual, or physical with `phys`). */
  addr: number;
  /** Its physical address; null where the translation faults. */
  pa: number | null;
  status: PageStatus;
  /** The device whose registers are there (mmio). */
  device?: string;
}

export interface MemoryView {
  addr: number;
  len: number;
  /** Addresses are physical (no translation, no PMP). */
  phys: boolean;
  /** The privilege the addresses were translated for (the hart's for a load, MPRV included). */
  priv: number;
  /** One entry per byte: its value, or null where it is unknown (see PageStatus). */
  bytes: (number | null)[];
  /** Each page the view touches, in order. */
  pages: PageView[];
}

/** Where one byte's load would go: its physical address, or the fault it would take. */
function locate(mmu: Mmu, va: number, access: Access, priv: number, phys: boolean): { pa: number | null; status?: PageStatus } {
  if (phys) return { pa: va };
  const r = mmu.peek(va, access, priv);
  if (r.fault === undefined) return { pa: r.pa };
  const pageFault = r.fault === Cause.LoadPageFault || r.fault === Cause.InsnPageFault || r.fault === Cause.StorePageFault;
  return { pa: null, status: !pageFault ? 'denied' : r.mapped ? 'protected' : 'unmapped' };
}

/** What is at a physical address. */
function classify(mem: PhysMemory, pa: number): { status: PageStatus; device?: string } {
  const off = mem.offsetOf(pa);
  if (off >= 0) return { status: mem.isRom(off) ? 'rom' : 'ram' };
  // The bus's own lookup caches its last hit: search the list, so nothing changes.
  const dev = mem.bus.list().find((d) => pa >= d.base && pa < d.base + d.size);
  return dev ? { status: 'mmio', device: dev.name } : { status: 'no-memory' };
}

/**
 * Reads `len` bytes at `addr`: virtual addresses as the hart would load them now (its
 * privilege, MPRV, SUM and MXR), or physical ones with `phys`. `access` is ACCESS_FETCH to
 * read as instruction fetch does. Changes nothing in the machine.
 */
export function readMemory(hart: Hart, addr: number, len: number, o: { phys?: boolean; access?: Access } = {}): MemoryView {
  if (!(Number.isInteger(len) && len >= 0 && len <= MAX_VIEW_BYTES)) throw new RangeError(`a memory view is 0 to ${MAX_VIEW_BYTES} bytes, not ${len}`);
  const phys = o.phys === true;
  const access = o.access ?? ACCESS_READ;
  const priv = phys ? PRIV_M : access === ACCESS_FETCH ? hart.priv : hart.mmu.dataPriv();
  const mem = hart.mem;
  const bytes: (number | null)[] = [];
  const pages: PageView[] = [];
  for (let i = 0; i < len; i++) {
    const a = (addr + i) >>> 0;
    // Each byte is located on its own, as a byte load would be (PMP may split a page).
    const at = locate(hart.mmu, a, access, priv, phys);
    const what = at.pa === null ? { status: at.status! } : classify(mem, at.pa);
    if (i === 0 || a % PAGE_SIZE === 0) {
      pages.push({ addr: a, pa: at.pa, ...what });
    }
    const off = at.pa === null ? -1 : mem.offsetOf(at.pa);
    bytes.push(off >= 0 && (what.status === 'ram' || what.status === 'rom') ? mem.u8[off] : null);
  }
  return { addr: addr >>> 0, len, phys, priv, bytes, pages };
}

const hex8 = (v: number) => (v >>> 0).toString(16).padStart(8, '0');

/** A byte as two hex digits, `--` when unknown. */
const byteHex = (b: number | null) => (b === null ? '--' : b.toString(16).padStart(2, '0'));

/** The bytes as hex, two characters each, `--` for an unknown one. */
export function hexBytes(bytes: readonly (number | null)[]): string {
  return bytes.map(byteHex).join('');
}

/** One line per page the view touches: where it leads. */
export function describePage(p: PageView): string {
  const to = p.pa === null ? '' : ` -> ${hex8(p.pa)}`;
  const why: Record<PageStatus, string> = {
    ram: 'RAM',
    rom: 'boot ROM',
    mmio: `device registers of ${p.device} (not read)`,
    'no-memory': 'no memory or device here (a load takes an access fault)',
    unmapped: 'unmapped (a load takes a page fault)',
    protected: 'mapped, but not for this load (a page fault: the U bit, SUM, or not readable)',
    denied: 'no access (a load takes an access fault: PMP, or page tables outside memory)',
  };
  return `page ${hex8(p.addr)}${to}: ${why[p.status]}`;
}

/**
 * A hexdump: 16 bytes a line, addresses on the left, printable ASCII on the right; each
 * page's line (describePage) comes before its first bytes.
 */
export function formatHexdump(v: MemoryView): string[] {
  const lines: string[] = [];
  const pageAt = new Map(v.pages.map((p) => [p.addr, p]));
  let cells: string[] = [];
  let text = '';
  let lineStart = 0;
  const flush = () => {
    if (cells.length === 0) return;
    while (cells.length < 16) cells.push('  ');
    lines.push(`${hex8(lineStart)}  ${cells.slice(0, 8).join(' ')}  ${cells.slice(8).join(' ')}  |${text.padEnd(16)}|`);
  };
  for (let i = 0; i < v.len; i++) {
    const a = (v.addr + i) >>> 0;
    const page = pageAt.get(a); // the first byte, and every page start after it
    if (page || a % 16 === 0) {
      flush();
      if (page) lines.push(describePage(page));
      // A line that starts mid-way (the first) keeps its bytes in their columns.
      lineStart = a - (a % 16);
      cells = new Array<string>(a % 16).fill('  ');
      text = ' '.repeat(a % 16);
    }
    const b = v.bytes[i];
    cells.push(byteHex(b));
    text += b === null ? ' ' : b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
  }
  flush();
  return lines;
}
