// virtio-mmio transport, version 2 (virtio 1.1, 4.2.2), with split virtqueues (2.6). An
// empty slot is this transport with device ID 0, as on QEMU's virt board. Requests are
// processed synchronously on QueueNotify, so their DMA lands at the icount of the notify
// store (DESIGN.md I1); every DMA store goes through PhysMemory.dmaWrite (I6).

import type { Device, StorageState, Width } from '../bus.js';
import type { DeviceContext } from '../device-context.js';
import type { PhysMemory } from '../../cpu/memory.js';
import { node, cells64, PHANDLE, type FdtNode } from '../fdt.js';

const MAGIC = 0x74726976; // "virt"
const VENDOR = 0x554d4551; // "QEMU"
const VERSION = 2;

const REG = {
  magic: 0x000, version: 0x004, deviceId: 0x008, vendorId: 0x00c,
  deviceFeatures: 0x010, deviceFeaturesSel: 0x014, driverFeatures: 0x020, driverFeaturesSel: 0x024,
  queueSel: 0x030, queueNumMax: 0x034, queueNum: 0x038, queueReady: 0x044, queueNotify: 0x050,
  interruptStatus: 0x060, interruptAck: 0x064, status: 0x070,
  queueDescLow: 0x080, queueDescHigh: 0x084, queueDriverLow: 0x090, queueDriverHigh: 0x094,
  queueDeviceLow: 0x0a0, queueDeviceHigh: 0x0a4, configGeneration: 0x0fc, config: 0x100,
} as const;

/** Device status bits (2.1). */
export const STATUS = { acknowledge: 1, driver: 2, driverOk: 4, featuresOk: 8, needsReset: 0x40, failed: 0x80 } as const;
/** InterruptStatus bits: a used buffer, a configuration change. */
const INT_VRING = 1, INT_CONFIG = 2;
/** VIRTIO_F_VERSION_1 (feature bit 32): bit 0 of the high feature word. */
const F_VERSION_1_HIGH = 1;

const DESC_F_NEXT = 1, DESC_F_WRITE = 2, DESC_F_INDIRECT = 4;
const AVAIL_F_NO_INTERRUPT = 1;
/** Queue size the transport offers (QueueNumMax). */
export const QUEUE_NUM_MAX = 256;

/** A malformed ring or request: the device sets DEVICE_NEEDS_RESET and stops. */
export class VirtioError extends Error {}

/** One buffer of a descriptor chain, already checked to lie in RAM. */
export interface VirtqBuffer {
  addr: number;
  len: number;
  /** Device-writable (VIRTQ_DESC_F_WRITE). */
  writable: boolean;
}

/** True if [pa, pa + len) lies inside RAM (rings and buffers may not be anywhere else). */
function inRam(mem: PhysMemory, pa: number, len: number): boolean {
  return pa >= mem.ramBase && len >= 0 && pa + len <= mem.ramBase + mem.ramBytes;
}

function dmaRead(mem: PhysMemory, pa: number, len: number): Uint8Array {
  const b = inRam(mem, pa, len) ? mem.dmaRead(pa, len) : null;
  if (!b) throw new VirtioError(`read of ${len} bytes at 0x${pa.toString(16)} is outside RAM`);
  return b;
}

function dmaWrite(mem: PhysMemory, pa: number, bytes: Uint8Array): void {
  if (!inRam(mem, pa, bytes.length) || !mem.dmaWrite(pa, bytes)) {
    throw new VirtioError(`write of ${bytes.length} bytes at 0x${pa.toString(16)} is outside RAM`);
  }
}

function readU16(mem: PhysMemory, pa: number): number {
  const b = dmaRead(mem, pa, 2);
  return b[0] | (b[1] << 8);
}

/**
 * A descriptor chain as the device sees it: driver-readable buffers, then device-writable
 * ones. Requests are addressed by offset within each part, so the driver's framing (a
 * header in its own buffer or not) does not matter, as the spec requires (2.6.4).
 */
export class DescChain {
  readonly readableBytes: number;
  readonly writableBytes: number;

  constructor(
    readonly head: number,
    readonly buffers: readonly VirtqBuffer[],
  ) {
    let r = 0, w = 0;
    for (const b of buffers) {
      if (b.writable) w += b.len;
      else r += b.len;
    }
    this.readableBytes = r;
    this.writableBytes = w;
  }

  /** `len` bytes at `offset` of the readable part. */
  read(mem: PhysMemory, offset: number, len: number): Uint8Array {
    if (offset < 0 || offset + len > this.readableBytes) throw new VirtioError('read past the readable buffers');
    const out = new Uint8Array(len);
    this.each(false, offset, len, (pa, n, at) => out.set(dmaRead(mem, pa, n), at));
    return out;
  }

