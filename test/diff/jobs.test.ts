// Replays side by side (--jobs) and split over machines (--shard, merge-results): the same
// report, text and JSON, whatever the number of jobs or shards; timings aside.

import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deja, tmp } from '../helpers/cli.js';
import { probesAhead } from '../../src/diff/bisect.js';
import { recordProgram } from './helpers.js';

/** Output with host timings taken out: "1.23 s" anywhere, and every "seconds" field of JSON. */
const untimed = (text: string) => text.replace(/\d+\.\d+ s\b/g, 'T s');
function untimedJson(text: string): unknown {
  return JSON.parse(text, (k, v) => (k === 'seconds' ? undefined : v));
}

/** `deja ARGS` under --jobs 1 and --jobs 2, text and --json: both outputs and exit codes agree. */
function sameForJobs(args: string[]): { text: string; json: unknown; status: number } {
  const [t1, t2] = ['1', '2'].map((j) => deja([...args, '--jobs', j, '-q', '--no-code']));
  const [j1, j2] = ['1', '2'].map((j) => deja([...args, '--jobs', j, '-q', '--json']));
  expect(t1.stderr).not.toMatch(/internal error/);
  expect(t2.status, t2.stderr).toBe(t1.status);
  expect(untimed(t2.stdout)).toBe(untimed(t1.stdout));
  expect(j2.status).toBe(j1.status);
  expect(untimedJson(j2.stdout)).toEqual(untimedJson(j1.stdout));
  return { text: t1.stdout, json: JSON.parse(j1.stdout), status: t1.status };
}

/** Runs each shard with --json into a file, merges them; the merge prints what the whole run prints. */
function sameWhenSharded(args: string[], shards: number, whole: { text: string; json: unknown; status: number }): void {
  const dir = tmp('deja-shards-');
  const files: string[] = [];
  for (let i = 1; i <= shards; i++) {
    const r = deja([...args, '--shard', `${i}/${shards}`, '--json', '-q', '--jobs', '1']);
    expect(r.stderr).not.toMatch(/internal error/);
    const f = join(dir, `shard-${i}.json`);
    writeFileSync(f, r.stdout);
    files.push(f);
  }
  // Given in any order.
  files.reverse();
  const text = deja(['merge-results', ...files, '--no-code']);
  expect(text.status, text.stderr).toBe(whole.status);
  expect(untimed(text.stdout)).toBe(untimed(whole.text));
  const json = deja(['merge-results', ...files, '--json']);
  expect(json.status).toBe(whole.status);
  expect(untimedJson(json.stdout)).toEqual(untimedJson(JSON.stringify(whole.json)));
}

describe('--jobs, --shard and merge-results', () => {
  it('fuzz: the same report at --jobs 1 and 2, and from 3 shards merged', async () => {
    const rec = await recordProgram('loops');
    // Draws 5 and 7 diverge; in 3 shards they fall to shards 2 and 1, each of which diffs its
    // own first: the merge must take shard 2's diff (of draw 5).
    const args = ['fuzz', rec.path, '--runs', '8', '--seed', '3', '--base', 'jit-fault=lost-writeback'];
    const whole = sameForJobs(args);
    // The campaign found something, so the merge has a diff to pick from the right shard.
    expect(whole.status).toBe(7);
    expect(whole.text).toContain('diff of the first:');
    sameWhenSharded(args, 3, whole);
  });

  it('a threshold walk down (stops early, bisects there): the same at --jobs 1 and 2, and from 2 shards', async () => {
    const rec = await recordProgram('loops');
    const args = ['bisect', rec.path, '--b', 'tier=block,jit-fault=wrong-imm', '--threshold-scan', '1000..0'];
    const whole = sameForJobs(args);
    expect(whole.status).toBe(7);
    expect(whole.text).toMatch(/FIRST BAD UNIT: block \d+/);
    sameWhenSharded(args, 2, whole);
    sameWhenSharded(args, 3, whole);
  });

  it('a threshold scan upwards and a plain bisect: the same at --jobs 1 and 2; the scan from shards', async () => {
    const rec = await recordProgram('branches-jumps');
    const scan = ['bisect', rec.path, '--b', 'tier=trace,block-threshold=0,jit-fault=lost-writeback', '--threshold-scan', '1..6'];
    sameWhenSharded(scan, 4, sameForJobs(scan));
    const b = sameForJobs(['bisect', rec.path, '--b', 'tier=block,block-threshold=1,jit-fault=missing-icount']);
    expect(b.text).toMatch(/FIRST BAD UNIT: block \d+/);
  });

  it('probes ahead of a binary search: the next midpoint first, then those of both halves', () => {
    expect(probesAhead(0, 16, 1)).toEqual([8]);
    expect(probesAhead(0, 16, 3)).toEqual([8, 4, 12]);
    expect(probesAhead(0, 16, 7)).toEqual([8, 4, 12, 2, 6, 10, 14]);
    expect(probesAhead(0, 2, 7)).toEqual([1]);
    expect(probesAhead(3, 4, 4)).toEqual([]);
  });

  it('bad --jobs and --shard values are usage errors; merge-results refuses shards that do not make one run', async () => {
    const rec = await recordProgram('branches-jumps');
    for (const bad of [['--jobs', '0'], ['--jobs', 'x'], ['--shard', '0/2'], ['--shard', '3/2'], ['--shard', '1']]) {
      const r = deja(['fuzz', rec.path, '--runs', '2', ...bad]);
      expect(r.status, bad.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(deja(['bisect', rec.path, '--shard', '1/2']).status).toBe(2);

    const dir = tmp('deja-merge-');
    const shard = (name: string, args: string[]) => {
      const f = join(dir, name);
      writeFileSync(f, deja(['fuzz', rec.path, '--runs', '4', '-q', '--json', '--jobs', '1', ...args]).stdout);
      return f;
    };
    const one = shard('1.json', ['--shard', '1/2']);
    const two = shard('2.json', ['--shard', '2/2']);
    const otherSeed = shard('2-seed.json', ['--shard', '2/2', '--seed', '9']);
    const whole = shard('whole.json', []);
    const notJson = join(dir, 'not.json');
    writeFileSync(notJson, 'deja fuzz: ...');
    const cases: [string[], RegExp][] = [
      [[one], /shard 2\/2 missing/],
      [[one, one], /1\.json: shard 1\/2 again/],
      [[one, otherSeed], /2-seed\.json: not a shard of the same run as .*1\.json \(its seed differs\)/],
      [[one, whole], /whole\.json: not the --json output of a shard/],
      [[one, notJson], /not\.json: not JSON/],
      [[one, join(dir, 'absent.json')], /absent\.json: cannot read it/],
    ];
    for (const [files, message] of cases) {
      const r = deja(['merge-results', ...files]);
      expect(r.status, r.stderr).toBe(3);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(deja(['merge-results', one, two]).status).toBe(0);
  });
});
