// Comparing disassemble() with `riscv64-linux-gnu-objdump -d` (binutils 2.40), line by line:
// for the encoding table's words (disasm.test.ts) and whole guest binaries
// (test/rebuilt-guest/disasm.test.ts). Needs binutils-riscv64-linux-gnu.

import { spawn, execFileSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { decode } from '../../src/isa/decode.js';
import { disassemble, type PrivSpec } from '../../src/isa/disasm.js';

export const OBJDUMP = 'riscv64-linux-gnu-objdump';
export const AS = 'riscv64-linux-gnu-as';
export const READELF = 'riscv64-linux-gnu-readelf';

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
export type Exclusion = (raw: number, mnemonic: string) => string | null;

export const realBinaryExclusions: Exclusion = (raw, mnemonic) => {
  // Data inside code sections (the kernel's image header, marked by $d mapping symbols):
  // objdump prints it as data; a word on its own cannot say it is data.
  if (mnemonic === '.word' || mnemonic === '.short' || mnemonic === '.byte') return 'data ($d mapping symbol)';
  // OpenSBI's misaligned vector load/store emulation, in regions whose mapping symbol
  // enables V: not part of rv32imac, so decode() rejects it.
  if (mnemonic.startsWith('v') && decode(raw) === null) return 'RVV (outside rv32imac)';
  return null;
};

export interface Comparison {
  compared: number;
  excluded: Map<string, number>;
  mismatches: string[];
  mismatchCount: number;
}

/** Streams `objdump -d <file>` and compares every instruction line with disassemble(). */
export async function compareWithObjdump(file: string, privSpec: PrivSpec, exclude: Exclusion, extraArgs: string[] = []): Promise<Comparison> {
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

export function report(name: string, r: Comparison): string {
  const excluded = [...r.excluded].map(([k, n]) => `${k}: ${n}`).join(', ') || 'none';
  return [
    `${name}: ${r.mismatchCount} mismatches in ${r.compared} instructions (excluded: ${excluded})`,
    ...r.mismatches.map((s) => `  ${s}`),
  ].join('\n');
}

/** The ELF's Tag_RISCV_priv_spec, which picks objdump's CSR names; none means the newest. */
export function privSpecOf(file: string): PrivSpec {
  const out = execFileSync(READELF, ['-A', file], { encoding: 'utf8' });
  const major = /Tag_RISCV_priv_spec: (\d+)/.exec(out)?.[1];
  const minor = /Tag_RISCV_priv_spec_minor: (\d+)/.exec(out)?.[1] ?? '0';
  if (major === undefined) return '1.12';
  const spec = `${major}.${minor}`;
  if (spec !== '1.11' && spec !== '1.12') throw new Error(`${file}: priv spec ${spec} is not one disassemble() names CSRs for`);
  return spec;
}
