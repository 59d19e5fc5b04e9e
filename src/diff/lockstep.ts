// One lockstep pass: a reference side and a suspect side replay the same recording in this
// process; the suspect is observed, the reference is driven to the suspect's points.
//
// Soundness. The suspect must run exactly as a plain verified replay runs (DESIGN.md I7:
// what the JIT compiles and when depends on where the run loop stops, so an extra stop
// could move the bug). So it is only ever stopped where a verified replay stops (at the
// recording's checkpoints) and is otherwise observed from inside its own run: before each
// compiled unit (`Jit.onUnit`), at probes between the instructions of an instrumented
// unit (instrument.ts), and when a unit returns (a wrapper around its function). None of
// these changes what the suspect does. The reference is the one that is stopped anywhere:
// for the interpreter an extra stop changes nothing, and any correct tier gives the same
// architectural results wherever it stops (I1, I4).
//
// A point is compared as "the state just before the next instruction": at a unit's start
// the suspect's dispatcher has already taken any pending interrupt, so the reference takes
// one too (normalize); traps taken at the same icount are matched by the traps counter.
// At a unit's return and at checkpoints the state is compared raw (nothing serviced yet).
// Memory: the reference logs its stores (every RAM page watched), and at each point the
// bytes it stored are compared with the suspect's; the whole RAM is compared where a pass
// starts, at samples, and where the first difference is found.

import { now } from './clock.js';
import type { Block, Trace } from '../jit/unit.js';
import type { Recording } from '../record/reader.js';
import { ramDiff, sameSnapshot, snapshot, snapshotDiff, snapshotLength, storeDiff, type FieldDiff, type MemDiff } from './compare.js';
import { instrumentUnit, PROBE, unitInfo, type UnitFn, type UnitInfo } from './instrument.js';
import { EarlyStop, Side, type Outcome } from './side.js';
import { peekInsn, unitBytes } from './code.js';
import type { SideSettings } from './settings.js';

/** Bytes of code read on either side of a mismatch's pcs, for the report's surrounding instructions. */
const AROUND = 24;

type Unit = Block | Trace;

export interface Point {
  kind: 'start' | 'boundary' | 'hook' | 'probe' | 'after' | 'step' | 'end';
  /** Instructions retired (by the reference's count) at this point. */
  icount: number;
  /** Units entered before this point (a hook's own index). */
  ordinal: number;
  /** The unit about to run (hook), running (probe) or just returned (after). */
  unit: Unit | null;
  /** Instructions of the unit's execution before this point. */
  k: number;
  /** The suspect's pc here (the next instruction). */
  pc: number;
  /** For a probe or after: the pc of the unit's last instruction started before this point. */
  lastPc: number;
  /** For an after point: the unit's last instruction trapped (did not retire). */
  trapped?: boolean;
  /**
   * For an after point: an interrupt is pending and enabled, yet the unit left with
   * hart.attention clear, so nothing in the suspect will take it before its next stop.
   */
  pendingUnchecked?: boolean;
}

export interface Mismatch {
  at: Point;
  lastGood: Point;
  fields: FieldDiff[];
  /** Bytes the reference stored since the last good point that the suspect does not have. */
  stores: MemDiff[];
  /** All of RAM compared at this point. */
  ram: { ranges: MemDiff[]; bytes: number };
  console: { offset: number; reference: string; suspect: string } | null;
  /** The reference took more (or fewer) traps than the suspect at this point. */
  trapsDelta: number;
  /** The reference ended (exit, or could not go on) before this point. */
  referenceEnded: string | null;
  /** Instructions the suspect ran outside compiled units between the last good point and this one. */
  between: number;
  /** The reference's code at this moment, by virtual pc: the units' instructions (where they were compiled from) and the points' pcs. */
  code: Map<number, number>;
  /** The units of both points as they were at this moment (a trace may be regrown later). */
  units: Map<Unit, UnitInfo>;
  /** Both sides' whole snapshots here (snapshotNames order), for reports that show every field. */
  state: { reference: number[]; suspect: number[] };
}

