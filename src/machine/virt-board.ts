// The virt board's parts as a table: where each sits, its interrupt, and how to make it.
// The machine builds, lists in the device tree, saves, restores and hashes whatever this
// table holds, in this order.

import type { BoardPart } from './bus.js';
import type { DeviceContext } from './device-context.js';
import type { MachineConfig } from './machine.js';
import { MAP, IRQ } from './board.js';
import { Syscon } from './devices/syscon.js';
import { GoldfishRtc } from './devices/goldfish-rtc.js';
import { Clint } from './devices/clint.js';
import { Plic } from './devices/plic.js';
import { Uart16550 } from './devices/uart16550.js';
import { VirtioMmio } from './devices/virtio-mmio.js';
import { VirtioBlk } from './devices/virtio-blk.js';
import { Htif } from './devices/htif.js';

export interface BoardEntry {
  /** Unique on the board: its state is saved under this name. */
  name: string;
  base?: number;
  irq?: number;
  make(ctx: DeviceContext, e: BoardEntry, config: MachineConfig): BoardPart;
}

const virtioSlots: BoardEntry[] = Array.from({ length: MAP.virtioSlots }, (_, i) => ({
  name: `virtio${i}`,
  base: MAP.virtio + i * MAP.virtioStride,
  irq: IRQ.virtio0 + i,
  make: (ctx, e, config) => {
    const disk = config.disks[i];
    return new VirtioMmio(e.base!, e.irq!, ctx, disk ? new VirtioBlk(disk.bytes, { readonly: disk.readonly }) : null);
  },
}));

export const VIRT_BOARD: readonly BoardEntry[] = [
  { name: 'syscon', base: MAP.syscon, make: (ctx, e) => new Syscon(e.base!, ctx) },
  { name: 'rtc', base: MAP.rtc, irq: IRQ.rtc, make: (ctx, e) => new GoldfishRtc(e.base!, e.irq!, ctx) },
  { name: 'clint', base: MAP.clint, make: (ctx, e) => new Clint(e.base!, ctx) },
  { name: 'plic', base: MAP.plic, make: (ctx, e) => new Plic(e.base!, ctx) },
  { name: 'uart', base: MAP.uart, irq: IRQ.uart, make: (ctx, e) => new Uart16550(e.base!, e.irq!, ctx) },
  ...virtioSlots,
  { name: 'htif', make: (ctx) => new Htif(ctx) },
];
