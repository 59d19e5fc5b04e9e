// Reading a recording is reading untrusted input (DESIGN.md, Recording). A small recording
// is corrupted in many ways, deterministically (fixed seed): random byte flips, cuts at
// every frame boundary and at random points, absurd length fields, wrong frame types, bad
// magic lines, and forged frames with valid checksums. Every case must end the way
// `deja replay` documents: an exit code from the README's table, a one-line message that
// names the file, no exception of any other kind (the CLI would print a stack trace and
// exit 70), no hang. And no corruption may pass unnoticed.

import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmp } from '../helpers/cli.js';
import { pack } from 'msgpackr';
import { initZstd, zstdCompress } from '../../src/record/zstd.js';
import {
  FRAME_CHUNK, FRAME_HEADER, FRAME_IMAGE, FRAME_LIMITS, MAX_CHUNK_RAW, MAX_FRAME, encodeChunk, encodeHeader, frame,
} from '../../src/record/format.js';
import { parseRecording } from '../../src/record/reader.js';
import { recordTiny, tinyConfig } from './tiny-guest.js';
import { DOCUMENTED_CODES, encodeRecording, frames, headerOf, replayOutcome, rng, type Outcome } from './helpers.js';
import { RecordingError } from '../../src/record/format.js';
import type { Recording } from '../../src/record/reader.js';
import { SNAPSHOT_MAGIC_LINE, SnapshotWriter, parseSnapshotFile, readSnapshotFile, type SnapshotFile } from '../../src/record/snapshot-file.js';
import type { Snapshot } from '../../src/machine/snapshot.js';
import { ReplaySession } from '../../src/session/replay-session.js';
import { seek, startFrom } from '../../src/session/seek.js';
import { UserError } from '../../src/errors.js';

const PATH = 'fuzz.deja';
let plain: Uint8Array;
let embedded: Uint8Array;

beforeAll(async () => {
  await initZstd();
  const dir = tmp('deja-fuzz-');
  const config = tinyConfig(dir, 6);
  recordTiny(join(dir, 'plain.deja'), config, { input: [null, 'ab', null, 'c'], steps: 5, stepInsns: 2000, every: 1500 });
  recordTiny(join(dir, 'embedded.deja'), config, { input: [null, 'ab', null, 'c'], steps: 5, stepInsns: 2000, every: 1500, embed: true });
  plain = new Uint8Array(readFileSync(join(dir, 'plain.deja')));
  embedded = new Uint8Array(readFileSync(join(dir, 'embedded.deja')));
});

/** Runs one case and checks what every case must satisfy; returns the outcome. */
function check(buf: Uint8Array, label: string): Outcome {
  const o = replayOutcome(buf, PATH);
  expect(DOCUMENTED_CODES, `${label}: exit code ${o.code} (${o.message})`).toContain(o.code);
  expect(o.message, label).not.toContain('\n');
  if (o.stage === 'read') expect(o.message.startsWith(`${PATH}: `), `${label}: ${o.message}`).toBe(true);
  if (o.stage === 'config') expect(o.message, label).toMatch(/fuzz\.deja|tiny\.bin/);
  return o;
}

const flip = (buf: Uint8Array, at: number, mask: number) => {
  const b = Uint8Array.from(buf);
  b[at] ^= mask;
  return b;
};
const setU32 = (buf: Uint8Array, at: number, v: number) => {
  const b = Uint8Array.from(buf);
  new DataView(b.buffer).setUint32(at, v >>> 0, true);
  return b;
};

