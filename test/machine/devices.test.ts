// Device unit tests against a small fake machine: a real PhysMemory and VirtualClock, a
// fake hart that records its interrupt lines, and a fake input port that counts questions.

import { describe, expect, it } from 'vitest';
import { Bus } from '../../src/machine/bus.js';
import { PhysMemory, PAGE_CODE, PAGE_SHIFT } from '../../src/cpu/memory.js';
import { VirtualClock } from '../../src/machine/clock.js';
import type { DeviceContext, ExitReason } from '../../src/machine/device-context.js';
import type { Hart } from '../../src/cpu/hart.js';
import type { InputPort } from '../../src/record/input-port.js';
import { MIP_MEIP, MIP_MSIP, MIP_MTIP, MIP_SEIP } from '../../src/cpu/constants.js';
import { Uart16550 } from '../../src/machine/devices/uart16550.js';
import { Plic } from '../../src/machine/devices/plic.js';
import { Clint } from '../../src/machine/devices/clint.js';
import { GoldfishRtc } from '../../src/machine/devices/goldfish-rtc.js';
import { VirtioMmio, STATUS } from '../../src/machine/devices/virtio-mmio.js';
import { VirtioBlk } from '../../src/machine/devices/virtio-blk.js';

const RAM = 0x80000000;
const RAM_BYTES = 64 * 1024;

interface FakeHart {
  icount: number;
  mip: number;
  lineCalls: [number, boolean][];
  setIrqLine(bit: number, level: boolean): void;
}

interface Fake {
  ctx: DeviceContext;
  hart: FakeHart;
  mem: PhysMemory;
  clock: VirtualClock;
  console: number[];
  /** Last level set on each PLIC source. */
  plic: Map<number, boolean>;
  rtcAsks: number[];
  replans: number;
  exits: [ExitReason, number][];
}

function fake(rtcNanos = 1_700_000_000_000_000_000): Fake {
  const mem = new PhysMemory({ ramBase: RAM, ramBytes: RAM_BYTES, romBase: 0x1000, romBytes: 0x1000 }, new Bus());
  const clock = new VirtualClock();
  const hart: FakeHart = {
    icount: 0,
    mip: 0,
    lineCalls: [],
    setIrqLine(bit, level) {
      this.lineCalls.push([bit, level]);
      this.mip = level ? this.mip | bit : this.mip & ~bit;
    },
  };
  const f: Fake = {
    hart, mem, clock, console: [], plic: new Map(), rtcAsks: [], replans: 0, exits: [],
    ctx: undefined as unknown as DeviceContext,
  };
  const input: InputPort = {
    live: false,
    nextPushIcount: () => Infinity,
    takeConsoleInput: () => [],
    rtcNanos: (icount) => {
      f.rtcAsks.push(icount);
      return rtcNanos;
    },
    idle: () => 0,
    inputClosed: () => false,
  };
  f.ctx = {
    hart: hart as unknown as Hart,
    mem,
    clock,
    input,
    consoleWrite: (b) => f.console.push(b),
    setPlicLine: (irq, level) => f.plic.set(irq, level),
    requestExit: (reason, code) => f.exits.push([reason, code]),
    replan: () => f.replans++,
  };
  return f;
}

