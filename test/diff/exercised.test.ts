// Every result says what it exercised (DESIGN.md I10): replay's last line, both sides of a
// diff, every bisect probe, threshold-scan row and fuzz draw report blocks and traces
// compiled and instructions per tier, consistently; a check that compiled nothing is not a
// pass (exit 10); and a threshold walked down finds the highest threshold that diverges
// and the unit to blame there.

import { describe, expect, it } from 'vitest';
import { deja } from '../helpers/cli.js';
import { ExitCode } from '../../src/errors.js';
import { VACUOUS, type Exercised } from '../../src/diff/exercised.js';
import { logSteps, parseScan, verifyReplay } from '../../src/diff/bisect.js';
import type { Recording } from '../../src/record/reader.js';
import { recordProgram, settings } from './helpers.js';

const NOTHING = 'tier=block,block-threshold=100000';

function endIcount(rec: Recording): number {
  const end = rec.events.find((e) => e.kind === 'end');
  if (!end) throw new Error(`${rec.path} has no end`);
  return end.icount;
}

const sum = (e: Exercised) => e.insns.interp + e.insns.block + e.insns.trace;

/** A replay that stops at its first failure ran to there; one that does not, to the end. */
function expectConsistent(e: Exercised, replayed: number, label: string): void {
  expect(sum(e), `${label}: insns ${JSON.stringify(e.insns)} sum to the icount replayed`).toBe(replayed);
  if (e.tier === 'interp') expect([e.blocks, e.traces, e.insns.block, e.insns.trace], label).toEqual([0, 0, 0, 0]);
  if (e.blocks === 0) expect(e.insns.block, `${label}: no block compiled, none ran`).toBe(0);
  if (e.traces === 0) expect(e.insns.trace, `${label}: no trace compiled, none ran`).toBe(0);
}

function json(args: string[], code: number): Record<string, any> {
  const r = deja([...args, '--json']);
  expect(r.status, `${args.join(' ')}: ${r.stderr}`).toBe(code);
  return JSON.parse(r.stdout);
}

