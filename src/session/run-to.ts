// Running a machine to exactly an icount (every tier stops there, DESIGN.md I4): past the
// run loop's boundary work there (checkpoints, the inputs due then), or stopped just before
// it, as a checkpoint or a snapshot at that icount sees the machine (a replay port seeked
// there serves those inputs next).

import type { Machine } from '../machine/machine.js';

/**
 * Runs `m` to icount `limit`, or until the guest exits, with the boundary work at `limit`
 * done; `force` does that work even if the machine is at `limit` already. The run loop
 * returns early only to give a live host its turn ('wait', 'idled'), which a replay port
 * asks for at the recording's end: a few turns are plenty.
 */
export function runTo(m: Machine, limit: number, force = false): void {
  for (let turns = 0; turns < 4 && (m.hart.icount < limit || (force && turns === 0)) && !m.exit; turns++) {
    const r = m.runUntil(limit);
    if (r === 'limit' || r === 'exit') break;
  }
}

/** Thrown from the checkpoint hook to leave the run loop at the stop (never escapes). */
const STOP = Symbol('stop');

/**
 * Runs `m` to icount `to`, or until the guest exits, and stops before the boundary work
 * there. The checkpoint hook runs at `to` first (a checkpoint there is checked); the hook
 * and its next icount are as they were afterwards, so the run can go on from `to`.
 */
export function runToIcount(m: Machine, to: number): void {
  const hook = m.checkpointHook;
  let next = m.nextCheckpoint;
  // The checkpoint hook runs at the very start of the boundary at its icount, before
  // anything is delivered: the one place to stop before the inputs due at `to`.
  m.checkpointHook = (mm) => {
    if (hook && mm.hart.icount >= next) next = hook(mm);
    if (mm.hart.icount >= to) throw STOP;
    return Math.min(next, to);
  };
  m.nextCheckpoint = Math.min(next, to);
  try {
    runTo(m, to, true);
  } catch (e) {
    if (e !== STOP) throw e;
  } finally {
    m.checkpointHook = hook;
    m.nextCheckpoint = next;
  }
}
