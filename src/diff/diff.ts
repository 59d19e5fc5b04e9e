// `deja diff`: where two replays of one recording first part ways.
//
// 1. Window. The suspect replays alone, checked against the recording's checkpoints as a
//    plain `deja replay` is, and stops at its first failure: the first difference lies
//    after the last checkpoint it matched. (If it matches to the end, the reference replays
//    too and the final states are compared, RAM included.)
// 2. Pinpoint. Both sides replay again to that checkpoint, unobserved; there the whole
//    state is compared (RAM included), and from there on every compiled unit the suspect
//    runs is instrumented and compared instruction by instruction with the reference,
//    stepped alongside (lockstep.ts explains why this is sound). The first point where they
//    differ names the instruction, and the unit that ran it. Both sides then run on to the
//    end of the recording, for their outcomes.
// 3. If the sides already differ at that checkpoint (a difference in RAM only, which
//    checkpoints do not hash, or a reference that does not match the recording), or the
//    suspect's failure is not seen in lockstep, sampled passes with full RAM comparisons
//    narrow the window by unit executions first, then step 2 runs there.

import { now } from './clock.js';
import { disassemble } from '../isa/disasm.js';
import { decode } from '../isa/decode.js';
import { Block, Trace } from '../jit/unit.js';
import type { Jit } from '../jit/jit.js';
import type { Recording } from '../record/reader.js';
import { fieldLabel, snapshotNames, ramDiff, sameSnapshot, snapshot, type FieldDiff, type MemDiff } from './compare.js';
import { unitInfo, unitInsnAt, type UnitInfo } from './instrument.js';
import { runPass, type Mismatch, type PassResult, type Point, type SideSetup } from './lockstep.js';
import { Side, type Outcome } from './side.js';
import type { SideSettings } from './settings.js';
import { compiledNothing } from './exercised.js';
import { insnCount } from './report.js';

export interface DiffOptions {
  images?: string;
  /** Called with every side created (tests plant differences with it). */
  setup?: SideSetup;
  /** Set when called with the roles swapped (not swapped again). */
  swapped?: boolean;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
  /**
   * Known already (bisect): the suspect's state differs from the reference's at icount `to`,
   * a run-loop boundary, and matches at `from`, a checkpoint (or 0). The lockstep looks
   * there alone, and the sides are not run on for their outcomes; if it finds nothing
   * there, the diff searches as without it.
   */
  window?: { from: number; to: number };
}

export interface FirstDifference {
  /** Instructions retired before the diverging instruction (by the reference's count). */
  icount: number;
  pc: number;
  /** The instruction, as the reference sees it in memory (and as the unit compiled it, if different). */
  insn: string;
  unitInsn: string | null;
  /**
   * instruction: the state differs right after this instruction, inside a compiled unit;
   * unit-exit: after the unit's last instruction, as the unit left; between-units: the unit
   * left with the same state, but the next thing the two sides did differs (e.g. an
   * interrupt taken by one only); interpreted: in instructions the suspect ran outside
   * units; boundary: at a checkpoint; start: before the window (sampled search).
   */
  where: 'instruction' | 'unit-exit' | 'between-units' | 'interpreted' | 'boundary' | 'start' | 'end';
  explanation: string;
  registers: FieldDiff[];
  memory: MemDiff[];
  ram: { ranges: MemDiff[]; bytes: number };
  console: Mismatch['console'];
  /** Both sides' whole architectural state after the instruction (names in snapshot order). */
  state: { names: string[]; reference: number[]; suspect: number[] };
  /** The instructions around it, as the reference's memory holds them (the instruction itself marked). */
  around: { pc: number; text: string; here: boolean }[];
  /** The compiled unit that ran the instruction on the suspect side, with its execution. */
  unit: (UnitInfo & { execStart: number; indexInExec: number; stale: string | null }) | null;
}