export interface PassOptions {
  /** A checkpoint icount (or 0): both sides run there unobserved first. */
  start: number;
  /** Start observing at this hook ordinal instead of at `start` (a full check there). */
  fromOrdinal?: number;
  mode: 'insn' | 'sample';
  /** Sample mode: hook ordinals to check (sorted), or icounts (the first hook at or past each). */
  sampleOrdinals?: number[];
  sampleIcounts?: number[];
  /** Stop observing once the suspect is past this icount (a last full check there). */
  giveUpAt: number;
  /** Run both sides to the end afterwards, for their outcomes. */
  outcome: boolean;
  /** Insn mode: compare all of RAM at every unit's start and return too (small windows). */
  ramAtUnits?: boolean;
}

export interface Sample {
  ordinal: number;
  icount: number;
  ok: boolean;
}

export interface PassResult {
  /** The first difference (null: none seen while observing). */
  mismatch: Mismatch | null;
  /** Where observing began; false if the sides already differed there. */
  startOk: boolean;
  startPoint: Point | null;
  lastGood: Point | null;
  samples: Sample[];
  outcome: { reference: Outcome; suspect: Outcome } | null;
  reference: Side;
  suspect: Side;
  /** Seconds: to the start, observing, and to the end. */
  seconds: { toStart: number; observe: number; outcome: number };
  /** Units that could not be instrumented, with the reason. */
  uninstrumented: Map<Unit, string>;
}

interface Exec {
  unit: Unit;
  ic0: number;
  traps0: number;
  probes: number;
  ordinal: number;
  instrumented: boolean;
  lastPc: number;
}

/** Called with every side a diff creates (tests use it to plant a difference). */
export type SideSetup = (side: Side, role: 'reference' | 'suspect') => void;

/** Runs one lockstep pass (see the file comment). */
export function runPass(rec: Recording, a: SideSettings, b: SideSettings, images: string | undefined, o: PassOptions, setup?: SideSetup): PassResult {
  const R = new Side(rec, a, images);
  const S = new Side(rec, b, images);
  setup?.(R, 'reference');
  setup?.(S, 'suspect');
  return new Observer(R, S, o).run();
}

class Observer {
  private active = false;
  private ordinal = 0;
  private exec: Exec | null = null;
  private lastGood: Point | null = null;
  private mismatch: Mismatch | null = null;
  private startOk = true;
  private startPoint: Point | null = null;
  private readonly samples: Sample[] = [];
  private sampleIdx = 0;
  private readonly wrapped = new Map<Unit, UnitFn>();
  private readonly originals = new Map<Unit, UnitFn>();
  private readonly uninstrumented = new Map<Unit, string>();
  private readonly regs = new Int32Array(33);
  /** Icount where the last unit execution ended (for instructions run between units). */
  private lastAfterIcount = -1;
  private done = false;
  /** When the first difference was found (host clock, see clock.ts), or 0. */
  private tFound = 0;
  private readonly rSnap: Float64Array;
  private readonly sSnap: Float64Array;

  constructor(
    private readonly R: Side,
    private readonly S: Side,
    private readonly o: PassOptions,
  ) {
    this.rSnap = new Float64Array(snapshotLength(R.hart));
    this.sSnap = new Float64Array(snapshotLength(S.hart));
  }

