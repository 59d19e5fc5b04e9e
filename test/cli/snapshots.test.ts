// A bad snapshot file beside a recording (FILE.snapshots): corrupt, truncated, another
// recording's, not a snapshot file at all, unreadable, or holding a state that does not fit
// the machine. `replay --to` and `state` refuse it with exit 3 and one line that names the
// file and says the replay runs without it (--no-snapshots), which then works. A killed
// recorder leaves both files cut short: then the whole snapshots are used, and the line
// says so.

import { beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deja, tmp } from '../helpers/cli.js';
import { initZstd } from '../../src/record/zstd.js';
import { readRecording, type Recording } from '../../src/record/reader.js';
import { SnapshotWriter, readSnapshotFile, snapshotPath } from '../../src/record/snapshot-file.js';
import type { Snapshot } from '../../src/machine/snapshot.js';
import { frames } from '../record/helpers.js';
import { TINY_INPUT, recordTiny, tinyConfig } from '../record/tiny-guest.js';

const EVERY = 500;
/** Where the replays stop: past a few snapshots. */
const TO = 2750;

let dir: string;
let rec: Recording;
let recBytes: Uint8Array;
let snapBytes: Uint8Array;
let snapshots: Snapshot[];
let cases = 0;

/** A folder holding the recording as `r.deja`, with `snapshots` (bytes, or a function making them) beside it. */
function withSnapshots(snaps: Uint8Array | ((path: string) => void), recording = recBytes): string {
  const d = join(dir, `case${++cases}`);
  mkdirSync(d);
  const file = join(d, 'r.deja');
  writeFileSync(file, recording);
  if (typeof snaps === 'function') snaps(snapshotPath(file));
  else writeFileSync(snapshotPath(file), snaps);
  return file;
}

/** A snapshot file of this recording holding `snaps`, written as deja writes one. */
function written(snaps: Snapshot[]): (path: string) => void {
  return (path) => {
    const w = new SnapshotWriter(path, { recording: rec.identity, every: EVERY, deja: 'test' });
    for (const s of snaps) w.add(s);
    w.close();
  };
}

/** `replay --to` and `state` both refuse the file with one line naming it (exit 3); --no-snapshots works. */
function expectRefused(file: string, problem: RegExp): void {
  const path = snapshotPath(file);
  for (const args of [['replay', file, '-q', '--to', String(TO)], ['state', file, String(TO)]]) {
    const r = deja(args);
    expect(r.status, r.stderr).toBe(3);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0].startsWith(`deja: ${path}: `), lines[0]).toBe(true);
    expect(lines[0]).toMatch(problem);
    expect(lines[0]).toMatch(/; the replay can run without it: --no-snapshots$/);
    const ok = deja([...args, '--no-snapshots']);
    expect(ok.status, ok.stderr).toBe(0);
  }
  const ok = deja(['replay', file, '-q', '--to', String(TO), '--no-snapshots']);
  expect(ok.stderr.trim()).toMatch(new RegExp(`^deja: replay: stopped at icount ${TO} as asked, pc `));
}

beforeAll(async () => {
  await initZstd();
  dir = tmp('deja-snapfile-');
  const file = join(dir, 'tiny.deja');
  recordTiny(file, tinyConfig(dir), { input: TINY_INPUT });
  const index = deja(['index', file, '--every', String(EVERY)]);
  expect(index.status, index.stderr).toBe(0);
  rec = readRecording(file);
  recBytes = new Uint8Array(readFileSync(file));
  snapBytes = new Uint8Array(readFileSync(snapshotPath(file)));
  snapshots = readSnapshotFile(snapshotPath(file), rec)!.snapshots;
  expect(snapshots.length).toBeGreaterThanOrEqual(8);
});

