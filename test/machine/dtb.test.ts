// The generated device tree is a valid DTB that dtc reads back, listing what deja has.

import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine } from '../../src/machine/machine.js';
import { LivePort } from '../../src/record/input-port.js';
import { tmp } from '../helpers/cli.js';

describe('device tree', () => {
  it('dtc decodes it, with the devices, the ISA (no sstc) and no rng-seed', () => {
    const elf = buildTinyElf();
    const m = new Machine({ ramBytes: 64 << 20, elf: { name: 'tiny.elf', bytes: elf }, append: 'console=ttyS0', disks: [] }, new LivePort({ pace: false }));
    const file = join(tmp(), 'deja.dtb');
    writeFileSync(file, m.fdt);
    const r = spawnSync('dtc', ['-I', 'dtb', '-O', 'dts', file], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const dts = r.stdout;
    for (const n of ['serial@10000000', 'plic@c000000', 'clint@2000000', 'rtc@101000', 'test@100000', 'virtio_mmio@10001000', 'virtio_mmio@10008000', 'memory@80000000', 'poweroff', 'reboot']) {
      expect(dts).toContain(n);
    }
    expect(dts).toContain('riscv,isa = "rv32imac_zicsr_zifencei"');
    expect(dts).not.toContain('sstc');
    expect(dts).not.toContain('rng-seed');
    expect(dts).toContain('bootargs = "console=ttyS0"');
    expect(dts).toContain('reg = <0x00 0x80000000 0x00 0x4000000>');
    expect(r.stderr).not.toMatch(/Warning|ERROR/);
  });
});

/** A minimal rv32 ELF (one segment, `j .`), enough to build a machine. */
function buildTinyElf(): Uint8Array {
  const b = new Uint8Array(0x60);
  const dv = new DataView(b.buffer);
  b.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1]);
  dv.setUint16(16, 2, true); // ET_EXEC
  dv.setUint16(18, 243, true); // EM_RISCV
  dv.setUint32(20, 1, true);
  dv.setUint32(24, 0x80000000, true); // entry
  dv.setUint32(28, 52, true); // phoff
  dv.setUint16(40, 52, true);
  dv.setUint16(42, 32, true); // phentsize
  dv.setUint16(44, 1, true); // phnum
  dv.setUint32(52, 1, true); // PT_LOAD
  dv.setUint32(56, 0x54, true); // offset
  dv.setUint32(60, 0x80000000, true);
  dv.setUint32(64, 0x80000000, true);
  dv.setUint32(68, 4, true);
  dv.setUint32(72, 4, true);
  dv.setUint32(76, 5, true);
  dv.setUint32(0x54, 0x0000006f, true); // j .
  return b;
}