  run(): PassResult {
    const { R, S, o } = this;
    const t0 = now();
    // Units are counted from the suspect's start when a pass names them by ordinal;
    // otherwise the suspect runs to the start as a plain replay does, and every unit from
    // there on is seen. (The hook makes every unit pass the dispatcher, which the JIT
    // keeps free of consequences for what it compiles and when.)
    S.unitHook = (u, ic) => this.onUnit(u, ic);
    if (o.mode === 'sample' || o.fromOrdinal !== undefined) S.watch(true);
    R.run(o.start);
    S.run(o.start);
    S.watch(true);
    const t1 = now();
    const g = globalThis as Record<string, unknown>;
    const savedProbe = g[PROBE];
    g[PROBE] = (pc: number, locals: number[] | null) => this.probe(pc, locals);
    try {
      if (o.fromOrdinal === undefined) {
        const p = this.point('start', S.icount, null, 0, S.hart.pc, 0);
        this.startPoint = p;
        this.activate();
        try {
          if (!this.check(p, null, false, true)) this.startOk = false;
        } catch (e) {
          if (!(e instanceof EarlyStop)) throw e;
        }
      }
      if (!this.done) {
        if (S.jit) S.run(S.stopAt);
        else this.stepBoth();
      }
      if (this.active && !this.done) {
        // The suspect's run ended (exit, or stopped) with no unit after the last point: one
        // more comparison where it ended.
        this.exec = null;
        const p = this.point('end', S.icount, null, 0, S.hart.pc, 0);
        R.syncTo(S.icount, S.hart.traps, false);
        try {
          this.check(p, null, false, true);
        } catch (e) {
          if (!(e instanceof EarlyStop)) throw e;
        }
      }
      this.deactivate();
      // The suspect goes on to its end inside its run: time after the find is the outcome's.
      const t2 = this.tFound || now();
      let outcome: PassResult['outcome'] = null;
      if (o.outcome) outcome = { reference: R.finish(), suspect: S.finish() };
      const t3 = now();
      return {
        mismatch: this.mismatch, startOk: this.startOk, startPoint: this.startPoint, lastGood: this.lastGood, samples: this.samples,
        outcome, reference: R, suspect: S, uninstrumented: this.uninstrumented,
        seconds: { toStart: (t1 - t0) / 1000, observe: (t2 - t1) / 1000, outcome: (t3 - t2) / 1000 },
      };
    } finally {
      this.deactivate();
      S.unitHook = null;
      g[PROBE] = savedProbe;
    }
  }

  private point(kind: Point['kind'], icount: number, unit: Unit | null, k: number, pc: number, lastPc: number): Point {
    return { kind, icount, ordinal: this.ordinal, unit, k, pc: pc >>> 0, lastPc: lastPc >>> 0 };
  }

  private activate(): void {
    this.active = true;
    if (this.o.mode === 'insn') this.R.watchStores(true);
    this.S.onCheckpoint = (c) => this.boundary(c);
  }

  /** Stops observing: restores the units' functions and the reference's stores. */
  private deactivate(): void {
    if (this.done) return;
    this.active = false;
    this.done = true;
    this.exec = null;
    // (Only where our wrapper is still in place: the JIT may have given a unit new code.)
    for (const [u, fn] of this.originals) if ((u as { fn: unknown }).fn === this.wrapped.get(u)) (u as { fn: unknown }).fn = fn;
    this.R.watchStores(false);
    this.S.onCheckpoint = null;
  }

  /** Ends the pass here: on to the end for outcomes, or stop the suspect now. */
  private finish(): void {
    this.deactivate();
    if (!this.o.outcome) throw new EarlyStop('pass over');
  }

  // ---- observation points ----

  private onUnit(u: Unit, ic: number): void {
    const ord = this.ordinal++;
    if (this.done) return;
    const S = this.S;
    if (!this.active) {
      if (this.o.fromOrdinal === undefined || ord < this.o.fromOrdinal) return;
      // Observation starts at this hook, with a full check.
      const p = { ...this.point('start', ic, u, 0, S.hart.pc, 0), ordinal: ord };
      this.startPoint = p;
      this.activate();
      if (!this.check(p, null, true, true)) {
        this.startOk = false;
        return;
      }
    } else if (ic > this.o.giveUpAt) {
      const p = { ...this.point('hook', ic, u, 0, S.hart.pc, 0), ordinal: ord };
      this.check(p, null, true, true);
      if (!this.done) this.finish();
      return;
    }
    if (this.o.mode === 'sample') {
      if (!this.isSample(ord, ic)) return;
      const p = { ...this.point('hook', ic, u, 0, S.hart.pc, 0), ordinal: ord };
      // Recorded before the check, which ends the pass (throws) on a difference.
      const sample = { ordinal: ord, icount: ic, ok: false };
      this.samples.push(sample);
      if (!this.check(p, null, true, true)) return;
      sample.ok = true;
      if (this.sampleIdx >= (this.o.sampleOrdinals ?? this.o.sampleIcounts ?? []).length) this.finish();
      return;
    }
    const p = { ...this.point('hook', ic, u, 0, S.hart.pc, 0), ordinal: ord };
    if (this.exec) this.exec = null; // the previous unit left by a trap: no after-point
    if (!this.check(p, null, true, this.o.ramAtUnits === true)) return;
    this.exec = { unit: u, ic0: ic, traps0: S.hart.traps, probes: 0, ordinal: ord, instrumented: this.instrument(u), lastPc: S.hart.pc };
  }

