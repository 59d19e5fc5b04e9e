// Comparing two machines: architectural state (pc, privilege, registers, CSRs, icount,
// idle time, traps taken) as flat snapshots, and RAM byte for byte.

import { HART_SCALARS, TRIGGER_FIELDS, type Hart } from '../cpu/hart.js';
import type { PhysMemory } from '../cpu/memory.js';
import type { Machine } from '../machine/machine.js';
import { REG_NAMES } from '../isa/disasm.js';

/** What a snapshot holds, in order. */
const HEAD = ['pc', 'priv', 'icount', 'traps', 'idleTicks'] as const;
let csrNames: string[] | null = null;
let names: string[] | null = null;

/**
 * The hart's saved number fields (Hart.HART_SCALARS, which save() writes) and the trigger
 * registers. PMP, the hpm arrays and the devices are compared at checkpoints, by their hashes.
 */
function csrList(_h: Hart): string[] {
  if (!csrNames) csrNames = [...HART_SCALARS, ...TRIGGER_FIELDS];
  return csrNames;
}

/** Names of the snapshot's fields (registers as x1..x31). */
export function snapshotNames(h: Hart): string[] {
  if (!names) names = [...HEAD, ...Array.from({ length: 31 }, (_, i) => `x${i + 1}`), ...csrList(h)];
  return names;
}

/** A register field's ABI name for reports (x10 -> a0/x10). */
export function fieldLabel(name: string): string {
  const m = /^x(\d+)$/.exec(name);
  if (m) return `${REG_NAMES[Number(m[1])]} (x${m[1]})`;
  return name === 'traps' ? 'traps taken' : name;
}

/** A view of a hart inside a compiled unit: its pc, icount and registers as the unit holds them. */
export interface View {
  pc: number;
  icount: number;
  regs: ArrayLike<number>;
}

type CsrReader = (h: Hart, out: Float64Array, k: number) => void;
let readCsrs: CsrReader | null = null;

/** Reads the CSR fields into `out` from index k: generated once from the names (all ours). */
function csrReader(h: Hart): CsrReader {
  if (!readCsrs) {
    const rec = h as unknown as Record<string, unknown>;
    const body = csrList(h)
      .map((c) => {
        if (!/^[a-z][a-z0-9]*$/i.test(c)) throw new Error(`unexpected state name ${c}`);
        return `out[k++] = ${typeof rec[c] === 'function' ? `h.${c}()` : `h.${c}`};`;
      })
      .join(' ');
    readCsrs = new Function('h', 'out', 'k', body) as CsrReader;
  }
  return readCsrs;
}

/** The length of a snapshot. */
export function snapshotLength(h: Hart): number {
  return HEAD.length + 31 + csrList(h).length;
}

/** The machine's state (or a view of it inside a unit) as numbers, in `snapshotNames` order. */
export function snapshot(m: Machine, view?: View, into?: Float64Array): Float64Array {
  const h = m.hart;
  const out = into ?? new Float64Array(snapshotLength(h));
  out[0] = view ? view.pc >>> 0 : h.pc >>> 0;
  out[1] = h.priv;
  out[2] = view ? view.icount : h.icount;
  out[3] = h.traps;
  out[4] = m.clock.idleTicks;
  const x = view ? view.regs : h.x;
  for (let i = 1; i < 32; i++) out[HEAD.length + i - 1] = x[i] | 0;
  csrReader(h)(h, out, HEAD.length + 31);
  return out;
}

export interface FieldDiff {
  name: string;
  reference: number;
  suspect: number;
}

export function sameSnapshot(a: Float64Array, b: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function snapshotDiff(h: Hart, ref: Float64Array, sus: Float64Array): FieldDiff[] {
  const n = snapshotNames(h);
  const out: FieldDiff[] = [];
  for (let i = 0; i < ref.length; i++) if (ref[i] !== sus[i]) out.push({ name: n[i], reference: ref[i], suspect: sus[i] });
  return out;
}

export interface MemDiff {
  /** Physical address of the first differing byte of the range. */
  address: number;
  size: number;
  /** The bytes, as a little-endian number for 1, 2 or 4 bytes, else as hex bytes. */
  reference: string;
  suspect: string;
}

function show(u8: Uint8Array, off: number, size: number): string {
  if (size === 1 || size === 2 || size === 4) {
    let v = 0;
    for (let i = size - 1; i >= 0; i--) v = v * 256 + u8[off + i];
    return '0x' + v.toString(16).padStart(size * 2, '0');
  }
  const n = Math.min(size, 32);
  return Array.from(u8.subarray(off, off + n), (b) => b.toString(16).padStart(2, '0')).join(' ') + (size > n ? ' …' : '');
}

/** Differing byte ranges between two RAMs, merged across gaps of under 4 bytes; at most `max`. */
export function ramDiff(r: PhysMemory, s: PhysMemory, max = 16): { ranges: MemDiff[]; bytes: number } {
  const a = Buffer.from(r.buf, 0, r.ramBytes);
  const b = Buffer.from(s.buf, 0, s.ramBytes);
  if (a.equals(b)) return { ranges: [], bytes: 0 };
  const ranges: MemDiff[] = [];
  let bytes = 0;
  const PAGE = 4096;
  let open: { start: number; end: number } | null = null;
  const close = () => {
    if (!open) return;
    if (ranges.length < max) {
      const size = open.end - open.start;
      ranges.push({ address: r.paOf(open.start), size, reference: show(r.u8, open.start, size), suspect: show(s.u8, open.start, size) });
    }
    open = null;
  };
  for (let p = 0; p < a.length; p += PAGE) {
    const end = Math.min(p + PAGE, a.length);
    if (a.subarray(p, end).equals(b.subarray(p, end))) continue;
    for (let i = p; i < end; i++) {
      if (a[i] === b[i]) continue;
      bytes++;
      if (open && i - open.end < 4) open.end = i + 1;
      else {
        close();
        open = { start: i, end: i + 1 };
      }
    }
  }
  close();
  return { ranges, bytes };
}

/** Of the stores logged on the reference (offset, width pairs), those whose bytes now differ. */
export function storeDiff(stores: number[], r: PhysMemory, s: PhysMemory, max = 16): MemDiff[] {
  const out: MemDiff[] = [];
  for (let i = 0; i < stores.length && out.length < max; i += 2) {
    const off = stores[i], w = stores[i + 1];
    for (let j = 0; j < w; j++) {
      if (r.u8[off + j] !== s.u8[off + j]) {
        out.push({ address: r.paOf(off), size: w, reference: show(r.u8, off, w), suspect: show(s.u8, off, w) });
        break;
      }
    }
  }
  return out;
}
