// disassemble() against `riscv64-linux-gnu-objdump -d` (binutils 2.40): every RVC halfword
// and words sampled from each 32-bit entry of the encoding table (the guest's kernel,
// firmware and init: test/rebuilt-guest/disasm.test.ts). Needs binutils-riscv64-linux-gnu
// (objdump, as, readelf).

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmp } from '../helpers/cli.js';
import { describe, expect, it } from 'vitest';
import { decode } from '../../src/isa/decode.js';
import { csrName, disassemble, type PrivSpec } from '../../src/isa/disasm.js';
import { AS, compareWithObjdump, report, type Exclusion } from './objdump.js';
import { CSR } from '../../src/cpu/constants.js';
import { ENCODINGS } from '../../src/isa/encodings.js';

describe('CSR names', () => {
  it('every CSR the hart implements is named as src/cpu/constants.ts names it', () => {
    for (const [name, csr] of Object.entries(CSR)) expect(csrName(csr), `0x${csr.toString(16)}`).toBe(name);
    // the debug trigger CSRs (Sdtrig)
    expect(disassemble(0x7a0025f3, 0)).toBe('csrr\ta1,tselect');
    expect(disassemble(0x7a159073, 0)).toBe('csrw\ttdata1,a1');
  });
});

/** A fixed-seed generator, so a failure names the same words every run. */
function prng(seed: number): () => number {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Assembles raw words into an object (via `.insn`, so no $d mapping symbols) for objdump. */
function assembleWords(words: number[], opts: { privSpec: PrivSpec }): string {
  const dir = tmp('deja-disasm-');
  const lines = [
    // The kernel's code is built with Zihintpause: objdump then prints fence w,0 as pause.
    '.option arch, +zihintpause',
    ...words.map((w) => `.insn ${(w & 3) === 3 ? 4 : 2}, 0x${(w >>> 0).toString(16)}`),
  ];
  if (opts.privSpec === '1.11') lines.unshift('.attribute priv_spec, 1', '.attribute priv_spec_minor, 11');
  writeFileSync(join(dir, 'words.s'), lines.join('\n') + '\n');
  const obj = join(dir, 'words.o');
  execFileSync(AS, ['-march=rv32imac_zicsr_zifencei', '-mabi=ilp32', join(dir, 'words.s'), '-o', obj]);
  // No attributes at all: objdump then uses its newest priv spec, as for vmlinux.
  if (opts.privSpec === '1.12') execFileSync('riscv64-linux-gnu-objcopy', ['--remove-section', '.riscv.attributes', obj]);
  return obj;
}

/**
 * Encodings objdump decodes differently from deja on purpose. Each is reserved or a hint in
 * the spec; deja follows the spec (and QEMU), objdump does not check.
 */
const syntheticExclusions: Exclusion = (raw, mnemonic) => {
  const d = decode(raw);
  // RV32 reserves shift amounts with bit 5 set (c.slli/c.srli/c.srai bit 12, slli/srli/srai
  // bit 25): illegal here, objdump prints them as 64-bit shifts.
  if (d === null && /^(c\.slli|sll|srl|sra)$/.test(mnemonic)) return 'RV32 shamt[5]=1 (reserved)';
  // c.addi16sp with nzimm=0 is reserved; objdump prints "add sp,sp,0".
  if (d === null && (raw & 0xffff) === 0x6101) return 'c.addi16sp nzimm=0 (reserved)';
  // FENCE with fm other than 0/TSO or nonzero rd/rs1, FENCE.I with nonzero imm/rs1/rd: the
  // spec says to execute them as plain fences (deja does); objdump prints .4byte.
  if (d !== null && (d.op === 'fence' || d.op === 'fence.i') && mnemonic === '.4byte') return 'fence reserved fields';
  return null;
};

describe('disassemble() matches objdump on synthetic words', () => {
  it('every RVC halfword, and sampled words of every 32-bit table entry', async () => {
    const next = prng(0xde1a);
    const words: number[] = [];
    for (let h = 0; h < 0x10000; h++) if ((h & 3) !== 3) words.push(h);
    for (const enc of ENCODINGS) {
      if (enc.len !== 4) continue;
      for (let k = 0; k < 300; k++) {
        let w = next();
        // Bias towards x0/ra operands and special immediates, where the aliases are.
        const bias = next();
        if (bias & 1) w &= ~(31 << 7);
        if (bias & 2) w &= ~(31 << 15);
        if (bias & 4) w &= ~(31 << 20);
        if ((bias & 0x18) === 0x18) w = (w & ~(31 << 7)) | (1 << 7);
        if ((bias & 0x60) === 0x60) w = (w & ~(31 << 15)) | (1 << 15);
        if ((bias & 0x380) === 0x380) w = (w & 0xfffff) | ([0, 1, 0xfff, 0xff, 0xc00, 0xc01, 0xc82, 0x833][(bias >>> 10) & 7] << 20);
        words.push(((w & ~enc.mask) | enc.match) >>> 0);
      }
    }
    // Random 32-bit words (not 48-bit or longer encodings), mostly illegal.
    for (let k = 0; k < 20_000; k++) {
      const w = (next() | 3) >>> 0;
      if ((w & 0x1f) !== 0x1f) words.push(w);
    }
    const r = await compareWithObjdump(assembleWords(words, { privSpec: '1.12' }), '1.12', syntheticExclusions, ['-z']);
    console.log(report('synthetic', r).split('\n')[0]);
    expect(r.mismatchCount, report('synthetic', r)).toBe(0);
    // Every word printed on its own line and was compared or excluded by a named class.
    expect(r.compared + [...r.excluded.values()].reduce((a, b) => a + b, 0)).toBe(words.length);
  });

  for (const privSpec of ['1.11', '1.12'] as const) {
    it(`every CSR number under priv spec ${privSpec}`, async () => {
      const words: number[] = [];
      for (let csr = 0; csr < 4096; csr++) {
        words.push(((csr << 20) | (11 << 15) | (2 << 12) | (10 << 7) | 0x73) >>> 0); // csrrs a0,csr,a1
        words.push(((csr << 20) | (2 << 12) | (10 << 7) | 0x73) >>> 0); // csrr a0,csr (or rdtime...)
      }
      const r = await compareWithObjdump(assembleWords(words, { privSpec }), privSpec, () => null);
      expect(r.mismatchCount, report(`CSRs (${privSpec})`, r)).toBe(0);
      expect(r.compared).toBe(words.length);
    });
  }
});
