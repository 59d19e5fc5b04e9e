// `deja bisect`: the first compiled unit whose translation makes a replay diverge, found
// by binary search over --trace-limit / --block-limit (compile only the first N units, in
// their deterministic order), as LLVM's -opt-bisect-limit finds the first bad pass. A run
// with limit N is the unlimited run until its N-th compile (I7), so if the unlimited run
// leaves the recording at icount D, limit = (units compiled by D) diverges too: that is the
// search's upper end. Every probe is a verified replay that stops at its first failure.

import { now } from './clock.js';
import type { Jit } from '../jit/jit.js';
import type { Recording } from '../record/reader.js';
import { diffRecording, type DiffResult } from './diff.js';
import { unitInfo, type UnitInfo } from './instrument.js';
import { Side } from './side.js';
import { sideSettings, withOptions, type SideSettings } from './settings.js';

export interface ReplayVerdict {
  settings: string;
  diverged: boolean;
  /** Where it left the recording, and how. */
  icount: number | null;
  what: string | null;
  exit: string;
  seconds: number;
  /** Units compiled by the time it stopped. */
  blocks: number;
  traces: number;
  jit: Jit | null;
}

/** A verified replay under `s` that stops at its first failure (as `deja replay` would report it). */
export function verifyReplay(rec: Recording, s: SideSettings, images?: string): ReplayVerdict {
  const t0 = now();
  const side = new Side(rec, s, images);
  side.stopAtFailure = true;
  side.run(side.stopAt);
  const out = side.finish();
  const f = out.divergence;
  return {
    settings: s.text, diverged: f !== null, icount: f?.icount ?? null, what: f?.what ?? null,
    exit: `${out.exit.reason} (code ${out.exit.code}) at icount ${out.icount}`,
    seconds: (now() - t0) / 1000,
    blocks: side.jit?.blocks.length ?? 0, traces: side.jit?.traces.length ?? 0, jit: side.jit,
  };
}

export interface BisectStep {
  option: 'trace-limit' | 'block-limit';
  limit: number;
  diverged: boolean;
  icount: number | null;
  seconds: number;
}

export interface BisectResult {
  file: string;
  settings: string;
  /** The failing replay itself. */
  failing: Omit<ReplayVerdict, 'jit'>;
  /** Which kind of unit is to blame, and its index (trace id, or block compile index); null if none. */
  kind: 'trace' | 'block' | null;
  index: number | null;
  /** The settings with the smallest limit that still diverges (the culprit is its last unit). */
  minimal: string | null;
  steps: BisectStep[];
  unit: UnitInfo | null;
  diff: DiffResult | null;
  notes: string[];
  seconds: number;
}

export interface BisectOptions {
  images?: string;
  log?: (line: string) => void;
  /** Run the final diff (default true). */
  diff?: boolean;
}

