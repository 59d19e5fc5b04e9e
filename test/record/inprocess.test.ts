// Record and replay in-process with the tiny bare-metal guest (test/record/tiny-guest.ts),
// which uses every kind of input: bit-exact replay, determinism of the recorder, changed
// inputs found, truncated files replayed up to their last whole chunk, image checks.

import { beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmp } from '../helpers/cli.js';
import { initZstd } from '../../src/record/zstd.js';
import { FRAME_CHUNK, FRAME_HEADER, FRAME_IMAGE, frame, encodeImage, type LogEvent } from '../../src/record/format.js';
import { parseRecording, readRecording, type Recording } from '../../src/record/reader.js';
import { ReplaySession, replayRecording } from '../../src/session/replay-session.js';
import { UserError } from '../../src/errors.js';
import { recordTiny, tinyConfig, tinyProgram, TINY_INPUT, TINY_RTC_NANOS } from './tiny-guest.js';
import { frames, headerOf, replayOutcome, rewrite } from './helpers.js';
import { replayAllTiers, replayUnder, TIER_MATRIX } from '../helpers/tiers.js';

let dir: string;
let base: { file: string; buf: Uint8Array; rec: Recording; console: string; exit: { reason: string; code: number }; icount: number };

function replayConsole(rec: Recording) {
  let out = '';
  const r = replayRecording(rec, { console: (b) => (out += String.fromCharCode(b)) });
  return { ...r, console: out };
}

function count(rec: Recording, kind: LogEvent['kind']): number {
  return rec.events.filter((e) => e.kind === kind).length;
}

beforeAll(async () => {
  await initZstd();
  dir = tmp('deja-record-');
  const file = join(dir, 'base.deja');
  const r = recordTiny(file, tinyConfig(dir), { input: TINY_INPUT });
  const buf = new Uint8Array(readFileSync(file));
  base = { file, buf, rec: parseRecording(buf, file), ...r };
});

