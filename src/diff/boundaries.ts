// Run-loop boundaries as stopping points for bisect's probes. A slice of the run loop ends
// at its limit: an input or device event is due, a checkpoint, the slice's length. Every
// tier stops exactly there (DESIGN.md I4), and where the limits fall depends only on the
// guest's state and icount, so a replay that compiles fewer units (a probe with
// --trace-limit or --block-limit) reaches the same limit, by its own run limit, with the
// same code run before it, for as long as its state is the same. A failing replay's first
// difference usually shows in the registers at the next such boundary, long before a
// checkpoint or the recording's end would tell: a probe that stops there and compares its
// state with the reference's gives the same verdict for a fraction of the run.

import { now } from './clock.js';
import { fnv1a } from '../record/state-hash.js';
import type { Machine } from '../machine/machine.js';
import type { Recording } from '../record/reader.js';
import { sameSnapshot, snapshot } from './compare.js';
import { StopReason } from '../cpu/hart.js';
import { EarlyStop, Side } from './side.js';
import type { SideSettings } from './settings.js';
import { exercised, type Exercised } from './exercised.js';

/** Where a failing replay's state first differs from the reference's, at one of its boundaries. */
export interface BoundaryStop {
  icount: number;
  /** The reference's state there (boundaryHash). */
  hash: number;
  /** The boundary before it, where the states were the same (0: none before it). */
  lastGood: number;
  /** What the failing replay had compiled and run by then. */
  exercised: Exercised;
  /** Boundaries compared, and the search's time. */
  compared: number;
  seconds: number;
}

/**
 * The state a boundary comparison covers, hashed: pc, privilege, icount, traps taken,
 * virtual time, registers and CSRs (the lockstep's snapshot), the console output so far,
 * and whether the guest has ended. RAM is left to the checkpoints: a wrong store shows
 * when it is loaded, or at the next one.
 */
export function boundaryHash(m: Machine, consoleHash: number): number {
  const s = snapshot(m);
  let h = fnv1a(0x811c9dc5, consoleHash);
  for (let i = 0; i < s.length; i++) {
    const v = s[i];
    h = fnv1a(fnv1a(h, v | 0), Math.floor(v / 4294967296) | 0);
  }
  const exit = m.exit;
  if (exit) for (const c of `${exit.reason}:${exit.code}`) h = fnv1a(h, c.charCodeAt(0));
  return h;
}

/**
 * Calls `f` at the first run-loop boundary at each icount, before that boundary's device
 * and input work (where a checkpoint hashes the machine); returns its removal.
 */
export function onBoundaries(m: Machine, f: (icount: number) => void): () => void {
  const prev = m.boundaryHook;
  let last = -1;
  const hook = (mm: Machine) => {
    prev?.(mm);
    const ic = mm.hart.icount;
    if (ic === last) return;
    last = ic;
    f(ic);
  };
  m.boundaryHook = hook;
  return () => {
    if (m.boundaryHook === hook) m.boundaryHook = prev;
  };
}

/**
 * Whether the run loop is at the limit it gave its last slice, with nothing stopping the
 * hart: a boundary that a run with that limit reaches with the same units run before it.
 * (The loop also returns early: after an access that asks it to, a wfi, a trap storm; a
 * run stopped there by its own limit would not have entered the unit that got there.)
 */
function atSliceLimit(m: Machine): boolean {
  return m.hart.icount === m.lastSliceLimit && m.hart.stop === StopReason.None;
}

/**
 * Replays `suspect` and `reference` side by side, boundary by boundary of the suspect (at
 * its slice limits), up to icount `to`: the first boundary where their states differ, or
 * null if none does (a difference in RAM alone, which checkpoints see).
 */
export function firstBadBoundary(rec: Recording, reference: SideSettings, suspect: SideSettings, to: number, images?: string): BoundaryStop | null {
  const t0 = now();
  const S = new Side(rec, suspect, images);
  const R = new Side(rec, reference, images);
  // The reference as it is at the start of its boundary at `target` (before that boundary's work, as the suspect is seen).
  let target = -1;
  type At = { state: Float64Array; console: number; ended: boolean; hash: number };
  let ref: At | null = null;
  const offR = onBoundaries(R.machine, (ic) => {
    if (ic === target) ref = { state: snapshot(R.machine), console: R.consoleHash, ended: R.machine.exit !== null, hash: boundaryHash(R.machine, R.consoleHash) };
  });
  let lastGood = 0;
  let compared = 0;
  let found: BoundaryStop | null = null;
  const offS = onBoundaries(S.machine, (ic) => {
    if (ic > to) throw new EarlyStop('past the failure');
    if (!atSliceLimit(S.machine)) return;
    target = ic;
    ref = null;
    R.run(ic);
    const r = ref as At | null;
    if (r === null) throw new EarlyStop('the reference stopped short');
    compared++;
    if (r.console === S.consoleHash && r.ended === (S.machine.exit !== null) && sameSnapshot(r.state, snapshot(S.machine))) {
      lastGood = ic;
      return;
    }
    found = { icount: ic, hash: r.hash, lastGood, exercised: exercised(suspect.tier, S.jit, ic), compared, seconds: 0 };
    throw new EarlyStop('found');
  });
  try {
    // (A checkpoint that fails, in RAM, does not end the search: the registers may differ at the same boundary.)
    S.run(Math.min(to, S.stopAt));
  } finally {
    offS();
    offR();
  }
  const f = found as BoundaryStop | null;
  if (f) f.seconds = (now() - t0) / 1000;
  return f;
}