  /** Writes `bytes` at `offset` of the writable part. */
  write(mem: PhysMemory, offset: number, bytes: Uint8Array): void {
    if (offset < 0 || offset + bytes.length > this.writableBytes) throw new VirtioError('write past the writable buffers');
    this.each(true, offset, bytes.length, (pa, n, at) => dmaWrite(mem, pa, bytes.subarray(at, at + n)));
  }

  /** Visits the pieces of [offset, offset + len) of one part, buffer by buffer. */
  private each(writable: boolean, offset: number, len: number, f: (pa: number, n: number, at: number) => void): void {
    let skip = offset, done = 0;
    for (const b of this.buffers) {
      if (done === len) return;
      if (b.writable !== writable) continue;
      if (skip >= b.len) {
        skip -= b.len;
        continue;
      }
      const n = Math.min(b.len - skip, len - done);
      f(b.addr + skip, n, done);
      done += n;
      skip = 0;
    }
  }
}

export interface VirtqueueState {
  num: number;
  ready: boolean;
  desc: number;
  driver: number;
  device: number;
  /** Next avail ring entry the device will take. */
  lastAvail: number;
  /** The device's own copy of used->idx (guest memory is not trusted to hold it). */
  usedIdx: number;
}

/** A split virtqueue (2.6): descriptor table, available ring, used ring. */
export class Virtqueue {
  s: VirtqueueState = { num: 0, ready: false, desc: 0, driver: 0, device: 0, lastAvail: 0, usedIdx: 0 };

  /** Checks the queue's size and that its three areas lie in RAM. */
  validate(mem: PhysMemory): void {
    const { num, desc, driver, device } = this.s;
    if (num < 1 || num > QUEUE_NUM_MAX || (num & (num - 1)) !== 0) throw new VirtioError(`bad queue size ${num}`);
    if (!inRam(mem, desc, 16 * num) || !inRam(mem, driver, 6 + 2 * num) || !inRam(mem, device, 6 + 8 * num)) {
      throw new VirtioError('virtqueue areas outside RAM');
    }
  }

  /** avail->idx now; more than `num` new entries is a driver error. */
  availIdx(mem: PhysMemory): number {
    const idx = readU16(mem, this.s.driver + 2);
    if (((idx - this.s.lastAvail) & 0xffff) > this.s.num) throw new VirtioError(`avail idx jumped from ${this.s.lastAvail} to ${idx}`);
    return idx;
  }

  /** Takes the next available chain and walks it. */
  pop(mem: PhysMemory): DescChain {
    const s = this.s;
    const head = readU16(mem, s.driver + 4 + 2 * (s.lastAvail % s.num));
    s.lastAvail = (s.lastAvail + 1) & 0xffff;
    const buffers: VirtqBuffer[] = [];
    let i = head;
    // A chain visits each descriptor at most once, so more than `num` links is a loop.
    for (let n = 0; n < s.num; n++) {
      if (i >= s.num) throw new VirtioError(`descriptor index ${i} >= queue size ${s.num}`);
      const d = dmaRead(mem, s.desc + 16 * i, 16);
      const dv = new DataView(d.buffer, d.byteOffset, 16);
      const addr = dv.getUint32(0, true) + dv.getUint32(4, true) * 4294967296;
      const len = dv.getUint32(8, true);
      const flags = dv.getUint16(12, true);
      if (flags & DESC_F_INDIRECT) throw new VirtioError('indirect descriptor (VIRTIO_F_INDIRECT_DESC not offered)');
      const writable = (flags & DESC_F_WRITE) !== 0;
      if (!writable && buffers.length > 0 && buffers[buffers.length - 1].writable) {
        throw new VirtioError('readable descriptor after a writable one');
      }
      if (!inRam(mem, addr, len)) throw new VirtioError(`buffer 0x${addr.toString(16)}+${len} outside RAM`);
      buffers.push({ addr, len, writable });
      if (!(flags & DESC_F_NEXT)) return new DescChain(head, buffers);
      i = dv.getUint16(14, true);
    }
    throw new VirtioError('descriptor chain longer than the queue');
  }

  /** Returns a chain to the driver with the number of bytes the device wrote into it. */
  push(mem: PhysMemory, head: number, written: number): void {
    const s = this.s;
    const elem = new Uint8Array(8);
    const dv = new DataView(elem.buffer);
    dv.setUint32(0, head, true);
    dv.setUint32(4, written, true);
    dmaWrite(mem, s.device + 4 + 8 * (s.usedIdx % s.num), elem);
    s.usedIdx = (s.usedIdx + 1) & 0xffff;
    dmaWrite(mem, s.device + 2, new Uint8Array([s.usedIdx & 255, s.usedIdx >>> 8]));
  }

  /** The driver has not asked to be spared interrupts (VIRTQ_AVAIL_F_NO_INTERRUPT). */
  wantsInterrupt(mem: PhysMemory): boolean {
    return (readU16(mem, this.s.driver) & AVAIL_F_NO_INTERRUPT) === 0;
  }
}

