// The virt board as data: its memory map, the boot ROM QEMU puts at the reset vector, and
// the device tree built from the devices actually present.

import { node, cells64, serializeFdt, PHANDLE, type FdtNode } from './fdt.js';
import type { Device } from './bus.js';

export const MAP = {
  rom: 0x1000,
  romSize: 0xf000,
  syscon: 0x100000,
  rtc: 0x101000,
  clint: 0x2000000,
  plic: 0xc000000,
  uart: 0x10000000,
  virtio: 0x10001000,
  virtioStride: 0x1000,
  virtioSlots: 8,
  ram: 0x80000000,
} as const;

export const IRQ = { uart: 10, rtc: 11, virtio0: 1 } as const;

/** Firmware at the start of RAM, kernel at +4 MiB (rv32: a Sv32 megapage), as QEMU does. */
export const KERNEL_OFFSET = 0x400000;
export const DEFAULT_RAM_BYTES = 128 * 1024 * 1024;
export const ISA_STRING = 'rv32imac_zicsr_zifencei';

/** Where the DTB goes: the top of RAM minus its size, aligned down to 2 MiB (as QEMU). */
export function fdtAddress(ramBytes: number, fdtSize: number): number {
  const end = MAP.ram + Math.min(ramBytes, 0x80000000);
  return (end - fdtSize) - ((end - fdtSize) % 0x200000);
}

/** Where the initrd goes: kernel start + min(RAM / 2, 128 MiB), as QEMU does. */
export function initrdAddress(ramBytes: number, kernelAddr: number): number {
  return kernelAddr + Math.min(ramBytes / 2, 128 * 1024 * 1024);
}

/**
 * QEMU's rv32 reset vector: a0 = hartid, a1 = DTB, a2 = &fw_dynamic_info, jump to `entry`.
 * `nextAddr` is the address fw_dynamic passes on (the kernel), in S-mode.
 */
export function bootRom(entry: number, fdtAddr: number, nextAddr: number): Uint8Array {
  const words = [
    0x00000297, // auipc t0, 0
    0x02828613, // addi  a2, t0, 40
    0xf1402573, // csrr  a0, mhartid
    0x0202a583, // lw    a1, 32(t0)
    0x0182a283, // lw    t0, 24(t0)
    0x00028067, // jr    t0
    entry >>> 0, 0, fdtAddr >>> 0, 0,
    // fw_dynamic_info: magic "OSBI", version 2, next_addr, next_mode S, options, boot_hart
    0x4942534f, 2, nextAddr >>> 0, 1, 0, 0,
  ];
  const out = new Uint8Array(words.length * 4);
  const dv = new DataView(out.buffer);
  words.forEach((w, i) => dv.setUint32(i * 4, w >>> 0, true));
  return out;
}

export interface FdtOptions {
  ramBytes: number;
  bootargs: string;
  initrd?: { start: number; end: number };
  devices: readonly Device[];
  /** Extra top-level nodes (syscon's poweroff and reboot). */
  extraRoot: FdtNode[];
  /** rng-seed bytes, only ever from a recording (never from the host). */
  rngSeed?: Uint8Array;
}

export function buildFdt(o: FdtOptions): Uint8Array {
  const chosen: Record<string, unknown> = {};
  if (o.initrd) {
    chosen['linux,initrd-end'] = [o.initrd.end];
    chosen['linux,initrd-start'] = [o.initrd.start];
  }
  chosen.bootargs = o.bootargs;
  chosen['stdout-path'] = `/soc/serial@${MAP.uart.toString(16)}`;
  if (o.rngSeed) chosen['rng-seed'] = o.rngSeed;
  const soc = o.devices
    .map((d) => d.fdtNode?.() ?? null)
    .filter((n): n is FdtNode => n !== null);
  const root = node('', {
    '#address-cells': [2],
    '#size-cells': [2],
    compatible: 'riscv-virtio',
    model: 'riscv-virtio,qemu',
  }, [
    node('chosen', chosen as Record<string, never>),
    ...o.extraRoot,
    node(`memory@${MAP.ram.toString(16)}`, { device_type: 'memory', reg: [...cells64(MAP.ram), ...cells64(o.ramBytes)] }),
    node('cpus', { '#address-cells': [1], '#size-cells': [0], 'timebase-frequency': [10_000_000] }, [
      node('cpu@0', {
        phandle: [PHANDLE.cpu0],
        device_type: 'cpu',
        reg: [0],
        status: 'okay',
        compatible: 'riscv',
        'riscv,isa': ISA_STRING,
        'mmu-type': 'riscv,sv32',
      }, [
        node('interrupt-controller', {
          '#address-cells': [0],
          '#interrupt-cells': [1],
          'interrupt-controller': null,
          compatible: 'riscv,cpu-intc',
          phandle: [PHANDLE.intc],
        }),
      ]),
      node('cpu-map', {}, [node('cluster0', {}, [node('core0', { cpu: [PHANDLE.cpu0] })])]),
    ]),
    node('soc', { '#address-cells': [2], '#size-cells': [2], compatible: 'simple-bus', ranges: null }, soc),
  ]);
  return serializeFdt(root);
}