export interface DiffResult {
  file: string;
  reference: string;
  suspect: string;
  diverged: boolean;
  /** Nothing diverged, and neither side compiled a unit: the comparison checked no JIT (exit 10). */
  vacuous: boolean;
  /** The suspect against the recording, as `deja replay` sees it. */
  suspectVsRecording: { icount: number; since: number; what: string } | null;
  window: { from: number; to: number } | null;
  first: FirstDifference | null;
  outcome: { reference: Outcome; suspect: Outcome } | null;
  /** Lockstep passes run (besides the suspect's first replay). */
  passes: number;
  seconds: { window: number; pinpoint: number; outcome: number; total: number };
  notes: string[];
  /** The suspect's JIT in the last pass (for bisect; not in JSON). */
  jit?: Jit | null;
}

const hex = (v: number) => '0x' + (v >>> 0).toString(16).padStart(8, '0');

/** Finds the first difference between replays under `a` (reference) and `b` (suspect). */
export function diffRecording(rec: Recording, a: SideSettings, b: SideSettings, o: DiffOptions = {}): DiffResult {
  const log = o.log ?? (() => {});
  const T0 = now();
  const notes: string[] = [];
  const result: DiffResult = {
    file: rec.path, reference: a.text, suspect: b.text, diverged: false, vacuous: false, suspectVsRecording: null, window: null, first: null,
    outcome: null, passes: 0, seconds: { window: 0, pinpoint: 0, outcome: 0, total: 0 }, notes,
  };

  if (o.window) {
    const w = o.window;
    const pass = runPass(rec, a, b, o.images, { start: w.from, mode: 'insn', giveUpAt: w.to, outcome: false }, o.setup);
    log(`lockstep from icount ${w.from} to ${w.to}: ${pass.mismatch ? `the state first differs at icount ${pass.mismatch.at.icount}` : 'no difference'} (${pass.seconds.toStart.toFixed(2)} s to the start, ${pass.seconds.observe.toFixed(2)} s observing)`);
    if (pass.mismatch && pass.startOk) {
      result.window = w;
      result.passes = 1;
      notes.push(`the suspect's state differs from the reference's at the run-loop boundary at icount ${w.to}: the lockstep looked from icount ${w.from} to there, and the sides were not run on to their ends`);
      return done(result, pass, T0, T0);
    }
    const plain = diffRecording(rec, a, b, { ...o, window: undefined });
    plain.notes.unshift(`the lockstep from icount ${w.from} to ${w.to} ${pass.startOk ? 'found no difference' : 'found the sides differing at its start'}: searched as a plain diff`);
    return plain;
  }

  // 1. The window: the suspect alone, stopping at its first failure.
  const first = suspectAlone(rec, a, b, o);
  if (first.result) return first.result;
  const { fail, checkpoints } = first;
  result.suspectVsRecording = fail;
  if (first.note) notes.push(first.note);
  let lo = 0;
  let hi = first.stopAt;
  let pass: PassResult | null = null;
  if (fail) {
    lo = fail.since;
    hi = Math.max(fail.icount, lo + 1);
    log(`suspect leaves the recording at icount ${fail.icount} (${fail.what}); last matching checkpoint at ${lo}`);
  }
  result.window = { from: lo, to: hi };
  const T1 = now();
  result.seconds.window = (T1 - T0) / 1000;

  // 2. Pinpoint from the last good checkpoint.
  if (fail) {
    pass = runPass(rec, a, b, o.images, { start: lo, mode: 'insn', giveUpAt: hi, outcome: true }, o.setup);
    result.passes++;
    log(`lockstep from icount ${lo}: ${pass.mismatch ? `the state first differs at icount ${pass.mismatch.at.icount}` : 'no difference'} (${pass.seconds.toStart.toFixed(2)} s to the start, ${pass.seconds.observe.toFixed(2)} s observing)`);
    if (pass.mismatch && pass.startOk) return done(result, pass, T0, T1);
    if (!pass.startOk) notes.push(`the sides already differ at icount ${lo} (${pass.mismatch ? describeFields(pass.mismatch) : '?'}): searching from the start with RAM comparisons`);
    else notes.push(`no difference seen in lockstep up to icount ${hi}: searching with RAM comparisons`);
    if (!pass.startOk) hi = lo;
    lo = 0;
  }

  // An interpreter suspect has no units to sample: both sides are stepped from the start.
  if (!b.jit) {
    pass = runPass(rec, a, b, o.images, { start: 0, mode: 'insn', giveUpAt: hi, outcome: true }, o.setup);
    result.passes++;
    return done(result, pass, T0, T1);
  }

  // 3. Sampled search: narrow [good, bad] by unit executions, comparing everything (RAM too).
  let good: { ordinal: number; icount: number } | null = null; // null: the start (icount 0)
  let bad: { ordinal: number | null; icount: number } = { ordinal: null, icount: hi };
  for (let round = 0; round < 12; round++) {
    const start = good ? Math.max(0, ...checkpoints.filter((c) => c <= good!.icount)) : 0;
    const SAMPLES = 24;
    const opts = bad.ordinal !== null && good
      ? { sampleOrdinals: spread(good.ordinal + 1, bad.ordinal, SAMPLES) }
      : { sampleIcounts: spread((good?.icount ?? 0) + 1, bad.icount, SAMPLES) };
    const p = runPass(rec, a, b, o.images, { start, fromOrdinal: good ? good.ordinal : undefined, mode: 'sample', ...opts, giveUpAt: bad.icount, outcome: false }, o.setup);
    result.passes++;
    const firstBad = p.samples.find((x) => !x.ok);
    const lastOk = [...p.samples].reverse().find((x) => x.ok && (!firstBad || x.ordinal < firstBad.ordinal));
    log(`sampled pass ${round + 1}: ${p.samples.length} samples, ${firstBad ? `first difference by unit ${firstBad.ordinal} (icount ${firstBad.icount})` : 'no difference at the samples'}`);
    if (!p.startOk && good) {
      notes.push('sampled search: the start point no longer matches; giving up the narrowing');
      break;
    }
    if (!firstBad) {
      if (p.mismatch) bad = { ordinal: p.mismatch.at.ordinal, icount: p.mismatch.at.icount };
      else break;
    } else bad = { ordinal: firstBad.ordinal, icount: firstBad.icount };
    if (lastOk) good = { ordinal: lastOk.ordinal, icount: lastOk.icount };
    if (good && bad.ordinal !== null && bad.ordinal - good.ordinal <= 1) break;
  }
  const start = good ? Math.max(0, ...checkpoints.filter((c) => c <= good!.icount)) : 0;
  const narrow = good !== null && bad.ordinal !== null && bad.ordinal - good.ordinal <= 1;
  pass = runPass(rec, a, b, o.images, { start, fromOrdinal: good ? good.ordinal : undefined, mode: 'insn', giveUpAt: bad.icount, outcome: true, ramAtUnits: narrow }, o.setup);
  result.passes++;
  log(`lockstep from ${good ? `unit ${good.ordinal} (icount ${good.icount})` : 'the start'}: ${pass.mismatch ? `the state first differs at icount ${pass.mismatch.at.icount}` : 'no difference'}`);
  if (!pass.mismatch) notes.push('the lockstep search found no difference; the suspect still fails against the recording (see suspectVsRecording)');
  return done(result, pass, T0, T1);
}

