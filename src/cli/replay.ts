// `deja replay FILE` and `deja inspect FILE`.

import { formatExit } from '../machine/machine.js';
import type { DivergenceReport } from '../record/replay.js';
import { hashesFor } from '../record/state-hash.js';
import { UserError, ExitCode } from '../errors.js';
import { parseCount } from '../option-values.js';
import { ConsoleOut, catchStopSignals } from './console.js';
import { ProgressLine } from './progress.js';
import { checkStatsPath, exitCodeFor, writeStats } from './run.js';
import { prepareTier, reportDumps, tierStats, tuneJit } from './tier.js';
import { tierSettings, type TierOptions } from '../session/tier.js';
import { cutShortNote, loadSnapshots, startFrom } from '../session/seek.js';
import { ReplaySession, checkIcount, loadRecording, recordingEnd, type ReplayResult } from '../session/replay-session.js';
import type { Recording } from '../record/reader.js';
import { exercised, formatExercised } from '../diff/exercised.js';

export interface ReplayOptions extends TierOptions {
  images?: string;
  statsJson?: string;
  verify?: boolean;
  quiet?: boolean;
  json?: boolean;
  /** Stop at this icount (the machine after that many instructions). */
  to?: string;
  /** false: --to replays from reset, not from the snapshots beside the recording. */
  snapshots?: boolean;
}

/** The report: a first line that says it all (naming the recording if given), then details. */
export function formatDivergence(d: DivergenceReport, file?: string): string {
  const hex = (v: number) => `0x${(v >>> 0).toString(16).padStart(8, '0')}`;
  const lines = [`${file ? `deja: ${file}: ` : ''}DIVERGENCE at icount ${d.icount}: ${d.what}`, `  window: after icount ${d.since} (last matching checkpoint), at or before ${d.icount}`];
  if (d.pc) lines.push(`  pc: recorded ${hex(d.pc.expected)}, replay ${hex(d.pc.actual)}`);
  if (d.priv) lines.push(`  privilege: recorded ${d.priv.expected}, replay ${d.priv.actual}`);
  if (d.console) {
    lines.push(`  console differs at byte ${d.console.offset}:`);
    lines.push(`    recorded: ${JSON.stringify(d.console.expected)}`);
    lines.push(`    replay:   ${JSON.stringify(d.console.actual)}`);
  }
  if (d.state) {
    const s = d.state;
    lines.push(`  replay state: pc=${hex(s.pc)} priv=${s.priv} ` + Array.from({ length: 31 }, (_, i) => `x${i + 1}=${hex(s[`x${i + 1}`])}`).join(' '));
  }
  return lines.join('\n');
}

