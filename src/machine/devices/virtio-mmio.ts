// virtio-mmio transport, version 2 (virtio 1.1, 4.2.2), with split virtqueues. An empty
// slot is this transport with device ID 0, as on QEMU's virt board.

import type { Device, Width } from '../bus.js';
import type { DeviceContext } from '../device-context.js';
import { node, cells64, PHANDLE, type FdtNode } from '../fdt.js';

export interface Buffer_ {
  addr: number;
  len: number;
  /** Device-writable (VIRTQ_DESC_F_WRITE). */
  write: boolean;
}

/** A device behind the transport. */
export interface VirtioBackend {
  readonly deviceId: number;
  /** Feature bits 0..63 as [low, high] words (VIRTIO_F_VERSION_1 is added by the transport). */
  readonly features: [number, number];
  readonly queueCount: number;
  configRead(off: number, width: Width): number;
  /** Handles one descriptor chain; returns the number of bytes written to the guest. */
  process(queue: number, chain: Buffer_[], mem: DeviceContext['mem']): number;
  /** Plain-data state for snapshots (overlay etc.). */
  save?(): unknown;
  restore?(s: unknown): void;
}

const MAGIC = 0x74726976;
const VENDOR = 0x554d4551;
const QUEUE_MAX = 256;
const F_NEXT = 1, F_WRITE = 2, F_INDIRECT = 4;
const STATUS_NEEDS_RESET = 0x40;
/** VIRTIO_F_VERSION_1 is bit 32. */
const VERSION_1_HIGH = 1;

interface Queue {
  num: number;
  ready: boolean;
  desc: number;
  driver: number;
  device: number;
  lastAvail: number;
}

const newQueue = (): Queue => ({ num: 0, ready: false, desc: 0, driver: 0, device: 0, lastAvail: 0 });

export class VirtioMmio implements Device {
  readonly name = 'virtio-mmio';
  readonly size = 0x1000;
  readonly widths: readonly Width[] = [1, 2, 4];
  private status = 0;
  private devFeatSel = 0;
  private drvFeatSel = 0;
  private drvFeatures: [number, number] = [0, 0];
  private queueSel = 0;
  private queues: Queue[];
  private interrupt = 0;

  constructor(
    readonly base: number,
    private readonly irq: number,
    private readonly ctx: DeviceContext,
    readonly backend: VirtioBackend | null,
  ) {
    this.queues = Array.from({ length: backend?.queueCount ?? 0 }, newQueue);
  }

  private q(): Queue | null {
    return this.queues[this.queueSel] ?? null;
  }

  read(off: number, width: Width): number {
    if (off >= 0x100) return this.backend ? this.backend.configRead(off - 0x100, width) : 0;
    if (width !== 4) return 0;
    const b = this.backend;
    switch (off) {
      case 0x000: return MAGIC;
      case 0x004: return 2;
      case 0x008: return b ? b.deviceId : 0;
      case 0x00c: return VENDOR;
      case 0x010:
        if (!b) return 0;
        return this.devFeatSel === 0 ? b.features[0] : this.devFeatSel === 1 ? b.features[1] | VERSION_1_HIGH : 0;
      case 0x034: return this.q() ? QUEUE_MAX : 0;
      case 0x044: return this.q()?.ready ? 1 : 0;
      case 0x060: return this.interrupt;
      case 0x070: return this.status;
      case 0x0fc: return 0;
    }
    return 0;
  }

  write(off: number, width: Width, v: number): void {
    if (width !== 4 || off >= 0x100) return;
    v >>>= 0;
    const q = this.q();
    switch (off) {
      case 0x014: this.devFeatSel = v; return;
      case 0x020: if (this.drvFeatSel < 2) this.drvFeatures[this.drvFeatSel] = v; return;
      case 0x024: this.drvFeatSel = v; return;
      case 0x030: this.queueSel = v; return;
      case 0x038: if (q) q.num = Math.min(v, QUEUE_MAX); return;
      case 0x044: if (q) q.ready = (v & 1) === 1; return;
      case 0x050: this.notify(v); return;
      case 0x064:
        this.interrupt &= ~v;
        this.ctx.setPlicLine(this.irq, this.interrupt !== 0);
        return;
      case 0x070:
        if (v === 0) this.reset();
        else this.status = v & 0xff;
        return;
      case 0x080: if (q) q.desc = lo(q.desc, v); return;
      case 0x084: if (q) q.desc = hi(q.desc, v); return;
      case 0x090: if (q) q.driver = lo(q.driver, v); return;
      case 0x094: if (q) q.driver = hi(q.driver, v); return;
      case 0x0a0: if (q) q.device = lo(q.device, v); return;
      case 0x0a4: if (q) q.device = hi(q.device, v); return;
    }
  }