export function bisectRecording(rec: Recording, a: SideSettings, b: SideSettings, o: BisectOptions = {}): BisectResult {
  const log = o.log ?? (() => {});
  const T0 = now();
  const notes: string[] = [];
  const steps: BisectStep[] = [];
  const full = verifyReplay(rec, b, o.images);
  const { jit: _j, ...failing } = full;
  void _j;
  const result: BisectResult = { file: rec.path, settings: b.text, failing, kind: null, index: null, minimal: null, steps, unit: null, diff: null, notes, seconds: 0 };
  log(`${b.text}: ${full.diverged ? `diverges at icount ${full.icount} (${full.what})` : 'does not diverge'} [${full.seconds.toFixed(2)} s, ${full.blocks} blocks, ${full.traces} traces compiled]`);
  if (!full.diverged) {
    notes.push('the replay does not diverge under these settings: nothing to bisect');
    result.seconds = (now() - T0) / 1000;
    return result;
  }
  const probe = (option: BisectStep['option'], base: SideSettings, limit: number): boolean => {
    const key = option === 'trace-limit' ? 'traceLimit' : 'blockLimit';
    const v = verifyReplay(rec, withOptions(base, { [key]: String(limit) }), o.images);
    steps.push({ option, limit, diverged: v.diverged, icount: v.icount, seconds: v.seconds });
    log(`  --${option} ${limit}: ${v.diverged ? `diverges at icount ${v.icount}` : 'ok'} [${v.seconds.toFixed(2)} s]`);
    return v.diverged;
  };
  /** Smallest limit in (lo, hi] that diverges, given lo does not and hi does. */
  const search = (option: BisectStep['option'], base: SideSettings, lo: number, hi: number): number => {
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (probe(option, base, mid)) hi = mid;
      else lo = mid;
    }
    return hi;
  };

  let blockBase = b;
  if (b.tier === 'trace') {
    // Traces first: with none compiled, does it still diverge?
    if (!probe('trace-limit', b, 0)) {
      const hi = Math.max(1, full.traces);
      const limit = full.traces > 0 ? search('trace-limit', b, 0, hi) : hi;
      result.kind = 'trace';
      result.index = limit - 1;
      result.minimal = withOptions(b, { traceLimit: String(limit) }).text;
    } else {
      notes.push('the replay diverges with no traces compiled (--trace-limit 0): the culprit is a block');
      blockBase = withOptions(b, { traceLimit: '0' });
    }
  }
  if (result.kind === null) {
    const upper = blockBase === b ? full : verifyReplay(rec, blockBase, o.images);
    if (!upper.diverged) {
      notes.push(`${blockBase.text} does not diverge: no single unit to blame`);
    } else if (probe('block-limit', blockBase, 0)) {
      notes.push('the replay diverges even with no blocks compiled: the difference is not in a translation');
    } else {
      const hi = Math.max(1, upper.blocks);
      const limit = search('block-limit', blockBase, 0, hi);
      result.kind = 'block';
      result.index = limit - 1;
      result.minimal = withOptions(blockBase, { blockLimit: String(limit) }).text;
    }
  }

  if (result.minimal !== null && o.diff !== false) {
    log(`first bad ${result.kind}: ${result.index}; diff under ${result.minimal}`);
    const d = diffRecording(rec, a, sideSettings(result.minimal, '--b'), { images: o.images, log });
    result.diff = d;
    const jit = d.jit;
    const du = d.first?.unit;
    if (du && du.kind === result.kind && du.id === result.index) {
      // As it was when it ran (a trace may have been regrown since).
      const { execStart: _s, indexInExec: _i, stale: _t, ...info } = du;
      result.unit = info;
    } else {
      const u = jit ? (result.kind === 'trace' ? jit.traces.find((t) => t.id === result.index) : jit.blocks[result.index!]) : undefined;
      if (u) result.unit = unitInfo(u);
    }
    if (du && (du.kind !== result.kind || du.id !== result.index)) {
      notes.push(`the diff's first difference is in ${du.kind} ${du.id}, not in ${result.kind} ${result.index} (the bisected unit may corrupt state that another unit then exposes)`);
    }
  }
  result.seconds = (now() - T0) / 1000;
  return result;
}

export interface ScanRow {
  threshold: number;
  diverged: boolean;
  icount: number | null;
  what: string | null;
  seconds: number;
}

/** "A..B" or "a,b,c" -> thresholds (at most 10000). */
export function parseScan(text: string): number[] | null {
  const range = /^\s*(\d+)\s*\.\.\s*(\d+)\s*$/.exec(text);
  if (range) {
    const [lo, hi] = [Number(range[1]), Number(range[2])];
    if (hi < lo || hi - lo > 10000) return null;
    return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
  }
  const list = text.split(',').map((s) => s.trim());
  if (!list.length || list.some((s) => !/^\d+$/.test(s))) return null;
  return list.map(Number);
}

/** Which trace thresholds (block thresholds for the block tier) make the replay diverge. */
export function thresholdScan(rec: Recording, b: SideSettings, thresholds: number[], o: BisectOptions = {}): { option: string; rows: ScanRow[] } {
  const key = b.tier === 'block' ? 'blockThreshold' : 'traceThreshold';
  const option = b.tier === 'block' ? 'block-threshold' : 'trace-threshold';
  const rows: ScanRow[] = [];
  for (const t of thresholds) {
    const v = verifyReplay(rec, withOptions(b, { [key]: String(t) }), o.images);
    rows.push({ threshold: t, diverged: v.diverged, icount: v.icount, what: v.what, seconds: v.seconds });
    o.log?.(`  --${option} ${t}: ${v.diverged ? `diverges at icount ${v.icount}` : 'ok'} [${v.seconds.toFixed(2)} s]`);
  }
  return { option, rows };
}
