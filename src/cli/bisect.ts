// `deja bisect FILE --b SETTINGS`: the first compiled unit that makes the replay diverge;
// `--threshold-scan A..B`: which trace thresholds diverge.

import { setClock } from '../diff/clock.js';
import { UserError, ExitCode } from '../errors.js';
import { bisectRecording, parseScan, thresholdScan } from '../diff/bisect.js';
import { diffJson, formatDiff } from '../diff/report.js';
import { DEFAULT_A, DEFAULT_B, sideSettings } from '../diff/settings.js';
import { announceFaults, progress } from './diff.js';
import { loadRecording } from './replay.js';

export interface BisectCliOptions {
  a?: string;
  b?: string;
  thresholdScan?: string;
  images?: string;
  json?: boolean;
  code?: boolean;
  quiet?: boolean;
}

const hex = (v: number) => '0x' + (v >>> 0).toString(16).padStart(8, '0');

export async function bisectCommand(file: string, o: BisectCliOptions): Promise<number> {
  setClock(() => performance.now());
  const a = sideSettings(o.a ?? DEFAULT_A, '--a');
  const b = sideSettings(o.b ?? DEFAULT_B, '--b');
  const scan = o.thresholdScan !== undefined ? parseScan(o.thresholdScan) : null;
  if (o.thresholdScan !== undefined && !scan) throw new UserError(`--threshold-scan: '${o.thresholdScan}' is not a range A..B or a list 1,2,10`, ExitCode.Usage);
  const rec = await loadRecording(file);
  announceFaults(a, b);
  const log = progress(o.quiet || o.json);
  const p = (s: string) => process.stdout.write(s + '\n');

  if (scan) {
    const r = thresholdScan(rec, b, scan, { images: o.images, log });
    const bad = r.rows.filter((x) => x.diverged);
    if (o.json) p(JSON.stringify({ file, settings: b.text, option: r.option, rows: r.rows }, null, 2));
    else {
      p(`deja bisect --threshold-scan: ${file} under ${b.text}`);
      for (const x of r.rows) p(`  --${r.option} ${String(x.threshold).padEnd(6)} ${x.diverged ? `DIVERGES at icount ${x.icount}: ${x.what}` : 'ok'}`);
      p(`${bad.length} of ${r.rows.length} diverge${bad.length ? `: ${bad.map((x) => x.threshold).join(', ')}` : ''}`);
    }
    return bad.length ? ExitCode.Divergence : ExitCode.Ok;
  }

  const r = bisectRecording(rec, a, b, { images: o.images, log });
  if (o.json) {
    p(JSON.stringify({ ...r, diff: r.diff ? diffJson(r.diff) : null }, null, 2));
  } else {
    p(`deja bisect: ${file} under ${b.text}`);
    p(`  the replay ${r.failing.diverged ? `diverges at icount ${r.failing.icount}: ${r.failing.what}` : 'does not diverge'}`);
    for (const s of r.steps) p(`  --${s.option} ${String(s.limit).padEnd(8)} ${s.diverged ? `diverges at icount ${s.icount}` : 'ok'}`);
    if (r.kind !== null) {
      const u = r.unit;
      p(`FIRST BAD UNIT: ${r.kind} ${r.index}${u ? ` at ${hex(u.pc)}` : ''} (the smallest diverging setting: ${r.minimal})`);
      if (u) {
        if (u.kind === 'trace') p(`  spans blocks ${u.blocks.map((x) => `${x.id}@${hex(x.pc)}`).join(' ')}`);
        p(u.listing.split('\n').map((l) => '  ' + l).join('\n'));
      }
      if (r.diff) p(formatDiff(r.diff, { code: o.code !== false }));
    }
    for (const n of r.notes) p(`note: ${n}`);
    p(`bisect: ${r.steps.length + 1} replays${r.diff ? ' and a diff' : ''}, ${r.seconds.toFixed(2)} s`);
  }
  return r.failing.diverged ? ExitCode.Divergence : ExitCode.Ok;
}