describe('corrupt recordings (in-process fuzz)', () => {
  it('the base recordings replay cleanly (control)', () => {
    for (const buf of [plain, embedded]) {
      const o = check(buf, 'base');
      expect(o).toMatchObject({ code: 0, stage: 'replay', truncatedAt: null });
    }
    expect(frames(plain).filter((f) => f.type === FRAME_CHUNK).length).toBeGreaterThanOrEqual(4);
    expect(frames(embedded).some((f) => f.type === FRAME_IMAGE)).toBe(true);
  });

  it('random byte flips are all caught (600 cases)', () => {
    const r = rng(0xde7a);
    const seen = new Set<string>();
    for (let i = 0; i < 600; i++) {
      const src = i % 2 ? embedded : plain;
      let b = src;
      const n = 1 + Math.floor(r() * 4);
      // Half the flips land in the first 200 bytes: magic line, header, frame headers.
      for (let k = 0; k < n; k++) b = flip(b, Math.floor(r() * (r() < 0.5 ? Math.min(200, b.length) : b.length)), 1 + Math.floor(r() * 255));
      const o = check(b, `flip case ${i}`);
      expect([3, 7], `flip case ${i}: ${o.message}`).toContain(o.code);
      seen.add(o.message.replace(/\d+/g, 'N'));
    }
    // The flips hit many different checks, not one.
    expect(seen.size).toBeGreaterThanOrEqual(5);
  });

  it('cuts at every frame boundary, inside every frame header and the magic line, and at random points', () => {
    for (const src of [plain, embedded]) {
      const fs = frames(src);
      const headerEnd = fs[0].end;
      const cuts = new Set<number>();
      for (let c = 0; c < 40; c++) cuts.add(c);
      for (const f of fs) for (const d of [0, 1, 4, 8, 9, 10]) cuts.add(f.at + d);
      const r = rng(7);
      for (let k = 0; k < 60; k++) cuts.add(Math.floor(r() * src.length));
      cuts.delete(src.length);
      for (const cut of [...cuts].filter((c) => c < src.length).sort((a, b) => a - b)) {
        const o = check(src.subarray(0, cut), `cut at ${cut}`);
        expect(o.code, `cut at ${cut}: ${o.message}`).toBe(3);
        if (cut >= headerEnd && fs.filter((f) => f.type === FRAME_IMAGE).every((f) => f.end <= cut)) {
          // Whole header and images: replays to the last whole chunk, without divergence.
          expect(o.stage, `cut at ${cut}: ${o.message}`).toBe('replay');
          expect(o.truncatedAt).not.toBeNull();
          expect(o.icount === o.truncatedAt, `cut at ${cut}: replayed to ${o.icount}, not ${o.truncatedAt}`).toBe(true);
        } else if (cut < headerEnd) {
          expect(o.message, `cut at ${cut}`).toMatch(/truncated|empty file/);
        }
      }
    }
  });

  it('absurd and wrong length fields', () => {
    for (const src of [plain, embedded]) {
      for (const f of frames(src)) {
        const limit = FRAME_LIMITS[f.type];
        for (const v of [0xffffffff, 0x80000000, MAX_FRAME + 1, limit + 1, src.length * 2, f.len + 1, f.len - 1, 0]) {
          const o = check(setU32(src, f.at, v), `frame at ${f.at} length ${v}`);
          expect(o.code).toBe(3);
          if (v > limit) expect(o.message).toMatch(/length \d+ is absurd/);
          else if (f.at + 9 + v > src.length) expect(o.message).toMatch(/file ends inside/);
          else expect(o.message).toMatch(/checksum mismatch|second header|not the header|malformed|corrupt|file ends inside|unknown frame type/);
        }
      }
    }
  });

  it('wrong frame types', () => {
    for (const f of frames(embedded)) {
      for (const t of [0, 1, 2, 3, 4, 0x7f, 0xff].filter((t) => t !== f.type)) {
        const b = Uint8Array.from(embedded);
        b[f.at + 8] = t;
        const o = check(b, `frame at ${f.at} type ${t}`);
        expect(o.code).toBe(3);
      }
    }
  });

  it('bad magic lines and format versions', () => {
    const body = plain.subarray(plain.indexOf(10) + 1);
    const withLine = (line: string) => Buffer.concat([Buffer.from(line, 'latin1'), body]);
    const cases: [Uint8Array, RegExp][] = [
      [new Uint8Array(0), /empty file/],
      [withLine('deja-recording 4\n'), /format version 4 is newer than this deja reads \(3\)/],
      [withLine('deja-recording 999999999\n'), /format version 999999999 is newer/],
      [withLine('deja-recording 0\n'), /unknown recording format version 0/],
      [withLine('deja-recording 99999999999999999999\n'), /not a deja recording/],
      [withLine('deja-recording\n'), /not a deja recording/],
      [withLine('DEJA-recording 1\n'), /not a deja recording/],
      [withLine('\x7fELF\n'), /not a deja recording/],
      [Buffer.from('deja-recor'), /truncated inside the magic line/],
      [Buffer.from('deja-recording 1'), /truncated inside the magic line/],
      [Buffer.alloc(100000, 0x41), /not a deja recording/],
    ];
    for (const [buf, re] of cases) {
      const o = check(buf, re.source);
      expect(o.code).toBe(3);
      expect(o.message).toMatch(re);
    }
  });

  it('forged frames with valid checksums: bounded, and each refused with its own message', () => {
    const fs = frames(plain);
    const head = plain.subarray(0, fs[0].end);
    const chunks = fs.filter((f) => f.type === FRAME_CHUNK);
    const withChunk = (body: Uint8Array) => Buffer.concat([head, frame(FRAME_CHUNK, body)]);
    const chunkBody = (rawLen: number, z: Uint8Array) => {
      const b = new Uint8Array(4 + z.length);
      new DataView(b.buffer).setUint32(0, rawLen, true);
      b.set(z, 4);
      return b;
    };
    const raw = (arr: unknown) => {
      const r = pack(arr);
      return chunkBody(r.length, zstdCompress(r));
    };
    // A zstd frame header claiming a 2 GiB window (windowLog 31).
    const hugeWindow = Uint8Array.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, (31 - 10) << 3, 0, 0, 0, 0]);
    const header = headerOf(plain);
    const cases: [Uint8Array, RegExp][] = [
      [withChunk(chunkBody(0xffffffff, zstdCompress(pack([0])))), /chunk claims 4294967295 bytes uncompressed/],
      [withChunk(chunkBody(MAX_CHUNK_RAW, zstdCompress(pack([0])))), /compressed chunk is corrupt/],
      [withChunk(chunkBody(1000, hugeWindow)), /compressed chunk is corrupt/],
      [withChunk(chunkBody(3, Uint8Array.from([1, 2, 3, 4, 5, 6, 7]))), /compressed chunk is corrupt/],
      [withChunk(Uint8Array.from([1, 2])), /chunk too short/],
      [withChunk(raw('not an array')), /no base icount/],
      [withChunk(raw([-5])), /no base icount/],
      [withChunk(raw([0, [0, -1, [65]]])), /event 0 is malformed/],
      [withChunk(raw([0, [0, 1, []]])), /event 0 is malformed/],
      [withChunk(raw([0, [0, 1, [300]]])), /event 0 is malformed/],
      [withChunk(raw([0, [2, 1, -3]])), /event 0 is malformed/],
      [withChunk(raw([0, [4, 1, 'exploded', 0, 0]])), /event 0 is malformed/],
      [withChunk(raw([0, [9, 1]])), /unknown event kind 9/],
      [withChunk(raw([Number.MAX_SAFE_INTEGER, [1, 5, 7]])), /event 0 is malformed/],
      [withChunk(raw([0, [4, 10, 'poweroff', 0, 0], [1, 1, 5]])), /events after the end record/],
      [Buffer.concat([head, plain.subarray(chunks[1].at, chunks[1].end), plain.subarray(chunks[0].at, chunks[0].end)]), /events go back in time/],
      [Buffer.concat([head, frame(FRAME_HEADER, encodeHeader(header))]), /a second header/],
      [Buffer.concat([plain.subarray(0, fs[0].at), plain.subarray(chunks[0].at, chunks[0].end)]), /the first frame is not the header/],
      [Buffer.concat([head, plain.subarray(chunks[0].at, chunks[0].end), frame(FRAME_IMAGE, Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0]))]), /image frame after the event chunks/],
      [Buffer.concat([head, frame(FRAME_IMAGE, Uint8Array.from([255, 255, 255, 255, 0, 0, 0, 0]))]), /image metadata length \d+ is beyond the frame/],
      [Buffer.concat([head, frame(FRAME_IMAGE, (() => {
        const m = pack({ role: 'bios', name: 'x', sha256: header.images[0].sha256 });
        const b = new Uint8Array(8 + m.length + 10);
        new DataView(b.buffer).setUint32(0, m.length, true);
        b.set(m, 4);
        new DataView(b.buffer).setUint32(4 + m.length, 0xfffffff0, true);
        return b;
      })())]), /claims 4294967280 bytes/],
      [encodeRecording({ ...header, config: { ...header.config, ramBytes: 1e12 } }, [], []), /impossible RAM size/],
      [encodeRecording({ ...header, images: Array.from({ length: 1000 }, () => header.images[0]) }, [], []), /malformed image manifest/],
      [encodeRecording({ ...header, images: [{ ...header.images[0], sha256: 'zz' }] }, [], []), /malformed image manifest entry/],
      [encodeRecording({ ...header, images: [{ ...header.images[0], role: 'bootloader' }] }, [], [[{ kind: 'end', icount: 5, reason: 'poweroff', code: 0, stateHash: 0 }]]), /unknown image role 'bootloader'/],
      [encodeRecording({ ...header, config: undefined } as never, [], []), /lacks the machine configuration/],
      [encodeRecording({ ...header, config: { ...header.config, disks: [{ name: 'd', readonly: false }] } }, [], []), /different number of disks/],
      [Buffer.concat([plain.subarray(0, fs[0].at), frame(FRAME_HEADER, Uint8Array.from([0xdd, 0xff, 0xff, 0xff, 0xff]))]), /header is not valid msgpack/],
      [Buffer.concat([plain.subarray(0, fs[0].at), frame(FRAME_HEADER, pack([1, 2, 3]))]), /header is not a map/],
    ];
    for (const [buf, re] of cases) {
      const before = process.memoryUsage().arrayBuffers;
      const o = check(buf, re.source);
      expect(o.code, re.source).toBe(3);
      expect(o.message, re.source).toMatch(re);
      // Nothing the size of a claimed length is kept (a forged size allocates nothing big).
      expect(process.memoryUsage().arrayBuffers - before, re.source).toBeLessThan(256 * 1024 * 1024);
    }
  });

  it('bytes appended after the end record are refused, not taken for a truncated tail', () => {
    for (const extra of [Uint8Array.from([1, 2, 3]), new Uint8Array(9 + 4).fill(0x02)]) {
      const o = check(Buffer.concat([plain, extra]), 'appended');
      expect(o.code).toBe(3);
      expect(o.message).toMatch(/^fuzz\.deja: (data after the end record|frame at byte \d+: )/);
    }
  });

  it('a recording cut right after its header replays nothing and says so', () => {
    const fs = frames(plain);
    const rec = parseRecording(plain.subarray(0, fs[0].end), PATH);
    expect(rec.events).toHaveLength(0);
    expect(rec.truncated).toMatch(/no end record after 0 chunks/);
    expect(rec.truncatedAt).toBe(0);
    const o = check(plain.subarray(0, fs[0].end), 'header only');
    expect(o).toMatchObject({ code: 3, stage: 'replay' });
    expect(o.icount === 0).toBe(true);
    // A chunk without events is well-formed; the recording still has no end record.
    expect(check(Buffer.concat([plain.subarray(0, fs[0].end), frame(FRAME_CHUNK, encodeChunk([]))]), 'empty chunk')).toMatchObject({ code: 3, stage: 'replay', message: 'no end record after 1 chunk: the recorder did not finish' });
  });
});