// ---------------------------------------------------------------------------------------
describe('uart16550', () => {
  const THR = 0, RBR = 0, IER = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7;
  const setup = () => {
    const f = fake();
    return { f, u: new Uart16550(0x10000000, 10, f.ctx) };
  };

  it('sends THR bytes to the console; THRE and TEMT stay set', () => {
    const { f, u } = setup();
    expect(u.read(LSR) & 0x60).toBe(0x60);
    for (const c of 'hi\n') u.write(THR, 1, c.charCodeAt(0));
    expect(Buffer.from(f.console).toString()).toBe('hi\n');
    expect(u.read(LSR) & 0x60).toBe(0x60);
    expect(f.plic.get(10) ?? false).toBe(false); // THRI not enabled
  });

  it('fills the RX FIFO, sets DR, and reading RBR drains it in order', () => {
    const { f, u } = setup();
    expect(u.rxRoom()).toBe(0); // nothing accepted before the driver enables RX interrupts
    u.write(FCR, 1, 0x01); // FIFO on, trigger 1
    u.write(IER, 1, 0x01);
    expect(u.rxRoom()).toBe(16);
    u.receive([0x61, 0x62, 0x63]);
    expect(u.rxRoom()).toBe(13);
    expect(u.read(LSR) & 1).toBe(1);
    expect(u.read(IIR)).toBe(0xc4); // RDI, FIFOs enabled
    expect(f.plic.get(10)).toBe(true);
    expect([u.read(RBR), u.read(RBR)]).toEqual([0x61, 0x62]);
    expect(u.read(LSR) & 1).toBe(1);
    expect(u.read(RBR)).toBe(0x63);
    expect(u.read(LSR) & 1).toBe(0);
    expect(u.read(IIR)).toBe(0xc1);
    expect(f.plic.get(10)).toBe(false);
  });

  it('reports a character timeout below the trigger level and overrun past 16 bytes', () => {
    const { u } = setup();
    u.write(FCR, 1, 0xc1); // trigger 14
    u.write(IER, 1, 0x01);
    u.receive([1, 2, 3]);
    expect(u.read(IIR) & 0x0f).toBe(0x0c); // CTI
    u.receive(Array.from({ length: 14 }, (_, i) => i));
    expect(u.read(IIR) & 0x0f).toBe(0x04); // RDI: at the trigger level
    expect(u.read(LSR) & 0x02).toBe(0x02); // 17 bytes into 16: overrun
    expect(u.read(LSR) & 0x02).toBe(0); // reading LSR clears it
  });

  it('gives RX data priority over THRE, and reading IIR clears THRI', () => {
    const { f, u } = setup();
    u.write(FCR, 1, 0x01);
    u.write(IER, 1, 0x03); // RDI | THRI
    u.receive([0x41]);
    u.write(THR, 1, 0x42);
    expect(u.read(IIR) & 0x0f).toBe(0x04);
    u.read(RBR);
    expect(u.read(IIR) & 0x0f).toBe(0x02); // now THRE, and this read acknowledges it
    expect(u.read(IIR) & 0x0f).toBe(0x01);
    expect(f.plic.get(10)).toBe(false);
  });

  it('re-asserts THRI when IER.THRI is toggled (Linux 8250 startup THRE test)', () => {
    const { f, u } = setup();
    u.write(IER, 1, 0x02);
    expect(u.read(IIR) & 0x0f).toBe(0x02);
    expect(u.read(IIR) & 0x0f).toBe(0x01);
    u.write(IER, 1, 0x00);
    expect(f.plic.get(10)).toBe(false);
    u.write(IER, 1, 0x02);
    expect(f.plic.get(10)).toBe(true);
    expect(u.read(IIR) & 0x0f).toBe(0x02);
  });

  it('latches the divisor with DLAB and keeps IER and THR apart from it', () => {
    const { f, u } = setup();
    u.write(IER, 1, 0x01);
    u.write(LCR, 1, 0x83);
    u.write(0, 1, 0x0c);
    u.write(1, 1, 0x00);
    expect([u.read(0), u.read(1)]).toEqual([0x0c, 0x00]);
    expect(f.console).toEqual([]); // DLL write is not a THR write
    u.write(LCR, 1, 0x03);
    expect(u.read(LCR)).toBe(0x03);
    expect(u.read(IER)).toBe(0x01);
    u.write(SCR, 1, 0x5a);
    expect(u.read(SCR)).toBe(0x5a);
  });

  it('loops THR back to RBR and modem outputs to modem inputs in loopback', () => {
    const { f, u } = setup();
    u.write(MCR, 1, 0x10 | 0x0a); // LOOP | RTS | OUT2, as 8250 autoconfig does
    expect(u.read(MSR) & 0xf0).toBe(0x90); // CTS | DCD
    u.write(THR, 1, 0x55);
    expect(f.console).toEqual([]);
    expect(u.read(LSR) & 1).toBe(1);
    expect(u.read(RBR)).toBe(0x55);
    u.write(MCR, 1, 0);
    expect(u.read(MSR)).toBe(0xb0);
  });

  it('saves and restores its state', () => {
    const { u } = setup();
    u.write(IER, 1, 0x01);
    u.receive([7, 8]);
    const { u: v } = setup();
    v.restore(u.save());
    expect([v.read(RBR), v.read(RBR)]).toEqual([7, 8]);
  });
});

