// disassemble() against `riscv64-linux-gnu-objdump -d` (binutils 2.40) on every instruction
// of the reference guest's kernel (vmlinux), firmware (fw_jump.elf) and /init: ELF files
// that only a guest built from source has (the repository ships the bootable images).

import { describe, expect, it } from 'vitest';
import { compareWithObjdump, privSpecOf, realBinaryExclusions, report } from '../isa/objdump.js';
import { NEEDS_REBUILT_GUEST, rebuiltGuestFile } from './helpers.js';

const rebuilt = ['vmlinux', 'fw_jump.elf', 'init'].every((f) => rebuiltGuestFile(f) !== null);

describe.skipIf(!rebuilt)(`disassemble() matches objdump on the reference guest's binaries (${NEEDS_REBUILT_GUEST})`, () => {
  // Minimum counts guard against a parser that silently matches nothing.
  const cases: [name: string, minInstructions: number][] = [
    ['vmlinux', 300_000],
    ['fw_jump.elf', 30_000],
    ['init', 1_000],
  ];
  for (const [name, min] of cases) {
    it(`every instruction of ${name}`, async () => {
      const file = rebuiltGuestFile(name)!;
      const r = await compareWithObjdump(file, privSpecOf(file), realBinaryExclusions);
      console.log(report(name, r).split('\n')[0]);
      expect(r.mismatchCount, report(name, r)).toBe(0);
      expect(r.compared).toBeGreaterThan(min);
    });
  }
});