describe('record and replay in-process (tiny guest)', () => {
  it('records every kind of input in several chunks and ends with an end record', () => {
    const { rec } = base;
    expect(base.exit).toEqual({ reason: 'poweroff', code: 0 });
    expect(base.console).toContain('hi');
    // 16 bytes fill the UART's FIFO; the rest arrive after the guest has drained it.
    expect(base.console).toMatch(/abcdefghijklmnop\.*qrstuvwxyz/);
    expect(count(rec, 'rtc')).toBe(1);
    expect(count(rec, 'idle')).toBe(12);
    expect(count(rec, 'uart-rx')).toBeGreaterThanOrEqual(4);
    expect(count(rec, 'checkpoint')).toBeGreaterThanOrEqual(5);
    expect(rec.chunks).toBeGreaterThanOrEqual(5);
    expect(rec.truncated).toBeNull();
    expect(rec.truncatedAt).toBeNull();
    const end = rec.events[rec.events.length - 1];
    expect(end).toMatchObject({ kind: 'end', reason: 'poweroff', code: 0, icount: base.icount });
    const rtc = rec.events.find((e) => e.kind === 'rtc');
    expect(rtc).toMatchObject({ nanos: TINY_RTC_NANOS });
  });

  it('replays bit-exactly: same console, same end, every checkpoint verified', () => {
    const r = replayConsole(base.rec);
    expect(r.divergence).toBeNull();
    expect(r.exit).toEqual(base.exit);
    expect(r.icount).toBe(base.icount);
    expect(r.checkpoints).toBe(count(base.rec, 'checkpoint'));
    expect(r.console).toBe(base.console);
    // Cross-tier equality: the same recording under every tier setting.
    expect(replayAllTiers(base.rec).failures).toEqual([]);
  });

  it('two recordings of the same input are the same file apart from the creation time', () => {
    const again = join(dir, 'again.deja');
    recordTiny(again, tinyConfig(dir), { input: TINY_INPUT });
    const a = base.buf;
    const b = new Uint8Array(readFileSync(again));
    const fa = frames(a), fb = frames(b);
    expect(fb.map((f) => [f.type, f.len])).toEqual(fa.map((f) => [f.type, f.len]));
    // The magic line and every frame after the header: byte for byte.
    expect(Buffer.from(b.subarray(0, fb[0].at))).toEqual(Buffer.from(a.subarray(0, fa[0].at)));
    expect(Buffer.from(b.subarray(fb[0].end))).toEqual(Buffer.from(a.subarray(fa[0].end)));
    // The header: everything but `created`.
    const ha = headerOf(a), hb = headerOf(b);
    expect({ ...hb, created: 'x' }).toEqual({ ...ha, created: 'x' });
    expect(hb.created).toMatch(/^\d{4}-\d\d-\d\dT/);

    // And the comparison can fail: other input gives another file.
    const other = join(dir, 'other.deja');
    recordTiny(other, tinyConfig(dir), { input: [null, 'hj', null, 'x', 'abcdefghijklmnopqrstuvwxyz', null, '\r\n'] });
    const c = new Uint8Array(readFileSync(other));
    expect(Buffer.from(c.subarray(frames(c)[0].end))).not.toEqual(Buffer.from(a.subarray(fa[0].end)));
  });

  describe('a changed input makes the replay diverge, with a report', () => {
    const diverge = (edit: (events: LogEvent[]) => LogEvent[], verify = true) => {
      const buf = rewrite(base.rec, edit);
      const r = replayRecording(parseRecording(buf, 'changed.deja'), { verify });
      expect(r.divergence).not.toBeNull();
      return r.divergence!;
    };

    it('the rewritten recording replays when nothing is changed (control)', () => {
      const buf = rewrite(base.rec, (e) => e);
      const r = replayRecording(parseRecording(buf, 'same.deja'), {});
      expect(r.divergence).toBeNull();
      expect(r.icount).toBe(base.icount);
    });

    it('a recording whose checkpoints carry no device hash (an older deja) replays, every checkpoint verified', () => {
      expect(base.rec.events.filter((e) => e.kind === 'checkpoint').every((e) => e.kind === 'checkpoint' && e.deviceHash !== undefined)).toBe(true);
      const buf = rewrite(base.rec, (ev) => ev.map((e) => (e.kind === 'checkpoint' ? { ...e, deviceHash: undefined, memory: undefined } : e)));
      const rec = parseRecording(buf, 'older.deja');
      expect(rec.events.some((e) => e.kind === 'checkpoint' && 'deviceHash' in e)).toBe(false);
      const r = replayRecording(rec, {});
      expect(r.divergence).toBeNull();
      expect(r.checkpoints).toBe(count(rec, 'checkpoint'));
      expect(replayAllTiers(rec).failures).toEqual([]);
    });

    it('an idle period one tick longer', () => {
      const d = diverge((ev) => {
        const i = ev.findIndex((e) => e.kind === 'idle');
        (ev[i] as Extract<LogEvent, { kind: 'idle' }>).ticks += 1;
        return ev;
      });
      expect(d.what).toMatch(/checkpoint at icount \d+ differs/);
      expect(d.since).toBeLessThan(d.icount);
    });

    it('a different console byte', () => {
      const d = diverge((ev) => {
        const e = ev.find((x): x is Extract<LogEvent, { kind: 'uart-rx' }> => x.kind === 'uart-rx' && x.bytes.includes(0x68))!;
        e.bytes = e.bytes.map((b) => (b === 0x68 ? 0x48 : b)); // h -> H
        return ev;
      });
      expect(d.what).toMatch(/console output/);
      expect(d.console?.expected).toContain('hi');
      expect(d.console?.actual).toContain('Hi');
    });

    it('a console byte changed while it waits in the UART FIFO: found by the device hash, before any register sees it', () => {
      // Checkpoints at every instruction: the first one after the byte arrives must differ,
      // in the device registers alone (the guest has not yet read the byte).
      const sub = tmp('deja-fifo-');
      const file = join(sub, 'every.deja');
      recordTiny(file, tinyConfig(sub), { input: TINY_INPUT, every: 1 });
      const rec = readRecording(file);
      const rx = rec.events.find((x): x is Extract<LogEvent, { kind: 'uart-rx' }> => x.kind === 'uart-rx' && x.bytes.includes(0x68))!;
      // The recording itself replays under every tier, checked at every instruction.
      expect(replayAllTiers(rec).failures).toEqual([]);
      const changed = parseRecording(rewrite(rec, (ev) => {
        const e = ev.find((x): x is Extract<LogEvent, { kind: 'uart-rx' }> => x.kind === 'uart-rx' && x.icount === rx.icount)!;
        e.bytes = e.bytes.map((b) => (b === 0x68 ? 0x48 : b));
        return ev;
      }), 'fifo.deja');
      const r = replayRecording(changed, {});
      expect(r.divergence?.what).toBe(`checkpoint at icount ${r.divergence?.icount} differs: device registers (UART, PLIC, CLINT, RTC or virtio)`);
      expect(r.divergence!.icount).toBeGreaterThanOrEqual(rx.icount);
      expect(r.divergence!.icount).toBeLessThanOrEqual(rx.icount + 1);
      expect(r.divergence!.since).toBe(r.divergence!.icount - 1);
      // Every tier finds the same divergence.
      const found = new Set(TIER_MATRIX.map((t) => replayUnder(changed, t).divergence));
      rmSync(sub, { recursive: true });
      expect([...found]).toEqual([`${r.divergence!.what} at icount ${r.divergence!.icount}`]);
    });

    it('a store that reaches only memory: found at the next checkpoint, naming the page', () => {
      const first = base.rec.events.find((e) => e.kind === 'checkpoint')!;
      const pa = 0x80000000 + 0x200000 + 0x10;
      const session = new ReplaySession(base.rec);
      session.machine.mem.dmaWrite(pa, Uint8Array.of(0xa5));
      const r = session.replay();
      expect(r.divergence?.what).toBe(`checkpoint at icount ${first.icount} differs: memory written since the last checkpoint (1 page: 0x80200000)`);
      expect(r.divergence?.pages).toEqual([0x80200000]);
      // the control: the same replay without the store verifies every checkpoint
      expect(replayRecording(base.rec, {}).divergence).toBeNull();
    });

    it('a different RTC reading', () => {
      const d = diverge((ev) => {
        (ev.find((e) => e.kind === 'rtc') as Extract<LogEvent, { kind: 'rtc' }>).nanos += 4096;
        return ev;
      });
      expect(d.what).toMatch(/architectural state|differs/);
    });

    it('an input moved to another icount', () => {
      const d = diverge((ev) => {
        const i = ev.findIndex((e) => e.kind === 'idle');
        ev[i].icount -= 1;
        return ev;
      });
      expect(d.what).toMatch(/idle/);
    });

    it('an input dropped', () => {
      const d = diverge((ev) => {
        const i = ev.findIndex((e) => e.kind === 'idle');
        return [...ev.slice(0, i), ...ev.slice(i + 1)];
      });
      expect(d.what).toMatch(/asked for idle/);
    });

    it('an input added that the guest never asks for', () => {
      const d = diverge((ev) => {
        const i = ev.findIndex((e) => e.kind === 'checkpoint');
        return [...ev.slice(0, i), { kind: 'rtc', icount: ev[i].icount - 1, nanos: 5 }, ...ev.slice(i)];
      });
      expect(d.what).toMatch(/rtc input at icount \d+ that the replay passed without taking|never used/);
    });

    it('a console input at the icount of an idle the diverged guest never reaches does not hang the replay', () => {
      // Move an idle (and a console input right behind it) to an icount where the guest
      // is busy: the machine must report, not spin at that icount for ever.
      const edit = (ev: LogEvent[]) => {
        const i = ev.findIndex((e) => e.kind === 'uart-rx');
        const at = ev[i].icount;
        const j = ev.findIndex((e) => e.kind === 'idle' && e.icount > at);
        const idle = { ...ev[j], icount: at } as LogEvent;
        const rest = ev.filter((_, k) => k !== j);
        rest.splice(i, 0, idle);
        return rest;
      };
      expect(diverge(edit).what).toMatch(/the replay is stuck at icount \d+: the recording has an idle input here/);
      // Also when checkpoints are not checked (--no-verify).
      expect(diverge(edit, false).what).toMatch(/the replay is stuck at icount \d+/);
    });
  });

  describe('a run the host ended (Ctrl-A X, --max-insns) replays to the very point it ended', () => {
    const cases = [
      { name: 'right after an idle period (the live loop returned to the host)', endless: false, stopAfter: { result: 'idled' as const, step: 2 } },
      { name: 'between two steps of the live loop', endless: false, stopAfter: { result: 'limit' as const, step: 3 } },
      { name: 'idle with nothing to wait for (the live run waits for the host)', endless: true, stopAfter: { result: 'wait' as const, step: 0 } },
      { name: 'at --max-insns (exit reason limit)', endless: false, stopAfter: { result: 'limit' as const, step: 4, reason: 'limit' as const } },
    ];
    for (const c of cases) {
      it(c.name, () => {
        const sub = tmp('deja-stop-');
        const file = join(sub, 'stop.deja');
        const r = recordTiny(file, tinyConfig(sub, c.endless ? 4 : 12, c.endless), { input: TINY_INPUT, stopAfter: c.stopAfter, steps: 10 });
        expect(r.exit.reason).toBe(c.stopAfter.reason ?? 'stop');
        const rec = readRecording(file);
        expect(rec.truncated).toBeNull();
        const rr = replayConsole(rec);
        expect(rr.divergence, rr.divergence?.what).toBeNull();
        expect(rr.exit).toEqual(r.exit);
        expect(rr.icount).toBe(r.icount);
        expect(rr.checkpoints).toBe(count(rec, 'checkpoint'));
        expect(rr.console).toBe(r.console);
      });
    }
  });

  it('a recording cut at any frame boundary replays up to its last whole chunk and says where it ends', () => {
    const fs = frames(base.buf);
    const lastIcountBefore = (end: number) => {
      const rec = parseRecording(base.buf.subarray(0, end), 'cut.deja');
      return rec.events.length ? rec.events[rec.events.length - 1].icount : 0;
    };
    let tested = 0;
    for (const f of fs.slice(1, -1)) {
      for (const cut of [f.end, f.end + 5, f.end + 9 + 3]) {
        const o = replayOutcome(base.buf.subarray(0, cut), 'cut.deja');
        expect(o.code, `cut at ${cut}`).toBe(3);
        expect(o.stage).toBe('replay');
        expect(o.truncatedAt).toBe(lastIcountBefore(f.end));
        expect(o.icount).toBe(o.truncatedAt);
        const rec = parseRecording(base.buf.subarray(0, cut), 'cut.deja');
        expect(o.checkpoints).toBe(count(rec, 'checkpoint'));
        expect(rec.truncated).toMatch(cut === f.end ? /no end record/ : /file ends inside a/);
        tested++;
      }
    }
    expect(tested).toBeGreaterThanOrEqual(12);
    // Not cut: no truncation.
    expect(replayOutcome(base.buf, 'whole.deja')).toMatchObject({ code: 0, truncatedAt: null });
  });

  describe('images', () => {
    it('an embedded image replays without the file; a tampered one is refused', () => {
      const sub = tmp('deja-embed-');
      const file = join(sub, 'emb.deja');
      const r = recordTiny(file, tinyConfig(sub), { input: TINY_INPUT, embed: true });
      rmSync(join(sub, 'tiny.bin'));
      const rec = readRecording(file);
      expect(rec.embedded.size).toBe(1);
      const rr = replayConsole(rec);
      expect(rr.divergence).toBeNull();
      expect(rr.console).toBe(r.console);

      // Change the embedded program (with a valid frame checksum): its sha256 no longer
      // matches the manifest.
      const buf = new Uint8Array(readFileSync(file));
      const img = frames(buf).find((f) => f.type === FRAME_IMAGE)!;
      const meta = rec.header.images[0];
      const bytes = tinyProgram(13);
      const forged = Buffer.concat([buf.subarray(0, img.at), frame(FRAME_IMAGE, encodeImage({ role: meta.role, name: meta.name, sha256: meta.sha256 }, bytes)), buf.subarray(img.end)]);
      const o = replayOutcome(forged, file);
      // Either the size check (reader) or the hash check (replay) refuses it.
      expect(o.code).toBe(3);
      expect(o.message).toMatch(/embedded .*image .* (does not match its sha256|has \d+ bytes; the manifest says)/);
    });

    it('a wrong image file is refused, naming it and the recording', () => {
      const sub = tmp('deja-image-');
      const file = join(sub, 'img.deja');
      recordTiny(file, tinyConfig(sub), { input: TINY_INPUT });
      const rec = readRecording(file);
      writeFileSync(join(sub, 'tiny.bin'), tinyProgram(11));
      let err: unknown;
      try {
        replayRecording(rec, {});
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).exitCode).toBe(3);
      expect((err as Error).message).toContain(join(sub, 'tiny.bin'));
      expect((err as Error).message).toContain(file);
      expect((err as Error).message).toMatch(/does not match/);
      // --images pointing to a folder with the right file fixes it.
      const good = tmp('deja-good-');
      writeFileSync(join(good, 'tiny.bin'), tinyProgram());
      expect(replayRecording(rec, { images: good }).divergence).toBeNull();
    });
  });

  it('the header frame is the first and holds the manifest with sha256 and absolute names', () => {
    const fs = frames(base.buf);
    expect(fs[0].type).toBe(FRAME_HEADER);
    expect(fs.slice(1).every((f) => f.type === FRAME_CHUNK)).toBe(true);
    const h = headerOf(base.buf);
    expect(h.images).toHaveLength(1);
    expect(h.images[0]).toMatchObject({ role: 'bios', name: join(dir, 'tiny.bin'), size: tinyProgram().length });
    expect(h.images[0].sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});