// ---------------------------------------------------------------------------------------
describe('plic', () => {
  const PRIORITY = (i: number) => 4 * i, PENDING = 0x1000;
  const ENABLE = (c: number) => 0x2000 + 0x80 * c;
  const THRESHOLD = (c: number) => 0x200000 + 0x1000 * c, CLAIM = (c: number) => THRESHOLD(c) + 4;
  const S = 1, M = 0;
  const setup = () => {
    const f = fake();
    return { f, p: new Plic(0xc000000, f.ctx) };
  };

  it('raises SEIP for an enabled source above the S threshold', () => {
    const { f, p } = setup();
    p.write(PRIORITY(10), 4, 1);
    p.setLine(10, true);
    expect(p.read(PENDING)).toBe(1 << 10);
    expect(f.hart.mip & MIP_SEIP).toBe(0); // not enabled yet
    p.write(ENABLE(S), 4, 1 << 10);
    expect(f.hart.mip & MIP_SEIP).toBe(MIP_SEIP);
    expect(f.hart.mip & MIP_MEIP).toBe(0);
    p.write(THRESHOLD(S), 4, 1);
    expect(f.hart.mip & MIP_SEIP).toBe(0); // priority must exceed the threshold
    p.write(THRESHOLD(S), 4, 0);
    expect(f.hart.mip & MIP_SEIP).toBe(MIP_SEIP);
    p.write(PRIORITY(10), 4, 0);
    expect(f.hart.mip & MIP_SEIP).toBe(0); // priority 0 never interrupts
  });

  it('claims the highest priority first and clears its pending bit', () => {
    const { f, p } = setup();
    p.write(PRIORITY(3), 4, 2);
    p.write(PRIORITY(5), 4, 5);
    p.write(PRIORITY(7), 4, 5);
    p.write(ENABLE(S), 4, (1 << 3) | (1 << 5) | (1 << 7));
    p.setLine(3, true);
    p.setLine(7, true);
    p.setLine(5, true);
    expect(p.read(CLAIM(S))).toBe(5); // ties go to the lower source number
    expect(p.read(PENDING)).toBe((1 << 3) | (1 << 7));
    expect(p.read(CLAIM(S))).toBe(7);
    expect(p.read(CLAIM(S))).toBe(3);
    expect(p.read(CLAIM(S))).toBe(0);
    expect(f.hart.mip & MIP_SEIP).toBe(0);
  });

  it('re-pends a level line still high at completion, not one that went low', () => {
    const { f, p } = setup();
    p.write(PRIORITY(5), 4, 1);
    p.write(PRIORITY(6), 4, 1);
    p.write(ENABLE(S), 4, (1 << 5) | (1 << 6));
    p.setLine(5, true);
    p.setLine(6, true);
    expect(p.read(CLAIM(S))).toBe(5);
    expect(p.read(CLAIM(S))).toBe(6);
    p.setLine(6, false);
    p.write(CLAIM(S), 4, 6);
    p.write(CLAIM(S), 4, 5);
    expect(p.read(PENDING)).toBe(1 << 5);
    expect(f.hart.mip & MIP_SEIP).toBe(MIP_SEIP);
    expect(p.read(CLAIM(S))).toBe(5);
  });

  it('drives MEIP from the M context', () => {
    const { f, p } = setup();
    p.write(PRIORITY(1), 4, 7);
    p.write(ENABLE(M), 4, 1 << 1);
    p.setLine(1, true);
    expect(f.hart.mip & (MIP_MEIP | MIP_SEIP)).toBe(MIP_MEIP);
    expect(p.read(CLAIM(M))).toBe(1);
    expect(f.hart.mip & MIP_MEIP).toBe(0);
    p.setLine(1, false);
    p.write(CLAIM(M), 4, 1);
    expect(f.hart.mip & MIP_MEIP).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------
describe('clint', () => {
  const MSIP = 0, MTIMECMP = 0x4000, MTIME = 0xbff8;
  const setup = () => {
    const f = fake();
    return { f, c: new Clint(0x2000000, f.ctx) };
  };

  it('reads mtime from icount through the virtual clock', () => {
    const { f, c } = setup();
    f.hart.icount = 12_345;
    expect(c.read(MTIME)).toBe(123);
    f.clock.idleTicks = 2 ** 32;
    expect([c.read(MTIME), c.read(MTIME + 4)]).toEqual([123, 1]);
  });

  it('raises and lowers MTIP as mtimecmp is written, and reports the deadline', () => {
    const { f, c } = setup();
    f.hart.icount = 12_345;
    expect(c.deadlineIcount()).toBe(Infinity);
    c.write(MTIMECMP + 4, 4, 0);
    c.write(MTIMECMP, 4, 200);
    expect(f.hart.mip & MIP_MTIP).toBe(0);
    expect(c.deadlineIcount()).toBe(20_000);
    expect(c.ticksToDeadline()).toBe(77);
    expect(f.replans).toBeGreaterThan(0);
    f.hart.icount = 19_999;
    c.update();
    expect(f.hart.mip & MIP_MTIP).toBe(0);
    f.hart.icount = 20_000;
    c.update();
    expect(f.hart.mip & MIP_MTIP).toBe(MIP_MTIP);
    expect(c.deadlineIcount()).toBe(Infinity);
    c.write(MTIMECMP, 4, 1000);
    expect(f.hart.mip & MIP_MTIP).toBe(0);
    expect(f.hart.lineCalls.filter(([b]) => b === MIP_MTIP).map(([, l]) => l)).toContain(true);
  });

  it('drives MSIP', () => {
    const { f, c } = setup();
    c.write(MSIP, 4, 1);
    expect(f.hart.mip & MIP_MSIP).toBe(MIP_MSIP);
    expect(c.read(MSIP)).toBe(1);
    c.write(MSIP, 4, 0);
    expect(f.hart.mip & MIP_MSIP).toBe(0);
  });

  it('resets mtimecmp to 2^64 - 1 and keeps all 64 bits of what is written', () => {
    const { f, c } = setup();
    expect([c.read(MTIMECMP) >>> 0, c.read(MTIMECMP + 4) >>> 0]).toEqual([0xffffffff, 0xffffffff]);
    c.update();
    expect(f.hart.mip & MIP_MTIP).toBe(0);
    expect(c.deadlineIcount()).toBe(Infinity);
    expect(c.ticksToDeadline()).toBe(Infinity);
    // halves one at a time, values a double could not hold as one number
    c.write(MTIMECMP + 4, 4, 0xfffffffe);
    expect([c.read(MTIMECMP) >>> 0, c.read(MTIMECMP + 4) >>> 0]).toEqual([0xffffffff, 0xfffffffe]);
    c.write(MTIMECMP, 4, 0x00000001);
    expect([c.read(MTIMECMP) >>> 0, c.read(MTIMECMP + 4) >>> 0]).toEqual([1, 0xfffffffe]);
    expect(f.hart.mip & MIP_MTIP).toBe(0);
    expect(c.deadlineIcount()).toBe(Infinity);
  });

  it('compares mtime and mtimecmp exactly across the 32-bit halves', () => {
    const { f, c } = setup();
    f.clock.idleTicks = 5 * 2 ** 32 + 10; // mtime = 5:10 at icount 0
    c.write(MTIMECMP + 4, 4, 5);
    c.write(MTIMECMP, 4, 11); // 5:11: one tick away
    expect(f.hart.mip & MIP_MTIP).toBe(0);
    expect(c.ticksToDeadline()).toBe(1);
    expect(c.deadlineIcount()).toBe(100);
    f.hart.icount = 100;
    c.update();
    expect(f.hart.mip & MIP_MTIP).toBe(MIP_MTIP);
    c.write(MTIMECMP + 4, 4, 6); // 6:11: far in the future, though its low word is small
    expect(f.hart.mip & MIP_MTIP).toBe(0);
    c.write(MTIMECMP + 4, 4, 4); // 4:11: long past
    expect(f.hart.mip & MIP_MTIP).toBe(MIP_MTIP);
    expect(c.deadlineIcount()).toBe(Infinity);
  });

  it('restores its registers and drives MSIP and MTIP to match', () => {
    const { f, c } = setup();
    c.write(MSIP, 4, 1);
    c.write(MTIMECMP + 4, 4, 0);
    c.write(MTIMECMP, 4, 0); // due at once
    const saved = structuredClone(c.save());
    const t = setup();
    t.c.restore(saved);
    expect(t.f.hart.mip & (MIP_MSIP | MIP_MTIP)).toBe(MIP_MSIP | MIP_MTIP);
    expect([t.c.read(MSIP), t.c.read(MTIMECMP), t.c.read(MTIMECMP + 4)]).toEqual([1, 0, 0]);
    // and lowers them when the saved state has them low
    const u = setup();
    u.c.write(MSIP, 4, 1);
    u.c.write(MTIMECMP + 4, 4, 0);
    u.c.write(MTIMECMP, 4, 0);
    expect(u.f.hart.mip & (MIP_MSIP | MIP_MTIP)).toBe(MIP_MSIP | MIP_MTIP);
    u.c.restore(structuredClone(setup().c.save()));
    expect(u.f.hart.mip & (MIP_MSIP | MIP_MTIP)).toBe(0);
    expect([u.c.read(MTIMECMP) >>> 0, u.c.read(MTIMECMP + 4) >>> 0]).toEqual([0xffffffff, 0xffffffff]);
    expect(f.hart.mip & MIP_MSIP).toBe(MIP_MSIP);
  });
});

// ---------------------------------------------------------------------------------------
describe('DMA bounds', () => {
  const ROM = 0x1000, ROM_BYTES = 0x1000;

  it('reads and writes RAM only: never past its end into the ROM, never the ROM itself', () => {
    const { mem } = fake();
    mem.load(ROM, new Uint8Array(16).fill(0xaa));
    mem.load(RAM + RAM_BYTES - 4, new Uint8Array([1, 2, 3, 4]));
    expect(mem.dmaRead(RAM + RAM_BYTES - 4, 4)).toEqual(new Uint8Array([1, 2, 3, 4]));
    expect(mem.dmaRead(RAM + RAM_BYTES - 4, 8)).toBeNull(); // would run on into the ROM's bytes
    expect(mem.dmaRead(RAM + RAM_BYTES, 1)).toBeNull();
    expect(mem.dmaRead(ROM, 4)).toBeNull();
    expect(mem.dmaRead(ROM + ROM_BYTES - 2, 4)).toBeNull();
    expect(mem.dmaRead(RAM - 2, 4)).toBeNull();
    expect(mem.dmaRead(RAM, -1)).toBeNull();
    expect(mem.dmaRead(RAM, 0)).toEqual(new Uint8Array(0));
    expect(mem.dmaWrite(ROM, new Uint8Array(4))).toBe(false);
    expect(mem.dmaWrite(RAM + RAM_BYTES - 4, new Uint8Array(8).fill(9))).toBe(false);
    expect(mem.dmaWrite(RAM - 4, new Uint8Array(8).fill(9))).toBe(false);
    expect(mem.dmaRead(RAM + RAM_BYTES - 4, 4)).toEqual(new Uint8Array([1, 2, 3, 4])); // untouched
    expect(mem.readOff(mem.offsetOf(ROM), 1)).toBe(0xaa);
    expect(mem.dmaWrite(RAM + RAM_BYTES, new Uint8Array(0))).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------
describe('goldfish rtc', () => {
  const TIME_LOW = 0x00, TIME_HIGH = 0x04, ALARM_LOW = 0x08, ALARM_HIGH = 0x0c;
  const IRQ_ENABLED = 0x10, CLEAR_ALARM = 0x14, ALARM_STATUS = 0x18, CLEAR_INTERRUPT = 0x1c;
  const WALL = 1_700_000_000_000_000_000n; // exactly representable as a double
  const setup = () => {
    const f = fake(Number(WALL));
    return { f, r: new GoldfishRtc(0x101000, 11, f.ctx) };
  };
  const readTime = (r: GoldfishRtc) => {
    const lo = BigInt(r.read(TIME_LOW) >>> 0);
    return (BigInt(r.read(TIME_HIGH) >>> 0) << 32n) | lo;
  };

  it('asks the input port once, at the first TIME_LOW read, then runs on virtual time', () => {
    const { f, r } = setup();
    f.hart.icount = 1_000;
    expect(r.read(ALARM_STATUS)).toBe(0);
    expect(r.read(ALARM_LOW)).toBe(0);
    expect(f.rtcAsks).toEqual([]);
    expect(readTime(r)).toBe(WALL);
    expect(f.rtcAsks).toEqual([1_000]);
    f.hart.icount = 51_000; // 500 ticks of 100 ns
    expect(readTime(r)).toBe(WALL + 50_000n);
    f.clock.idleTicks += 7; // idle jumps move it too
    expect(readTime(r)).toBe(WALL + 50_700n);
    expect(f.rtcAsks).toEqual([1_000]);
  });

  it('latches TIME_HIGH at the TIME_LOW read', () => {
    const { f, r } = setup();
    const lo = r.read(TIME_LOW) >>> 0;
    f.hart.icount = 1e12; // far enough to carry into the high word
    const hi = r.read(TIME_HIGH) >>> 0;
    expect((BigInt(hi) << 32n) | BigInt(lo)).toBe(WALL);
    expect(readTime(r)).toBe(WALL + 10n ** 12n);
  });

  it('sets the time by halves, as QEMU does', () => {
    const { r } = setup();
    const target = 1_000_000_000_000_000_000n;
    r.write(TIME_HIGH, 4, Number(target >> 32n));
    r.write(TIME_LOW, 4, Number(target & 0xffffffffn));
    expect(readTime(r)).toBe(target);
  });

  it('fires an alarm when virtual time reaches it, and interrupts only if enabled', () => {
    const { f, r } = setup();
    const t0 = readTime(r);
    const alarm = t0 + 1_000_050n; // 10_000.5 ticks: fires at tick 10_001
    r.write(ALARM_HIGH, 4, Number(alarm >> 32n));
    r.write(ALARM_LOW, 4, Number(alarm & 0xffffffffn));
    expect(r.read(ALARM_STATUS)).toBe(1);
    expect((BigInt(r.read(ALARM_HIGH) >>> 0) << 32n) | BigInt(r.read(ALARM_LOW) >>> 0)).toBe(alarm);
    expect(r.deadlineIcount()).toBe(1_000_100);
    expect(r.ticksToDeadline()).toBe(10_001);
    r.write(IRQ_ENABLED, 4, 1);
    f.hart.icount = 1_000_099;
    r.update();
    expect(f.plic.get(11)).toBe(false);
    f.hart.icount = 1_000_100;
    r.update();
    expect(r.read(ALARM_STATUS)).toBe(0);
    expect(f.plic.get(11)).toBe(true);
    expect(r.deadlineIcount()).toBe(Infinity);
    r.write(CLEAR_INTERRUPT, 4, 1);
    expect(f.plic.get(11)).toBe(false);
  });

  it('fires an alarm already in the past at once; CLEAR_ALARM disarms one', () => {
    const { f, r } = setup();
    const t0 = readTime(r);
    r.write(ALARM_HIGH, 4, Number((t0 + 500n) >> 32n));
    r.write(ALARM_LOW, 4, Number((t0 + 500n) & 0xffffffffn));
    r.write(CLEAR_ALARM, 4, 1);
    expect(r.read(ALARM_STATUS)).toBe(0);
    expect(r.deadlineIcount()).toBe(Infinity);
    f.hart.icount = 10_000_000;
    r.update();
    r.write(IRQ_ENABLED, 4, 1);
    expect(f.plic.get(11)).toBe(false);
    r.write(ALARM_HIGH, 4, Number(t0 >> 32n));
    r.write(ALARM_LOW, 4, Number(t0 & 0xffffffffn));
    expect(r.read(ALARM_STATUS)).toBe(0);
    expect(f.plic.get(11)).toBe(true);
  });

  it('keeps its state through save and restore (plain data)', () => {
    const { f, r } = setup();
    readTime(r);
    const saved = JSON.parse(JSON.stringify(r.save()));
    const { f: g, r: s } = setup();
    s.restore(saved);
    g.hart.icount = f.hart.icount = 5_000;
    expect(readTime(s)).toBe(readTime(r));
    expect(g.rtcAsks).toEqual([]);
  });

  it('has the QEMU device-tree node', () => {
    const { r } = setup();
    const n = r.fdtNode();
    expect(n.name).toBe('rtc@101000');
    expect(Object.fromEntries(n.props)).toEqual({
      interrupts: [11], 'interrupt-parent': [3], reg: [0, 0x101000, 0, 0x1000], compatible: 'google,goldfish-rtc',
    });
  });
});

// ---------------------------------------------------------------------------------------
describe('virtio-mmio and virtio-blk', () => {
  const R = {
    magic: 0x000, version: 0x004, deviceId: 0x008, vendorId: 0x00c, deviceFeatures: 0x010, deviceFeaturesSel: 0x014,
    driverFeatures: 0x020, driverFeaturesSel: 0x024, queueSel: 0x030, queueNumMax: 0x034, queueNum: 0x038,
    queueReady: 0x044, queueNotify: 0x050, interruptStatus: 0x060, interruptAck: 0x064, status: 0x070,
    descLow: 0x080, descHigh: 0x084, driverLow: 0x090, driverHigh: 0x094, deviceLow: 0x0a0, deviceHigh: 0x0a4,
  };
  const IRQ = 1;
  const NUM = 16;
  const DESC = RAM + 0x1000, AVAIL = RAM + 0x2000, USED = RAM + 0x3000;
  const HDR = RAM + 0x4000, DATA = RAM + 0x5000, STAT = RAM + 0x7000;
  const SECTORS = 8;
  const T_IN = 0, T_OUT = 1, T_FLUSH = 4, T_GET_ID = 8;
  const F_RO = 1 << 5, F_FLUSH = 1 << 9;

  const image = () => Uint8Array.from({ length: SECTORS * 512 }, (_, i) => ((i >> 9) * 16 + i) & 255);

  function setup(opts: { readonly?: boolean; image?: Uint8Array } = {}) {
    const f = fake();
    const img = opts.image ?? image();
    const blk = new VirtioBlk(img, { readonly: opts.readonly ?? false });
    const dev = new VirtioMmio(0x10001000, IRQ, f.ctx, blk);
    return { f, img, blk, dev };
  }

  const w32 = (mem: PhysMemory, pa: number, v: number) => new DataView(mem.buf).setUint32(pa - RAM, v >>> 0, true);
  const w16 = (mem: PhysMemory, pa: number, v: number) => new DataView(mem.buf).setUint16(pa - RAM, v, true);
  const r16 = (mem: PhysMemory, pa: number) => new DataView(mem.buf).getUint16(pa - RAM, true);
  const r32 = (mem: PhysMemory, pa: number) => new DataView(mem.buf).getUint32(pa - RAM, true);
  const bytesAt = (mem: PhysMemory, pa: number, len: number) => mem.u8.slice(pa - RAM, pa - RAM + len);

  /** The driver side of initialisation (virtio 1.1, 3.1.1), features as given. */
  function init(dev: VirtioMmio, features: [number, number] = [0, 1]): number {
    dev.write(R.status, 4, 0);
    dev.write(R.status, 4, STATUS.acknowledge);
    dev.write(R.status, 4, STATUS.acknowledge | STATUS.driver);
    dev.write(R.driverFeaturesSel, 4, 0);
    dev.write(R.driverFeatures, 4, features[0]);
    dev.write(R.driverFeaturesSel, 4, 1);
    dev.write(R.driverFeatures, 4, features[1]);
    dev.write(R.status, 4, STATUS.acknowledge | STATUS.driver | STATUS.featuresOk);
    return dev.read(R.status, 4);
  }

  function setupQueue(dev: VirtioMmio): void {
    dev.write(R.queueSel, 4, 0);
    expect(dev.read(R.queueNumMax, 4)).toBeGreaterThanOrEqual(NUM);
    dev.write(R.queueNum, 4, NUM);
    dev.write(R.descLow, 4, DESC);
    dev.write(R.descHigh, 4, 0);
    dev.write(R.driverLow, 4, AVAIL);
    dev.write(R.driverHigh, 4, 0);
    dev.write(R.deviceLow, 4, USED);
    dev.write(R.deviceHigh, 4, 0);
    dev.write(R.queueReady, 4, 1);
    expect(dev.read(R.queueReady, 4)).toBe(1);
    dev.write(R.status, 4, dev.read(R.status, 4) | STATUS.driverOk);
  }

  function ready(opts: { readonly?: boolean } = {}) {
    const s = setup(opts);
    expect(init(s.dev) & STATUS.featuresOk).toBe(STATUS.featuresOk);
    setupQueue(s.dev);
    return s;
  }

  interface Desc { addr: number; len: number; flags?: number }

  /** Lays out a chain from descriptor 0 (reused: requests complete synchronously) and notifies. */
  function submitChain(s: ReturnType<typeof setup>, descs: Desc[]): void {
    const mem = s.f.mem;
    descs.forEach((d, i) => {
      const at = DESC + 16 * i;
      w32(mem, at, d.addr);
      w32(mem, at + 4, 0);
      w32(mem, at + 8, d.len);
      const next = i + 1 < descs.length;
      w16(mem, at + 12, (d.flags ?? 0) | (next ? 1 : 0));
      w16(mem, at + 14, next ? i + 1 : 0);
    });
    const idx = r16(mem, AVAIL + 2);
    w16(mem, AVAIL + 4 + 2 * (idx % NUM), 0);
    w16(mem, AVAIL + 2, (idx + 1) & 0xffff);
    s.dev.write(R.queueNotify, 4, 0);
  }

  /** A request: header, optional data buffer, status byte. Returns the status byte. */
  function request(s: ReturnType<typeof setup>, type: number, sector: number, data?: { len: number; bytes?: Uint8Array }): number {
    const mem = s.f.mem;
    w32(mem, HDR, type);
    w32(mem, HDR + 4, 0);
    w32(mem, HDR + 8, sector);
    w32(mem, HDR + 12, 0);
    mem.u8[STAT - RAM] = 0xff;
    const descs: Desc[] = [{ addr: HDR, len: 16 }];
    if (data) {
      if (data.bytes) mem.u8.set(data.bytes, DATA - RAM);
      descs.push({ addr: DATA, len: data.len, flags: type === T_OUT ? 0 : 2 });
    }
    descs.push({ addr: STAT, len: 1, flags: 2 });
    submitChain(s, descs);
    return mem.u8[STAT - RAM];
  }

  it('identifies itself, and an empty slot has device ID 0', () => {
    const { f, dev } = setup();
    expect([dev.read(R.magic, 4), dev.read(R.version, 4), dev.read(R.deviceId, 4), dev.read(R.vendorId, 4)])
      .toEqual([0x74726976, 2, 2, 0x554d4551]);
    const empty = new VirtioMmio(0x10002000, 2, f.ctx, null);
    expect([empty.read(R.magic, 4), empty.read(R.version, 4), empty.read(R.deviceId, 4), empty.read(R.vendorId, 4)])
      .toEqual([0x74726976, 2, 0, 0x554d4551]);
    expect(empty.read(R.queueNumMax, 4)).toBe(0);
    empty.write(R.status, 4, 1);
    expect(empty.read(R.status, 4)).toBe(0);
    expect(empty.read(0x100, 4)).toBe(0);
    for (const [d, addr, irq] of [[dev, 0x10001000, 1], [empty, 0x10002000, 2]] as const) {
      const n = d.fdtNode();
      expect(n.name).toBe(`virtio_mmio@${addr.toString(16)}`);
      expect(Object.fromEntries(n.props)).toEqual({
        interrupts: [irq], 'interrupt-parent': [3], reg: [0, addr, 0, 0x1000], compatible: 'virtio,mmio',
      });
    }
  });

  it('offers VIRTIO_F_VERSION_1 and FLUSH, and refuses FEATURES_OK without VERSION_1', () => {
    const { dev } = setup();
    dev.write(R.deviceFeaturesSel, 4, 0);
    expect(dev.read(R.deviceFeatures, 4) & (F_FLUSH | F_RO)).toBe(F_FLUSH);
    dev.write(R.deviceFeaturesSel, 4, 1);
    expect(dev.read(R.deviceFeatures, 4) & 1).toBe(1);
    dev.write(R.deviceFeaturesSel, 4, 2);
    expect(dev.read(R.deviceFeatures, 4)).toBe(0);
    expect(init(dev, [F_FLUSH, 0]) & STATUS.featuresOk).toBe(0); // no VERSION_1
    expect(init(dev, [1 << 28, 1]) & STATUS.featuresOk).toBe(0); // INDIRECT_DESC not offered
    expect(init(dev, [F_FLUSH, 1]) & STATUS.featuresOk).toBe(STATUS.featuresOk);
    expect(dev.negotiated()).toEqual([F_FLUSH, 1]);
    dev.write(R.status, 4, 0);
    expect(dev.read(R.status, 4)).toBe(0);
  });

  it('reads the 64-bit capacity from config space at widths 1, 2 and 4', () => {
    const { dev } = setup();
    expect([dev.read(0x100, 4), dev.read(0x104, 4)]).toEqual([SECTORS, 0]);
    expect([dev.read(0x100, 1), dev.read(0x101, 1), dev.read(0x100, 2)]).toEqual([SECTORS, 0, SECTORS]);
    expect(dev.read(0x10c, 4)).toBeGreaterThan(0); // seg_max
  });

  it('reads sector 1 through a split virtqueue, advances used idx, interrupts and acks', () => {
    const s = ready();
    const { f, dev, img } = s;
    expect(request(s, T_IN, 1, { len: 512 })).toBe(0);
    expect(bytesAt(f.mem, DATA, 512)).toEqual(img.subarray(512, 1024));
    expect(r16(f.mem, USED + 2)).toBe(1);
    expect([r32(f.mem, USED + 4), r32(f.mem, USED + 8)]).toEqual([0, 513]); // head 0, 512 data + status
    expect(dev.read(R.interruptStatus, 4)).toBe(1);
    expect(f.plic.get(IRQ)).toBe(true);
    dev.write(R.interruptAck, 4, 1);
    expect(dev.read(R.interruptStatus, 4)).toBe(0);
    expect(f.plic.get(IRQ)).toBe(false);
    expect(request(s, T_IN, 0, { len: 1024 })).toBe(0);
    expect(bytesAt(f.mem, DATA, 1024)).toEqual(img.subarray(0, 1024));
    expect(r16(f.mem, USED + 2)).toBe(2);
  });

  it('keeps writes in the overlay: the base image is unchanged', () => {
    const s = ready();
    const { f, blk, img } = s;
    const before = img.slice();
    const data = Uint8Array.from({ length: 1024 }, (_, i) => (i * 7 + 3) & 255);
    expect(request(s, T_OUT, 2, { len: 1024, bytes: data })).toBe(0);
    f.mem.u8.fill(0, DATA - RAM, DATA - RAM + 2048);
    expect(request(s, T_IN, 1, { len: 2048 })).toBe(0);
    expect(bytesAt(f.mem, DATA, 512)).toEqual(before.subarray(512, 1024));
    expect(bytesAt(f.mem, DATA + 512, 1024)).toEqual(data);
    expect(bytesAt(f.mem, DATA + 1536, 512)).toEqual(before.subarray(2048, 2560));
    expect(img).toEqual(before);
    expect(blk.dirtySectors()).toEqual([2, 3]);
    expect(blk.overlayEntries().map(([n, b]) => [n, b])).toEqual([[2, data.subarray(0, 512)], [3, data.subarray(512)]]);
  });

  it('answers IOERR out of range, UNSUPP for unknown types; FLUSH and GET_ID succeed', () => {
    const s = ready();
    expect(request(s, T_IN, SECTORS, { len: 512 })).toBe(1);
    expect(request(s, T_IN, SECTORS - 1, { len: 1024 })).toBe(1);
    expect(request(s, T_OUT, SECTORS, { len: 512, bytes: new Uint8Array(512) })).toBe(1);
    expect(request(s, T_IN, 0, { len: 100 })).toBe(1); // not whole sectors
    expect(request(s, 99, 0)).toBe(2);
    expect(request(s, T_FLUSH, 0)).toBe(0);
    expect(request(s, T_GET_ID, 0, { len: 20 })).toBe(0);
    expect(r16(s.f.mem, USED + 2)).toBe(7);
    expect(s.dev.read(R.status, 4) & STATUS.needsReset).toBe(0);
  });

  it('read-only disks offer VIRTIO_BLK_F_RO and fail writes with IOERR', () => {
    const s = ready({ readonly: true });
    s.dev.write(R.deviceFeaturesSel, 4, 0);
    expect(s.dev.read(R.deviceFeatures, 4) & F_RO).toBe(F_RO);
    expect(request(s, T_OUT, 0, { len: 512, bytes: new Uint8Array(512).fill(9) })).toBe(1);
    expect(s.blk.dirtySectors()).toEqual([]);
    expect(request(s, T_IN, 0, { len: 512 })).toBe(0);
  });

  it('does not depend on framing: header and data split across descriptors', () => {
    const s = ready();
    const mem = s.f.mem;
    w32(mem, HDR, T_IN);
    w32(mem, HDR + 4, 0);
    w32(mem, HDR + 8, 3);
    w32(mem, HDR + 12, 0);
    // header as 10 + 6 bytes; data + status as one 256-byte and one 257-byte buffer
    submitChain(s, [
      { addr: HDR, len: 10 }, { addr: HDR + 10, len: 6 },
      { addr: DATA, len: 256, flags: 2 }, { addr: DATA + 0x400, len: 257, flags: 2 },
    ]);
    expect(bytesAt(mem, DATA, 256)).toEqual(s.img.subarray(1536, 1792));
    expect(bytesAt(mem, DATA + 0x400, 256)).toEqual(s.img.subarray(1792, 2048));
    expect(mem.u8[DATA + 0x400 + 256 - RAM]).toBe(0);
  });

  it('a descriptor outside RAM sets DEVICE_NEEDS_RESET instead of crashing', () => {
    const s = ready();
    const { f, dev } = s;
    w32(f.mem, HDR, T_IN);
    submitChain(s, [{ addr: HDR, len: 16 }, { addr: 0x10000000, len: 512, flags: 2 }, { addr: STAT, len: 1, flags: 2 }]);
    expect(dev.read(R.status, 4) & STATUS.needsReset).toBe(STATUS.needsReset);
    expect(dev.read(R.interruptStatus, 4) & 2).toBe(2); // configuration change
    expect(f.plic.get(IRQ)).toBe(true);
    expect(r16(f.mem, USED + 2)).toBe(0);
    // Later notifies are ignored until the driver resets the device.
    expect(request(s, T_IN, 0, { len: 512 })).toBe(0xff);
    dev.write(R.status, 4, 0);
    expect(dev.read(R.status, 4)).toBe(0);
    expect(f.plic.get(IRQ)).toBe(false);
  });

  it('survives a looping chain, a buffer crossing the end of RAM and a ring outside RAM', () => {
    const s = ready();
    const mem = s.f.mem;
    w32(mem, DESC, HDR);
    w32(mem, DESC + 8, 16);
    w16(mem, DESC + 12, 1); // NEXT, pointing at itself
    w16(mem, DESC + 14, 0);
    w16(mem, AVAIL + 4, 0);
    w16(mem, AVAIL + 2, 1);
    s.dev.write(R.queueNotify, 4, 0);
    expect(s.dev.read(R.status, 4) & STATUS.needsReset).toBe(STATUS.needsReset);

    const t = ready();
    w32(t.f.mem, HDR, T_IN);
    submitChain(t, [{ addr: HDR, len: 16 }, { addr: RAM + RAM_BYTES - 256, len: 512, flags: 2 }, { addr: STAT, len: 1, flags: 2 }]);
    expect(t.dev.read(R.status, 4) & STATUS.needsReset).toBe(STATUS.needsReset);

    const u = setup();
    init(u.dev);
    u.dev.write(R.queueNum, 4, NUM);
    u.dev.write(R.descLow, 4, 0x1000); // the boot ROM is not RAM
    u.dev.write(R.driverLow, 4, AVAIL);
    u.dev.write(R.deviceLow, 4, USED);
    u.dev.write(R.queueReady, 4, 1);
    expect(() => u.dev.write(R.queueNotify, 4, 0)).not.toThrow();
    expect(u.dev.read(R.status, 4) & STATUS.needsReset).toBe(STATUS.needsReset);
  });

  it('DMA into a page holding code tells the code-write listener (I6)', () => {
    const s = ready();
    const mem = s.f.mem;
    const written: number[] = [];
    mem.codeWriteListener = (page) => written.push(page);
    const page = (DATA - RAM) >>> PAGE_SHIFT;
    mem.pageFlags[page] |= PAGE_CODE;
    expect(request(s, T_IN, 1, { len: 512 })).toBe(0);
    expect(written).toEqual([page]);
    expect(mem.pageFlags[page] & PAGE_CODE).toBe(0);

    // and PhysMemory.dmaWrite directly, across a page boundary
    mem.pageFlags[3] |= PAGE_CODE;
    mem.pageFlags[4] |= PAGE_CODE;
    expect(mem.dmaWrite(RAM + 4 * 4096 - 2, new Uint8Array(4))).toBe(true);
    expect(written).toEqual([page, 3, 4]);
    expect(mem.dmaWrite(RAM + RAM_BYTES - 2, new Uint8Array(4))).toBe(false);
  });

  it('saves and restores the transport and the overlay', () => {
    const s = ready();
    const data = new Uint8Array(512).fill(0x5a);
    expect(request(s, T_OUT, 4, { len: 512, bytes: data })).toBe(0);
    const t = setup({ image: s.img });
    t.f.mem.u8.set(s.f.mem.u8);
    t.dev.restore(structuredClone(s.dev.save()));
    t.dev.restoreStorage(s.dev.saveStorage());
    expect(t.blk.dirtySectors()).toEqual([4]);
    // the written sector is reported once, to the next checkpoint
    expect(s.dev.takeWritten().map(([n]) => n)).toEqual([4]);
    expect(s.dev.takeWritten()).toEqual([]);
    expect(request(t, T_IN, 4, { len: 512 })).toBe(0);
    expect(bytesAt(t.f.mem, DATA, 512)).toEqual(data);
    expect(r16(t.f.mem, USED + 2)).toBe(2);
  });
});
