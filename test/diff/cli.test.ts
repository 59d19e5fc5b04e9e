// The diff, bisect and fuzz commands as a user runs them: output, --json, exit codes,
// settings errors, and fuzz's determinism.

import { describe, expect, it } from 'vitest';
import { deja } from '../helpers/cli.js';
import { fuzzRecording } from '../../src/diff/fuzz.js';
import { inProcessReplays } from '../../src/diff/replays.js';
import { formatSettings, parseSettingsText } from '../../src/diff/settings.js';
import { INTERP, recordProgram } from './helpers.js';

describe('deja diff / bisect / fuzz', () => {
  it('diff: exit 0 and "no divergence" without a fault; exit 7 and the instruction with one (text and --json)', async () => {
    const rec = await recordProgram('branches-jumps');
    const ok = deja(['diff', rec.path, '--b', 'tier=trace,block-threshold=0,trace-threshold=1']);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('no divergence');

    const bad = deja(['diff', rec.path, '--b', 'tier=block,block-threshold=1,jit-fault=wrong-imm']);
    expect(bad.status, bad.stderr).toBe(7);
    expect(bad.stderr).toContain('JIT FAULT INJECTION ON');
    expect(bad.stdout).toMatch(/first difference: the instruction at icount \d+, pc 0x[0-9a-f]{8}: /);
    expect(bad.stdout).toContain('injected fault wrong-imm');
    expect(bad.stdout).toContain('generated code:');

    const js = deja(['diff', rec.path, '--json', '--b', 'tier=block,block-threshold=1,jit-fault=wrong-imm']);
    expect(js.status).toBe(7);
    const j = JSON.parse(js.stdout);
    expect(j.diverged).toBe(true);
    expect(j.first.unit.kind).toBe('block');
    expect(j.first.where).toBe('instruction');
    expect(typeof j.first.pc).toBe('number');
    expect(j.outcome.reference.divergence).toBeNull();
  });

  it('settings errors are usage errors (exit 2)', async () => {
    const rec = await recordProgram('branches-jumps');
    for (const b of ['tier=bogus', 'colour=red', 'block-threshold', 'tier=interp,jit-fault=wrong-imm', 'tier=block,block-threshold=x']) {
      const r = deja(['diff', rec.path, '--b', b]);
      expect(r.status, `${b}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/^deja: --b/);
    }
    for (const scan of ['x', '1..20000']) expect(deja(['bisect', rec.path, '--threshold-scan', scan]).status, scan).toBe(2);
    expect(deja(['bisect', rec.path, '--threshold-scan', '1..5', '--threshold-steps', '3']).status).toBe(2);
  });

  it('settings strings round-trip', () => {
    const text = 'tier=trace,block-threshold=0,trace-threshold=1,no-trace-at=0x80000000,no-trace-at=0x80000010,jit-fault=lost-writeback';
    expect(formatSettings(parseSettingsText(text, '--b'))).toBe(text);
  });

  it('bisect names the unit and prints its diff; --threshold-scan says which thresholds diverge', async () => {
    const rec = await recordProgram('branches-jumps');
    const r = deja(['bisect', rec.path, '--b', 'tier=block,block-threshold=1,jit-fault=missing-icount', '--no-code']);
    expect(r.status, r.stderr).toBe(7);
    expect(r.stdout).toMatch(/FIRST BAD UNIT: block \d+ at 0x[0-9a-f]{8}/);
    expect(r.stdout).toContain('first difference:');
    const s = deja(['bisect', rec.path, '--b', 'tier=trace,block-threshold=0,jit-fault=lost-writeback', '--threshold-scan', '1,2,100000']);
    expect(s.status, s.stderr).toBe(7);
    expect(s.stdout).toMatch(/--trace-threshold 1 +DIVERGES/);
    expect(s.stdout).toMatch(/--trace-threshold 100000 +ok/);
    // The probes stop at the first differing boundary unless told otherwise; the unit is the same.
    const calls = await recordProgram('calls');
    const args = ['bisect', calls.path, '--b', 'tier=block,block-threshold=1,jit-fault=missing-icount', '--json', '-q'];
    const stopped = JSON.parse(deja(args).stdout);
    const whole = JSON.parse(deja([...args, '--no-boundary-stop']).stdout);
    expect(stopped.stop).not.toBeNull();
    expect(whole.stop).toBeNull();
    expect({ kind: whole.kind, index: whole.index }).toEqual({ kind: stopped.kind, index: stopped.index });
    expect(whole.steps.filter((x: { diverged: boolean; icount: number }) => x.diverged).every((x: { icount: number }) => x.icount >= stopped.stop.icount)).toBe(true);
    const none = deja(['bisect', rec.path, '--b', 'tier=block,block-threshold=0']);
    expect(none.status).toBe(0);
    expect(none.stdout).toContain('does not diverge');
  });

  it('fuzz draws the same settings for the same seed, reports those that diverge, diffs the first', async () => {
    const rec = await recordProgram('branches-jumps');
    const a = await fuzzRecording(rec, INTERP, parseSettingsText('jit-fault=lost-writeback', '--base'), 12, 5, inProcessReplays(rec), { diff: false });
    const b = await fuzzRecording(rec, INTERP, parseSettingsText('jit-fault=lost-writeback', '--base'), 12, 5, inProcessReplays(rec), { diff: false });
    const c = await fuzzRecording(rec, INTERP, parseSettingsText('jit-fault=lost-writeback', '--base'), 12, 6, inProcessReplays(rec), { diff: false });
    expect(b.runs.map((r) => [r.settings, r.diverged])).toEqual(a.runs.map((r) => [r.settings, r.diverged]));
    expect(c.runs.map((r) => r.settings)).not.toEqual(a.runs.map((r) => r.settings));
    for (const r of a.runs) expect(r.settings).toContain('jit-fault=lost-writeback');
    // A block-tier draw carries no trace settings (the block tier would refuse them).
    const blockDraws = a.runs.filter((r) => r.settings.startsWith('tier=block'));
    expect(blockDraws.length).toBeGreaterThan(0);
    for (const r of blockDraws) expect(r.settings).not.toMatch(/trace-threshold|max-trace-blocks|trace-limit/);
    const cli = deja(['fuzz', rec.path, '--runs', '12', '--seed', '5', '--base', 'jit-fault=lost-writeback', '--no-code']);
    const failing = a.runs.filter((r) => r.diverged);
    expect(cli.status).toBe(failing.length ? 7 : 0);
    expect(cli.stdout).toContain(`${failing.length} of 12 settings diverge`);
    if (failing.length) expect(cli.stdout).toContain(`deja diff ${rec.path} --b "${failing[0].settings}"`);
    const quiet = deja(['fuzz', rec.path, '--runs', '3', '--seed', '1']);
    expect(quiet.status, quiet.stderr).toBe(0);
  });
});