describe('what a check exercised', () => {
  it('a check that compiled nothing is vacuous: diff, bisect, --threshold-scan and fuzz exit 10 and say so', async () => {
    const rec = await recordProgram('loops');
    const diff = deja(['diff', rec.path, '--b', NOTHING]);
    expect(diff.status, diff.stderr).toBe(ExitCode.Vacuous);
    expect(diff.stdout).toContain(VACUOUS);
    expect(diff.stdout).toContain('[block tier: 0 blocks, 0 traces compiled; insns interp');
    const dj = json(['diff', rec.path, '--b', NOTHING], ExitCode.Vacuous);
    expect(dj).toMatchObject({ diverged: false, vacuous: true });
    expect(dj.outcome.suspect.exercised).toMatchObject({ tier: 'block', blocks: 0, traces: 0 });

    const bisect = deja(['bisect', rec.path, '--b', NOTHING]);
    expect(bisect.status, bisect.stderr).toBe(ExitCode.Vacuous);
    expect(bisect.stdout).toContain(VACUOUS);

    const scan = deja(['bisect', rec.path, '--b', 'tier=block', '--threshold-scan', '100000,200000']);
    expect(scan.status, scan.stderr).toBe(ExitCode.Vacuous);
    expect(scan.stdout).toContain(VACUOUS);
    expect(scan.stdout).toContain('2 of 2 compiled nothing');

    const fuzz = deja(['fuzz', rec.path, '--runs', '3', '--base', 'block-threshold=100000,trace-threshold=100000']);
    expect(fuzz.status, fuzz.stderr).toBe(ExitCode.Vacuous);
    expect(fuzz.stdout).toContain('3 of 3 compiled nothing');
    expect(fuzz.stdout).toContain(VACUOUS);

    // The same checks with something compiled pass.
    expect(deja(['diff', rec.path, '--b', 'tier=block,block-threshold=1']).status).toBe(ExitCode.Ok);
    expect(deja(['bisect', rec.path, '--b', 'tier=block', '--threshold-scan', '1,100000']).status).toBe(ExitCode.Ok);
  });

  it('a replay under a JIT tier that compiled nothing still verifies, and its last line says 0 blocks, 0 traces', async () => {
    const rec = await recordProgram('loops');
    const n = endIcount(rec);
    const r = deja(['replay', rec.path, '--tier', 'block', '--block-threshold', '100000', '-q'], { stats: true });
    expect(r.status, r.stderr).toBe(0);
    const last = r.stderr.trimEnd().split('\n').at(-1)!;
    expect(last).toMatch(/as recorded, (\d+) of \1 checkpoints verified/);
    expect(last).toContain(`[block tier: 0 blocks, 0 traces compiled; insns interp ${n}, block 0, trace 0]`);
    expect((r.stats as any).replay.exercised).toEqual({ tier: 'block', blocks: 0, traces: 0, insns: { interp: n, block: 0, trace: 0 } });

    const t = deja(['replay', rec.path, '--tier', 'trace', '--block-threshold', '0', '--trace-threshold', '1', '-q'], { stats: true });
    expect(t.status, t.stderr).toBe(0);
    const e = (t.stats as any).replay.exercised as Exercised;
    expect(e.blocks).toBeGreaterThan(0);
    expect(e.traces).toBeGreaterThan(0);
    expectConsistent(e, n, 'replay');
    expect(t.stderr.trimEnd().split('\n').at(-1)).toContain(`[trace tier: ${e.blocks} blocks, ${e.traces} trace${e.traces === 1 ? '' : 's'} compiled; insns interp ${e.insns.interp}, block ${e.insns.block}, trace ${e.insns.trace}]`);
  });

  it('diff, bisect probes, threshold-scan rows and fuzz draws report consistent counts in --json', async () => {
    const rec = await recordProgram('loops');
    const n = endIcount(rec);

    const d = json(['diff', rec.path, '--b', 'tier=trace,block-threshold=0,trace-threshold=1'], ExitCode.Ok);
    expect(d.vacuous).toBe(false);
    expectConsistent(d.outcome.reference.exercised, d.outcome.reference.icount, 'diff reference');
    expectConsistent(d.outcome.suspect.exercised, d.outcome.suspect.icount, 'diff suspect');
    expect(d.outcome.suspect.exercised.blocks).toBeGreaterThan(0);
    expect(d.outcome.suspect.exercised.traces).toBeGreaterThan(0);

    const b = json(['bisect', rec.path, '--b', 'tier=block,block-threshold=1,jit-fault=missing-icount'], ExitCode.Divergence);
    expect(b.vacuous).toBe(false);
    expect(b.failing.exercised.blocks).toBeGreaterThan(0);
    expectConsistent(b.failing.exercised, b.failing.icount, 'bisect: the failing replay');
    expect(b.steps.length).toBeGreaterThan(0);
    for (const s of b.steps) {
      const label = `bisect --${s.option} ${s.limit}`;
      // A probe that does not diverge runs to the end, or to the boundary where the probes stop.
      expectConsistent(s.exercised, s.diverged ? s.icount : (b.stop?.icount ?? n), label);
      if (s.option === 'block-limit') {
        expect(s.exercised.blocks, label).toBeLessThanOrEqual(s.limit);
        if (s.limit > 0) expect(s.exercised.blocks, label).toBeGreaterThan(0);
      }
    }

    const s = json(['bisect', rec.path, '--b', 'tier=trace,block-threshold=0', '--threshold-scan', '0..2'], ExitCode.Ok);
    expect(s).toMatchObject({ direction: 'up', option: 'trace-threshold', thresholds: [0, 1, 2], vacuous: false });
    expect(s.rows.map((x: { threshold: number }) => x.threshold)).toEqual([0, 1, 2]);
    for (const x of s.rows) {
      expectConsistent(x.exercised, x.diverged ? x.icount : n, `--trace-threshold ${x.threshold}`);
      expect(x.exercised.blocks).toBeGreaterThan(0);
      expect(x.exercised.traces).toBeGreaterThan(0);
    }

    const f = json(['fuzz', rec.path, '--runs', '6', '--seed', '3'], ExitCode.Ok);
    expect(f.runs).toHaveLength(6);
    for (const x of f.runs) {
      expectConsistent(x.exercised, x.diverged ? x.icount : n, `fuzz draw ${x.run} (${x.settings})`);
      if (/block-threshold=[01](,|$)/.test(x.settings) && !/trace-limit/.test(x.settings)) expect(x.exercised.blocks, x.settings).toBeGreaterThan(0);
    }
    expect(f.compiledNothing).toBe(f.runs.filter((x: { exercised: Exercised }) => x.exercised.blocks + x.exercised.traces === 0).length);
    expect(f.vacuous).toBe(false);
  });

  it('walking a threshold down stops at the highest that diverges and names the unit there', async () => {
    const rec = await recordProgram('loops');
    const b = 'tier=block,jit-fault=wrong-imm';
    const r = json(['bisect', rec.path, '--b', b, '--threshold-scan', '1000..0'], ExitCode.Divergence);
    expect(r).toMatchObject({ direction: 'down', option: 'block-threshold', thresholds: logSteps(1000, 0) });
    const rows = r.rows as { threshold: number; diverged: boolean; exercised: Exercised }[];
    // Every row but the last is fine; the last diverges, and is the highest that does.
    expect(rows.slice(0, -1).every((x) => !x.diverged)).toBe(true);
    const last = rows.at(-1)!;
    expect(last.diverged).toBe(true);
    expect(r.highest).toBe(last.threshold);
    expect(last.exercised.blocks).toBeGreaterThan(0);
    // Checked afresh: it diverges there, and not at the step above.
    expect(verifyReplay(rec, settings(`${b},block-threshold=${r.highest}`)).diverged).toBe(true);
    if (rows.length > 1) expect(verifyReplay(rec, settings(`${b},block-threshold=${rows.at(-2)!.threshold}`)).diverged).toBe(false);
    // The units at that threshold are bisected: a block, the one that carries the fault.
    const bis = r.bisect;
    expect(bis.settings).toContain(`block-threshold=${r.highest}`);
    expect(bis.kind).toBe('block');
    expect(bis.unit.kind).toBe('block');
    expect(bis.unit.id).toBe(bis.index);
    expect(bis.minimal).toContain(`block-limit=${bis.index + 1}`);
    expect(bis.diff.first.unit).toMatchObject({ kind: 'block', id: bis.index, fault: 'wrong-imm' });

    const text = deja(['bisect', rec.path, '--b', b, '--threshold-scan', '1000..0', '--no-code', '-q']);
    expect(text.status).toBe(ExitCode.Divergence);
    expect(text.stdout).toContain(`highest diverging threshold: --block-threshold ${r.highest}`);
    expect(text.stdout).toMatch(new RegExp(`FIRST BAD UNIT: block ${bis.index} at 0x[0-9a-f]{8}`));
    expect(text.stdout).toContain('first difference:');
  });

  it('the walk-down steps: two per decade, both ends; --threshold-steps or a descending list override; upwards as before', () => {
    expect(logSteps(100000, 1)).toEqual([100000, 31623, 10000, 3162, 1000, 316, 100, 32, 10, 3, 1]);
    expect(logSteps(100, 0)).toEqual([100, 32, 10, 3, 1, 0]);
    expect(logSteps(1000, 1, 4)).toEqual([1000, 100, 10, 1]);
    expect(logSteps(5, 1, 10)).toEqual([5, 4, 3, 2, 1]);
    expect(parseScan('100000..1')).toEqual({ thresholds: logSteps(100000, 1), down: true });
    expect(parseScan('100..1', 3)).toEqual({ thresholds: [100, 10, 1], down: true });
    expect(parseScan('1..4')).toEqual({ thresholds: [1, 2, 3, 4], down: false });
    expect(parseScan('1,2,10')).toEqual({ thresholds: [1, 2, 10], down: false });
    expect(parseScan('500,50,5')).toEqual({ thresholds: [500, 50, 5], down: true });
    for (const bad of ['x', '1..', '1..20000', '3,a']) expect(() => parseScan(bad), bad).toThrow(/--threshold-scan/);
    expect(() => parseScan('1..50', 4)).toThrow(/--threshold-steps/);
  });
});
