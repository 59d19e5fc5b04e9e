// `deja index FILE`: replays a recording once, checking it, and writes snapshots beside it
// (FILE.snapshots) every N instructions, so that `replay --to` and `state` start near any icount.

import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { DEFAULT_SNAPSHOT_EVERY } from '../machine/snapshot.js';
import { SnapshotWriter, snapshotPath } from '../record/snapshot-file.js';
import { parseEvery } from '../option-values.js';
import { ReplaySession, loadRecording } from '../session/replay-session.js';
import { tierSettings, type TierOptions } from '../session/tier.js';
import { exercised, formatExercised } from '../diff/exercised.js';
import { DEJA_VERSION } from '../version.js';
import { ExitCode } from '../errors.js';
import { plural } from '../plural.js';
import { formatDivergence } from './replay.js';
import { tuneJit } from './tier.js';
import { ProgressLine } from './progress.js';
import { catchStopSignals } from './console.js';

export interface IndexOptions extends TierOptions {
  every?: string;
  images?: string;
  quiet?: boolean;
}

export async function indexCommand(file: string, o: IndexOptions): Promise<number> {
  const tiers = tierSettings(o, 'trace');
  const every = o.every === undefined ? DEFAULT_SNAPSHOT_EVERY : parseEvery(o.every, '--every');
  const rec = await loadRecording(file);
  const session = new ReplaySession(rec, tiers, { images: o.images, now: () => performance.now() });
  tuneJit(tiers, session.jit);
  const out = snapshotPath(file);
  // Written beside it and put in its place when done: an index stopped or killed midway
  // leaves the snapshots there were.
  const partial = `${out}.partial`;
  // SIGINT and SIGTERM stop it at its next checkpoint or snapshot (deja sees signals there).
  let stoppedBy: NodeJS.Signals | null = null;
  const release = catchStopSignals((sig) => (stoppedBy ??= sig));
  const writer = new SnapshotWriter(partial, { recording: rec.identity, every, deja: DEJA_VERSION });
  const t0 = performance.now();
  const meter = ProgressLine.create(o.quiet);
  meter?.watch(session.machine, session.stopAt, 'index');
  let r;
  try {
    r = await session.replayTakingSnapshots(every, (s) => writer.add(s), () => stoppedBy !== null);
  } catch (e) {
    writer.close();
    rmSync(partial, { force: true });
    throw e;
  } finally {
    release();
    meter?.clear();
  }
  writer.close();
  if (r.interrupted) {
    rmSync(partial, { force: true });
    process.stderr.write(`deja: index: stopped by ${stoppedBy} at icount ${r.icount}; ${existsSync(out) ? `${out} is as it was` : 'no snapshots written'}\n`);
    return ExitCode.Stopped;
  }
  renameSync(partial, out);
  const ran = session.jit ? ` ${formatExercised(exercised(tiers.tier, session.jit, r.icount))}` : '';
  if (r.divergence) {
    process.stderr.write(formatDivergence(r.divergence, file) + `\n  the snapshots up to the last checkpoint that matched are in ${out}\n`);
    return ExitCode.Divergence;
  }
  const total = rec.events.filter((e) => e.kind === 'checkpoint').length;
  const bytes = statSync(out).size;
  const seconds = ((performance.now() - t0) / 1000).toFixed(2);
  const truncated = rec.truncated ? ` (the recording is truncated at icount ${rec.truncatedAt}: ${rec.truncated})` : '';
  process.stderr.write(`deja: index: ${plural(writer.count, 'snapshot')} every ${every} instructions to icount ${r.icount}${truncated}, ${bytes} bytes in ${out}; ${r.checkpoints} of ${total} checkpoints verified, ${seconds} s${ran}\n`);
  // A truncated recording is indexed up to where it ends, and is still a bad input (as for replay).
  if (rec.truncated) return ExitCode.BadInput;
  return ExitCode.Ok;
}
