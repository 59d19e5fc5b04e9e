// Verified replays of one recording, run one after another in this process or side by side
// elsewhere (worker threads: src/cli/replay-pool.ts). fuzz's draws, a threshold scan's
// steps and bisect's probes go through here. A verdict depends only on the recording and
// the settings (DESIGN.md I1, I7), never on where or beside what it ran, so every caller
// reports in its own order whatever the number of jobs.

import { now } from './clock.js';
import type { Jit } from '../jit/jit.js';
import type { Recording } from '../record/reader.js';
import { formatExit } from '../machine/machine.js';
import { Side } from './side.js';
import { exercised, formatExercised, type Exercised } from './exercised.js';
import { boundaryHash, onBoundaries } from './boundaries.js';
import type { SideSettings } from './settings.js';

export interface ReplayVerdict {
  settings: string;
  diverged: boolean;
  /** Where it left the recording, and how. */
  icount: number | null;
  what: string | null;
  exit: string;
  seconds: number;
  /** Units compiled and instructions per tier, up to where it stopped. */
  exercised: Exercised;
  jit: Jit | null;
}

/** A verdict as it crosses to another thread: plain data. */
export type Verdict = Omit<ReplayVerdict, 'jit'>;

/**
 * Where a probe stops: a boundary of the failing replay (boundaries.ts) and the reference's
 * state there. The probe diverges if it leaves the recording before it, or its state there
 * is not the reference's.
 */
export interface ProbeStop {
  icount: number;
  hash: number;
}

/** A verified replay under `s` that stops at its first failure (as `deja replay` would report it), or at `stop`. */
export function verifyReplay(rec: Recording, s: SideSettings, images?: string, stop?: ProbeStop): ReplayVerdict {
  const t0 = now();
  const side = new Side(rec, s, images);
  side.stopAtFailure = true;
  if (!stop) {
    side.run(side.stopAt);
    const out = side.finish();
    const f = out.divergence;
    return {
      settings: s.text, diverged: f !== null, icount: f?.icount ?? null, what: f?.what ?? null,
      exit: `${formatExit(out.exit)} at icount ${out.icount}`,
      seconds: (now() - t0) / 1000,
      exercised: out.exercised, jit: side.jit,
    };
  }
  let hash: number | null = null;
  const off = onBoundaries(side.machine, (ic) => {
    if (ic === stop.icount) hash = boundaryHash(side.machine, side.consoleHash);
  });
  side.run(stop.icount);
  off();
  const m = side.machine;
  const ic = m.hart.icount;
  // (A guest that exits at that icount, with no boundary there, is compared as it stopped.)
  if (hash === null && ic === stop.icount && !side.dead) hash = boundaryHash(m, side.consoleHash);
  const f = side.firstFailure;
  const what = f ? f.what
    : hash === null ? `${m.exit ? formatExit(m.exit) : 'stopped'} at icount ${ic}, before icount ${stop.icount}, where the reference runs on`
    : hash !== stop.hash ? `its state differs from the reference's at icount ${stop.icount}, a run-loop boundary` : null;
  return {
    settings: s.text, diverged: what !== null, icount: f ? f.icount : what !== null ? Math.min(ic, stop.icount) : null, what,
    exit: `stopped at icount ${ic}${m.exit ? ` (${formatExit(m.exit)})` : ''}`,
    seconds: (now() - t0) / 1000,
    exercised: exercised(s.tier, side.jit, ic), jit: side.jit,
  };
}

/** A verdict's progress line: `ok` or where it diverges, its time and what it compiled. */
export function verdictLine(v: Pick<ReplayVerdict, 'diverged' | 'icount' | 'seconds' | 'exercised'>): string {
  return `${v.diverged ? `diverges at icount ${v.icount}` : 'ok'} [${v.seconds.toFixed(2)} s] ${formatExercised(v.exercised)}`;
}

export function plainVerdict(v: ReplayVerdict): Verdict {
  const { jit: _jit, ...rest } = v;
  void _jit;
  return rest;
}

/** One replay asked for: its verdict, or cancelled (its promise then never settles). */
export interface ReplayTask {
  result: Promise<Verdict>;
  cancel(): void;
}

/** Runs verified replays of one recording, up to `jobs` at a time, first asked first started. */
export interface Replays {
  readonly jobs: number;
  run(s: SideSettings, stop?: ProbeStop): ReplayTask;
  close(): Promise<void>;
}

/**
 * Replays in this process, one at a time. Each starts on a later turn of the event loop,
 * so a caller that cancels the rest from a verdict's callback does so before they start.
 */
export function inProcessReplays(rec: Recording, images?: string): Replays {
  const queue: { s: SideSettings; stop?: ProbeStop; done: (v: Verdict) => void; fail: (e: unknown) => void }[] = [];
  let busy = false;
  const next = () => {
    if (busy || !queue.length) return;
    busy = true;
    setImmediate(() => {
      busy = false;
      const t = queue.shift();
      if (!t) return;
      busy = true;
      try {
        t.done(plainVerdict(verifyReplay(rec, t.s, images, t.stop)));
      } catch (e) {
        t.fail(e);
      }
      busy = false;
      next();
    });
  };
  return {
    jobs: 1,
    run(s, stop) {
      let entry!: (typeof queue)[number];
      const result = new Promise<Verdict>((done, fail) => (entry = { s, stop, done, fail }));
      queue.push(entry);
      next();
      return { result, cancel: () => void (queue.includes(entry) && queue.splice(queue.indexOf(entry), 1)) };
    },
    close: async () => {
      queue.length = 0;
    },
  };
}

/**
 * Verdicts for `count` replays (the i-th under `settingsAt(i)`), handed to `each` in order.
 * When `each` returns true the list ends there: the replays after it are cancelled (not
 * started, or cut short) and left out. At most `replays.jobs` are asked for at once, the
 * next as the first in order is done, so a long list costs no more than its results.
 */
export async function replayInOrder(replays: Replays, count: number, settingsAt: (i: number) => SideSettings, each: (v: Verdict, i: number) => boolean | void = () => {}): Promise<Verdict[]> {
  const tasks: ReplayTask[] = [];
  const ask = (upTo: number) => {
    while (tasks.length < Math.min(count, upTo)) {
      const t = replays.run(settingsAt(tasks.length));
      t.result.catch(() => {}); // reported where it is awaited, not as an unhandled rejection
      tasks.push(t);
    }
  };
  const out: Verdict[] = [];
  try {
    for (let i = 0; i < count; i++) {
      ask(i + replays.jobs);
      const v = await tasks[i].result;
      out.push(v);
      if (each(v, i)) break;
    }
  } finally {
    for (const t of tasks.slice(out.length)) t.cancel();
  }
  return out;
}
