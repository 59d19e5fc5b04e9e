// Where interactive runs are recorded by default, and how many such recordings are kept.
// (Read before a run starts: no part of this is a guest input.)

import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { snapshotPath } from './snapshot-file.js';

/** How many default recordings are kept unless $DEJA_RECORDINGS_KEEP says otherwise. */
export const DEFAULT_KEEP = 20;

/** Names deja gives default recordings; only these are ever pruned. */
const NAME = /^\d{8}-\d{6}-\d{3}-[A-Za-z0-9_.-]+\.deja$/;

type Env = Record<string, string | undefined>;

/** $DEJA_RECORDINGS_DIR, else <cache>/recordings (the cache as for the guest images). */
export function recordingsDir(env: Env = process.env): string {
  if (env.DEJA_RECORDINGS_DIR) return env.DEJA_RECORDINGS_DIR;
  const cache = env.DEJA_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'deja');
  return join(cache, 'recordings');
}

/** How many default recordings to keep: $DEJA_RECORDINGS_KEEP (at least 1), else 20. */
export function recordingsKeep(env: Env = process.env): number {
  const n = Number(env.DEJA_RECORDINGS_KEEP);
  return env.DEJA_RECORDINGS_KEEP && Number.isSafeInteger(n) && n >= 1 ? n : DEFAULT_KEEP;
}

/** `<dir>/<YYYYMMDD-HHMMSS-mmm>-<label>.deja`, in UTC; the label is made file-name safe. */
export function defaultRecordingPath(label: string, now: Date, env: Env = process.env): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const stamp = `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}-${p(now.getUTCMilliseconds(), 3)}`;
  const safe = label.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^[.]+/, '').slice(0, 64) || 'run';
  return join(recordingsDir(env), `${stamp}-${safe}.deja`);
}

/** Creates the folder of default recordings. */
export function ensureRecordingsDir(env: Env = process.env): void {
  mkdirSync(recordingsDir(env), { recursive: true });
}

/**
 * Deletes the oldest default recordings, and their snapshots, so that at most `keep` remain
 * (names sort by time). Files deja did not name are left alone. Returns the paths deleted.
 */
export function pruneRecordings(dir: string, keep: number): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => NAME.test(n)).sort();
  } catch {
    return [];
  }
  const gone = names.slice(0, Math.max(0, names.length - keep)).map((n) => join(dir, n));
  // A recording's snapshots (deja index, --snapshot-every) go with it.
  for (const f of gone) for (const p of [f, snapshotPath(f)]) rmSync(p, { force: true });
  return gone;
}
