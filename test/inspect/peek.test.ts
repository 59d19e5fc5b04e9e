// Mmu.peek on hand-made Sv32 page tables: it finds what translate finds (the physical
// address, or the fault), for every access, privilege and mstatus setting, says whether a
// page fault's page is mapped at all, and writes nothing: no A/D bit, no TLB entry.

import { describe, expect, it } from 'vitest';
import { PhysMemory } from '../../src/cpu/memory.js';
import { ACCESS_FETCH, ACCESS_READ, ACCESS_WRITE, Mmu, type Access } from '../../src/cpu/mmu.js';
import { tlbState, translated } from './helpers.js';
import { Cause, MSTATUS_MPP_SHIFT, MSTATUS_MPRV, MSTATUS_MXR, MSTATUS_SUM, PRIV_M, PRIV_S, PRIV_U, SATP_MODE_SV32 } from '../../src/cpu/constants.js';
import { Bus } from '../../src/machine/bus.js';

const RAM = 0x80000000;
const ROOT = RAM + 0x1000;
const L0 = RAM + 0x2000;
const V = 1, R = 2, W = 4, X = 8, U = 16, A = 64, D = 128;
const pte = (pa: number, flags: number) => ((pa / 4096) << 10) | flags;

function machine() {
  const mem = new PhysMemory({ ramBase: RAM, ramBytes: 1 << 20, romBase: 0x1000, romBytes: 0x1000 }, new Bus());
  const st = { priv: PRIV_S, mstatus: 0, satp: (SATP_MODE_SV32 | (ROOT / 4096)) >>> 0 };
  const mmu = new Mmu(mem, st);
  mmu.pmpcfg[0] = 0x1f; // NAPOT over everything, R W X for S and U
  mmu.pmpaddr[0] = 0xffffffff;
  mmu.pmpChanged();
  const set = (table: number, index: number, v: number) => mem.writeOff(table - RAM + 4 * index, 4, v);
  set(ROOT, 0x100, pte(L0, V)); // 0x40000000: a table of 4 KiB pages
  set(L0, 0, pte(RAM + 0x10000, V | R | W)); // S data page, A and D clear
  set(L0, 1, pte(RAM + 0x11000, V | R | X | U)); // U code page
  set(L0, 2, pte(RAM + 0x12000, V | X)); // execute-only: readable with MXR
  set(L0, 3, pte(RAM + 0x13000, V | W)); // W without R: reserved
  set(L0, 5, pte(0x10000000, V | R | W | A | D)); // a device's registers
  set(L0, 6, pte(RAM + 0x14000, V)); // a pointer where a leaf must be
  set(ROOT, 0x200, pte(RAM, V | R | W | X | A)); // 0x80000000: a 4 MiB superpage
  set(ROOT, 0x201, pte(RAM + 0x1000, V | R | W)); // 0x80400000: a misaligned superpage
  set(ROOT, 0x202, pte(0x01000000, V)); // 0x80800000: a table outside memory
  return { mem, st, mmu };
}

const ADDRESSES = [0x40000123, 0x40001ffc, 0x40002008, 0x40003000, 0x40004000, 0x40005010, 0x40006000, 0x80012345, 0x80400000, 0x80800000, 0x7ffff000];
const ACCESSES: Access[] = [ACCESS_READ, ACCESS_WRITE, ACCESS_FETCH];

const ACCESS_FAULTS = [Cause.LoadAccessFault, Cause.StoreAccessFault, Cause.InsnAccessFault];

/** Whether a leaf maps `va` for anyone, by translate on a fresh machine: a read by S or U, SUM and MXR set. */
function leafAt(va: number): boolean {
  const { st, mmu } = machine();
  st.mstatus = MSTATUS_SUM | MSTATUS_MXR;
  return [PRIV_S, PRIV_U].some((priv) => {
    st.priv = priv;
    mmu.select();
    return translated(mmu, va, ACCESS_READ).pa !== undefined;
  });
}

