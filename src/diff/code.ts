// Reading guest code for reports without touching the machine: a pure Sv32 walk (no TLB
// fill, no accessed/dirty bit updates), and the bytes a unit's instructions were made from.

import { PRIV_M } from '../cpu/constants.js';
import type { Machine } from '../machine/machine.js';
import { Block, type Trace } from '../jit/unit.js';

/** The physical address of a fetch from `va` as the machine would translate it now, or -1. */
export function peekTranslate(m: Machine, va: number): number {
  const h = m.hart;
  va >>>= 0;
  if (h.priv === PRIV_M || (h.satp & 0x80000000) === 0) return va;
  let table = (h.satp & 0x3fffff) * 4096;
  for (let level = 1; level >= 0; level--) {
    const vpn = level === 1 ? va >>> 22 : (va >>> 12) & 0x3ff;
    const off = m.mem.offsetOf(table + vpn * 4);
    if (off < 0) return -1;
    const pte = m.mem.readOff(off, 4);
    if (!(pte & 1)) return -1;
    const ppn = pte >>> 10;
    if (pte & 0xa) return level === 1 ? (ppn >>> 10) * 4194304 + (va & 0x3fffff) : ppn * 4096 + (va & 0xfff);
    table = ppn * 4096;
  }
  return -1;
}

/** The instruction bits at a buffer offset (16 or 32 bits). */
export function rawAt(m: Machine, off: number): number {
  const u16 = m.mem.u16;
  const lo = u16[off >>> 1];
  return (lo & 3) === 3 ? (lo | (u16[(off >>> 1) + 1] << 16)) >>> 0 : lo;
}

/** The instruction at a virtual pc, through the current translation, or null. */
export function peekInsn(m: Machine, pc: number): number | null {
  const pa = peekTranslate(m, pc);
  if (pa < 0) return null;
  const off = m.mem.offsetOf(pa);
  return off < 0 ? null : rawAt(m, off);
}

/** For each instruction of the unit: the bits memory holds now where it was compiled from. */
export function unitBytes(m: Machine, u: Block | Trace): Map<number, number> {
  const out = new Map<number, number>();
  const blocks = u instanceof Block ? [u] : u.blocks;
  for (const b of blocks) {
    let off = b.off;
    for (const ins of b.insns) {
      out.set(ins.pc >>> 0, rawAt(m, off));
      off += ins.d.len;
    }
  }
  return out;
}