describe('a bad snapshot file is refused with one line (exit 3), and --no-snapshots runs without it', () => {
  it('the good one is used (control)', () => {
    const r = deja(['replay', withSnapshots(snapBytes), '-q', '--to', String(TO)]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr.trim()).toMatch(new RegExp(`^deja: replay: stopped at icount ${TO} as asked, from the snapshot at icount ${TO - (TO % EVERY)}, pc `));
  });

  it('a corrupt byte in a snapshot frame', () => {
    const f = frames(snapBytes)[2];
    const b = Uint8Array.from(snapBytes);
    b[f.at + 9 + Math.floor(f.len / 2)] ^= 0x10;
    expectRefused(withSnapshots(b), /: frame at byte \d+: checksum mismatch \(corrupt data\)/);
  });

  it('a truncated file beside a whole recording', () => {
    const f = frames(snapBytes)[3];
    expectRefused(withSnapshots(snapBytes.subarray(0, f.at + 20)), /: truncated \(file ends inside a \d+-byte frame at byte \d+; the recording is whole\)/);
    expectRefused(withSnapshots(snapBytes.subarray(0, 20)), /: truncated before the end of its header/);
  });

  it("another recording's snapshots", () => {
    const other = join(dir, 'other.deja');
    recordTiny(other, tinyConfig(dir), { input: [null, 'other'] });
    expect(deja(['index', other, '--every', String(EVERY)]).status).toBe(0);
    expectRefused(withSnapshots(new Uint8Array(readFileSync(snapshotPath(other)))), /: these snapshots belong to another recording/);
  });

  it('a file that is not a snapshot file', () => {
    expectRefused(withSnapshots(new TextEncoder().encode('hello, world\n')), /: not a deja snapshot file \(bad magic line\)/);
    expectRefused(withSnapshots(recBytes), /: not a deja snapshot file/);
    expectRefused(withSnapshots(new Uint8Array(0)), /: not a deja snapshot file/);
  });

  it('an unreadable one', () => {
    expectRefused(withSnapshots((path) => mkdirSync(path)), /: cannot read snapshots: it is a folder, not a file/);
    // A device would be read without end.
    expectRefused(withSnapshots((path) => symlinkSync('/dev/zero', path)), /: cannot read snapshots: not a regular file/);
    // (root reads a file whatever its mode)
    if (process.getuid?.() !== 0) {
      expectRefused(withSnapshots((path) => {
        writeFileSync(path, snapBytes);
        chmodSync(path, 0);
      }), /: cannot read snapshots: permission denied/);
    }
  });

  it('snapshots past the end of the recording', () => {
    const last = snapshots[snapshots.length - 1];
    const end = rec.events[rec.events.length - 1].icount;
    const beyond = { ...last, icount: end + 10, machine: { ...last.machine, hart: { ...last.machine.hart, icount: end + 10 } } };
    expectRefused(withSnapshots(written([...snapshots, beyond])), new RegExp(`: a snapshot at icount ${end + 10}, past the recording's end \\(icount ${end}\\)`));
  });

  it('a snapshot whose state does not fit the machine (forged, with good checksums)', () => {
    const at = snapshots.findIndex((s) => s.icount > TO) - 1;
    const forge = (edit: (s: Snapshot) => void): Snapshot[] => {
      const s = structuredClone(snapshots[at]);
      edit(s);
      return [...snapshots.slice(0, at), s];
    };
    const misfit = new RegExp(`: the snapshot at icount ${snapshots[at].icount} does not fit this recording's machine \\(`);
    const parts = snapshots[at].machine.parts as Record<string, Record<string, unknown>>;
    expect(Object.keys(parts)).toEqual(expect.arrayContaining(['uart', 'plic', 'clint', 'rtc', 'htif', 'virtio0']));
    // One misfit in every part, and in the hart.
    for (const [name, edit] of [
      ['hart', (s: Snapshot) => void ((s.machine.hart as Record<string, unknown>).mstatus = 'x')],
      ['hart triggers', (s: Snapshot) => void ((s.machine.hart.triggers as { tdata1: unknown }).tdata1 = [0])],
      ...Object.keys(parts).map((name) => [name, (s: Snapshot) => void ((s.machine.parts as Record<string, Record<string, unknown>>)[name].bogus = 1)] as const),
      ['uart rx', (s: Snapshot) => void ((s.machine.parts.uart as { rx: unknown }).rx = 'abc')],
      ['htif deadline', (s: Snapshot) => void ((s.machine.parts.htif as { deadline: unknown }).deadline = 'soon')],
      ['rtc alarm', (s: Snapshot) => void ((s.machine.parts.rtc as { alarmNext: unknown }).alarmNext = 'later')],
      ['a part missing', (s: Snapshot) => void delete (s.machine.parts as Record<string, unknown>).plic],
      ['a virtqueue in a slot with no disk', (s: Snapshot) => void ((s.machine.parts.virtio0 as { queues: unknown }).queues = [{ num: 8 }])],
    ] as const) {
      const file = withSnapshots(written(forge(edit)));
      const r = deja(['replay', file, '-q', '--to', String(TO)]);
      expect(r.status, `${name}: ${r.stderr}`).toBe(3);
      expect(r.stderr.trimEnd().split('\n'), name).toHaveLength(1);
      expect(r.stderr.startsWith(`deja: ${snapshotPath(file)}: `), r.stderr).toBe(true);
      expect(r.stderr, name).toMatch(misfit);
      expect(r.stderr, name).toMatch(/; the replay can run without it: --no-snapshots\n$/);
    }
    // A malformed console log or page is refused as the file is read.
    const file = withSnapshots(written(forge((s) => void (s.log = undefined))));
    expectRefused(file, /: frame at byte \d+: snapshot console log is malformed \(corrupt data\)/);
  });
});

describe('a killed recorder leaves both files cut short', () => {
  it('the whole snapshots are used, and the replay line says so', () => {
    const fs = frames(recBytes);
    const recCut = recBytes.subarray(0, fs[fs.length - 1].at + 12);
    const sf = frames(snapBytes);
    const snapCut = snapBytes.subarray(0, sf[sf.length - 2].at + 30);
    const file = withSnapshots(snapCut, recCut);
    const cut = readRecording(file);
    expect(cut.truncated).not.toBeNull();
    const to = Math.min(TO, cut.truncatedAt!);
    const whole = sf.length - 3; // the header frame and the cut frame are not snapshots
    const r = deja(['replay', file, '-q', '--to', String(to)]);
    expect(r.status, r.stderr).toBe(0);
    const line = r.stderr.trimEnd();
    expect(line.split('\n')).toHaveLength(1);
    expect(line).toMatch(/^deja: replay: stopped at icount \d+ as asked, from the snapshot at icount \d+, /);
    expect(line).toContain(`; ${snapshotPath(file)} is cut short as the recording is (file ends inside a `);
    expect(line).toMatch(new RegExp(`: its ${whole} whole snapshots used$`));
    const s = deja(['state', file, String(to)]);
    expect(s.status, s.stderr).toBe(0);
    expect(s.stderr.trimEnd()).toMatch(new RegExp(`^deja: note: .* is cut short as the recording is .*: its ${whole} whole snapshots used$`));
  });
});
