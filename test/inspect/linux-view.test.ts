// The state view on the reference Linux guest, stopped in user mode with paging on: Mmu.peek
// finds what translate finds on the guest's own page tables, and looking (registers, CSRs,
// memory, the instruction at pc) changes nothing: not RAM, not a TLB, not a device.

import { beforeAll, describe, expect, it } from 'vitest';
import { Machine } from '../../src/machine/machine.js';
import { MAP } from '../../src/machine/board.js';
import { LivePort } from '../../src/record/input-port.js';
import { CURRENT_HASHES } from '../../src/record/state-hash.js';

const stateHash = CURRENT_HASHES.state;
const deviceHash = CURRENT_HASHES.devices;
import { ACCESS_FETCH, ACCESS_READ, ACCESS_WRITE, type Access } from '../../src/cpu/mmu.js';
import { tlbState, translated } from './helpers.js';
import { Cause, CSR, MSTATUS_MXR, MSTATUS_SUM, PRIV_S, PRIV_U } from '../../src/cpu/constants.js';
import { REG_NAMES, disassemble } from '../../src/isa/disasm.js';
import { readMemory } from '../../src/inspect/memory-view.js';
import { machineView } from '../../src/inspect/machine-view.js';
import { guestConfig } from '../helpers/guest.js';

let m: Machine;

/** Everything looking must leave as it was. */
function snapshot(m: Machine) {
  return { ram: m.mem.u8.slice(), tlb: tlbState(m.hart.mmu), state: stateHash(m), devices: deviceHash(m), priv: m.hart.priv };
}

function expectUnchanged(m: Machine, before: ReturnType<typeof snapshot>): void {
  expect(Buffer.compare(m.mem.u8, before.ram), 'RAM changed').toBe(0);
  expect(tlbState(m.hart.mmu), 'a TLB changed').toEqual(before.tlb);
  expect(stateHash(m), 'the architectural state changed').toBe(before.state);
  expect(deviceHash(m), 'a device changed').toBe(before.devices);
  expect(m.hart.priv).toBe(before.priv);
}

beforeAll(() => {
  m = new Machine(guestConfig('boot'), new LivePort({ pace: false, rtcNanos: 1_767_225_600_000_000_000 }));
  // Stop at the first step boundary that finds /init running in user mode.
  const h = m.hart;
  for (let n = 1000; !m.exit && h.priv !== PRIV_U; n += 1000) {
    while (!m.exit && h.icount < n) m.runUntil(n);
  }
  expect(m.exit, 'the guest ended before reaching user mode').toBeNull();
  expect(h.satp >>> 31, 'paging is off').toBe(1);
});

