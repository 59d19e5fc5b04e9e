// disassemble() against `riscv64-linux-gnu-objdump -d` (binutils 2.40): every instruction of
// the guest's kernel, firmware and init, then every RVC halfword and words sampled from each
// 32-bit entry of the encoding table. Needs binutils-riscv64-linux-gnu (objdump, as, readelf).

import { spawn, execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmp } from '../helpers/cli.js';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { guestFile } from '../helpers/guest.js';
import { decode } from '../../src/isa/decode.js';
import { csrName, disassemble, type PrivSpec } from '../../src/isa/disasm.js';
import { CSR } from '../../src/cpu/constants.js';
import { ENCODINGS } from '../../src/isa/encodings.js';

const OBJDUMP = 'riscv64-linux-gnu-objdump';
const AS = 'riscv64-linux-gnu-as';
const READELF = 'riscv64-linux-gnu-readelf';

/** One instruction line of `objdump -d`: address, the word as objdump shows it, its text. */
const LINE = /^\s*([0-9a-f]+):\t([0-9a-f]+)\s*\t([^\t]+?)\s*(?:\t(.*))?$/;

/** objdump's text without the " <symbol>" of a target and the "# address <symbol>" comment. */
function objdumpText(mnemonic: string, operands: string | undefined): string {
  const ops = (operands ?? '').replace(/\s*#.*$/, '').replace(/ <[^>]*>$/, '');
  return ops ? `${mnemonic}\t${ops}` : mnemonic;
}

/**
 * Lines kept out of the comparison, each a class disassemble() cannot or should not match.
 * Returns the class name, or null to compare the line.
 */
type Exclusion = (raw: number, mnemonic: string) => string | null;

const realBinaryExclusions: Exclusion = (raw, mnemonic) => {
  // Data inside code sections (the kernel's image header, marked by $d mapping symbols):
  // objdump prints it as data; a word on its own cannot say it is data.
  if (mnemonic === '.word' || mnemonic === '.short' || mnemonic === '.byte') return 'data ($d mapping symbol)';
  // OpenSBI's misaligned vector load/store emulation, in regions whose mapping symbol
  // enables V: not part of rv32imac, so decode() rejects it.
  if (mnemonic.startsWith('v') && decode(raw) === null) return 'RVV (outside rv32imac)';
  return null;
};

interface Comparison {
  compared: number;
  excluded: Map<string, number>;
  mismatches: string[];
  mismatchCount: number;
}

/** Streams `objdump -d <file>` and compares every instruction line with disassemble(). */
async function compareWithObjdump(file: string, privSpec: PrivSpec, exclude: Exclusion, extraArgs: string[] = []): Promise<Comparison> {
  const child = spawn(OBJDUMP, ['-d', ...extraArgs, file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? -1));
  });
  const result: Comparison = { compared: 0, excluded: new Map(), mismatches: [], mismatchCount: 0 };
  for await (const line of createInterface({ input: child.stdout, crlfDelay: Infinity })) {
    const m = LINE.exec(line);
    if (!m) continue;
    const addr = parseInt(m[1], 16);
    const raw = parseInt(m[2], 16) | 0;
    const cls = exclude(raw, m[3]);
    if (cls !== null) {
      result.excluded.set(cls, (result.excluded.get(cls) ?? 0) + 1);
      continue;
    }
    result.compared++;
    const want = objdumpText(m[3], m[4]);
    const got = disassemble(raw, addr, { privSpec });
    if (got !== want) {
      result.mismatchCount++;
      if (result.mismatches.length < 20) {
        result.mismatches.push(`${m[1]}: ${m[2]}  objdump ${JSON.stringify(want)}  deja ${JSON.stringify(got)}`);
      }
    }
  }
  const code = await exited;
  if (code !== 0) throw new Error(`${OBJDUMP} -d ${file} exited with ${code}: ${stderr}`);
  return result;
}

function report(name: string, r: Comparison): string {
  const excluded = [...r.excluded].map(([k, n]) => `${k}: ${n}`).join(', ') || 'none';
  return [
    `${name}: ${r.mismatchCount} mismatches in ${r.compared} instructions (excluded: ${excluded})`,
    ...r.mismatches.map((s) => `  ${s}`),
  ].join('\n');
}

/** The ELF's Tag_RISCV_priv_spec, which picks objdump's CSR names; none means the newest. */
function privSpecOf(file: string): PrivSpec {
  const out = execFileSync(READELF, ['-A', file], { encoding: 'utf8' });
  const major = /Tag_RISCV_priv_spec: (\d+)/.exec(out)?.[1];
  const minor = /Tag_RISCV_priv_spec_minor: (\d+)/.exec(out)?.[1] ?? '0';
  if (major === undefined) return '1.12';
  const spec = `${major}.${minor}`;
  if (spec !== '1.11' && spec !== '1.12') throw new Error(`${file}: priv spec ${spec} is not one disassemble() names CSRs for`);
  return spec;
}

describe('CSR names', () => {
  it('every CSR the hart implements is named as src/cpu/constants.ts names it', () => {
    for (const [name, csr] of Object.entries(CSR)) expect(csrName(csr), `0x${csr.toString(16)}`).toBe(name);
    // the debug trigger CSRs (Sdtrig)
    expect(disassemble(0x7a0025f3, 0)).toBe('csrr\ta1,tselect');
    expect(disassemble(0x7a159073, 0)).toBe('csrw\ttdata1,a1');
  });
});

describe('disassemble() matches objdump on the reference guest', () => {
  // Minimum counts guard against a parser that silently matches nothing.
  const cases: [name: string, minInstructions: number][] = [
    ['vmlinux', 300_000],
    ['fw_jump.elf', 30_000],
    ['init', 1_000],
  ];
  for (const [name, min] of cases) {
    it(`every instruction of ${name}`, async () => {
      const file = guestFile(name);
      const r = await compareWithObjdump(file, privSpecOf(file), realBinaryExclusions);
      console.log(report(name, r).split('\n')[0]);
      expect(r.mismatchCount, report(name, r)).toBe(0);
      expect(r.compared).toBeGreaterThan(min);
    });
  }
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
