// Memory-mapped devices and the bus that routes physical addresses to them.

import type { FdtNode } from './fdt.js';

export type Width = 1 | 2 | 4;

/** One memory-mapped device: accesses arrive as offsets within its range. */
export interface Device {
  readonly name: string;
  readonly base: number;
  readonly size: number;
  /** Access widths the device answers; others are access faults. */
  readonly widths: readonly Width[];
  read(offset: number, width: Width): number;
  write(offset: number, width: Width, value: number): void;
  /** Its node in the device tree (absent for devices the tree does not list). */
  fdtNode?(): FdtNode | null;
  /** Device state for snapshots and state hashes (plain data). */
  save?(): unknown;
  restore?(state: unknown): void;
}

export class Bus {
  private readonly devices: Device[] = [];
  /** Last device hit: MMIO is strongly clustered (UART polling, PLIC claim). */
  private last: Device | null = null;

  add(dev: Device): void {
    for (const d of this.devices) {
      if (dev.base < d.base + d.size && d.base < dev.base + dev.size) {
        throw new Error(`device ${dev.name} overlaps ${d.name}`);
      }
    }
    this.devices.push(dev);
    this.devices.sort((a, b) => a.base - b.base);
  }

  list(): readonly Device[] {
    return this.devices;
  }

  find(pa: number): Device | null {
    const l = this.last;
    if (l && pa >= l.base && pa < l.base + l.size) return l;
    for (const d of this.devices) {
      if (pa >= d.base && pa < d.base + d.size) return (this.last = d);
    }
    return null;
  }
}