export async function replayCommand(file: string, o: ReplayOptions): Promise<number> {
  const tiers = tierSettings(o);
  const rec = await loadRecording(file);
  const stopAt = recordingEnd(rec).icount;
  const to = o.to === undefined ? null : parseCount(o.to, '--to', 'an icount (examples: 1000000, 40M)');
  if (to !== null) checkIcount(rec, to, '--to');
  if (o.statsJson) checkStatsPath(o.statsJson);
  prepareTier(tiers); // the recording is good: V8 compiles the interpreter while the machine is built
  const meter = ProgressLine.create(o.quiet);
  const out = new ConsoleOut(o.quiet ? null : process.stdout, () => meter?.clear());
  if (process.stdout.isTTY) meter?.holdWhile(() => !out.atLineStart);
  const now = () => performance.now();
  const session = new ReplaySession(rec, tiers, { images: o.images, verify: o.verify, console: (b) => out.write(b), now, dump: (text) => process.stderr.write(text) });
  const jit = session.jit;
  tuneJit(tiers, jit);
  const snaps = to === null ? null : loadSnapshots(file, rec, o.snapshots !== false);
  const snapshotAt = to === null ? 0 : startFrom(session, snaps, to);
  // Where this replay started: a snapshot, a trimmed recording's start, or reset.
  const from = snapshotAt || (rec.header.start?.icount ?? 0);
  meter?.watch(session.machine, to ?? stopAt, 'replay');
  // SIGINT and SIGTERM stop the replay at its next checkpoint (deja sees signals there).
  let stoppedBy: NodeJS.Signals | null = null;
  const release = catchStopSignals((sig) => (stoppedBy ??= sig));
  let r: Awaited<ReturnType<ReplaySession['replayUntilStopped']>>;
  try {
    r = await session.replayUntilStopped(to ?? stopAt, () => {
      out.flush(); // the console so far shows at every checkpoint
      return stoppedBy !== null;
    });
  } finally {
    release();
  }
  meter?.clear();
  out.flush();
  reportDumps(tiers, jit);
  const ran = exercised(tiers.tier, jit, r.icount - from);
  // Where --to stopped, with the hash a checkpoint there would have (state-hash.ts).
  // (A replay stopped by a signal short of --to is not where --to asked: no hashes for it.)
  const stoppedAt = to === null || r.interrupted ? {} : { to, pc: r.pc, stateHash: hashesFor(rec).state(session.machine), deviceHash: hashesFor(rec).devices(session.machine) };
  if (o.statsJson) {
    writeStats(o.statsJson, { exit: r.interrupted ? { reason: 'stop', code: 0 } : r.exit, icount: r.icount, seconds: r.seconds }, { ...tierStats(tiers.tier, jit, r.icount - from), replay: { from, checkpoints: r.checkpoints, diverged: r.divergence !== null, truncated: rec.truncatedAt, interrupted: stoppedBy, exercised: ran, ...stoppedAt } });
  }
  // Under a JIT tier the last line says what it compiled, nothing included (DESIGN.md I10).
  const compiled = jit ? ` ${formatExercised(ran)}` : '';
  if (r.divergence) {
    process.stderr.write(formatDivergence(r.divergence, file) + (jit ? `\n  up to there:${compiled}` : '') + '\n');
    return ExitCode.Divergence;
  }
  if (r.interrupted) {
    const total = rec.events.filter((e) => e.kind === 'checkpoint').length;
    const verify = o.verify === false ? 'checkpoints not checked (--no-verify)' : `${r.checkpoints} of ${total} checkpoints verified`;
    process.stderr.write(`deja: replay: stopped by ${stoppedBy} at icount ${r.icount}, ${verify}; ${to !== null && to < stopAt ? `short of icount ${to}, where --to asked to stop` : `the recording goes on to icount ${stopAt}`}${compiled}\n`);
    return ExitCode.Stopped;
  }
  if (to !== null) {
    const cut = cutShortNote(snaps);
    process.stderr.write(`${stopLine(rec, r, from, to === stopAt, o.verify !== false)}${cut ? `; ${cut}` : ''}${compiled}\n`);
    return ExitCode.Ok;
  }
  const total = rec.events.filter((e) => e.kind === 'checkpoint').length;
  const verified = o.verify === false ? 'checkpoints not checked (--no-verify)' : `${r.checkpoints} of ${total} checkpoints verified`;
  if (rec.truncated) {
    // A killed recorder's file: everything it holds replayed and matched, but it has no end.
    process.stderr.write(`deja: ${file}: recording is truncated at icount ${rec.truncatedAt} (${rec.truncated}); replayed to there, ${verified}${compiled}\n`);
    return ExitCode.BadInput;
  }
  process.stderr.write(`deja: replay: ${formatExit(r.exit)} at icount ${r.icount} as recorded, ${verified}${compiled}\n`);
  return exitCodeFor(r.exit);
}