/**
 * Step 1 in its own scope (so its machines can be collected): the suspect alone; if it
 * matches the recording, the reference too, and their end states. Returns a finished
 * result when there is nothing more to search.
 */
function suspectAlone(rec: Recording, a: SideSettings, b: SideSettings, o: DiffOptions): {
  result?: DiffResult; fail: Outcome['divergence']; stopAt: number; checkpoints: number[]; note?: string;
} {
  const T0 = now();
  const s0 = new Side(rec, b, o.images);
  o.setup?.(s0, 'suspect');
  s0.stopAtFailure = true;
  s0.run(s0.stopAt);
  const s0out = s0.finish();
  const fail = s0out.divergence;
  const base = { fail, stopAt: s0.stopAt, checkpoints: s0.checkpointIcounts() };
  if (fail) return base;
  // The suspect matches the recording: so must the reference, and both end the same, RAM included.
  const r0 = new Side(rec, a, o.images);
  o.setup?.(r0, 'reference');
  const r0out = r0.finish();
  const same = sameSnapshot(snapshot(r0.machine), snapshot(s0.machine)) && r0.consoleHash === s0.consoleHash && ramDiff(r0.machine.mem, s0.machine.mem, 1).bytes === 0 && !r0out.divergence;
  if (same) {
    const seconds = (now() - T0) / 1000;
    const outcome = { reference: r0out, suspect: s0out };
    return {
      ...base,
      result: {
        file: rec.path, reference: a.text, suspect: b.text, diverged: false, vacuous: vacuous(outcome), suspectVsRecording: null, window: null, first: null,
        outcome, passes: 0, seconds: { window: seconds, pinpoint: 0, outcome: 0, total: seconds }, notes: [], jit: s0.jit,
      },
    };
  }
  if (r0out.divergence && !o.swapped) {
    // The reference is the one that fails: it is the one to observe unit by unit (a side
    // that is driven step by step runs in its interpreter, and would hide its own bug).
    o.log?.(`the reference leaves the recording (${r0out.divergence.what}) and the suspect does not: diffing with the roles swapped`);
    const swapped = diffRecording(rec, b, a, { ...o, swapped: true });
    swapped.notes.unshift(`--a (${a.text}) leaves the recording at icount ${r0out.divergence.icount} and --b (${b.text}) does not: the roles were swapped, so the "suspect" below is --a`);
    return { ...base, result: swapped };
  }
  return { ...base, note: 'both match the recording, but their final states differ (RAM or console)' };
}

