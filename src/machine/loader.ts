// Image loaders: ELF32 RISC-V executables, raw binaries, and the Linux RISC-V Image.
// Callers pass bytes (read before the run starts); errors are UserErrors naming the file.

import { UserError, ExitCode } from '../errors.js';

export interface Segment {
  paddr: number;
  bytes: Uint8Array;
  memsz: number;
}

export interface ElfImage {
  entry: number;
  segments: Segment[];
  symbols: Map<string, number>;
}

const EM_RISCV = 243;

export function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}

export function parseElf(bytes: Uint8Array, file: string): ElfImage {
  const bad = (why: string): never => {
    throw new UserError(`${file}: ${why}`, ExitCode.BadInput);
  };
  if (!isElf(bytes)) bad('not an ELF file');
  if (bytes.length < 52) bad('truncated ELF header');
  if (bytes[4] !== 1) bad(`ELF class ${bytes[4] === 2 ? '64-bit' : bytes[4]}: deja runs 32-bit RISC-V (rv32) only`);
  if (bytes[5] !== 1) bad('big-endian ELF: RISC-V is little-endian');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const machine = dv.getUint16(18, true);
  if (machine !== EM_RISCV) bad(`ELF machine ${machine} is not RISC-V (${EM_RISCV})`);
  const type = dv.getUint16(16, true);
  // ET_DYN too: OpenSBI's firmware ELFs are position-independent, loaded at their addresses.
  if (type !== 2 && type !== 3) bad(`ELF type ${type} is not an executable (ET_EXEC or ET_DYN)`);
  const entry = dv.getUint32(24, true);
  const phoff = dv.getUint32(28, true);
  const shoff = dv.getUint32(32, true);
  const phentsize = dv.getUint16(42, true);
  const phnum = dv.getUint16(44, true);
  const shentsize = dv.getUint16(46, true);
  const shnum = dv.getUint16(48, true);
  if (phnum > 256 || phoff + phnum * phentsize > bytes.length) bad('truncated or corrupt program headers');
  const segments: Segment[] = [];
  for (let i = 0; i < phnum; i++) {
    const o = phoff + i * phentsize;
    if (dv.getUint32(o, true) !== 1) continue; // PT_LOAD
    const offset = dv.getUint32(o + 4, true);
    const paddr = dv.getUint32(o + 12, true);
    const filesz = dv.getUint32(o + 16, true);
    const memsz = dv.getUint32(o + 20, true);
    if (offset + filesz > bytes.length) bad(`truncated: segment ${i} needs bytes up to ${offset + filesz}, file has ${bytes.length}`);
    if (memsz < filesz) bad(`segment ${i} has memsz < filesz`);
    segments.push({ paddr, bytes: bytes.subarray(offset, offset + filesz), memsz });
  }
  if (segments.length === 0) bad('no loadable segments');
  const symbols = new Map<string, number>();
  if (shoff && shnum < 4096 && shoff + shnum * shentsize <= bytes.length) {
    for (let i = 0; i < shnum; i++) {
      const sh = shoff + i * shentsize;
      if (dv.getUint32(sh + 4, true) !== 2) continue; // SHT_SYMTAB
      const symOff = dv.getUint32(sh + 16, true), symSize = dv.getUint32(sh + 20, true);
      const strSec = shoff + dv.getUint32(sh + 24, true) * shentsize;
      if (strSec + shentsize > bytes.length) continue;
      const strOff = dv.getUint32(strSec + 16, true);
      if (symOff + symSize > bytes.length) continue;
      for (let s = symOff; s + 16 <= symOff + symSize; s += 16) {
        const nameOff = strOff + dv.getUint32(s, true);
        let end = nameOff;
        while (end < bytes.length && bytes[end] !== 0) end++;
        const name = Buffer.from(bytes.subarray(nameOff, end)).toString('latin1');
        if (name) symbols.set(name, dv.getUint32(s + 4, true));
      }
    }
  }
  return { entry, segments, symbols };
}

/** Linux RISC-V Image header: "RISCV\0\0\0" at 0x30 and "RSC\x05" at 0x38. */
export function isLinuxImage(bytes: Uint8Array): boolean {
  return bytes.length >= 64 && bytes[0x38] === 0x52 && bytes[0x39] === 0x53 && bytes[0x3a] === 0x43 && bytes[0x3b] === 0x05;
}