// A snapshot file beside a recording is untrusted input too: random byte flips and cuts of a
// real one give a RecordingError (one line, naming the file) or whole snapshots, each as
// written, that a replay restores and runs on from to the recorded end; forged states (good
// checksums, a wrong value anywhere) are refused with one line before or as they are
// restored, or replay (diverging, as a forged state may) — never another exception.
describe('corrupt snapshot files (in-process fuzz)', () => {
  const SNAPS = 'fuzz.deja.snapshots';
  let rec: Recording;
  let good: Snapshot[];
  let file: Uint8Array;
  let dir: string;

  beforeAll(async () => {
    rec = parseRecording(plain, PATH);
    dir = tmp('deja-fuzz-snap-');
    const path = join(dir, 'good.snapshots');
    const w = new SnapshotWriter(path, { recording: rec.identity, every: 700, deja: 'test' });
    const r = await new ReplaySession(rec).replayTakingSnapshots(700, (x) => w.add(x));
    w.close();
    expect(r.divergence).toBeNull();
    file = new Uint8Array(readFileSync(path));
    good = readSnapshotFile(path, rec)!.snapshots;
    expect(good.length).toBeGreaterThanOrEqual(6);
  });

  /** Parses `buf` as the snapshot file: a one-line RecordingError naming it, or whole, usable snapshots. */
  function outcome(buf: Uint8Array, label: string): { error: string } | { file: SnapshotFile } {
    let f: SnapshotFile;
    try {
      f = parseSnapshotFile(buf, SNAPS, rec);
    } catch (e) {
      if (!(e instanceof RecordingError)) throw e;
      expect(e.message, label).not.toContain('\n');
      expect(e.message.startsWith(`${SNAPS}: `), `${label}: ${e.message}`).toBe(true);
      return { error: e.message };
    }
    // What it holds are the snapshots written, in order; the last restores and runs on.
    expect(f.snapshots.length, label).toBeLessThanOrEqual(good.length);
    f.snapshots.forEach((x, i) => expect(x, `${label}: snapshot ${i}`).toEqual(good[i]));
    if (f.snapshots.length) {
      const last = f.snapshots[f.snapshots.length - 1];
      const r = seek(rec, last.icount, f.snapshots).session.replay();
      expect(r.divergence, label).toBeNull();
    }
    return { file: f };
  }

  it('random byte flips are all caught (400 cases)', () => {
    const r = rng(0x5a4);
    const seen = new Set<string>();
    for (let i = 0; i < 400; i++) {
      const b = Uint8Array.from(file);
      const n = 1 + Math.floor(r() * 4);
      for (let k = 0; k < n; k++) b[Math.floor(r() * (r() < 0.5 ? 200 : b.length))] ^= 1 + Math.floor(r() * 255);
      const o = outcome(b, `flip case ${i}`);
      // A flip that leaves a whole file has not happened: the checksums see every one.
      if ('file' in o) expect(o.file.truncated, `flip case ${i}`).not.toBeNull();
      else seen.add(o.error.replace(/\d+/g, 'N'));
    }
    expect(seen.size).toBeGreaterThanOrEqual(4);
  });

  it('cuts at every frame boundary, inside every frame header and the magic line, and at random points', () => {
    const fs = frames(file);
    const cuts = new Set<number>();
    for (let c = 0; c < SNAPSHOT_MAGIC_LINE.length + 12; c++) cuts.add(c);
    for (const f of fs) for (const d of [0, 1, 4, 8, 9, 10]) cuts.add(f.at + d);
    const r = rng(11);
    for (let k = 0; k < 60; k++) cuts.add(Math.floor(r() * file.length));
    for (const cut of [...cuts].filter((c) => c < file.length).sort((a, b) => a - b)) {
      const o = outcome(file.subarray(0, cut), `cut at ${cut}`);
      if (cut < fs[0].end) {
        expect('error' in o && o.error, `cut at ${cut}`).toMatch(/bad magic line|truncated before the end of its header/);
        continue;
      }
      expect('file' in o, `cut at ${cut}`).toBe(true);
      const f = (o as { file: SnapshotFile }).file;
      const whole = fs.filter((x) => x.end <= cut).length - 1;
      expect(f.snapshots.length, `cut at ${cut}`).toBe(whole);
      expect(f.truncated === null, `cut at ${cut}`).toBe(fs.some((x) => x.end === cut));
    }
  });

  it('forged states with good checksums: a wrong value anywhere in a snapshot is refused in one line, or replays', () => {
    const junk: unknown[] = [-1, 2 ** 32 + 5, 0.5, 1e300, NaN, Infinity, -(2 ** 53), 'x', '-7', null, true, [], {}, [1, 2], new Uint8Array(3)];
    const r = rng(0xf0);
    const at = Math.floor(good.length / 2);
    // Every value in the snapshot: the machine's (each part's), its pages, disks and console log.
    const paths: (string | number)[][] = [];
    const walk = (v: unknown, path: (string | number)[]) => {
      paths.push(path);
      if (v instanceof Uint8Array || v === null || typeof v !== 'object') return;
      const entries = Array.isArray(v) ? v.map((x, i) => [i, x] as const).filter(([i]) => i < 2 || i === v.length - 1) : Object.entries(v);
      for (const [k, x] of entries) walk(x, [...path, k]);
    };
    walk(good[at], []);
    expect(paths.length).toBeGreaterThan(200);
    let refused = 0, replayed = 0;
    for (const path of paths.slice(1)) {
      const forged = structuredClone(good[at]) as unknown as Record<string | number, unknown>;
      let o = forged;
      for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
      o[path[path.length - 1]] = junk[Math.floor(r() * junk.length)];
      const label = `${path.join('.')} = ${String(o[path[path.length - 1]])}`;
      const w = new SnapshotWriter(join(dir, 'forged.snapshots'), { recording: rec.identity, every: 700, deja: 'test' });
      for (const x of [...good.slice(0, at), forged as unknown as Snapshot]) w.add(x);
      w.close();
      let f: SnapshotFile;
      try {
        f = readSnapshotFile(join(dir, 'forged.snapshots'), rec)!;
      } catch (e) {
        if (!(e instanceof RecordingError)) throw e;
        expect(e.message, label).not.toContain('\n');
        refused++;
        continue;
      }
      const session = new ReplaySession(rec);
      try {
        startFrom(session, f, good[at].icount); // the file decodes what the restore needs
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        expect(e.exitCode, label).toBe(3);
        expect(e.message, label).not.toContain('\n');
        expect(e.message, label).toMatch(/(does not fit this recording's machine .*|snapshot .*\(corrupt data\)); the replay can run without it: --no-snapshots$/);
        refused++;
        continue;
      }
      session.replay(); // a divergence is a result, as from any replay
      replayed++;
    }
    // Most wrong values are caught; some (a register's value) are a state the machine can be in.
    expect(refused).toBeGreaterThan(paths.length / 2);
    expect(replayed).toBeGreaterThan(0);
  });
});