/** Neither side ran compiled code (DESIGN.md I10): an agreement between them proves nothing about the JIT. */
function vacuous(o: { reference: Outcome; suspect: Outcome }): boolean {
  return compiledNothing(o.suspect.exercised) && compiledNothing(o.reference.exercised);
}

function spread(from: number, to: number, n: number): number[] {
  if (to < from) return [to];
  const out = new Set<number>();
  for (let i = 1; i <= n; i++) out.add(Math.floor(from + ((to - from) * i) / n));
  out.add(to);
  return [...out].sort((x, y) => x - y);
}

function describeFields(m: Mismatch): string {
  const parts = m.fields.slice(0, 4).map((f) => fieldLabel(f.name));
  if (m.ram.bytes) parts.push(`${m.ram.bytes} RAM bytes`);
  if (m.console) parts.push('console');
  return parts.join(', ') || 'state';
}

function done(result: DiffResult, pass: PassResult, T0: number, T1: number): DiffResult {
  // Every pass after the window (sampled ones included), but the last one's run to the end.
  result.seconds.pinpoint = (now() - T1) / 1000 - pass.seconds.outcome;
  result.seconds.outcome = pass.seconds.outcome;
  result.outcome = pass.outcome;
  result.jit = pass.suspect.jit;
  if (pass.mismatch) {
    result.diverged = true;
    result.first = explain(pass, pass.mismatch);
  } else if (result.suspectVsRecording) result.diverged = true;
  const out = pass.outcome;
  if (out && !result.diverged && (out.reference.exit.reason !== out.suspect.exit.reason || out.reference.icount !== out.suspect.icount)) result.diverged = true;
  result.vacuous = !result.diverged && out !== null && vacuous(out);
  result.seconds.total = (now() - T0) / 1000;
  return result;
}

