// `deja diff FILE --a SETTINGS --b SETTINGS`: where two replays of a recording part ways.

import { setClock } from '../diff/clock.js';
import { ExitCode } from '../errors.js';
import { diffRecording } from '../diff/diff.js';
import { diffJson, formatDiff } from '../diff/report.js';
import { DEFAULT_A, DEFAULT_B, sideSettings, type SideSettings } from '../diff/settings.js';
import { loadRecording } from '../session/replay-session.js';
import { sideProgress } from './progress.js';

export interface DiffCliOptions {
  a?: string;
  b?: string;
  images?: string;
  json?: boolean;
  code?: boolean;
  quiet?: boolean;
  html?: string;
}

/** Says so, once, when a side injects a deliberate JIT fault. */
export function announceFaults(...sides: SideSettings[]): void {
  for (const s of sides) {
    const f = s.jit?.fault;
    if (f) process.stderr.write(`deja: *** JIT FAULT INJECTION ON (${s.text}): ${f.kind}, in the first eligible unit from ${f.from} — results are deliberately wrong ***\n`);
  }
}

/** The exit code of a check: something diverged (7), it checked no compiled code (10), or it passed (0). */
export function verdictCode(diverged: boolean, vacuous: boolean): number {
  return diverged ? ExitCode.Divergence : vacuous ? ExitCode.Vacuous : ExitCode.Ok;
}

export function progress(quiet: boolean | undefined): (line: string) => void {
  return quiet ? () => {} : (line) => process.stderr.write(`deja: ${line}\n`);
}

export async function diffCommand(file: string, o: DiffCliOptions): Promise<number> {
  setClock(() => performance.now());
  const a = sideSettings(o.a ?? DEFAULT_A, '--a');
  const b = sideSettings(o.b ?? DEFAULT_B, '--b');
  const rec = await loadRecording(file, 'diff');
  announceFaults(a, b);
  const shown = sideProgress(rec, 'diff', o.quiet || o.json, progress(o.quiet || o.json));
  const r = diffRecording(rec, a, b, { images: o.images, log: shown.log });
  shown.done();
  if (o.html) (await import('./report.js')).writeDivergencePage(o.html, { file, diff: r });
  if (o.json) process.stdout.write(JSON.stringify(diffJson(r), null, 2) + '\n');
  else process.stdout.write(formatDiff(r, { code: o.code !== false }) + '\n');
  return verdictCode(r.diverged, r.vacuous);
}
