// What `deja report FILE` shows, as plain data for the page: the recording's header, its
// events, the console lines (a replay writes them; the recording keeps only their hashes),
// the snapshots beside it, and, with --replay, what the JIT did over the run.

import { plural } from '../plural.js';
import { basename } from 'node:path';
import type { Recording } from '../record/reader.js';
import type { SnapshotFile } from '../record/snapshot-file.js';
import type { Machine } from '../machine/machine.js';
import type { Jit } from '../jit/jit.js';
import { ReplaySession, recordingEnd, type ReplayResult } from '../session/replay-session.js';
import type { SideSettings } from '../diff/settings.js';
import { exercised, formatExercised, type Exercised } from '../diff/exercised.js';
import { formatExit } from '../machine/machine.js';
import { INSNS_PER_TICK, TIMEBASE_HZ } from '../machine/clock.js';
import { DEJA_VERSION } from '../version.js';

/** Timeline rows, in order (the page draws one row per kind). */
export const KINDS = ['console', 'input', 'rtc', 'idle', 'checkpoint', 'snapshot', 'end'] as const;
export type Kind = (typeof KINDS)[number];

/** Bounds on what the page carries: a guest that prints without end must not make a page no browser opens. */
export const MAX_LINES = 200_000;
const MAX_LINE_CHARS = 500;
/** The replay plots have about this many intervals. */
const INTERVALS = 1000;

export interface ReplayPlots {
  /** The icount at the end of each interval (intervals end at run-loop boundaries, so they vary in length). */
  x: number[];
  interp: number[];
  block: number[];
  trace: number[];
  blocks: number[];
  traces: number[];
  invalidations: number[];
  sideExits: number[];
}

export interface RecordingReport {
  kind: 'recording';
  /** The recording's file name (the commands on the page name it so). */
  file: string;
  madeBy: string;
  header: Recording['header'];
  sizes: Recording['sizes'];
  embedded: string[];
  chunks: number;
  start: number;
  end: { icount: number; how: string; truncated: string | null };
  clock: { insnsPerTick: number; timebaseHz: number; startIdleTicks: number };
  /** Timeline items sorted by icount, as columns: icount, kind (index into KINDS), text. */
  items: { x: number[]; k: number[]; t: string[] };
  /** Idle events as (icount, ticks), for guest time at any icount. */
  idle: { x: number[]; ticks: number[] };
  snapshots: { file: string; count: number; bytes: number } | null;
  notes: string[];
  replay: { settings: string; line: string; diverged: boolean; exercised: Exercised; seconds: number } | null;
  plots: ReplayPlots | null;
}

const hex = (v: number) => '0x' + (v >>> 0).toString(16).padStart(8, '0');

/** Console bytes into lines, each stamped with the icount of the instruction that wrote its first byte. */
class LineCollector {
  readonly lines: { icount: number; text: string }[] = [];
  private bytes: number[] = [];
  private at = -1;
  dropped = 0;

  constructor(private readonly machine: Machine) {}

  write(b: number): void {
    if (this.at < 0) this.at = this.machine.hart.icount;
    if (b === 10) this.flush();
    else if (this.bytes.length < MAX_LINE_CHARS * 4) this.bytes.push(b);
  }

  flush(): void {
    if (this.at < 0) return;
    if (this.lines.length < MAX_LINES) {
      // Control characters (escape sequences, carriage returns) would only garble the page.
      const text = Buffer.from(this.bytes).toString('utf8').replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '').slice(0, MAX_LINE_CHARS);
      this.lines.push({ icount: this.at, text });
    } else this.dropped++;
    this.bytes = [];
    this.at = -1;
  }
}

/** Samples the JIT's counters at run-loop boundaries about every `every` instructions (never stopping the run anywhere it would not stop). */
class JitSampler {
  readonly plots: ReplayPlots = { x: [], interp: [], block: [], trace: [], blocks: [], traces: [], invalidations: [], sideExits: [] };
  private last = { icount: 0, interp: 0, block: 0, trace: 0, blocks: 0, traces: 0, invalidations: 0, sideExits: 0 };

  constructor(private readonly jit: Jit | null, private readonly machine: Machine, private readonly every: number) {
    this.last.icount = machine.hart.icount;
  }

  maybe(): void {
    if (this.machine.hart.icount - this.last.icount >= this.every) this.sample();
  }

  sample(): void {
    const icount = this.machine.hart.icount;
    if (icount <= this.last.icount) return;
    const now = { icount, interp: icount, block: 0, trace: 0, blocks: 0, traces: 0, invalidations: 0, sideExits: 0 };
    if (this.jit) {
      const s = this.jit.finalStats();
      Object.assign(now, { ...s.insns, blocks: s.blocksCompiled, traces: s.tracesCompiled, invalidations: s.invalidations, sideExits: s.sideExits });
    }
    const p = this.plots;
    p.x.push(icount);
    for (const k of ['interp', 'block', 'trace', 'blocks', 'traces', 'invalidations', 'sideExits'] as const) p[k].push(Math.max(0, now[k] - this.last[k]));
    this.last = now;
  }
}

