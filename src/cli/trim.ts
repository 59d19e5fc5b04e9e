// `deja trim FILE -o OUT (--from N | --last N)`: a recording that starts at icount N with
// the whole machine there (every non-zero RAM page, the boot ROM, registers, devices, disk
// overlays) and goes on to where FILE ends: the same inputs, checkpoints and end, at the
// same icounts. It needs none of FILE's firmware, kernel or initrd; disks are still named
// by hash (or embedded with --embed).

import { renameSync, rmSync, statSync } from 'node:fs';
import { fullSnapshot } from '../machine/snapshot.js';
import { RecordingWriter } from '../record/writer.js';
import { dropSnapshotsOf, encodeSnapshot } from '../record/snapshot-file.js';
import { embeddedImages } from '../record/manifest.js';
import { hashVersion } from '../record/state-hash.js';
import { parseCount } from '../option-values.js';
import { checkIcount, loadRecording, recordingEnd } from '../session/replay-session.js';
import { loadSnapshots, seek } from '../session/seek.js';
import { UserError, ExitCode } from '../errors.js';
import { plural } from '../plural.js';
import { formatDivergence } from './replay.js';
import { refuseOverwrite } from './run.js';

export interface TrimOptions {
  output?: string;
  from?: string;
  last?: string;
  embed?: boolean;
  images?: string;
  force?: boolean;
  snapshots?: boolean;
}

/** Whether two paths name one file (a link to it included). */
function sameFile(a: string, b: string): boolean {
  try {
    const x = statSync(a);
    const y = statSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

export async function trimCommand(file: string, o: TrimOptions): Promise<number> {
  if (!o.output) throw new UserError('trim: give the output file with -o OUT', ExitCode.Usage);
  if ((o.from === undefined) === (o.last === undefined)) throw new UserError('trim: give one of --from N (start at icount N) or --last N (keep the last N instructions)', ExitCode.Usage);
  // As run --record does: an earlier recording is replaced, another file is not (unless
  // --force); nor is the recording being trimmed, which would be lost.
  if (!o.force) {
    if (sameFile(o.output, file)) throw new UserError(`${o.output}: is the recording being trimmed; give another -o, or --force to replace it`, ExitCode.Usage);
    refuseOverwrite(o.output);
  }
  const rec = await loadRecording(file, 'trim');
  const end = recordingEnd(rec).icount;
  const first = rec.header.start?.icount ?? 0;
  const start = o.from !== undefined ? parseCount(o.from, '--from', 'an icount (examples: 1000000, 40M)') : Math.max(first, end - parseCount(o.last!, '--last'));
  checkIcount(rec, start, '--from');
  // At the end there is nothing left to replay: the end record is the guest's last step.
  if (start >= end) throw new UserError(`trim: nothing would be left: ${file} ends at icount ${end} (give --from below it, or --last 1 or more)`, ExitCode.Usage);
  const snaps = loadSnapshots(file, rec, o.snapshots !== false);
  const { session, from, result } = seek(rec, start, snaps, undefined, { images: o.images });
  if (result.divergence) {
    process.stderr.write(formatDivergence(result.divergence, file) + '\n');
    return ExitCode.Divergence;
  }
  const state = { ...fullSnapshot(session.machine), log: { console: session.checker!.console.save() } };
  // The checkpoint at `start` was checked before the replay stopped; inputs due there were not yet taken.
  const events = rec.events.filter((e) => (e.kind === 'checkpoint' ? e.icount > start : e.icount >= start));
  // Disks stay as they were (embedded or by hash), unless --embed embeds them all.
  const config = session.machine.config;
  const embed = (sha: string) => o.embed === true || rec.embedded.has(sha);
  const embedded = embeddedImages({ ramBytes: config.ramBytes, append: config.append, disks: config.disks }).filter((i) => embed(i.sha256));
  const images = rec.header.images.filter((i) => i.role === 'disk').map((i) => ({ ...i, embedded: embed(i.sha256) }));
  const header = { ...rec.header, created: new Date().toISOString(), images, checkpointHashes: hashVersion(rec), start: { icount: start, from: { name: file, identity: rec.identity } } };
  // Written beside OUT and put in its place when whole: a trim that fails or is killed
  // leaves what OUT was.
  const partial = `${o.output}.partial`;
  try {
    const w = new RecordingWriter(partial, header, embedded, encodeSnapshot(state));
    for (const e of events) w.add(e);
    w.close();
  } catch (e) {
    rmSync(partial, { force: true });
    throw e;
  }
  dropSnapshotsOf(o.output); // they would name the file this replaces
  renameSync(partial, o.output);
  const size = statSync(o.output).size;
  const via = from && from !== first ? `from the snapshot at icount ${from}` : first ? `from its start at icount ${first}` : 'from reset';
  process.stderr.write(`deja: trim: ${o.output} starts at icount ${start} and ends at ${end} as ${file} does (${end - start} instructions, ${plural(events.filter((e) => e.kind === 'checkpoint').length, 'checkpoint')}); ${size} bytes, ${state.pages.length} RAM pages; replayed there ${via}\n`);
  return ExitCode.Ok;
}