  private reset(): void {
    this.status = 0;
    this.interrupt = 0;
    this.drvFeatures = [0, 0];
    this.queues = this.queues.map(newQueue);
    this.ctx.setPlicLine(this.irq, false);
  }

  /** Processes every available chain of a queue, synchronously (so DMA lands at this icount). */
  private notify(index: number): void {
    const q = this.queues[index];
    const b = this.backend;
    if (!q || !q.ready || !b || q.num === 0 || this.status & STATUS_NEEDS_RESET) return;
    const mem = this.ctx.mem;
    const u16 = (pa: number) => {
      const d = mem.dmaRead(pa, 2);
      if (!d) throw new BadRing();
      return d[0] | (d[1] << 8);
    };
    try {
      const availIdx = u16(q.driver + 2);
      let processed = 0;
      while (q.lastAvail !== availIdx && processed++ < q.num) {
        const head = u16(q.driver + 4 + 2 * (q.lastAvail % q.num));
        const chain = this.chain(q, head);
        const written = b.process(index, chain, mem);
        const usedIdx = u16(q.device + 2);
        const elem = new Uint8Array(8);
        const dv = new DataView(elem.buffer);
        dv.setUint32(0, head, true);
        dv.setUint32(4, written, true);
        if (!mem.dmaWrite(q.device + 4 + 8 * (usedIdx % q.num), elem)) throw new BadRing();
        mem.dmaWrite(q.device + 2, new Uint8Array([(usedIdx + 1) & 255, ((usedIdx + 1) >>> 8) & 255]));
        q.lastAvail = (q.lastAvail + 1) & 0xffff;
      }
      this.interrupt |= 1;
      this.ctx.setPlicLine(this.irq, true);
    } catch (e) {
      if (!(e instanceof BadRing)) throw e;
      // A ring or descriptor outside RAM: the device stops, as a real one would.
      this.status |= STATUS_NEEDS_RESET;
      this.interrupt |= 2;
      this.ctx.setPlicLine(this.irq, true);
    }
  }

  private chain(q: Queue, head: number): Buffer_[] {
    const out: Buffer_[] = [];
    let i = head;
    for (let n = 0; n < q.num; n++) {
      if (i >= q.num) throw new BadRing();
      const d = this.ctx.mem.dmaRead(q.desc + 16 * i, 16);
      if (!d) throw new BadRing();
      const dv = new DataView(d.buffer, d.byteOffset, 16);
      const addr = dv.getUint32(0, true) + dv.getUint32(4, true) * 4294967296;
      const len = dv.getUint32(8, true);
      const flags = dv.getUint16(12, true);
      if (flags & F_INDIRECT) throw new BadRing(); // not offered
      out.push({ addr, len, write: (flags & F_WRITE) !== 0 });
      if (!(flags & F_NEXT)) return out;
      i = dv.getUint16(14, true);
    }
    throw new BadRing(); // a loop in the chain
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
      status: this.status, devFeatSel: this.devFeatSel, drvFeatSel: this.drvFeatSel, drvFeatures: [...this.drvFeatures],
      queueSel: this.queueSel, queues: this.queues.map((q) => ({ ...q })), interrupt: this.interrupt, backend: this.backend?.save?.(),
    };
  }

  restore(state: unknown): void {
    const s = state as VirtioState;
    this.status = s.status;
    this.devFeatSel = s.devFeatSel;
    this.drvFeatSel = s.drvFeatSel;
    this.drvFeatures = [...s.drvFeatures];
    this.queueSel = s.queueSel;
    this.queues = s.queues.map((q) => ({ ...q }));
    this.interrupt = s.interrupt;
    this.backend?.restore?.(s.backend);
  }
}

interface VirtioState {
  status: number;
  devFeatSel: number;
  drvFeatSel: number;
  drvFeatures: [number, number];
  queueSel: number;
  queues: Queue[];
  interrupt: number;
  backend: unknown;
}

class BadRing extends Error {}

function lo(v: number, w: number): number {
  return Math.floor(v / 4294967296) * 4294967296 + w;
}

function hi(v: number, w: number): number {
  return w * 4294967296 + (v % 4294967296);
}