  private isSample(ord: number, ic: number): boolean {
    const ords = this.o.sampleOrdinals, ics = this.o.sampleIcounts;
    let hit = false;
    if (ords) {
      while (this.sampleIdx < ords.length && ords[this.sampleIdx] <= ord) {
        this.sampleIdx++;
        hit = true;
      }
    } else if (ics) {
      while (this.sampleIdx < ics.length && ics[this.sampleIdx] <= ic) {
        this.sampleIdx++;
        hit = true;
      }
    }
    return hit;
  }

  /** Puts the instrumented (or merely wrapped) function in place; true if instrumented. */
  private instrument(u: Unit): boolean {
    const have = this.wrapped.get(u);
    const cur = (u as { fn: unknown }).fn;
    if (have && (cur === have || cur === this.originals.get(u))) {
      (u as { fn: unknown }).fn = have;
      return !this.uninstrumented.has(u);
    }
    this.uninstrumented.delete(u);
    const orig = (u as { fn: UnitFn }).fn;
    const inst = instrumentUnit(u, this.S.hart);
    let inner: UnitFn;
    if (typeof inst === 'string') {
      this.uninstrumented.set(u, inst);
      inner = orig;
    } else {
      inner = inst.fn;
      this.localCache.set(u, inst.locals);
    }
    const exec = () => this.exec;
    const fn: UnitFn = (hart, limit) => {
      const e = exec();
      const slot = inner(hart, limit);
      if (e !== null) this.after(e);
      return slot;
    };
    this.originals.set(u, orig);
    this.wrapped.set(u, fn);
    (u as { fn: unknown }).fn = fn;
    return typeof inst !== 'string';
  }

  private probe(pc: number, locals: number[] | null): void {
    const e = this.exec;
    if (!this.active || e === null) return;
    const k = e.probes++;
    e.lastPc = pc;
    if (k === 0) return; // the unit's start: checked at its hook
    const S = this.S;
    let regs: ArrayLike<number> = S.hart.x;
    if (locals !== null) {
      const r = this.regs;
      r.set(S.hart.x);
      const names = this.localNames(e.unit);
      for (let i = 0; i < names.length; i++) r[names[i]] = locals[i];
      regs = r;
    }
    const p = this.point('probe', e.ic0 + k, e.unit, k, pc, e.lastPc);
    p.ordinal = e.ordinal;
    this.R.syncTo(e.ic0 + k, e.traps0, true);
    this.check(p, { pc, icount: e.ic0 + k, regs }, false, false);
  }

  private readonly localCache = new Map<Unit, number[]>();
  private localNames(u: Unit): number[] {
    return this.localCache.get(u) ?? [];
  }

  private after(e: Exec): void {
    if (!this.active || this.exec !== e) return;
    this.exec = null;
    const S = this.S;
    // Instructions the unit retired: one per probe that fired, but for a last (system)
    // instruction that trapped (ecall, ebreak, a CSR access fault). Uninstrumented: as the
    // suspect counts them.
    const trapped = ((S.hart.traps - e.traps0) | 0) > 0;
    const ic = e.instrumented ? e.ic0 + e.probes - (trapped ? 1 : 0) : S.icount;
    const p = this.point('after', ic, e.unit, e.probes, S.hart.pc, e.lastPc);
    p.ordinal = e.ordinal;
    p.trapped = trapped;
    const R = this.R;
    R.advanceRaw(ic);
    for (let n = 0; trapped && ((S.hart.traps - R.hart.traps) | 0) > 0 && R.icount === ic && !R.dead && n < 8; n++) R.attempt();
    p.pendingUnchecked = !S.hart.attention && S.hart.pendingInterrupt() >= 0;
    if (this.check(p, null, false, this.o.ramAtUnits === true)) this.lastAfterIcount = S.icount;
  }

  private boundary(c: number): void {
    if (!this.active || this.o.mode === 'sample') return;
    const p = this.point('boundary', c, null, 0, this.S.hart.pc, 0);
    this.exec = null;
    this.R.advanceRaw(c);
    this.check(p, null, false, false);
  }

