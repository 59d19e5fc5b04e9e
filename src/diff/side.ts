// One side of a comparison: a replay of the recording under some tier settings, in this
// process, that can be advanced to an exact icount and observed. It checks the recording's
// checkpoints as `deja replay` does (same stops, so a JIT side runs exactly as a verified
// replay would) but only records failures, so it can run on to its own end.

import { StopReason } from '../cpu/hart.js';
import { PAGE_SHIFT, PAGE_WATCH } from '../cpu/memory.js';
import { TranslationCache } from '../jit/translation-cache.js';
import type { Jit } from '../jit/jit.js';
import type { Block, Trace } from '../jit/unit.js';
import type { Machine, ExitStatus } from '../machine/machine.js';
import type { LogEvent } from '../record/format.js';
import type { Recording } from '../record/reader.js';
import { Divergence, endMismatch, runToEnd, type ReplayChecker, type ReplayPort } from '../record/replay.js';
import { ReplaySession } from '../session/replay-session.js';
import { runTo } from '../session/run-to.js';
import type { SideSettings } from './settings.js';
import { exercised, type Exercised } from './exercised.js';

type End = Extract<LogEvent, { kind: 'end' }>;

/** Compiled units run at one icount before a side is declared stuck. */
const STUCK_UNITS = 1_000_000;

/** Thrown from a checkpoint hook to end a run early (the side is not used again). */
export class EarlyStop extends Error {}

/** How a side's run compares with the recording. */
export interface Outcome {
  exit: ExitStatus;
  icount: number;
  checkpointsOk: number;
  checkpointsTotal: number;
  /** The first way this run left the recording (null: it matched to the end). */
  divergence: { icount: number; since: number; what: string } | null;
  /** Why the replay could not go on to the recording's end (an input it asked for differently, stuck), or null. */
  stopped: string | null;
  consoleBytes: number;
  /** The last console output, for the report. */
  consoleTail: string;
  /** Units compiled and instructions per tier, from icount 0 to where the run ended (I10). */
  exercised: Exercised;
}

/**
 * Replays of one recording in one process (diff's two sides, bisect's probes, fuzz's draws,
 * a threshold scan) share their translations: a unit whose source was compiled for an
 * earlier replay reuses that function's code.
 */
const translations = new WeakMap<Recording, TranslationCache>();

/** Called with every side made for a recording: the command line shows their progress. */
const watchers = new WeakMap<Recording, (side: Side) => void>();
export function watchSides(rec: Recording, f: (side: Side) => void): void {
  watchers.set(rec, f);
}
function translationsFor(rec: Recording): TranslationCache {
  let t = translations.get(rec);
  if (!t) translations.set(rec, (t = new TranslationCache()));
  return t;
}

export class Side {
  readonly machine: Machine;
  readonly jit: Jit | null;
  readonly port: ReplayPort;
  readonly consoleBytes: number[] = [];
  /** Checks the recording's checkpoints as `deja replay` does, reporting instead of throwing. */
  readonly checker: ReplayChecker;
  /** The first way the run left the recording (with the last checkpoint that matched before it). */
  firstFailure: { icount: number; since: number; what: string } | null = null;
  /** Stop the run at the first failure (throws EarlyStop out of the run). */
  stopAtFailure = false;
  /** The replay stopped for good: the port reported a divergence, or the run was stopped early. */
  dead = false;
  /** What stopped the side for good (a port divergence, stuck), if anything did. */
  stopped: string | null = null;
  readonly end: End | null;
  readonly stopAt: number;
  private readonly events: LogEvent[];
  /** Buffer offsets and widths of stores since the last `takeStores` (while watching). */
  stores: number[] = [];
  private watched: number[] | null = null;
  private prevWatch: Machine['mem']['watchListener'] = null;
  /** The side stopped mid-slice (advanceRaw, attempt): the run loop's boundary work there is still to do. */
  private boundaryPending = false;
  private watchIcount = -1;
  private watchCount = 0;
  /** Called before every compiled unit the side runs (Jit.onUnit), for lockstep observation. */
  unitHook: ((u: Block | Trace, icount: number) => void) | null = null;