/** Turns the first mismatch into the report's terms: which instruction, which unit, why. */
function explain(pass: PassResult, m: Mismatch): FirstDifference {
  const at = m.at, good = m.lastGood;
  let where: FirstDifference['where'] = 'interpreted';
  let pc = 0;
  let icount = 0;
  let unit: Block | Trace | null = null;
  let indexInExec = 0;
  let execStart = 0;
  const why: string[] = [];
  const regsDiffer = m.fields.filter((f) => /^x\d+$/.test(f.name));
  switch (at.kind) {
    case 'probe':
      // State matched before the previous instruction of this unit, differs before this one.
      where = 'instruction';
      pc = good.kind === 'probe' || good.kind === 'hook' ? good.pc : at.lastPc;
      icount = at.icount - 1;
      unit = at.unit;
      indexInExec = at.k - 1;
      execStart = at.icount - at.k;
      why.push(`the state matches before this instruction and differs after it; the suspect ran it in compiled ${unitWord(at.unit)}`);
      break;
    case 'after': {
      pc = at.lastPc;
      icount = at.trapped ? at.icount : at.icount - 1;
      unit = at.unit;
      indexInExec = Math.max(0, at.k - 1);
      execStart = at.icount - at.k;
      const last = unit ? unitInsnAt(unit, pc) : null;
      const rd = last ? decodeRd(last.raw) : -1;
      const onlyOthers = regsDiffer.length > 0 && regsDiffer.every((f) => f.name !== `x${rd}`);
      const icountOff = m.fields.find((f) => f.name === 'icount');
      if (icountOff || onlyOthers) {
        where = 'unit-exit';
        if (icountOff) why.push(`the unit's exit counts ${icountOff.suspect} instructions retired where the reference has ${icountOff.reference} (the unit ran ${at.k})`);
        if (onlyOthers) why.push(`the registers were right inside the unit, and its last instruction (${last?.text ?? '?'}) does not write ${regsDiffer.map((f) => fieldLabel(f.name)).join(', ')}: the unit's exit (register write-back) is wrong`);
      } else {
        where = 'instruction';
        why.push('the state matches before this instruction (the unit\'s last) and differs after the unit left');
      }
      break;
    }
    case 'end':
    case 'hook': {
      const prev = good.unit;
      const skippedIrq = good.kind === 'after' && good.pendingUnchecked && m.trapsDelta > 0;
      if (good.kind === 'after' && (skippedIrq || m.between === 0)) {
        // The difference arose where the unit left: name its last instruction.
        where = 'between-units';
        pc = good.lastPc;
        icount = good.trapped ? good.icount : good.icount - 1;
        unit = prev;
        indexInExec = Math.max(0, good.k - 1);
        execStart = good.icount - good.k;
      }
      if (skippedIrq) {
        why.push(`${unitWord(prev)} left at icount ${good.icount} with an interrupt pending and enabled but hart.attention clear: the reference takes the interrupt before its next instruction; nothing in the suspect checks it (not its dispatcher, not its interpreter) until its next stop, so it runs on${m.between ? ` (${insnCount(m.between)})` : ''} and the state differs at icount ${at.icount}${at.kind === 'end' ? ', where its run ended' : ''}`);
      } else if (good.kind === 'after' && m.between === 0) {
        why.push(`the state matched when ${unitWord(prev)} left at icount ${good.icount}; before the next unit (pc ${hex(at.pc)}) it differs without an instruction retiring`);
      } else if (good.kind === 'after') {
        where = 'interpreted';
        pc = good.lastPc;
        icount = good.trapped ? good.icount : good.icount - 1;
        unit = prev;
        execStart = good.icount - good.k;
        indexInExec = Math.max(0, good.k - 1);
        why.push(`the state matched when ${unitWord(prev)} left at icount ${good.icount}; the suspect then ran ${insnCount(m.between)} outside compiled units before the next unit (icount ${at.icount}), where it differs`);
      } else if (good.kind === 'boundary' || good.kind === 'start') {
        where = 'boundary';
        pc = good.pc;
        icount = good.icount;
        why.push(`the state matched at the run loop's boundary at icount ${good.icount} and differs at the next unit (icount ${at.icount}, pc ${hex(at.pc)}); in between: the boundary's device and input work${at.icount > good.icount ? ` and ${insnCount(at.icount - good.icount)} outside compiled units` : ''}`);
      } else if (good.kind === 'probe') {
        // The unit left mid-way by a trap: the instruction at the last probe trapped.
        where = 'instruction';
        pc = good.pc;
        icount = good.icount;
        unit = good.unit;
        execStart = good.icount - good.k;
        indexInExec = good.k;
        why.push(`the suspect's unit left by a trap at this instruction; at the next unit (icount ${at.icount}) the state differs`);
      } else {
        where = 'interpreted';
        pc = good.pc;
        icount = good.icount;
        unit = good.unit;
        execStart = good.icount;
        indexInExec = 0;
        why.push(`the state matched before ${unitWord(good.unit)} ran at icount ${good.icount} and differs at the next unit (icount ${at.icount}); ${good.unit && pass.uninstrumented.has(good.unit) ? `that unit could not be instrumented (${pass.uninstrumented.get(good.unit)})` : 'that unit left by a trap before its first instruction'}`);
      }
      if (m.trapsDelta > 0 && !(good.kind === 'after' && good.pendingUnchecked)) why.push(`the reference takes ${m.trapsDelta === 1 ? 'an interrupt or trap' : `${m.trapsDelta} interrupts or traps`} here that the suspect does not (e.g. a pending interrupt not checked after a CSR write: DESIGN.md I5)`);
      if (m.trapsDelta < 0) why.push(`the suspect takes ${-m.trapsDelta} more trap(s) than the reference here`);
      break;
    }
    case 'start':
      where = 'start';
      pc = at.pc;
      icount = at.icount;
      why.push(`the sides already differ where this search started (icount ${at.icount})`);
      break;
    case 'boundary':
    case 'step':
    default:
      where = at.kind === 'step' ? 'instruction' : 'boundary';
      pc = good.pc;
      icount = at.kind === 'step' ? at.icount - 1 : at.icount;
      why.push(at.kind === 'step' ? 'stepping both sides: the state matches before this instruction and differs after it' : `at the checkpoint boundary at icount ${at.icount}`);
  }
  if (m.referenceEnded) why.push(m.referenceEnded);
  if (m.console) why.push(`console output differs at byte ${m.console.offset}`);
  if (m.stores.length) why.push(`memory written by the reference differs on the suspect (${m.stores.length} store${m.stores.length === 1 ? '' : 's'})`);
  else if (m.ram.bytes && !m.fields.length) why.push(`RAM differs (${m.ram.bytes} bytes)`);

  // The instruction as the reference's memory held it then, and as the unit compiled it.
  let insn = '?';
  let unitInsn: string | null = null;
  let stale: string | null = null;
  const ui = unit ? unitInsnAt(unit, pc) : null;
  const raw = m.code.get(pc >>> 0);
  if (raw !== undefined) insn = disassemble(raw, pc);
  if (ui) {
    unitInsn = ui.text;
    if (raw === undefined) insn = ui.text;
    else if ((raw >>> 0) !== (ui.raw >>> 0)) {
      stale = `the unit was compiled from "${ui.text}" but memory now holds "${insn}" at ${hex(pc)}: stale code`;
      why.push(stale);
    }
  }
  const info = unit ? (m.units.get(unit) ?? unitInfo(unit)) : null;
  if (unit && info && !info.valid) {
    why.push(unit instanceof Block
      ? `${unitWord(unit)} had been invalidated (its code was overwritten) but still ran: a link to it survived (DESIGN.md, Linking and unlinking)`
      : `${unitWord(unit)} had been dropped (invalidated or replaced) but still ran`);
  }
  if (unit?.fault) why.push(`${unitWord(unit)} carries the injected fault ${unit.fault}`);
  return {
    icount, pc, insn, unitInsn: unitInsn !== insn ? unitInsn : null, where, explanation: why.join('; '),
    registers: m.fields, memory: m.stores, ram: m.ram, console: m.console,
    state: { names: snapshotNames(pass.suspect.hart), ...m.state }, around: around(m.code, pc),
    unit: info ? { ...info, execStart, indexInExec, stale } : null,
  };
}