export interface ReportOptions {
  images?: string;
  /** The settings the console is collected under; `plots` adds what the JIT did over time. */
  settings: SideSettings;
  plots: boolean;
  snapshots: SnapshotFile | null;
  now?: () => number;
  /** Called with the session before it replays (the command line tunes V8 and shows progress). */
  onStart?: (session: ReplaySession) => void;
}

/** Replays the recording once (console lines, and the JIT's counters) and gathers the page's data. */
export function recordingReport(rec: Recording, o: ReportOptions): RecordingReport {
  const { end, icount: endIcount } = recordingEnd(rec);
  const start = rec.header.start?.icount ?? 0;
  const notes: string[] = [];
  let lines: LineCollector | null = null;
  const session = new ReplaySession(rec, o.settings, { images: o.images, console: (b) => lines!.write(b), now: o.now });
  const m = session.machine;
  lines = new LineCollector(m);
  const sampler = new JitSampler(session.jit, m, Math.max(1, Math.floor((endIcount - start) / INTERVALS)));
  const prev = m.boundaryHook;
  m.boundaryHook = (mm) => {
    prev?.(mm);
    sampler.maybe();
  };
  o.onStart?.(session);
  const r: ReplayResult = session.replay();
  lines.flush();
  sampler.sample();
  if (lines.dropped) notes.push(`the console printed ${lines.dropped} more lines than the page holds (${MAX_LINES}); they are left out`);
  const ex = exercised(o.settings.tier, session.jit, r.icount - start);

  const items: { x: number; k: number; t: string }[] = [];
  const add = (x: number, kind: Kind, t: string) => items.push({ x, k: KINDS.indexOf(kind), t });
  for (const l of lines.lines) add(l.icount, 'console', l.text);
  const idle: RecordingReport['idle'] = { x: [], ticks: [] };
  for (const e of rec.events) {
    if (e.kind === 'uart-rx') add(e.icount, 'input', `console input ${JSON.stringify(Buffer.from(e.bytes).toString('latin1'))}`);
    else if (e.kind === 'rtc') add(e.icount, 'rtc', `RTC read: ${new Date(Math.floor(e.nanos / 1e6)).toISOString()}`);
    else if (e.kind === 'idle') {
      add(e.icount, 'idle', `idle: time jumps ${e.ticks} ticks (${((e.ticks * 1e3) / TIMEBASE_HZ).toFixed(3)} ms)`);
      idle.x.push(e.icount);
      idle.ticks.push(e.ticks);
    } else if (e.kind === 'checkpoint') add(e.icount, 'checkpoint', `checkpoint: pc ${hex(e.pc)}, priv ${e.priv}, state hash ${hex(e.stateHash)}`);
    else if (e.kind === 'end') add(e.icount, 'end', `end: ${formatExit(e)} at icount ${e.icount}`);
  }
  if (o.snapshots) for (const s of o.snapshots.entries) add(s.icount, 'snapshot', `snapshot (${s.pages.length} RAM pages, ${s.body.length} bytes)`);
  if (!end) add(endIcount, 'end', `the recording stops here: ${rec.truncated}`);
  // Stable: a console line and an input at one icount keep the order above.
  items.sort((a, b) => a.x - b.x);

  const replayLine = r.divergence
    ? `diverged at icount ${r.divergence.icount}: ${r.divergence.what} (last matching checkpoint at ${r.divergence.since})`
    : end
      ? `${formatExit(r.exit)} at icount ${r.icount}, as recorded; ${plural(r.checkpoints, 'checkpoint')} verified`
      : `replayed to icount ${r.icount}, where the recording is truncated (${rec.truncated}); ${plural(r.checkpoints, 'checkpoint')} verified`;
  return {
    kind: 'recording',
    file: basename(rec.path),
    madeBy: DEJA_VERSION,
    header: rec.header,
    sizes: rec.sizes,
    embedded: [...rec.embedded.keys()],
    chunks: rec.chunks,
    start,
    end: { icount: endIcount, how: end ? formatExit(end) : 'truncated', truncated: rec.truncated },
    clock: { insnsPerTick: rec.header.clock?.insnsPerTick ?? INSNS_PER_TICK, timebaseHz: rec.header.clock?.timebaseHz ?? TIMEBASE_HZ, startIdleTicks: rec.start?.machine.idleTicks ?? 0 },
    items: { x: items.map((i) => i.x), k: items.map((i) => i.k), t: items.map((i) => i.t) },
    idle,
    snapshots: o.snapshots ? { file: basename(o.snapshots.path), count: o.snapshots.entries.length, bytes: o.snapshots.entries.reduce((n, e) => n + e.body.length, 0) } : null,
    notes,
    replay: { settings: o.settings.text, line: `${replayLine} ${formatExercised(ex)}`, diverged: r.divergence !== null, exercised: ex, seconds: r.seconds },
    plots: o.plots ? sampler.plots : null,
  };
}
