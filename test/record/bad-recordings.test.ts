// Bad recordings through the CLI, as a user meets them: each gets one line on stderr that
// names the file and the problem, the exit code the README documents, no stack trace.

import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initZstd } from '../../src/record/zstd.js';
import { FRAME_CHUNK } from '../../src/record/format.js';
import { parseRecording } from '../../src/record/reader.js';
import type { LogEvent } from '../../src/record/format.js';
import { deja, tmp } from '../helpers/cli.js';
import { recordTiny, tinyConfig, tinyProgram } from './tiny-guest.js';
import { encodeRecording, frames, headerOf, rewrite, stackLines } from './helpers.js';

let dir: string;
let good: string;
let buf: Uint8Array;

/** Exactly one line on stderr, `deja: <file>: <problem>`, and nothing like a stack trace. */
function oneLine(stderr: string, file: string): string {
  expect(stackLines(stderr)).toEqual([]);
  expect(stderr.endsWith('\n'), stderr).toBe(true);
  const lines = stderr.trimEnd().split('\n');
  expect(lines, stderr).toHaveLength(1);
  expect(lines[0].startsWith(`deja: ${file}: `), lines[0]).toBe(true);
  return lines[0];
}

function write(name: string, bytes: Uint8Array): string {
  const f = join(dir, name);
  writeFileSync(f, bytes);
  return f;
}

beforeAll(async () => {
  await initZstd();
  dir = tmp('deja-bad-');
  good = join(dir, 'good.deja');
  recordTiny(good, tinyConfig(dir), { input: [null, 'hi', null, 'x'] });
  buf = new Uint8Array(readFileSync(good));
});

