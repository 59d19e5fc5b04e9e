// Memory-mapped devices and the bus that routes physical addresses to them.

import type { FdtNode } from './fdt.js';

export type Width = 1 | 2 | 4;

/**
 * A part of the board (DESIGN.md I8): its state, and what it does at the run loop's
 * boundaries. The machine builds every part from the board table (virt-board.ts) and
 * saves, restores, hashes and asks each of them alike, so a part added to the table
 * needs no other edit.
 */
export interface BoardPart {
  readonly name: string;
  /** Its registers as plain data (a disk's contents go through the storage methods). */
  save?(): unknown;
  restore?(state: unknown): void;
  /** At every loop boundary: timers fire, console input arrives, deferred commands run. */
  boundary?(): void;
  /** The icount at which the loop must next stop for it, or Infinity. */
  deadlineIcount?(): number;
  /** Ticks until a timer of its could still wake a waiting hart, or Infinity. */
  ticksToWake?(): number;
  /** Top-level device-tree nodes of its own (the syscon's poweroff and reboot). */
  fdtRootNodes?(): FdtNode[];
  /** The symbols of an ELF image just loaded (HTIF finds tohost there). */
  symbolsLoaded?(symbols: ReadonlyMap<string, number>): void;
  /** The interrupt controller takes device interrupt lines here. */
  setLine?(irq: number, level: boolean): void;
  /** Storage: the sectors written since the last call, with their bytes. */
  takeWritten?(): [number, Uint8Array][];
  /** Storage: everything written since reset, and putting it back. */
  saveStorage?(): StorageState;
  restoreStorage?(s: StorageState): void;
}

/** A disk's writes since reset, and which of them the next checkpoint has still to hash. */
export interface StorageState {
  sectors: [number, Uint8Array][];
  written: number[];
}

/** One memory-mapped device: accesses arrive as offsets within its range. */
export interface Device extends BoardPart {
  readonly base: number;
  readonly size: number;
  /** Access widths the device answers; others are access faults. */
  readonly widths: readonly Width[];
  read(offset: number, width: Width): number;
  write(offset: number, width: Width, value: number): void;
  /** Its node in the device tree (absent for devices the tree does not list). */
  fdtNode?(): FdtNode | null;
}

/** Whether a board part is also on the bus. */
export function isDevice(p: BoardPart): p is Device {
  return typeof (p as Device).read === 'function' && typeof (p as Device).base === 'number';
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