  /** Suspect without a JIT (the interpreter): both sides are stepped one instruction at a time. */
  private stepBoth(): void {
    const { R, S, o } = this;
    S.watchStores(true);
    try {
      while (this.active && !S.dead && !S.machine.exit && S.icount < Math.min(o.giveUpAt + 1, S.stopAt)) {
        const ic = S.icount + 1;
        S.syncTo(ic, S.hart.traps, true);
        R.syncTo(S.icount, S.hart.traps, true);
        const p = this.point('step', S.icount, null, 0, S.hart.pc, 0);
        R.stores.push(...S.stores);
        S.stores = [];
        if (!this.check(p, null, false, false)) return;
        if (S.icount < ic) break;
      }
    } catch (e) {
      if (!(e instanceof EarlyStop)) throw e;
    } finally {
      S.watchStores(false);
    }
  }

  /**
   * Compares the sides at a point (the suspect as seen through `view`, if given). The
   * reference has been brought there; `normalize` takes its pending interrupt first.
   */
  private check(p: Point, view: { pc: number; icount: number; regs: ArrayLike<number> } | null, normalize: boolean, fullRam: boolean): boolean {
    const { R, S } = this;
    if (p.kind === 'hook' || p.kind === 'start') R.syncTo(p.icount, S.hart.traps, normalize);
    const rs = snapshot(R.machine, undefined, this.rSnap);
    const ss = snapshot(S.machine, view ?? undefined, this.sSnap);
    const stores = R.stores.length ? storeDiff(R.stores, R.machine.mem, S.machine.mem) : [];
    R.stores.length = 0;
    const consoleOk = R.consoleHash === S.consoleHash && R.consoleBytes.length === S.consoleBytes.length;
    const ram = fullRam ? ramDiff(R.machine.mem, S.machine.mem) : null;
    if (sameSnapshot(rs, ss) && stores.length === 0 && consoleOk && (!ram || ram.bytes === 0)) {
      this.lastGood = p;
      return true;
    }
    let con: Mismatch['console'] = null;
    if (!consoleOk) {
      const e = R.consoleBytes, s = S.consoleBytes;
      let i = 0;
      while (i < e.length && i < s.length && e[i] === s[i]) i++;
      const text = (b: number[]) => Buffer.from(b.slice(Math.max(0, i - 20), i + 40)).toString('latin1');
      con = { offset: i, reference: text(e), suspect: text(s) };
    }
    const ended = R.machine.exit ? `the reference ended (${R.machine.exit.reason}, code ${R.machine.exit.code}) at icount ${R.icount}`
      : R.dead ? `the reference stopped at icount ${R.icount}: ${R.firstFailure?.what ?? 'replay error'}` : R.icount < p.icount ? `the reference could not reach icount ${p.icount} (at ${R.icount})` : null;
    const good = this.lastGood ?? p;
    const code = new Map<number, number>();
    // The code around each pc too (every halfword), so a report can show the neighbours.
    for (const pc of [p.pc, p.lastPc, good.pc, good.lastPc]) {
      for (let a = pc - AROUND; a <= pc + AROUND; a += 2) {
        const raw = peekInsn(R.machine, a);
        if (raw !== null) code.set(a >>> 0, raw);
      }
    }
    for (const pc of [p.pc, p.lastPc, good.pc, good.lastPc]) {
      const raw = peekInsn(R.machine, pc);
      if (raw !== null) code.set(pc >>> 0, raw);
    }
    const units = new Map<Unit, UnitInfo>();
    for (const u of [p.unit, good.unit]) {
      if (!u) continue;
      for (const [pc, raw] of unitBytes(R.machine, u)) code.set(pc, raw);
      if (!units.has(u)) units.set(u, unitInfo(u));
    }
    this.tFound = now();
    this.mismatch = {
      at: p,
      lastGood: good,
      code,
      units,
      fields: snapshotDiff(S.hart, rs.slice(), ss.slice()),
      state: { reference: Array.from(rs), suspect: Array.from(ss) },
      stores,
      ram: ram ?? ramDiff(R.machine.mem, S.machine.mem),
      console: con,
      trapsDelta: (R.hart.traps - S.hart.traps) | 0,
      referenceEnded: ended,
      between: this.lastAfterIcount >= 0 && (p.kind === 'hook' || p.kind === 'end') ? Math.max(0, S.icount - this.lastAfterIcount) : 0,
    };
    this.finish();
    return false;
  }
}