describe('Mmu.peek', () => {
  it('finds what translate finds, for every access, privilege and mstatus setting, and writes nothing', () => {
    const { mem, st, mmu } = machine();
    const settings = [
      ...[PRIV_S, PRIV_U].flatMap((priv) => [0, MSTATUS_SUM, MSTATUS_MXR, MSTATUS_SUM | MSTATUS_MXR].map((mstatus) => ({ priv, mstatus }))),
      // MPRV: loads and stores as S or U, fetches as M (no translation)
      { priv: PRIV_M, mstatus: MSTATUS_MPRV | (PRIV_S << MSTATUS_MPP_SHIFT) },
      { priv: PRIV_M, mstatus: MSTATUS_MPRV | (PRIV_U << MSTATUS_MPP_SHIFT) | MSTATUS_SUM },
      { priv: PRIV_M, mstatus: 0 },
    ];
    let compared = 0;
    for (const s of settings) {
      st.priv = s.priv;
      st.mstatus = s.mstatus;
      mmu.flush();
      mmu.select();
      for (const va of ADDRESSES) {
        for (const access of ACCESSES) {
          const ram = mem.u8.slice();
          const tlb = tlbState(mmu);
          const peeked = mmu.peek(va, access);
          expect(Buffer.compare(mem.u8, ram), 'peek changed memory').toBe(0);
          expect(tlbState(mmu), 'peek filled a TLB').toEqual(tlb);
          const t = translated(mmu, va, access);
          const what = `${JSON.stringify(s)} va 0x${va.toString(16)} access ${access}`;
          expect(peeked.pa === undefined ? { fault: peeked.fault } : peeked, what).toEqual(t);
          // A page fault says whether a leaf maps the page for anyone: a read by S or U with SUM and MXR.
          if (peeked.fault !== undefined && peeked.fault !== ACCESS_FAULTS[access]) expect(peeked.mapped, what).toBe(leafAt(va));
          compared++;
        }
      }
    }
    expect(compared).toBe(settings.length * ADDRESSES.length * ACCESSES.length);
  });

  it('gives the addresses and faults the rules say', () => {
    const { mem, st, mmu } = machine();
    const at = (va: number, access: Access, priv?: number) => mmu.peek(va, access, priv);
    expect(at(0x40000123, ACCESS_READ)).toEqual({ pa: RAM + 0x10123 });
    expect(at(0x40000123, ACCESS_FETCH)).toEqual({ fault: Cause.InsnPageFault, mapped: true });
    expect(at(0x40001004, ACCESS_READ)).toEqual({ fault: Cause.LoadPageFault, mapped: true }); // U page, S without SUM
    expect(at(0x40001004, ACCESS_FETCH, PRIV_U)).toEqual({ pa: RAM + 0x11004 });
    expect(at(0x40000123, ACCESS_READ, PRIV_U)).toEqual({ fault: Cause.LoadPageFault, mapped: true });
    expect(at(0x40002008, ACCESS_READ)).toEqual({ fault: Cause.LoadPageFault, mapped: true });
    st.mstatus = MSTATUS_MXR | MSTATUS_SUM;
    expect(at(0x40002008, ACCESS_READ)).toEqual({ pa: RAM + 0x12008 });
    expect(at(0x40001004, ACCESS_READ)).toEqual({ pa: RAM + 0x11004 });
    expect(at(0x40001004, ACCESS_FETCH)).toEqual({ fault: Cause.InsnPageFault, mapped: true }); // SUM never lets S execute U code
    expect(at(0x40003000, ACCESS_READ)).toEqual({ fault: Cause.LoadPageFault, mapped: false });
    expect(at(0x40004000, ACCESS_WRITE)).toEqual({ fault: Cause.StorePageFault, mapped: false });
    expect(at(0x40005010, ACCESS_READ)).toEqual({ pa: 0x10000010 });
    expect(at(0x40006000, ACCESS_READ)).toEqual({ fault: Cause.LoadPageFault, mapped: false });
    expect(at(0x80312345, ACCESS_WRITE)).toEqual({ pa: 0x80312345 });
    expect(at(0x80400000, ACCESS_READ)).toEqual({ fault: Cause.LoadPageFault, mapped: false });
    expect(at(0x80800000, ACCESS_FETCH)).toEqual({ fault: Cause.InsnAccessFault, mapped: false });
    expect(at(0x80800000, ACCESS_READ, PRIV_M)).toEqual({ pa: 0x80800000 });
    // PMP: below RAM + 0x10000 only (TOR), S reaches the page tables but not the page.
    mmu.pmpcfg[0] = 0x0f;
    mmu.pmpaddr[0] = (RAM + 0x10000) / 4;
    mmu.pmpChanged();
    expect(at(0x40000123, ACCESS_READ)).toEqual({ fault: Cause.LoadAccessFault, mapped: true });
    // With no entry, S and U reach nothing, not even the page tables; M everything.
    mmu.pmpcfg[0] = 0;
    mmu.pmpChanged();
    expect(at(0x40000123, ACCESS_READ)).toEqual({ fault: Cause.LoadAccessFault, mapped: false });
    expect(at(0x12345678, ACCESS_READ, PRIV_M)).toEqual({ pa: 0x12345678 });
    // translate, by contrast, sets A (and D for a store) in the leaf it used.
    mmu.pmpcfg[0] = 0x1f;
    mmu.pmpaddr[0] = 0xffffffff;
    mmu.pmpChanged();
    const leaf = () => mem.readOff(L0 - RAM, 4);
    mmu.peek(0x40000000, ACCESS_WRITE);
    expect(leaf() & (A | D)).toBe(0);
    mmu.translate(0x40000000, ACCESS_WRITE);
    expect(leaf() & (A | D)).toBe(A | D);
  });
});
