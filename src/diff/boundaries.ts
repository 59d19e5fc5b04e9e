// Run-loop boundaries as stopping points for bisect's probes. A boundary is where the run
// loop hands out a new slice: an input or device event is due, a checkpoint, a slice's end.
// Every tier stops at each one (DESIGN.md I4), and where they fall depends only on the
// guest's state and icount, so a replay that compiles fewer units (a probe with
// --trace-limit or --block-limit) meets the same boundaries, with the same code run before
// them, for as long as its state is the same. A failing replay's first difference usually
// shows in the registers at the next boundary, long before a checkpoint or the recording's
// end would tell: a probe that stops at that boundary and compares its state there with
// the reference's gives the same verdict for a fraction of the run.

import { now } from './clock.js';
import { fnv1a } from '../record/state-hash.js';
import type { Machine } from '../machine/machine.js';
import type { Recording } from '../record/reader.js';
import { snapshot } from './compare.js';
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
 * virtual time, registers and CSRs (the lockstep's snapshot), and the console output so far.
 * RAM is left to the checkpoints: a wrong store shows when it is loaded, or at the next one.
 */
export function boundaryHash(m: Machine, consoleHash: number): number {
  const s = snapshot(m);
  let h = fnv1a(0x811c9dc5, consoleHash);
  for (let i = 0; i < s.length; i++) {
    const v = s[i];
    h = fnv1a(fnv1a(h, v | 0), Math.floor(v / 4294967296) | 0);
  }
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
 * Replays `suspect` and `reference` side by side, boundary by boundary of the suspect, up
 * to icount `to`: the first boundary where their states differ, or null if none does (or
 * the suspect leaves the recording first, e.g. by a difference in RAM a checkpoint sees).
 */
export function firstBadBoundary(rec: Recording, reference: SideSettings, suspect: SideSettings, to: number, images?: string): BoundaryStop | null {
  const t0 = now();
  const S = new Side(rec, suspect, images);
  const R = new Side(rec, reference, images);
  S.stopAtFailure = true;
  let target = -1;
  let refHash = -1;
  const offR = onBoundaries(R.machine, (ic) => {
    if (ic === target) refHash = boundaryHash(R.machine, R.consoleHash);
  });
  let lastGood = 0;
  let compared = 0;
  let found: BoundaryStop | null = null;
  const offS = onBoundaries(S.machine, (ic) => {
    if (ic > to) throw new EarlyStop('past the failure');
    target = ic;
    refHash = -1;
    if (R.icount < ic) R.run(ic);
    // At the start (the reference has not run yet), or where it stopped (it exited there): as it is.
    if (refHash === -1 && R.icount === ic) refHash = boundaryHash(R.machine, R.consoleHash);
    if (refHash === -1) throw new EarlyStop('the reference stopped short');
    compared++;
    if (refHash === boundaryHash(S.machine, S.consoleHash)) {
      lastGood = ic;
      return;
    }
    found = { icount: ic, hash: refHash, lastGood, exercised: exercised(suspect.tier, S.jit, ic), compared, seconds: 0 };
    throw new EarlyStop('found');
  });
  try {
    S.run(Math.min(to, S.stopAt));
  } finally {
    offS();
    offR();
  }
  const f = found as BoundaryStop | null;
  if (f) f.seconds = (now() - t0) / 1000;
  return f;
}