/** The line of a replay that stopped at --to, the guest there as recorded (whatever comes after). */
function stopLine(rec: Recording, r: ReplayResult, from: number, atEnd: boolean, verify: boolean): string {
  const checkpoints = rec.events.filter((e) => e.kind === 'checkpoint' && e.icount > from);
  const total = checkpoints.filter((e) => e.icount <= r.icount).length;
  const first = checkpoints.length ? ` (the ${from ? 'next' : 'first'} is at icount ${checkpoints[0].icount})` : '';
  const verified = !verify ? 'checkpoints not checked (--no-verify)' : total ? `${r.checkpoints} of ${total} checkpoints up to there verified` : `no checkpoint up to there to verify${first}`;
  const ended = atEnd && r.exit.reason !== 'limit' ? `; the run ended there, ${formatExit(r.exit)}, as recorded` : '';
  const start = from && from !== (rec.header.start?.icount ?? 0) ? ` from the snapshot at icount ${from},` : '';
  return `deja: replay: stopped at icount ${r.icount} as asked,${start} pc 0x${r.pc.toString(16).padStart(8, '0')}, ${verified}${ended}`;
}

export async function inspectCommand(file: string, o: ReplayOptions): Promise<number> {
  const rec = await loadRecording(file);
  const counts: Record<string, number> = {};
  for (const e of rec.events) counts[e.kind] = (counts[e.kind] ?? 0) + 1;
  const end = rec.events.find((e) => e.kind === 'end');
  const checkpoints = rec.events.filter((e) => e.kind === 'checkpoint').map((e) => e.icount);
  const info = {
    file,
    deja: rec.header.deja,
    created: rec.header.created,
    config: rec.header.config,
    argv: rec.header.argv,
    settings: rec.header.settings,
    images: rec.header.images.map((i) => ({ ...i, embedded: rec.embedded.has(i.sha256) })),
    events: counts,
    // A recording starts at reset (icount 0), or a trimmed one where it was cut, and runs to its last event.
    icountSpan: [rec.header.start?.icount ?? 0, recordingEnd(rec).icount],
    start: rec.header.start ?? null,
    checkpoints,
    consoleBytes: rec.events.reduce((n, e) => n + (e.kind === 'checkpoint' ? e.console.length : 0), 0),
    end: end ?? null,
    truncated: rec.truncated,
    truncatedAt: rec.truncatedAt,
    chunks: rec.chunks,
    sizes: rec.sizes,
  };
  if (o.json) {
    process.stdout.write(JSON.stringify(info, (_k, v) => (v instanceof Uint8Array ? v.length : v), 2) + '\n');
    return 0;
  }
  const p = (s: string) => process.stdout.write(s + '\n');
  p(`recording  ${file}  (deja ${info.deja}, ${info.created})`);
  p(`command    ${info.argv.join(' ')}`);
  p(`machine    ram ${info.config.ramBytes / 1048576} MiB, append "${info.config.append}"`);
  for (const i of info.images) {
    const emb = rec.embedded.get(i.sha256);
    p(`image      ${i.role.padEnd(7)} ${i.name}  ${i.size} bytes  sha256 ${i.sha256.slice(0, 16)}…${emb ? `  embedded (${emb.compressedBytes} bytes compressed)` : ''}`);
  }
  p(`events     ${Object.entries(counts).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}`);
  p(`icounts    ${info.icountSpan[0]} .. ${info.icountSpan[1]}`);
  if (info.start) p(`start      trimmed: starts at icount ${info.start.icount} (${rec.start!.pages.length} RAM pages), cut from ${info.start.from.name}`);
  p(`console    ${info.consoleBytes} bytes`);
  p(`checkpoints ${checkpoints.length}${checkpoints.length ? ` (every ${info.config.checkpointEvery} instructions)` : ''}`);
  p(`end        ${end && end.kind === 'end' ? `${formatExit(end)} at icount ${end.icount}` : 'none (recorder did not finish)'}`);
  if (rec.truncated) p(`truncated  at icount ${rec.truncatedAt}: ${rec.truncated}`);
  p(`size       ${info.sizes.total} bytes: header ${info.sizes.header}, images ${info.sizes.images}${info.sizes.state ? `, starting state ${info.sizes.state}` : ''}, ${rec.chunks} chunks ${info.sizes.chunks}`);
  return 0;
}
