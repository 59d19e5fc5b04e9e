// virtio-blk backend: a base image (bytes read before the run, covered by its hash) and a
// copy-on-write overlay in memory. The image file is written only if the user asks.

import type { Width } from '../bus.js';
import type { Buffer_, VirtioBackend } from './virtio-mmio.js';
import type { PhysMemory } from '../../cpu/memory.js';

const SECTOR = 512;
const T_IN = 0, T_OUT = 1, T_FLUSH = 4, T_GET_ID = 8;
const S_OK = 0, S_IOERR = 1, S_UNSUPP = 2;
const F_RO = 1 << 5, F_FLUSH = 1 << 9;

export interface BlkOptions {
  readonly: boolean;
}

export class VirtioBlk implements VirtioBackend {
  readonly deviceId = 2;
  readonly queueCount = 1;
  readonly features: [number, number];
  /** Written sectors by index; the base image is never modified. */
  private overlay = new Map<number, Uint8Array>();
  private readonly sectors: number;

  constructor(
    private readonly image: Uint8Array,
    private readonly opts: BlkOptions,
  ) {
    this.sectors = Math.floor(image.length / SECTOR);
    this.features = [F_FLUSH | (opts.readonly ? F_RO : 0), 0];
  }

  configRead(off: number, width: Width): number {
    // capacity (le64) at 0, then fields we do not offer.
    const cfg = new Uint8Array(8);
    new DataView(cfg.buffer).setUint32(0, this.sectors >>> 0, true);
    new DataView(cfg.buffer).setUint32(4, Math.floor(this.sectors / 4294967296), true);
    let v = 0;
    for (let i = width - 1; i >= 0; i--) v = (v << 8) | (cfg[off + i] ?? 0);
    return v >>> 0;
  }

  private readSector(n: number): Uint8Array {
    return this.overlay.get(n) ?? this.image.subarray(n * SECTOR, (n + 1) * SECTOR);
  }

  process(_queue: number, chain: Buffer_[], mem: PhysMemory): number {
    const status = chain[chain.length - 1];
    if (chain.length < 2 || !status.write || status.len < 1) return 0;
    const hdr = mem.dmaRead(chain[0].addr, 16);
    if (!hdr || chain[0].len < 16) return 0;
    const dv = new DataView(hdr.buffer, hdr.byteOffset, 16);
    const type = dv.getUint32(0, true);
    const sector = dv.getUint32(8, true) + dv.getUint32(12, true) * 4294967296;
    const data = chain.slice(1, -1);
    let written = 0;
    let st = S_OK;
    if (type === T_IN || type === T_OUT) {
      let s = sector;
      for (const b of data) {
        if (b.len % SECTOR !== 0 || s + b.len / SECTOR > this.sectors || b.write !== (type === T_IN)) {
          st = S_IOERR;
          break;
        }
        if (type === T_IN) {
          const out = new Uint8Array(b.len);
          for (let i = 0; i < b.len / SECTOR; i++) out.set(this.readSector(s + i), i * SECTOR);
          if (!mem.dmaWrite(b.addr, out)) { st = S_IOERR; break; }
          written += b.len;
        } else {
          if (this.opts.readonly) { st = S_IOERR; break; }
          const src = mem.dmaRead(b.addr, b.len);
          if (!src) { st = S_IOERR; break; }
          for (let i = 0; i < b.len / SECTOR; i++) this.overlay.set(s + i, src.slice(i * SECTOR, (i + 1) * SECTOR));
        }
        s += b.len / SECTOR;
      }
    } else if (type === T_GET_ID) {
      const id = new Uint8Array(20);
      id.set(Buffer.from('deja-virtio-blk'));
      if (data[0] && data[0].write && mem.dmaWrite(data[0].addr, id.subarray(0, Math.min(20, data[0].len)))) written += Math.min(20, data[0].len);
    } else if (type !== T_FLUSH) {
      st = S_UNSUPP;
    }
    mem.dmaWrite(status.addr, new Uint8Array([st]));
    return written + 1;
  }

  /** Sectors the guest wrote, in order, for writing back at exit. */
  overlayEntries(): [number, Uint8Array][] {
    return [...this.overlay.entries()].sort((a, b) => a[0] - b[0]);
  }

  save(): unknown {
    return this.overlayEntries().map(([n, b]) => [n, Buffer.from(b).toString('base64')]);
  }

  restore(s: unknown): void {
    this.overlay = new Map((s as [number, string][]).map(([n, b]) => [n, new Uint8Array(Buffer.from(b, 'base64'))]));
  }
}