  constructor(
    rec: Recording,
    readonly settings: SideSettings,
    images?: string,
  ) {
    const session = new ReplaySession(rec, settings, {
      images,
      translations: translationsFor(rec),
      dump: (text) => process.stderr.write(text),
      onMismatch: (r) => this.fail(r.icount, r.what),
      console: (b) => this.consoleBytes.push(b),
    });
    ({ machine: this.machine, jit: this.jit, port: this.port, end: this.end, stopAt: this.stopAt } = session);
    this.checker = session.checker!;
    this.events = rec.events;
    // The hook is installed only where it is needed: it makes the dispatcher see every
    // unit (no chaining of linked blocks), which changes no JIT decision but costs time.
    if (settings.jit?.fault) this.watch(true);
    watchers.get(rec)?.(this);
  }

  /** Called at every checkpoint boundary (before the check), for lockstep observation. */
  set onCheckpoint(f: ((icount: number) => void) | null) {
    this.checker.onCheckpoint = f;
  }

  /** Hash of the console output so far (as checkpoints hash it). */
  get consoleHash(): number {
    return this.checker.console.hash;
  }

  get checkpointsOk(): number {
    return this.checker.checked;
  }

  /**
   * Installs (or removes) the Jit.onUnit hook: the watchdog below, and `unitHook` for
   * lockstep observation.
   */
  watch(on: boolean): void {
    const jit = this.jit;
    if (!jit) return;
    if (!on) {
      jit.onUnit = null;
      return;
    }
    jit.onUnit = (u, ic) => {
      // Watchdog: a unit that retires nothing yet loops back to itself (a broken icount
      // count) would hang the run loop, which only returns at an icount limit.
      if (ic !== this.watchIcount) {
        this.watchIcount = ic;
        this.watchCount = 0;
      } else if (++this.watchCount > STUCK_UNITS) {
        this.dead = true;
        this.stopped = `stuck at icount ${ic}`;
        this.fail(ic, `stuck: ${STUCK_UNITS} compiled units ran at icount ${ic} without retiring an instruction (pc 0x${(this.hart.pc >>> 0).toString(16)})`, false);
        throw new EarlyStop('stuck');
      }
      this.unitHook?.(u, ic);
    };
  }

  get hart() {
    return this.machine.hart;
  }

  get icount(): number {
    return this.machine.hart.icount;
  }

  /** Checkpoint icounts of the recording (those checked at boundaries). */
  checkpointIcounts(): number[] {
    return this.checker.icounts();
  }

  /** Records a way the run left the recording; stops the run there if asked to (`canStop`: inside a run). */
  private fail(icount: number, what: string, canStop = true): void {
    if (!this.firstFailure) this.firstFailure = { icount, since: this.port.lastGood, what };
    if (this.stopAtFailure && canStop) throw new EarlyStop(what);
  }

  /**
   * Runs the machine to `limit` (or its end); a port divergence stops the side for good.
   * The run loop's boundary work at `limit` (devices, inputs, checkpoints) is done before
   * it returns.
   */
  run(limit: number): void {
    if (this.dead || this.machine.exit) return;
    const force = this.boundaryPending;
    this.boundaryPending = false;
    try {
      runTo(this.machine, limit, force);
    } catch (e) {
      if (e instanceof Divergence) {
        this.dead = true;
        this.stopped = `at icount ${e.report.icount}: ${e.report.what}`;
        this.fail(e.report.icount, e.report.what, false);
        return;
      }
      if (e instanceof EarlyStop) {
        this.dead = true;
        return;
      }
      throw e;
    }
  }

  /** Runs to the end of the recording and says how the run compares with it. */
  finish(): Outcome {
    const m = this.machine;
    const end = this.end;
    if (!this.dead) {
      this.stopAtFailure = false;
      runToEnd(m, this.stopAt, end, (limit) => this.run(limit));
    }
    const exit: ExitStatus = m.exit ?? { reason: end?.reason === 'stop' ? 'stop' : 'limit', code: 0 };
    if (!this.dead) {
      this.checker.finish(m);
      const what = endMismatch(m, this.events, this.port);
      if (what) this.fail(m.hart.icount, what);
    }
    const tail = Buffer.from(this.consoleBytes.slice(-160)).toString('latin1');
    return {
      exit, icount: m.hart.icount, checkpointsOk: this.checkpointsOk,
      checkpointsTotal: this.checker.total,
      divergence: this.firstFailure, stopped: this.stopped, consoleBytes: this.consoleBytes.length, consoleTail: tail,
      exercised: exercised(this.settings.tier, this.jit, m.hart.icount),
    };
  }

