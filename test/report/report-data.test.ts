// deja report's data: console lines placed at the icount of the instruction that wrote their
// first byte (checked against replays stopped just before and after it), the recording's
// events and snapshots on the timeline, the replay plots summing to the run, the command's
// errors, and the divergence page's surrounding instructions and whole state.

import { describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deja, ROOT, tmp } from '../helpers/cli.js';
import { loadRecording, ReplaySession } from '../../src/session/replay-session.js';
import { sideSettings } from '../../src/diff/settings.js';
import { KINDS, recordingReport } from '../../src/report/recording-data.js';
import { settingsOptions } from '../../src/report/divergence-page.js';

const TICKER = join(ROOT, 'recordings/ticker-panic.deja');

/** The console bytes a replay has written when it stands at icount `to`. */
async function consoleAt(to: number): Promise<string> {
  const bytes: number[] = [];
  const s = new ReplaySession(await loadRecording(TICKER), undefined, { console: (b) => bytes.push(b) });
  s.replay(to);
  return Buffer.from(bytes).toString('latin1');
}

describe('deja report: the data', () => {
  it('places each console line at the icount of the instruction that wrote its first byte', async () => {
    const rec = await loadRecording(TICKER);
    const d = recordingReport(rec, { settings: sideSettings('tier=interp', '--replay'), plots: false, snapshots: null });
    const lines = d.items.x.map((x, i) => ({ x, k: KINDS[d.items.k[i]], t: d.items.t[i] })).filter((i) => i.k === 'console');
    expect(lines.length).toBeGreaterThan(100);
    for (const l of [lines[0], lines[5], lines[lines.length - 1]]) {
      const before = await consoleAt(l.x);
      const after = await consoleAt(l.x + 1);
      expect(after.length, `line at ${l.x}`).toBe(before.length + 1);
      expect(before.endsWith('\n') || before.length === 0).toBe(true);
      expect(l.t.startsWith(after.slice(before.length))).toBe(true);
    }
    // Every logged event is there, in icount order, and the end.
    const kinds = new Map<string, number>();
    for (const k of d.items.k) kinds.set(KINDS[k], (kinds.get(KINDS[k]) ?? 0) + 1);
    expect(kinds.get('checkpoint')).toBe(rec.events.filter((e) => e.kind === 'checkpoint').length);
    expect(kinds.get('input')).toBe(rec.events.filter((e) => e.kind === 'uart-rx').length);
    expect(kinds.get('end')).toBe(1);
    expect([...d.items.x].sort((a, b) => a - b)).toEqual(d.items.x);
    expect(d.end).toMatchObject({ icount: 13091414, how: 'fail (code 66)' });
    expect(d.plots).toBeNull();
  });

  it('--replay: the intervals cover the run, and their instructions by tier sum to it', async () => {
    const rec = await loadRecording(TICKER);
    const d = recordingReport(rec, { settings: sideSettings('tier=trace,trace-threshold=50', '--replay'), plots: true, snapshots: null });
    const p = d.plots!;
    expect(p.x[p.x.length - 1]).toBe(d.end.icount);
    const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
    expect(sum(p.interp) + sum(p.block) + sum(p.trace)).toBe(d.end.icount);
    expect(sum(p.trace)).toBe(d.replay!.exercised.insns.trace);
    expect(sum(p.blocks)).toBe(d.replay!.exercised.blocks);
    expect(sum(p.traces)).toBeGreaterThanOrEqual(1);
    expect(sum(p.sideExits)).toBeGreaterThan(0);
    expect(p.x.length).toBeGreaterThan(50);
  });

  it('the command: snapshots on the timeline, a page written, one-line errors', () => {
    const dir = tmp('deja-report-');
    const rec = join(dir, 't.deja');
    copyFileSync(TICKER, rec); // the index beside it is this test's own
    expect(deja(['index', rec, '--every', '2M', '-q']).status).toBe(0);
    const out = join(dir, 'r.html');
    const r = deja(['report', rec, '-o', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/deja: report: wrote .*r\.html \(\d+ bytes; 222 console lines, \d+ events;/);
    const html = readFileSync(out, 'utf8');
    const data = JSON.parse(/<script type="application\/json" id="deja-data">(.*?)<\/script>/s.exec(html)![1]);
    expect(data.items.k.filter((k: number) => KINDS[k] === 'snapshot').length).toBe(6);
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/); // nothing fetched

    expect(deja(['report', rec]).stderr).toBe('deja: report: -o FILE is required (where to write the HTML page)\n');
    const missing = deja(['report', join(dir, 'none.deja'), '-o', out]);
    expect(missing.status).toBe(3);
    expect(missing.stderr).toMatch(/^deja: .*none\.deja: cannot read recording: no such file or folder\n$/);
    const bad = deja(['report', rec, '-o', out, '--replay', 'tier=bogus']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^deja: --replay 'tier=bogus': /);
    const unwritable = deja(['report', rec, '-o', join(dir, 'no/such/dir/r.html')]);
    expect(unwritable.status).toBe(2);
    expect(unwritable.stderr).toMatch(/^deja: .*r\.html: cannot write the report: no such file or folder\n$/);
    expect(existsSync(join(dir, 'no'))).toBe(false);
  });

  it('settings as replay options', () => {
    expect(settingsOptions('tier=trace,trace-threshold=1,no-trace-at=0x80000000,jit-fault=wrong-imm')).toBe('--tier trace --trace-threshold 1 --no-trace-at 0x80000000 --jit-fault wrong-imm');
  });

  it('diff --json: the first difference carries both whole states and the instructions around it', () => {
    const r = deja(['diff', TICKER, '--json', '--b', 'tier=block,block-threshold=1,jit-fault=wrong-imm']);
    expect(r.status).toBe(7);
    const f = JSON.parse(r.stdout).first;
    expect(f.state.names.length).toBe(f.state.reference.length);
    const i = f.state.names.indexOf('x1');
    expect(f.state.reference[i]).not.toBe(f.state.suspect[i]);
    expect(f.registers.map((x: { name: string }) => x.name)).toEqual(f.state.names.filter((_: string, k: number) => f.state.reference[k] !== f.state.suspect[k]));
    const here = f.around.filter((a: { here: boolean }) => a.here);
    expect(here).toEqual([{ pc: f.pc, text: f.insn, here: true }]);
    expect(f.around.length).toBeGreaterThan(3);
    expect(f.around.map((a: { pc: number }) => a.pc)).toEqual([...f.around.map((a: { pc: number }) => a.pc)].sort((a, b) => a - b));
  });
});

