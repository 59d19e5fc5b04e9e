// virtio-blk (virtio 1.1, 5.2) behind the virtio-mmio transport. The disk is a base image
// (bytes the caller read before the run, covered by its hash) plus a copy-on-write overlay
// in memory: the base image is never modified, and the device never touches the file system
// (DESIGN.md I3). The CLI writes the overlay back at exit only if the user asked.

import type { StorageState, Width } from '../bus.js';
import type { PhysMemory } from '../../cpu/memory.js';
import { QUEUE_NUM_MAX, VirtioError, type DescChain, type VirtioBackend } from './virtio-mmio.js';

export const SECTOR_BYTES = 512;
const HEADER_BYTES = 16;
const T_IN = 0, T_OUT = 1, T_FLUSH = 4, T_GET_ID = 8;
const S_OK = 0, S_IOERR = 1, S_UNSUPP = 2;
const ID_BYTES = 20;
/** Feature bits (5.2.3). */
const F_SEG_MAX = 1 << 2, F_RO = 1 << 5, F_FLUSH = 1 << 9;
/** Sectors per DMA piece of a transfer: bounds the host memory one request allocates. */
const CHUNK_SECTORS = 128;

export interface BlkOptions {
  /** Writes fail with IOERR and VIRTIO_BLK_F_RO is offered. */
  readonly: boolean;
  /** What VIRTIO_BLK_T_GET_ID returns (at most 20 bytes); empty by default, as QEMU's. */
  serial?: string;
}

export class VirtioBlk implements VirtioBackend {
  readonly deviceId = 2;
  readonly queueCount = 1;
  readonly features: readonly [number, number];
  /** Sectors the guest wrote, by index: the copy-on-write overlay. */
  private overlay = new Map<number, Uint8Array>();
  /** Sectors written since the last takeWritten (checkpoints hash them). */
  private written = new Set<number>();
  /** Capacity in 512-byte sectors (a partial last sector of the image is not visible). */
  readonly sectors: number;
  private readonly config: Uint8Array;
  private readonly id: Uint8Array;

  constructor(
    private readonly image: Uint8Array,
    private readonly opts: BlkOptions,
  ) {
    this.sectors = Math.floor(image.length / SECTOR_BYTES);
    this.features = [F_SEG_MAX | F_FLUSH | (opts.readonly ? F_RO : 0), 0];
    // struct virtio_blk_config: capacity (le64) at 0, size_max at 8, seg_max at 12.
    this.config = new Uint8Array(24);
    const dv = new DataView(this.config.buffer);
    dv.setUint32(0, this.sectors >>> 0, true);
    dv.setUint32(4, Math.floor(this.sectors / 4294967296), true);
    // Without indirect descriptors, a request also needs its header and status descriptors.
    dv.setUint32(12, QUEUE_NUM_MAX - 2, true);
    this.id = new Uint8Array(ID_BYTES);
    this.id.set(new TextEncoder().encode(opts.serial ?? '').subarray(0, ID_BYTES));
  }

  configRead(off: number, width: Width): number {
    let v = 0;
    for (let i = width - 1; i >= 0; i--) v = (v << 8) | (this.config[off + i] ?? 0);
    return v | 0;
  }

  private sector(n: number): Uint8Array {
    return this.overlay.get(n) ?? this.image.subarray(n * SECTOR_BYTES, (n + 1) * SECTOR_BYTES);
  }

  /** The request: header in the readable part, status as the last writable byte (5.2.6). */
  process(_queue: number, chain: DescChain, mem: PhysMemory): number {
    if (chain.readableBytes < HEADER_BYTES || chain.writableBytes < 1) throw new VirtioError('virtio-blk request without header or status');
    const hdr = new DataView(chain.read(mem, 0, HEADER_BYTES).buffer);
    const type = hdr.getUint32(0, true);
    const sector = hdr.getUint32(8, true) + hdr.getUint32(12, true) * 4294967296;
    const statusAt = chain.writableBytes - 1;
    let status = S_OK;
    let written = 0;
    switch (type) {
      case T_IN: {
        const bytes = statusAt;
        if (!this.inRange(sector, bytes)) { status = S_IOERR; break; }
        for (let done = 0; done < bytes; done += CHUNK_SECTORS * SECTOR_BYTES) {
          const n = Math.min(CHUNK_SECTORS, (bytes - done) / SECTOR_BYTES);
          const first = sector + done / SECTOR_BYTES;
          const piece = new Uint8Array(n * SECTOR_BYTES);
          for (let i = 0; i < n; i++) piece.set(this.sector(first + i), i * SECTOR_BYTES);
          chain.write(mem, done, piece);
        }
        written = bytes;
        break;
      }
      case T_OUT: {
        const bytes = chain.readableBytes - HEADER_BYTES;
        if (this.opts.readonly || !this.inRange(sector, bytes)) { status = S_IOERR; break; }
        for (let done = 0; done < bytes; done += CHUNK_SECTORS * SECTOR_BYTES) {
          const n = Math.min(CHUNK_SECTORS, (bytes - done) / SECTOR_BYTES);
          const piece = chain.read(mem, HEADER_BYTES + done, n * SECTOR_BYTES);
          const first = sector + done / SECTOR_BYTES;
          for (let i = 0; i < n; i++) {
            this.overlay.set(first + i, piece.slice(i * SECTOR_BYTES, (i + 1) * SECTOR_BYTES));
            this.written.add(first + i);
          }
        }
        break;
      }
      case T_FLUSH:
        break; // the overlay is all there is until the CLI writes it back
      case T_GET_ID: {
        const n = Math.min(ID_BYTES, statusAt);
        chain.write(mem, 0, this.id.subarray(0, n));
        written = n;
        break;
      }
      default:
        status = S_UNSUPP;
    }
    chain.write(mem, statusAt, new Uint8Array([status]));
    return written + 1;
  }

  /** A transfer of `bytes` at `sector`: whole sectors, inside the disk. */
  private inRange(sector: number, bytes: number): boolean {
    return bytes % SECTOR_BYTES === 0 && sector <= this.sectors && bytes / SECTOR_BYTES <= this.sectors - sector;
  }

  /** Indices of the sectors the guest wrote, in order. */
  dirtySectors(): number[] {
    return [...this.overlay.keys()].sort((a, b) => a - b);
  }

  /** The guest's writes, by sector in order, for writing back at exit (`--disk-write`). */
  overlayEntries(): [number, Uint8Array][] {
    return this.dirtySectors().map((n) => [n, this.overlay.get(n)!]);
  }

  takeWritten(): [number, Uint8Array][] {
    const out = [...this.written].sort((a, b) => a - b).map((n): [number, Uint8Array] => [n, this.overlay.get(n)!]);
    this.written.clear();
    return out;
  }

  saveStorage(): StorageState {
    return { sectors: this.overlayEntries().map(([n, b]) => [n, b.slice()]), written: [...this.written].sort((a, b) => a - b) };
  }

  restoreStorage(s: StorageState): void {
    // Whole sectors of this disk; what the next checkpoint hashes is among them.
    if (!s.sectors.every(([n, b]) => n < this.sectors && b.length === SECTOR_BYTES)) throw new Error(`disk writes do not fit a disk of ${this.sectors} sectors`);
    const overlay = new Map(s.sectors.map(([n, b]) => [n, Uint8Array.from(b)]));
    if (!s.written.every((n) => overlay.has(n))) throw new Error('disk writes name a sector they do not hold');
    this.overlay = overlay;
    this.written = new Set(s.written);
  }
}
