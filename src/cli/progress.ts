// Progress of long replays on a terminal: one line on stderr, redrawn in place (percent of
// the instructions, instructions per second, time left). Nothing when stderr is not a
// terminal or with -q, so logs and pipes never see it.

import type { Machine } from '../machine/machine.js';
import type { Recording } from '../record/reader.js';
import { watchSides } from '../diff/side.js';

/** Milliseconds between redraws, the first one included (a short replay shows none); $DEJA_PROGRESS_MS changes it. */
function redrawMs(): number {
  const v = Number(process.env.DEJA_PROGRESS_MS);
  return Number.isFinite(v) && v >= 0 ? v : 250;
}

const count = (v: number) => (v >= 1e9 ? `${(v / 1e9).toFixed(2)}G` : v >= 1e6 ? `${(v / 1e6).toFixed(1)}M` : v >= 1e3 ? `${(v / 1e3).toFixed(0)}K` : String(v));

function duration(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

export class ProgressLine {
  private shown = false;
  private lastDraw = performance.now();
  private readonly every = redrawMs();

  private constructor(private readonly out: NodeJS.WriteStream) {}

  /** A progress line, or null where none is wanted (stderr not a terminal, or quiet). */
  static create(quiet: boolean | undefined, out: NodeJS.WriteStream = process.stderr): ProgressLine | null {
    return !quiet && out.isTTY ? new ProgressLine(out) : null;
  }

  /** Follows a machine's replay from where it stands to icount `total`; `label` names the command, `detail` the replay (cut first on a narrow terminal). */
  watch(m: Machine, total: number, label: string, detail = ''): void {
    const run = { label, detail, from: m.hart.icount, total, t0: performance.now() };
    const prev = m.boundaryHook;
    m.boundaryHook = (mm) => {
      prev?.(mm);
      this.update(run, mm.hart.icount);
    };
  }

  /**
   * Draws nothing while `f` says so: a console line the guest has not ended yet shares the
   * terminal, and drawing (which returns to the start of the line) would erase it.
   */
  holdWhile(f: () => boolean): void {
    this.hold = f;
  }
  private hold: () => boolean = () => false;

  private update(run: { label: string; detail: string; from: number; total: number; t0: number }, icount: number): void {
    if (this.hold()) return;
    const t = performance.now();
    if (t - this.lastDraw < this.every) return;
    this.lastDraw = t;
    const done = icount - run.from;
    const todo = Math.max(1, run.total - run.from);
    const secs = (t - run.t0) / 1000;
    const rate = secs > 0 ? done / secs : 0;
    const pct = Math.min(100, (100 * done) / todo).toFixed(1);
    const left = rate > 0 ? duration((run.total - icount) / rate) : '?';
    let line = `deja: ${run.label}: ${pct}% (icount ${count(icount)} of ${count(run.total)}), ${count(Math.round(rate))} instr/s, ${left} left${run.detail ? `: ${run.detail}` : ''}`;
    const cols = this.out.columns || 100;
    if (line.length >= cols) line = line.slice(0, cols - 1);
    this.out.write(`\r\x1b[K${line}`);
    this.shown = true;
  }

  /** Takes the line away (before other output, and at the end). */
  clear(): void {
    if (!this.shown) return;
    this.out.write('\r\x1b[K');
    this.shown = false;
  }

  /** A log function that clears the line before each of its lines. */
  around(log: (line: string) => void): (line: string) => void {
    return (line) => {
      this.clear();
      log(line);
    };
  }
}

/**
 * For diff, bisect and fuzz: a progress line over each of their replays of `rec` (every side
 * they make), and their log wrapped to clear it first. Call `done` before printing results.
 */
export function sideProgress(rec: Recording, command: string, quiet: boolean | undefined, log: (line: string) => void): { log: (line: string) => void; done: () => void } {
  const meter = ProgressLine.create(quiet);
  if (!meter) return { log, done: () => {} };
  watchSides(rec, (s) => meter.watch(s.machine, s.stopAt, command, `replaying ${s.settings.text}`));
  return { log: meter.around(log), done: () => meter.clear() };
}