/**
 * The instructions before and after `pc` that `code` (halfword address -> bits) holds. Code
 * before it is read from the earliest start whose instructions run on exactly to `pc`
 * (compressed instructions make other starts possible; this is the longest such run).
 */
function around(code: Map<number, number>, pc: number, n = 6): FirstDifference['around'] {
  const len = (raw: number) => ((raw & 3) === 3 ? 4 : 2);
  const at = (a: number) => code.get(a >>> 0);
  const out: FirstDifference['around'] = [];
  for (let s = pc - 2 * 2 * n; s < pc; s += 2) {
    let a = s;
    const run: number[] = [];
    while (a < pc && at(a) !== undefined) {
      run.push(a);
      a += len(at(a)!);
    }
    if (a === pc && run.length) {
      for (const x of run.slice(-n)) out.push({ pc: x >>> 0, text: disassemble(at(x)!, x), here: false });
      break;
    }
  }
  for (let a = pc, k = 0; k <= n && at(a) !== undefined; k++, a += len(at(a)!)) out.push({ pc: a >>> 0, text: disassemble(at(a)!, a), here: a === pc });
  return out;
}

function unitWord(u: Block | Trace | null): string {
  if (!u) return 'no unit';
  return u instanceof Block ? `block ${u.id}` : `trace ${u.id}`;
}

function decodeRd(raw: number): number {
  return decode(raw)?.rd ?? -1;
}

export type { Point, Mismatch };