/** A device behind the transport. */
export interface VirtioBackend {
  readonly deviceId: number;
  /** Device feature bits 0..63 as [low, high] words; the transport adds VIRTIO_F_VERSION_1. */
  readonly features: readonly [number, number];
  readonly queueCount: number;
  /** Device configuration space, `width` bytes at `off`, little-endian. */
  configRead(off: number, width: Width): number;
  configWrite?(off: number, width: Width, value: number): void;
  /**
   * Handles one chain and returns how many bytes it wrote into the chain's writable part.
   * Throws VirtioError for a request the device cannot make sense of.
   */
  process(queue: number, chain: DescChain, mem: PhysMemory): number;
  /** Storage: sectors written since the last call; everything written, and putting it back. */
  takeWritten?(): [number, Uint8Array][];
  saveStorage?(): StorageState;
  restoreStorage?(s: StorageState): void;
}

interface VirtioState {
  status: number;
  deviceFeaturesSel: number;
  driverFeaturesSel: number;
  driverFeatures: [number, number];
  queueSel: number;
  queues: VirtqueueState[];
  interrupt: number;
}

export class VirtioMmio implements Device {
  readonly name = 'virtio-mmio';
  readonly size = 0x1000;
  /** Registers are 32-bit; the configuration space may be read 1, 2 or 4 bytes at a time. */
  readonly widths: readonly Width[] = [1, 2, 4];
  private status = 0;
  private deviceFeaturesSel = 0;
  private driverFeaturesSel = 0;
  private driverFeatures: [number, number] = [0, 0];
  private queueSel = 0;
  private queues: Virtqueue[];
  private interrupt = 0;

  constructor(
    readonly base: number,
    private readonly irq: number,
    private readonly ctx: DeviceContext,
    readonly backend: VirtioBackend | null,
  ) {
    this.queues = Array.from({ length: backend?.queueCount ?? 0 }, () => new Virtqueue());
  }

  /** Device features, word `sel` (0: bits 0-31, 1: bits 32-63). */
  private deviceFeatures(sel: number): number {
    const b = this.backend;
    if (!b || sel > 1) return 0;
    return (sel === 0 ? b.features[0] : b.features[1] | F_VERSION_1_HIGH) >>> 0;
  }

  /** Features the driver accepted (valid once FEATURES_OK is set). */
  negotiated(): [number, number] {
    return [this.driverFeatures[0], this.driverFeatures[1]];
  }

  private selected(): Virtqueue | null {
    return this.queues[this.queueSel] ?? null;
  }

  read(off: number, width: Width): number {
    const b = this.backend;
    if (off >= REG.config) return b ? b.configRead(off - REG.config, width) : 0;
    if (width !== 4) return 0; // the driver MUST use 32-bit accesses here (4.2.2.2)
    switch (off) {
      case REG.magic: return MAGIC;
      case REG.version: return VERSION;
      case REG.deviceId: return b ? b.deviceId : 0;
      case REG.vendorId: return VENDOR;
    }
    if (!b) return 0;
    const q = this.selected();
    switch (off) {
      case REG.deviceFeatures: return this.deviceFeatures(this.deviceFeaturesSel) | 0;
      case REG.queueNumMax: return q ? QUEUE_NUM_MAX : 0;
      case REG.queueReady: return q?.s.ready ? 1 : 0;
      case REG.interruptStatus: return this.interrupt;
      case REG.status: return this.status;
      case REG.configGeneration: return 0; // the configuration never changes
    }
    return 0;
  }

  write(off: number, width: Width, value: number): void {
    const b = this.backend;
    if (!b) return;
    if (off >= REG.config) {
      b.configWrite?.(off - REG.config, width, value);
      return;
    }
    if (width !== 4) return;
    const v = value >>> 0;
    const q = this.selected()?.s;
    switch (off) {
      case REG.deviceFeaturesSel: this.deviceFeaturesSel = v; return;
      case REG.driverFeatures:
        // Features are fixed once FEATURES_OK is set.
        if (this.driverFeaturesSel < 2 && !(this.status & STATUS.featuresOk)) this.driverFeatures[this.driverFeaturesSel] = v;
        return;
      case REG.driverFeaturesSel: this.driverFeaturesSel = v; return;
      case REG.queueSel: this.queueSel = v; return;
      case REG.queueNum: if (q) q.num = v; return;
      case REG.queueReady: if (q) q.ready = (v & 1) === 1; return;
      case REG.queueNotify: this.notify(v); return;
      case REG.interruptAck:
        this.interrupt &= ~v;
        this.ctx.setPlicLine(this.irq, this.interrupt !== 0);
        return;
      case REG.status: this.setStatus(v & 0xff); return;
      case REG.queueDescLow: if (q) q.desc = setLow(q.desc, v); return;
      case REG.queueDescHigh: if (q) q.desc = setHigh(q.desc, v); return;
      case REG.queueDriverLow: if (q) q.driver = setLow(q.driver, v); return;
      case REG.queueDriverHigh: if (q) q.driver = setHigh(q.driver, v); return;
      case REG.queueDeviceLow: if (q) q.device = setLow(q.device, v); return;
      case REG.queueDeviceHigh: if (q) q.device = setHigh(q.device, v); return;
    }
  }