describe('deja replay and inspect of bad recordings', () => {
  it('a good recording replays: exit 0, one line saying it matched', () => {
    const r = deja(['replay', good, '-q']);
    expect(r.status).toBe(0);
    const checkpoints = parseRecording(buf, good).events.filter((e) => e.kind === 'checkpoint').length;
    expect(r.stderr.trim()).toMatch(new RegExp(`^deja: replay: poweroff at icount \\d+ as recorded, ${checkpoints} of ${checkpoints} checkpoints verified$`));
  });

  it('a changed input: exit 7 and a divergence report whose first line names the file', () => {
    const f = write('changed.deja', rewrite(parseRecording(buf, good), (ev) => {
      const e = ev.find((x): x is Extract<LogEvent, { kind: 'uart-rx' }> => x.kind === 'uart-rx')!;
      e.bytes = e.bytes.map((b) => b ^ 0x20);
      return ev;
    }));
    const r = deja(['replay', f, '-q']);
    expect(r.status).toBe(7);
    expect(stackLines(r.stderr)).toEqual([]);
    const [first, ...rest] = r.stderr.trimEnd().split('\n');
    expect(first).toMatch(new RegExp(`^deja: ${f}: DIVERGENCE at icount \\d+: checkpoint at icount \\d+ differs: .*console output`));
    expect(rest.join('\n')).toMatch(/window: after icount \d+/);
    expect(rest.join('\n')).toMatch(/recorded: .*hi/);
  });

  it('a flipped bit: exit 3, checksum mismatch at the frame', () => {
    const chunk = frames(buf).filter((f) => f.type === FRAME_CHUNK)[1];
    const b = Uint8Array.from(buf);
    b[chunk.at + 9 + 5] ^= 0x10;
    const f = write('flipped.deja', b);
    const r = deja(['replay', f, '-q']);
    expect(r.status).toBe(3);
    expect(oneLine(r.stderr, f)).toBe(`deja: ${f}: frame at byte ${chunk.at}: chunk frame checksum mismatch (corrupt data)`);
    const i = deja(['inspect', f]);
    expect(i.status).toBe(3);
    oneLine(i.stderr, f);
  });

  it('a truncated tail: replays to the last whole chunk, exit 3, says where it ends', () => {
    const fs = frames(buf);
    const last = fs[fs.length - 1];
    const f = write('cut.deja', buf.subarray(0, last.at + 20));
    const rec = parseRecording(buf.subarray(0, last.at), f);
    const n = rec.events[rec.events.length - 1].icount;
    const cps = rec.events.filter((e) => e.kind === 'checkpoint').length;
    const r = deja(['replay', f, '-q', '--stats-json', join(dir, 'cut-stats.json')]);
    expect(r.status).toBe(3);
    expect(oneLine(r.stderr, f)).toBe(
      `deja: ${f}: recording is truncated at icount ${n} (file ends inside a ${last.len}-byte frame at byte ${last.at}, 11 bytes of it present); replayed to there, ${cps} of ${cps} checkpoints verified`,
    );
    const stats = JSON.parse(readFileSync(join(dir, 'cut-stats.json'), 'utf8'));
    expect(stats.icount).toBe(n);
    expect(stats.replay).toMatchObject({ checkpoints: cps, diverged: false, truncated: n });
    const i = deja(['inspect', f]);
    expect(i.status).toBe(0);
    expect(i.stdout).toContain(`truncated  at icount ${n}: file ends inside a ${last.len}-byte frame`);
    expect(i.stdout).toMatch(/end {8}none \(recorder did not finish\)/);
  });

  it('a wrong image: exit 3, naming the image and the recording', () => {
    const other = tmp('deja-other-');
    writeFileSync(join(other, 'tiny.bin'), tinyProgram(3));
    const r = deja(['replay', good, '-q', '--images', other]);
    expect(r.status).toBe(3);
    expect(oneLine(r.stderr, join(other, 'tiny.bin'))).toMatch(new RegExp(`bios image does not match the one recorded in ${good} \\(sha256 [0-9a-f]{12}…, recorded [0-9a-f]{12}…\\)$`));
  });

  it('a missing image: exit 3, saying to give --images', () => {
    const rec = parseRecording(buf, good);
    const h = headerOf(buf);
    h.images = h.images.map((i) => ({ ...i, name: i.name.replace(/tiny\.bin$/, 'tinx.bin') }));
    const f = write('moved.deja', encodeRecording(h, [], [rec.events]));
    const r = deja(['replay', f, '-q']);
    expect(r.status).toBe(3);
    expect(oneLine(r.stderr, f)).toMatch(/: bios image \/.*\/tinx\.bin is not embedded and not found: give --images DIR$/);
    // With --images naming a folder that has it (by its base name), it replays.
    const other = tmp('deja-found-');
    writeFileSync(join(other, 'tinx.bin'), tinyProgram());
    expect(deja(['replay', f, '-q', '--images', other]).status).toBe(0);
  });

  it('a future format version: exit 3', () => {
    const f = write('future.deja', Buffer.concat([Buffer.from('deja-recording 4\n'), buf.subarray(buf.indexOf(10) + 1)]));
    const r = deja(['replay', f, '-q']);
    expect(r.status).toBe(3);
    expect(oneLine(r.stderr, f)).toBe(`deja: ${f}: recording format version 4 is newer than this deja reads (3)`);
  });

  it('an absurd length field: exit 3, and nothing is allocated for it', () => {
    const chunk = frames(buf).filter((x) => x.type === FRAME_CHUNK)[0];
    const b = Uint8Array.from(buf);
    new DataView(b.buffer).setUint32(chunk.at, 0xfffffff0, true);
    const f = write('absurd.deja', b);
    const r = deja(['replay', f, '-q']);
    expect(r.status).toBe(3);
    expect(oneLine(r.stderr, f)).toMatch(new RegExp(`^deja: ${f}: frame at byte ${chunk.at}: chunk frame length 4294967280 is absurd \\(limit \\d+; corrupt data\\)$`));
  });

  it('not a recording, an empty file, a missing file: exit 3', () => {
    const cases: [string, RegExp][] = [
      [write('elf.deja', tinyProgram()), /not a deja recording \(bad magic line\)$/],
      [write('empty.deja', new Uint8Array(0)), /empty file, not a deja recording$/],
      [join(dir, 'nope.deja'), /cannot read recording: no such file or folder$/],
    ];
    for (const [f, re] of cases) {
      for (const cmd of ['replay', 'inspect']) {
        const r = deja([cmd, f]);
        expect(r.status, `${cmd} ${f}`).toBe(3);
        expect(oneLine(r.stderr, f)).toMatch(re);
      }
    }
  });
});