describe('deja state on a Linux guest in user mode', () => {
  it('peek finds what translate finds on the guest page tables, and changes no RAM and no TLB', () => {
    const h = m.hart;
    const pages = new Set<number>();
    for (let va = 0; va < 2 ** 32; va += 0x10000) pages.add(va);
    // The pages around the code, the stack and every register (user and kernel pointers).
    for (const base of [h.pc, ...h.x]) for (let k = -8; k <= 8; k++) pages.add((((base >>> 12) + k) << 12) >>> 0);
    const vas = [...pages].map((p) => (p + 0xabc) >>> 0);
    const mstatus = h.mstatus;
    const found: Record<string, number> = { [PRIV_S]: 0, [PRIV_U]: 0, faults: 0 };
    for (const ms of [mstatus, mstatus ^ MSTATUS_SUM, mstatus ^ MSTATUS_MXR]) {
      h.mstatus = ms;
      const before = snapshot(m);
      const peeked = [PRIV_S, PRIV_U].map((priv) => [ACCESS_READ, ACCESS_WRITE, ACCESS_FETCH].map((access) => vas.map((va) => h.mmu.peek(va, access as Access, priv))));
      expectUnchanged(m, before);
      [PRIV_S, PRIV_U].forEach((priv, i) => {
        h.priv = priv;
        h.mmu.select();
        [ACCESS_READ, ACCESS_WRITE, ACCESS_FETCH].forEach((access, j) => {
          vas.forEach((va, k) => {
            const p = peeked[i][j][k];
            const t = translated(h.mmu, va, access as Access);
            if (t.pa !== undefined) found[priv]++;
            else found.faults++;
            if (p.pa !== t.pa || p.fault !== t.fault) expect(p, `priv ${priv} access ${access} va 0x${va.toString(16)}`).toEqual(t);
          });
        });
      });
      h.priv = before.priv;
      h.mstatus = mstatus;
      h.mmu.flush();
      h.mmu.select();
    }
    // The sample reached the kernel's pages, the process's pages and faults of both kinds.
    expect(found[PRIV_S]).toBeGreaterThan(1000);
    expect(found[PRIV_U]).toBeGreaterThan(10);
    expect(found.faults).toBeGreaterThan(1000);
  });

  it('the view shows the hart as it is, and taking it changes nothing', () => {
    const h = m.hart;
    const before = snapshot(m);
    const view = machineView(m, { addr: h.x[2] >>> 0, len: 256 }); // the user stack
    expectUnchanged(m, before);
    expect(view.icount).toBe(h.icount);
    expect(view.pc).toBe(h.pc >>> 0);
    expect(view.priv).toBe(PRIV_U);
    expect(Object.keys(view.regs)).toEqual(REG_NAMES.slice(1));
    expect(Object.values(view.regs)).toEqual(Array.from(h.x.subarray(1, 32), (v) => v >>> 0));
    // CSRs as M-mode reads them, U-mode counter enables or not
    for (const name of ['mstatus', 'sstatus', 'satp', 'sepc', 'stvec', 'mie', 'mip', 'medeleg', 'mtvec', 'scounteren'] as const) {
      expect(view.csrs[name], name).toBe((h.csrRead(CSR[name]) ?? NaN) >>> 0);
    }
    expect(view.csrs.cycle).toBe(h.mcycle() % 2 ** 32); // U may not read it: M may
    expect(view.csrs.instret).toBe(view.csrs.minstret);
    // The instruction at pc and the stack bytes, against what the hart itself fetches and loads.
    const bits = h.fetch(h.pc);
    expect(view.insn).toEqual({ bits: bits >>> 0, len: (bits & 3) === 3 ? 4 : 2, text: disassemble(bits, h.pc) });
    const loaded = Array.from({ length: 256 }, (_, i) => h.loadSlow((h.x[2] + i) | 0, 1, false));
    expect(view.mem!.bytes).toEqual(loaded);
    expect(view.mem!.pages[0].status).toBe('ram');
  });

  it('never reads a device register: its bytes are unknown and the device is named', () => {
    const calls: string[] = [];
    const devices = m.bus.list();
    const reads = devices.map((d) => d.read);
    devices.forEach((d) => (d.read = (off, w) => (calls.push(d.name), reads[devices.indexOf(d)].call(d, off, w))));
    try {
      // The kernel's own mapping of the UART (ioremap), found through its page tables.
      let uartVa = -1;
      for (let va = 0; va < 2 ** 32 && uartVa < 0; va += 4096) if (m.hart.mmu.peek(va, ACCESS_READ, PRIV_S).pa === MAP.uart) uartVa = va;
      expect(uartVa, 'no kernel mapping of the UART').toBeGreaterThan(0);
      m.hart.priv = PRIV_S;
      const virt = readMemory(m.hart, uartVa, 8);
      m.hart.priv = PRIV_U;
      const views = [virt, ...[MAP.uart, MAP.plic + 0x200004, MAP.clint + 0xbff8, MAP.rtc].map((pa) => readMemory(m.hart, pa, 8, { phys: true }))];
      for (const v of views) {
        expect(v.bytes).toEqual(new Array(8).fill(null));
        expect(v.pages).toEqual([expect.objectContaining({ addr: v.addr, status: 'mmio', device: expect.any(String) })]);
      }
      expect(virt.pages[0].pa).toBe(MAP.uart);
      expect(calls).toEqual([]);
      // The spy itself works: the kernel's load there reads the UART.
      m.hart.priv = PRIV_S;
      m.hart.mmu.select();
      m.hart.loadSlow(uartVa + 5, 1, false);
      expect(calls).toEqual([m.parts.get('uart')!.name]);
    } finally {
      devices.forEach((d, i) => (d.read = reads[i]));
      m.hart.priv = PRIV_U;
      m.hart.mmu.select();
    }
  });

  it('reports unmapped pages, pages a load may not use, and addresses with nothing behind them', () => {
    const h = m.hart;
    const low = readMemory(h, 0x0ff8, 16); // page 0 (never mapped) into page 1
    expect(low.pages.map((p) => p.status)).toEqual(['unmapped', 'unmapped']);
    expect(low.bytes.every((b) => b === null)).toBe(true);
    const kernel = readMemory(h, 0xc0000000, 4); // the kernel's, not the user's
    expect(kernel.pages).toEqual([{ addr: 0xc0000000, pa: null, status: 'protected' }]);
    expect(h.mmu.peek(0xc0000000, ACCESS_READ)).toEqual({ fault: Cause.LoadPageFault, mapped: true });
    const nothing = readMemory(h, 0x20000000, 4, { phys: true });
    expect(nothing.pages).toEqual([{ addr: 0x20000000, pa: 0x20000000, status: 'no-memory' }]);
  });
});