  private setStatus(v: number): void {
    if (v === 0) {
      this.reset();
      return;
    }
    // FEATURES_OK sticks only for a subset of what the device offers that includes
    // VIRTIO_F_VERSION_1; otherwise the driver reads it back clear and gives up (3.1.1).
    if (v & STATUS.featuresOk && !(this.status & STATUS.featuresOk)) {
      const [lo, hi] = this.driverFeatures;
      const ok = (lo & ~this.deviceFeatures(0)) === 0 && (hi & ~this.deviceFeatures(1)) === 0 && (hi & F_VERSION_1_HIGH) !== 0;
      if (!ok) v &= ~STATUS.featuresOk;
    }
    // DEVICE_NEEDS_RESET is the device's to set; only a reset clears it.
    this.status = (v & ~STATUS.needsReset) | (this.status & STATUS.needsReset);
  }

  private reset(): void {
    this.status = 0;
    this.deviceFeaturesSel = 0;
    this.driverFeaturesSel = 0;
    this.driverFeatures = [0, 0];
    this.queueSel = 0;
    this.queues = this.queues.map(() => new Virtqueue());
    this.interrupt = 0;
    this.ctx.setPlicLine(this.irq, false);
  }

  /** Processes the chains available on queue `index` when the notify arrives. */
  private notify(index: number): void {
    const q = this.queues[index];
    const b = this.backend;
    if (!q || !b || !q.s.ready || this.status & STATUS.needsReset) return;
    const mem = this.ctx.mem;
    try {
      q.validate(mem);
      // Only what is available now: a request's own DMA cannot keep this loop going.
      const end = q.availIdx(mem);
      let used = false;
      while (q.s.lastAvail !== end) {
        const chain = q.pop(mem);
        const written = b.process(index, chain, mem);
        q.push(mem, chain.head, written);
        used = true;
      }
      if (used && q.wantsInterrupt(mem)) this.raise(INT_VRING);
    } catch (e) {
      if (!(e instanceof VirtioError)) throw e;
      this.needsReset();
    }
  }

  /** A fault the device cannot recover from (2.1.2): tell a running driver by a config interrupt. */
  private needsReset(): void {
    this.status |= STATUS.needsReset;
    if (this.status & STATUS.driverOk) this.raise(INT_CONFIG);
  }

  private raise(bit: number): void {
    this.interrupt |= bit;
    this.ctx.setPlicLine(this.irq, true);
  }

  fdtNode(): FdtNode {
    return node(`virtio_mmio@${this.base.toString(16)}`, {
      interrupts: [this.irq],
      'interrupt-parent': [PHANDLE.plic],
      reg: [...cells64(this.base), ...cells64(this.size)],
      compatible: 'virtio,mmio',
    });
  }

  save(): VirtioState {
    return {
      status: this.status,
      deviceFeaturesSel: this.deviceFeaturesSel,
      driverFeaturesSel: this.driverFeaturesSel,
      driverFeatures: [...this.driverFeatures],
      queueSel: this.queueSel,
      queues: this.queues.map((q) => ({ ...q.s })),
      interrupt: this.interrupt,
    };
  }

  restore(state: unknown): void {
    const s = state as VirtioState;
    this.status = s.status;
    this.deviceFeaturesSel = s.deviceFeaturesSel;
    this.driverFeaturesSel = s.driverFeaturesSel;
    this.driverFeatures = [...s.driverFeatures];
    this.queueSel = s.queueSel;
    this.queues = s.queues.map((qs) => {
      const q = new Virtqueue();
      q.s = { ...qs };
      return q;
    });
    this.interrupt = s.interrupt;
    this.ctx.setPlicLine(this.irq, this.interrupt !== 0);
  }

  takeWritten(): [number, Uint8Array][] {
    return this.backend?.takeWritten?.() ?? [];
  }

  saveStorage(): StorageState {
    return this.backend?.saveStorage?.() ?? { sectors: [], written: [] };
  }

  restoreStorage(s: StorageState): void {
    this.backend?.restoreStorage?.(s);
  }
}

function setLow(v: number, w: number): number {
  return Math.floor(v / 4294967296) * 4294967296 + w;
}

function setHigh(v: number, w: number): number {
  return w * 4294967296 + (v % 4294967296);
}
