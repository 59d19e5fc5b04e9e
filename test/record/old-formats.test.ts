// A recording made by deja's format 2 (test/fixtures/format2-tiny.deja: the tiny guest,
// image embedded, checkpoints every 1500 instructions) replays with every checkpoint
// verified under every tier: old files are checked with the hashes they were made with.

import { beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { initZstd } from '../../src/record/zstd.js';
import { readRecording } from '../../src/record/reader.js';
import { replayRecording } from '../../src/session/replay-session.js';
import { replayAllTiers } from '../helpers/tiers.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/format2-tiny.deja', import.meta.url));

beforeAll(() => initZstd());

describe('recordings of older formats', () => {
  it('format 2: replays as recorded, every checkpoint verified, under every tier', () => {
    const rec = readRecording(FIXTURE);
    expect(rec.version).toBe(2);
    const checkpoints = rec.events.filter((e) => e.kind === 'checkpoint');
    expect(checkpoints.length).toBeGreaterThanOrEqual(10);
    expect(checkpoints.every((e) => e.kind === 'checkpoint' && e.memory === undefined)).toBe(true);
    let out = '';
    const r = replayRecording(rec, { console: (b) => (out += String.fromCharCode(b)) });
    expect(r.divergence).toBeNull();
    expect(r.checkpoints).toBe(checkpoints.length);
    expect(r.exit).toEqual({ reason: 'poweroff', code: 0 });
    expect(out).toContain('abcdefghijklmnopqrstuvwxyz');
    expect(replayAllTiers(rec).failures).toEqual([]);
  });
});
