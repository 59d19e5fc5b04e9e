// Runs the deja CLI as a user would (the compiled bin), capturing output and exit code.

import { spawnSync } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const BIN = join(ROOT, 'bin/deja.js');

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
  stats?: { icount: number; seconds: number; mips: number; exit: { reason: string; code: number }; [k: string]: unknown };
}

/** Folders tmp() made in this test file; test/setup.ts removes them after it. */
const made: string[] = [];

/** A new folder under the system's temporary folder, removed when the test file is done. */
export function tmp(prefix = 'deja-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Removes every folder tmp() made (test/setup.ts runs it after each test file). */
export function removeTmp(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function deja(args: string[], opts: { input?: string; stats?: boolean; env?: Record<string, string> } = {}): CliResult {
  const statsDir = opts.stats ? mkdtempSync(join(tmpdir(), 'deja-stats-')) : null;
  const statsFile = statsDir ? join(statsDir, 'stats.json') : null;
  const r = spawnSync(process.execPath, [BIN, ...args, ...(statsFile ? ['--stats-json', statsFile] : [])], {
    input: opts.input ?? '',
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, ...opts.env },
  });
  const res: CliResult = { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  if (statsFile) {
    try {
      res.stats = JSON.parse(readFileSync(statsFile, 'utf8'));
    } catch {
      // no stats written: the caller's assertion on res.stats will say so
    }
    rmSync(statsDir!, { recursive: true, force: true });
  }
  return res;
}