  // ---- Driving a side to exact points (the reference side, or an interpreter suspect) ----

  /**
   * Brings the side to icount `ic` with `traps` traps taken, as a run that goes on would
   * be just before its next instruction: with `normalize`, a pending interrupt is taken
   * (the next instruction would take it first); traps the other side took at this icount
   * are taken by attempting the instruction. Stops short if the side exits or cannot.
   */
  syncTo(ic: number, traps: number, normalize: boolean): void {
    const h = this.machine.hart;
    if (h.icount < ic || (this.boundaryPending && h.icount === ic)) this.run(ic);
    if (h.icount !== ic || this.dead || this.machine.exit) return;
    if (normalize) this.service();
    for (let n = 0; ((traps - h.traps) | 0) > 0 && n < 64; n++) {
      this.attempt();
      if (h.icount !== ic || this.dead || this.machine.exit) return;
      if (normalize) this.service();
    }
  }

  /**
   * Brings the side to icount `ic` as a run loop is when a unit has just returned there:
   * before the loop's boundary work at `ic` (which `syncTo` or `run` do later). A unit's
   * end may be the end of the suspect's slice, where a device event is due.
   */
  advanceRaw(ic: number): void {
    const h = this.machine.hart;
    if (h.icount < ic - 1 || (this.boundaryPending && h.icount === ic - 1)) this.run(ic - 1);
    if (h.icount !== ic - 1 || this.dead || this.machine.exit) return;
    h.attention = true;
    h.stormTraps = 0;
    try {
      this.machine.runFn(h, ic);
    } catch (e) {
      if (!(e instanceof Divergence)) throw e;
      this.dead = true;
      this.fail(e.report.icount, e.report.what, false);
    }
    this.boundaryPending = true;
  }

  /** Takes a pending and enabled interrupt now, as the run loop would before the next instruction. */
  service(): void {
    const h = this.machine.hart;
    if (h.stop === StopReason.None && !this.machine.exit && h.pendingInterrupt() >= 0) h.service();
  }

  /** Attempts one instruction: it retires, or it traps (and the trap is taken). */
  attempt(): void {
    const h = this.machine.hart;
    h.stopOnTrap = true;
    h.attention = true;
    h.stormTraps = 0;
    try {
      this.machine.runFn(h, h.icount + 1);
    } catch (e) {
      if (!(e instanceof Divergence)) throw e;
      this.dead = true;
      this.fail(e.report.icount, e.report.what, false);
    } finally {
      h.stopOnTrap = false;
      if (h.stop === StopReason.Requested) h.stop = StopReason.None;
      this.boundaryPending = true;
    }
  }

  /**
   * Logs every CPU store to RAM (buffer offset and width) from now on, by flagging every
   * RAM page as watched: stores then take the slow path (the TLB never maps a flagged page
   * for writing), which calls the watch listener. Only for a side that is not under test.
   */
  watchStores(on: boolean): void {
    const mem = this.machine.mem;
    if (on && !this.watched) {
      this.watched = [];
      const pages = mem.ramBytes >>> PAGE_SHIFT;
      for (let p = 0; p < pages; p++) {
        if (!(mem.pageFlags[p] & PAGE_WATCH)) {
          mem.pageFlags[p] |= PAGE_WATCH;
          this.watched.push(p);
        }
      }
      this.machine.hart.mmu.flush();
      this.prevWatch = mem.watchListener;
      const prev = this.prevWatch;
      mem.watchListener = (pa, width, value) => {
        const off = mem.offsetOf(pa);
        if (off >= 0) this.stores.push(off, width);
        prev?.(pa, width, value);
      };
    } else if (!on && this.watched) {
      for (const p of this.watched) mem.pageFlags[p] &= ~PAGE_WATCH;
      this.watched = null;
      mem.watchListener = this.prevWatch;
      this.stores = [];
    }
  }
}
