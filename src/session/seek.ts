// Standing at an icount: a replay session restored from the last snapshot at or before it
// (if there are snapshots), then replayed to exactly there, checking on the way.

import { RecordingError } from '../record/format.js';
import type { Recording } from '../record/reader.js';
import { SnapshotFile, readSnapshotFile, snapshotPath } from '../record/snapshot-file.js';
import type { Snapshot } from '../machine/snapshot.js';
import { UserError, ExitCode } from '../errors.js';
import { ReplaySession, recordingEnd, type ReplayResult, type SessionOptions } from './replay-session.js';
import { INTERP, type TierSettings } from './tier.js';

export interface Seek {
  session: ReplaySession;
  /** The icount the replay started from: a snapshot's, or 0. */
  from: number;
  result: ReplayResult;
}

/** Snapshots to restore from: decoded, or a snapshot file that decodes what a chain needs. */
export type Snapshots = readonly Snapshot[] | SnapshotFile;

/** The snapshots a restore at the last one at or before `icount` applies, in order (empty: none is that early). */
export function chainTo(snapshots: Snapshots, icount: number): Snapshot[] {
  if (snapshots instanceof SnapshotFile) return snapshots.chainTo(icount);
  let k = 0;
  while (k < snapshots.length && snapshots[k].icount <= icount) k++;
  return snapshots.slice(0, k);
}

/**
 * Restores `session` (not yet run) from the last of `snapshots` at or before `to`; returns
 * the icount it now stands at (0: no snapshot is that early, nothing restored).
 */
export function startFrom(session: ReplaySession, snapshots: Snapshots | null, to: number): number {
  let chain: Snapshot[] = [];
  try {
    chain = snapshots ? chainTo(snapshots, to) : [];
    if (!chain.length) return 0;
    session.restore(chain);
  } catch (e) {
    if (e instanceof UserError) throw e;
    if (e instanceof RecordingError) throw new UserError(`${e.message}; the replay can run without it: --no-snapshots`, ExitCode.BadInput);
    const at = chain[chain.length - 1].icount;
    throw new UserError(`${snapshotPath(session.rec.path)}: the snapshot at icount ${at} does not fit this recording's machine (${(e as Error).message}); the replay can run without it: --no-snapshots`, ExitCode.BadInput);
  }
  return chain[chain.length - 1].icount;
}

/** A replay of `rec` stopped at exactly icount `to`, started from the nearest snapshot before it. */
export function seek(rec: Recording, to: number, snapshots: Snapshots | null, tier: TierSettings = INTERP, o: SessionOptions = {}): Seek {
  const session = new ReplaySession(rec, tier, o);
  const from = startFrom(session, snapshots, to);
  return { session, from, result: session.replay(to) };
}

/**
 * The snapshots beside recording `file`, or null if there are none (or `use` is false). A
 * bad file is a one-line user error (exit 3) that says the replay can run without it; so is
 * a truncated one, unless the recording is truncated too (a killed recorder leaves both cut
 * short): then its whole snapshots are used, and `cutShortNote` says so.
 */
export function loadSnapshots(file: string, rec: Recording, use = true): SnapshotFile | null {
  if (!use) return null;
  const refuse = (message: string) => new UserError(`${message}; the replay can run without it: --no-snapshots`, ExitCode.BadInput);
  let snaps: SnapshotFile | null;
  try {
    snaps = readSnapshotFile(snapshotPath(file), rec);
  } catch (e) {
    if (e instanceof RecordingError) throw refuse(e.message);
    throw e;
  }
  if (!snaps) return null;
  if (snaps.truncated && !rec.truncated) throw refuse(`${snaps.path}: truncated (${snaps.truncated}; the recording is whole)`);
  const end = recordingEnd(rec).icount;
  const past = rec.truncated ? undefined : snaps.entries.find((s) => s.icount > end);
  if (past) throw refuse(`${snaps.path}: a snapshot at icount ${past.icount}, past the recording's end (icount ${end})`);
  return snaps;
}

/** What a replay's line adds for a snapshot file cut short with its recording (null: it is whole). */
export function cutShortNote(snaps: SnapshotFile | null): string | null {
  if (!snaps?.truncated) return null;
  const n = snaps.entries.length;
  return `${snaps.path} is cut short as the recording is (${snaps.truncated}): its ${n} whole snapshot${n === 1 ? '' : 's'} used`;
}
