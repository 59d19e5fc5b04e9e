// Runs the deja CLI as a user would (the compiled bin), capturing output and exit code.

import { spawnSync } from 'node:child_process';
import { readFileSync, mkdtempSync } from 'node:fs';
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

export function tmp(prefix = 'deja-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function deja(args: string[], opts: { input?: string; stats?: boolean; env?: Record<string, string> } = {}): CliResult {
  const statsFile = opts.stats ? join(tmp(), 'stats.json') : null;
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
  }
  return res;
}
