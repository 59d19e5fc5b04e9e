// The machine at one icount, as plain data and as text (`deja state`): pc and the
// instruction there, privilege, registers, every CSR the hart implements, and optionally
// memory. Reading it changes nothing in the machine (memory-view.ts says how for memory).

import { Cause, PRIV_M } from '../cpu/constants.js';
import { ACCESS_FETCH } from '../cpu/mmu.js';
import type { Hart } from '../cpu/hart.js';
import type { Machine } from '../machine/machine.js';
import { REG_NAMES, csrName, disassemble } from '../isa/disasm.js';
import { formatHexdump, hexBytes, readMemory, type MemoryView } from './memory-view.js';

export const PRIV_NAMES: Record<number, string> = { 0: 'U', 1: 'S', 3: 'M' };

/** The instruction at pc: its bits and text, or the fault fetching it would take. */
export type InsnView = { bits: number; len: 2 | 4; text: string; fault?: undefined } | { fault: string; bits?: undefined };

export interface MachineView {
  /** The position (README, "Positions"): the machine after `icount` instructions retired. */
  icount: number;
  pc: number;
  insn: InsnView;
  priv: number;
  /** x1..x31 by ABI name, in order, as unsigned 32-bit values. */
  regs: Record<string, number>;
  /** Every CSR the hart implements, by name, in number order, unsigned. */
  csrs: Record<string, number>;
  mem?: MemoryView;
}

/** A trap cause in words, from its name in `Cause` ("LoadPageFault" -> "load page fault"). */
export function causeWords(cause: number): string {
  const name = Object.entries(Cause).find(([, v]) => v === cause)?.[0];
  return name ? name.replace(/[A-Z]/g, (c) => ` ${c.toLowerCase()}`).trim() : `cause ${cause}`;
}

/** The instruction at pc, fetched as the hart would but through side-effect-free reads. */
function insnAt(hart: Hart): InsnView {
  const pc = hart.pc >>> 0;
  const low = readMemory(hart, pc, 2, { access: ACCESS_FETCH });
  const missing = (m: typeof low) => m.bytes.includes(null) ? m.pages.find((p) => p.status !== 'ram' && p.status !== 'rom') : undefined;
  const lost = missing(low);
  if (lost) return { fault: unfetchable(lost.status) };
  let bits = low.bytes[0]! | (low.bytes[1]! << 8);
  if ((bits & 3) !== 3) return { bits, len: 2, text: disassemble(bits, pc) };
  const high = readMemory(hart, (pc + 2) >>> 0, 2, { access: ACCESS_FETCH });
  const lostHigh = missing(high);
  if (lostHigh) return { fault: unfetchable(lostHigh.status) };
  bits = (bits | (high.bytes[0]! << 16) | (high.bytes[1]! << 24)) >>> 0;
  return { bits, len: 4, text: disassemble(bits, pc) };
}

/** The fault a fetch takes where a page is not memory. */
function unfetchable(status: string): string {
  return causeWords(status === 'unmapped' || status === 'protected' ? Cause.InsnPageFault : Cause.InsnAccessFault);
}

/**
 * CSR `csr` as M-mode reads it, or null if the hart has none such: csrRead's only checks by
 * privilege (counter enables, TVM) are ones M passes, and it has no side effect. The
 * hart's privilege is put back at once.
 */
export function csrAsMachine(hart: Hart, csr: number): number | null {
  const priv = hart.priv;
  hart.priv = PRIV_M;
  try {
    const v = hart.csrRead(csr);
    return v === null ? null : v >>> 0;
  } finally {
    hart.priv = priv;
  }
}

/** Every CSR the hart implements, by name, read as M-mode reads it (csrAsMachine). */
export function readCsrs(hart: Hart): Record<string, number> {
  const out: Record<string, number> = {};
  for (let csr = 0; csr < 4096; csr++) {
    const v = csrAsMachine(hart, csr);
    if (v !== null) out[csrName(csr)] = v;
  }
  return out;
}

/** The view of the machine now; with `mem`, also memory (memory-view.ts, readMemory). */
export function machineView(machine: Machine, mem?: { addr: number; len: number; phys?: boolean }): MachineView {
  const hart = machine.hart;
  const regs: Record<string, number> = {};
  for (let i = 1; i < 32; i++) regs[REG_NAMES[i]] = hart.x[i] >>> 0;
  // `+ 0`: the hart's counters start as -0 (hart.ts, F64), which is 0 to a user.
  const view: MachineView = { icount: hart.icount + 0, pc: hart.pc >>> 0, insn: insnAt(hart), priv: hart.priv, regs, csrs: readCsrs(hart) };
  if (mem) view.mem = readMemory(hart, mem.addr, mem.len, { phys: mem.phys });
  return view;
}

const hex = (v: number) => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;

/** Rows of `cols` name-value cells, names padded to line up. */
function table(entries: [string, number][], cols: number): string[] {
  const w = Math.max(...entries.map(([k]) => k.length));
  const lines: string[] = [];
  for (let i = 0; i < entries.length; i += cols) {
    lines.push('  ' + entries.slice(i, i + cols).map(([k, v]) => `${k.padEnd(w)} ${hex(v)}`).join('   '));
  }
  return lines;
}

/** The view as text for a terminal. */
export function formatMachineView(v: MachineView): string {
  const insn = v.insn.fault === undefined
    ? `${v.insn.bits.toString(16).padStart(v.insn.len * 2, '0')}  ${v.insn.text.replace('\t', ' ')}`
    : `(cannot be fetched: ${v.insn.fault})`;
  const lines = [`icount ${v.icount}  priv ${PRIV_NAMES[v.priv] ?? v.priv}`, `pc ${hex(v.pc)}  ${insn}`, 'registers:'];
  lines.push(...table(Object.entries(v.regs).map(([k, val], i): [string, number] => [`x${i + 1}/${k}`, val]), 4));
  lines.push('CSRs:', ...table(Object.entries(v.csrs), 4));
  if (v.mem) {
    const m = v.mem;
    const how = m.phys ? 'physical' : `virtual, translated for a load in ${PRIV_NAMES[m.priv]}-mode`;
    lines.push(`memory: ${m.len} bytes at ${hex(m.addr)} (${how}):`, ...formatHexdump(m));
  }
  return lines.join('\n');
}

/** The view as JSON-ready data (memory as hex, `--` for unknown bytes). */
export function machineViewJson(v: MachineView): Record<string, unknown> {
  const out: Record<string, unknown> = {
    icount: v.icount,
    pc: v.pc,
    insn: v.insn.fault === undefined ? v.insn.bits : null,
    disasm: v.insn.fault === undefined ? v.insn.text : null,
    fetchFault: v.insn.fault ?? null,
    priv: PRIV_NAMES[v.priv] ?? v.priv,
    regs: v.regs,
    csrs: v.csrs,
  };
  const m = v.mem;
  if (m) {
    out.memory = {
      addr: m.addr, len: m.len, phys: m.phys, priv: m.phys ? null : PRIV_NAMES[m.priv],
      hex: hexBytes(m.bytes), pages: m.pages,
      unmapped: m.pages.filter((p) => p.status === 'unmapped').map((p) => p.addr),
    };
  }
  return out;
}
