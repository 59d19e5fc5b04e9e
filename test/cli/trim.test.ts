// deja trim: a recording cut to start at an icount, with the whole machine there, replays
// with identical checkpoints and the same end under every tier, without the original
// firmware, kernel or ELF; bad requests are refused with one line.

import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { deja, tmp } from '../helpers/cli.js';
import { guestDir } from '../helpers/guest.js';
import { buildGuestPrograms, isaPrograms } from '../helpers/run-elf.js';
import { initZstd } from '../../src/record/zstd.js';
import { readRecording, type Recording } from '../../src/record/reader.js';
import { replayAllTiers } from '../helpers/tiers.js';
import { recordTiny, tinyConfig } from '../record/tiny-guest.js';
import { frames } from '../record/helpers.js';
import { FRAME_STATE } from '../../src/record/format.js';

const INPUT = [null, 'hi', null, 'x', 'abcdefghijklmnopqrstuvwxyz', null, '\r\n'];

function checkpointsAfter(rec: Recording, icount: number) {
  return rec.events.filter((e) => e.kind === 'checkpoint' && e.icount > icount);
}

/** Trims `file` to start at `from`; the result replays like the original's tail under every tier. */
function expectTrimReplays(file: string, dir: string, args: string[], env?: Record<string, string>): Recording {
  const out = join(dir, `trim-${args.join('')}.deja`);
  const r = deja(['trim', file, '-o', out, ...args, '--force'], { env });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stderr).toMatch(/^deja: trim: .* starts at icount \d+ and ends at \d+ as /);
  const orig = readRecording(file);
  const t = readRecording(out);
  const start = t.header.start!.icount;
  expect(t.start?.icount).toBe(start);
  expect(t.header.images.filter((i) => i.role !== 'disk')).toEqual([]);
  expect(t.events.at(-1)).toEqual(orig.events.at(-1));
  expect(t.events.filter((e) => e.kind === 'checkpoint')).toEqual(checkpointsAfter(orig, start));
  const all = replayAllTiers(t);
  expect(all.failures).toEqual([]);
  for (const run of all.runs) expect(run.checkpoints).toBe(checkpointsAfter(orig, start).length);
  // The CLI says so too, from a file that needs no image.
  const rep = deja(['replay', out, '-q'], { env });
  expect(rep.stderr).toMatch(/as recorded, (\d+) of \1 checkpoints verified/);
  return t;
}

beforeAll(() => initZstd());

describe('deja trim', () => {
  let dir: string;
  let tiny: string;
  beforeAll(() => {
    dir = tmp('deja-trim-');
    tiny = join(dir, 'tiny.deja');
    recordTiny(tiny, tinyConfig(dir), { input: INPUT, every: 1500 });
  });

  it('the tiny guest, cut at several icounts (in wfi, between checkpoints, at one), under every tier', () => {
    const end = readRecording(tiny).events.at(-1)!.icount;
    for (const from of [1, 1499, 1500, 4321, 9000, end - 10]) expectTrimReplays(tiny, dir, ['--from', String(from)]);
    const last = expectTrimReplays(tiny, dir, ['--last', '5000']);
    expect(last.header.start!.icount).toBe(end - 5000);
  });

  it('a trimmed recording trims again, and its state frame is checked', () => {
    const once = join(dir, 'once.deja');
    expect(deja(['trim', tiny, '-o', once, '--from', '3000']).status).toBe(0);
    const twice = expectTrimReplays(once, dir, ['--from', '7000']);
    // (Cut from the trimmed file's own start, not from reset.)
    const again = deja(['trim', once, '-o', join(dir, 'again.deja'), '--from', '7000', '--no-snapshots']);
    expect(again.stderr).toMatch(/replayed there from its start at icount 3000\n$/);
    expect(twice.header.start!.from.identity).toBe(readRecording(once).identity);
    // A state frame's byte flipped: one line, exit 3.
    const buf = readFileSync(once);
    const f = frames(new Uint8Array(buf)).find((x) => x.type === FRAME_STATE)!;
    buf[f.at + 20] ^= 0x40;
    const bad = join(dir, 'bad.deja');
    writeFileSync(bad, buf);
    const r = deja(['replay', bad, '-q']);
    expect(r.status).toBe(3);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(bad);
  });

  it('refuses bad requests with one line and exit 2', () => {
    const out = join(dir, 'x.deja');
    const cases: [string[], RegExp][] = [
      [['trim', tiny, '--from', '10'], /give the output file with -o OUT/],
      [['trim', tiny, '-o', out], /give one of --from N/],
      [['trim', tiny, '-o', out, '--from', '10', '--last', '10'], /give one of --from N/],
      [['trim', tiny, '-o', out, '--from', '999999999'], /--from 999999999: beyond the end of/],
      // Nothing left after the end (such a file would not replay).
      [['trim', tiny, '-o', out, '--last', '0'], /trim: nothing would be left: .* ends at icount \d+ \(give --from below it, or --last 1 or more\)/],
      [['trim', tiny, '-o', out, '--from', String(readRecording(tiny).events.at(-1)!.icount)], /trim: nothing would be left/],
    ];
    for (const [args, re] of cases) {
      const r = deja(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(re);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    // As run --record: an earlier recording is replaced, another file or the input is not (without --force).
    const other = join(dir, 'notes.txt');
    writeFileSync(other, 'not a recording');
    const r1 = deja(['trim', tiny, '-o', other, '--from', '3000']);
    expect(r1.status).toBe(3);
    expect(r1.stderr.trim()).toBe(`deja: ${other}: exists and is not a deja recording; not overwriting it (--force does)`);
    const r2 = deja(['trim', tiny, '-o', tiny, '--from', '3000']);
    expect(r2.status).toBe(2);
    expect(r2.stderr).toMatch(/is the recording being trimmed; give another -o, or --force to replace it/);
    const earlier = join(dir, 'earlier.deja');
    expect(deja(['trim', tiny, '-o', earlier, '--from', '3000']).status).toBe(0);
    expect(deja(['trim', tiny, '-o', earlier, '--from', '4000']).status).toBe(0);
    expect(readRecording(earlier).header.start!.icount).toBe(4000);
    const once = join(dir, 'once2.deja');
    expect(deja(['trim', tiny, '-o', once, '--from', '3000']).status).toBe(0);
    const r = deja(['replay', once, '--to', '100']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--to 100: before the start of .* it starts at icount 3000/);
  });

  it('a bare-metal ELF that reports through HTIF: the trimmed recording still ends with its pass', () => {
    buildGuestPrograms();
    const prog = isaPrograms().find((p) => p.name === 'interrupts')!;
    const file = join(dir, 'htif.deja');
    const run = deja(['run', '--elf', prog.elf, '--record', file, '--checkpoint-every', '2000', '-q']);
    expect(run.status, run.stderr).toBe(0);
    const end = readRecording(file).events.at(-1)!;
    expect(end).toMatchObject({ kind: 'end', reason: 'poweroff' });
    expectTrimReplays(file, dir, ['--from', String(Math.floor(end.icount / 2))]);
  });

  it('a Linux panic, trimmed to its last 10M instructions', () => {
    const env = { DEJA_GUEST_DIR: guestDir() };
    const file = join(dir, 'panic.deja');
    const run = deja(['run', '--mode', 'panic', '-q', '--record', file, '--checkpoint-every', '3M'], { env });
    expect(run.status).not.toBe(0);
    const t = expectTrimReplays(file, dir, ['--last', '10M'], env);
    expect(t.events.at(-1)).toMatchObject({ kind: 'end', reason: 'panic' });
  });
});
