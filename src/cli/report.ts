// `deja report FILE -o OUT.html`: one self-contained HTML page about a recording; and
// writing the pages of `diff --html` and `bisect --html`.

import { writeFileSync } from 'node:fs';
import { UserError, ExitCode, fileError } from '../errors.js';
import { sideSettings } from '../diff/settings.js';
import { loadSnapshots } from '../session/seek.js';
import { loadRecording, recordingEnd } from '../session/replay-session.js';
import { recordingReport } from '../report/recording-data.js';
import { recordingPage } from '../report/recording-page.js';
import { divergencePage, type DivergencePageInput } from '../report/divergence-page.js';
import { prepareTier, tuneJit } from './tier.js';
import { ProgressLine } from './progress.js';

export interface ReportOptions {
  output?: string;
  /** true (no value): the default settings; a string: those settings. */
  replay?: string | boolean;
  images?: string;
  snapshots?: boolean;
  quiet?: boolean;
}

/** The settings the report's replay runs under when none are given: fast, as `deja index`'s. */
export const REPORT_SETTINGS = 'tier=trace';

/** Writes a page; a file that cannot be written is a one-line error (exit 2: the -o or --html value). */
export function writePage(path: string, html: string): void {
  try {
    writeFileSync(path, html);
  } catch (e) {
    throw fileError(path, 'write the report', e, ExitCode.Usage);
  }
}

export function writeDivergencePage(path: string, p: Omit<DivergencePageInput, 'argv'>): void {
  writePage(path, divergencePage({ ...p, argv: ['deja', ...process.argv.slice(2)] }));
  process.stderr.write(`deja: wrote ${path}\n`);
}

export async function reportCommand(file: string, o: ReportOptions): Promise<number> {
  if (!o.output) throw new UserError('report: -o FILE is required (where to write the HTML page)', ExitCode.Usage);
  const settings = sideSettings(typeof o.replay === 'string' ? o.replay : REPORT_SETTINGS, '--replay');
  const rec = await loadRecording(file);
  const snapshots = loadSnapshots(file, rec, o.snapshots !== false);
  prepareTier(settings);
  const meter = ProgressLine.create(o.quiet);
  const t0 = performance.now();
  const data = recordingReport(rec, {
    images: o.images, settings, plots: o.replay !== undefined && o.replay !== false, snapshots, now: () => performance.now(),
    onStart: (session) => {
      tuneJit(settings, session.jit);
      meter?.watch(session.machine, recordingEnd(rec).icount, 'report', `replaying ${settings.text}`);
    },
  });
  meter?.clear();
  const html = recordingPage(data);
  writePage(o.output, html);
  const lines = data.items.k.filter((k) => k === 0).length;
  const seconds = ((performance.now() - t0) / 1000).toFixed(2);
  process.stderr.write(`deja: report: wrote ${o.output} (${Buffer.byteLength(html)} bytes; ${lines} console lines, ${data.items.x.length - lines} events; replay under ${settings.text}: ${data.replay?.line}), ${seconds} s\n`);
  // A truncated recording is reported up to where it ends, and is still a bad input (as for replay).
  return data.replay?.diverged ? ExitCode.Divergence : rec.truncated ? ExitCode.BadInput : ExitCode.Ok;
}
