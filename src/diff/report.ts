// Text and JSON forms of diff, bisect and fuzz results.

import { fieldLabel } from './compare.js';
import type { DiffResult, FirstDifference } from './diff.js';
import type { Outcome } from './side.js';
import { VACUOUS, formatExercised } from './exercised.js';
import { formatExit } from '../machine/machine.js';

const hex = (v: number) => '0x' + (v >>> 0).toString(16).padStart(8, '0');

/** "1 instruction", "2 instructions". */
export const insnCount = (n: number): string => `${n} instruction${n === 1 ? '' : 's'}`;
const DECIMAL = new Set(['icount', 'traps', 'idleTicks', 'priv']);

/** A state field's value as reports show it (counts in decimal, the rest in hex). */
export function value(name: string, v: number): string {
  return DECIMAL.has(name) ? String(v) : hex(v);
}

export function formatOutcome(o: Outcome): string {
  const how = o.stopped ? `replay stopped ${o.stopped}` : `${formatExit(o.exit)} at icount ${o.icount}`;
  return o.divergence ? `${how}; leaves the recording at icount ${o.divergence.icount}: ${o.divergence.what}` : `${how}, as recorded (${o.checkpointsOk} of ${o.checkpointsTotal} checkpoints match)`;
}

function mark(listing: string, pc: number): string {
  const tag = '0x' + (pc >>> 0).toString(16) + ':';
  return listing
    .split('\n')
    .map((l) => (l.trimStart().startsWith(tag) ? `>${l.slice(1)}` : l))
    .join('\n');
}

function indent(s: string, pad: string): string {
  return s.split('\n').map((l) => pad + l).join('\n');
}

export function formatFirst(f: FirstDifference, opts: { code?: boolean } = {}): string[] {
  const lines: string[] = [];
  // README, Positions: the instruction at icount N is the one that runs from icount N.
  lines.push(`first difference: the instruction at icount ${f.icount}, pc ${hex(f.pc)}: ${f.insn}${f.unitInsn ? `   (the unit compiled: ${f.unitInsn})` : ''}`);
  lines.push(`  where: ${f.where}`);
  lines.push(`  why: ${f.explanation}`);
  if (f.registers.length) {
    lines.push('  state:                reference    suspect');
    for (const r of f.registers) lines.push(`    ${fieldLabel(r.name).padEnd(18)} ${value(r.name, r.reference).padStart(12)} ${value(r.name, r.suspect).padStart(12)}`);
  }
  if (f.memory.length) {
    lines.push('  memory the reference wrote (address, size, reference, suspect):');
    for (const m of f.memory) lines.push(`    ${hex(m.address)} ${m.size} bytes: ${m.reference} vs ${m.suspect}`);
  }
  if (f.ram.bytes) {
    lines.push(`  RAM differs in ${f.ram.bytes} bytes${f.ram.ranges.length ? ':' : ''}`);
    for (const m of f.ram.ranges) lines.push(`    ${hex(m.address)} ${m.size} bytes: reference ${m.reference}, suspect ${m.suspect}`);
  }
  if (f.console) {
    lines.push(`  console differs at byte ${f.console.offset}:`);
    lines.push(`    reference: ${JSON.stringify(f.console.reference)}`);
    lines.push(`    suspect:   ${JSON.stringify(f.console.suspect)}`);
  }
  const u = f.unit;
  if (u) {
    const spans = u.kind === 'trace' ? `, spans blocks ${u.blocks.map((b) => `${b.id}@${hex(b.pc)}`).join(' ')}` : '';
    lines.push(`  unit: ${u.kind} ${u.id} at ${hex(u.pc)} (${insnCount(u.insns)}${u.kind === 'trace' ? ' in its longest pass' : ''}${spans})${u.valid ? '' : ', INVALIDATED'}${u.fault ? `, injected fault ${u.fault}` : ''}`);
    lines.push(`    this execution started at icount ${u.execStart}; the instruction is number ${u.indexInExec} of it`);
    lines.push('  guest code:');
    lines.push(indent(mark(u.listing, f.pc), '    '));
    if (opts.code !== false) {
      lines.push('  generated code:');
      lines.push(indent(u.code, '    '));
    }
  } else lines.push('  unit: none (the suspect ran this in its interpreter)');
  return lines;
}

export function formatDiff(r: DiffResult, opts: { code?: boolean } = {}): string {
  const lines: string[] = [`deja diff: ${r.file}`, `  reference: ${r.reference}`, `  suspect:   ${r.suspect}`];
  if (r.vacuous) {
    const nor = r.outcome?.reference.exercised.tier !== 'interp' ? ', nor did the reference' : '';
    lines.push(`${VACUOUS}${nor}: the two replays agree, but no compiled code was compared`);
  } else if (!r.diverged) {
    lines.push('no divergence: the two replays agree (registers, CSRs, RAM, console) to the end');
  } else {
    lines.push('DIVERGENCE');
    if (r.suspectVsRecording) lines.push(`  the suspect leaves the recording at icount ${r.suspectVsRecording.icount}: ${r.suspectVsRecording.what}`);
    if (r.first) lines.push(...formatFirst(r.first, opts));
  }
  if (r.outcome) {
    lines.push('outcome:');
    lines.push(`  reference: ${formatOutcome(r.outcome.reference)}`);
    lines.push(`             ${formatExercised(r.outcome.reference.exercised)}`);
    lines.push(`  suspect:   ${formatOutcome(r.outcome.suspect)}`);
    lines.push(`             ${formatExercised(r.outcome.suspect.exercised)}`);
  }
  for (const n of r.notes) lines.push(`note: ${n}`);
  const s = r.seconds;
  lines.push(`search: ${r.window ? `window icount ${r.window.from}..${r.window.to}, ` : ''}${r.passes} lockstep pass${r.passes === 1 ? '' : 'es'}; ${s.total.toFixed(2)} s (window ${s.window.toFixed(2)} s, pinpoint ${s.pinpoint.toFixed(2)} s, outcomes ${s.outcome.toFixed(2)} s)`);
  return lines.join('\n');
}

/** The result without host objects, for --json. */
export function diffJson(r: DiffResult): Record<string, unknown> {
  const { jit: _jit, ...rest } = r;
  void _jit;
  return rest as unknown as Record<string, unknown>;
}
