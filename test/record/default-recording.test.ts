// Interactive runs are recorded by default: when stdin is a terminal and no --record is
// given, `deja run` records to $DEJA_RECORDINGS_DIR (else <cache>/recordings), keeps the
// most recent 20 such recordings, and says where the recording went in one stderr line.
// --no-record turns it off. A terminal is had from util-linux `script`.

import { describe, expect, it, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { homedir } from 'node:os';
import { defaultRecordingPath, pruneRecordings, recordingsDir, recordingsKeep, DEFAULT_KEEP } from '../../src/record/recordings-dir.js';
import { buildGuestPrograms } from '../helpers/run-elf.js';
import { BIN, ROOT, deja, tmp } from '../helpers/cli.js';
import { replayAllTiers } from '../helpers/tiers.js';
import { loadRecording } from '../../src/session/replay-session.js';

const ELF = join(ROOT, 'test/guest/build/uart-plic.elf');

// The bare-metal programs are built by test/guest/build.sh (a fresh clone has none yet).
beforeAll(() => buildGuestPrograms());
const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

/** Runs `deja ARGS` with a pseudo-terminal as stdin (and stdout/stderr, merged). */
function dejaOnTty(args: string[], env: Record<string, string>): { status: number | null; output: string } {
  const cmd = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { input: '', encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  return { status: r.status, output: r.stdout.replace(/\r/g, '') };
}

const named = (dir: string) => readdirSync(dir).filter((n) => /^\d{8}-\d{6}-\d{3}-.+\.deja$/.test(n)).sort();

describe('default recordings: where they go and how many are kept', () => {
  it('the folder: $DEJA_RECORDINGS_DIR, else the cache folder', () => {
    expect(recordingsDir({ DEJA_RECORDINGS_DIR: '/x/rec' })).toBe('/x/rec');
    expect(recordingsDir({ DEJA_CACHE_DIR: '/c' })).toBe('/c/recordings');
    expect(recordingsDir({ XDG_CACHE_HOME: '/xdg' })).toBe('/xdg/deja/recordings');
    expect(recordingsDir({})).toBe(join(homedir(), '.cache/deja/recordings'));
  });

  it('names sort by time (UTC, to the millisecond) and say what ran', () => {
    const p = defaultRecordingPath('boot', new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 67)), { DEJA_RECORDINGS_DIR: '/r' });
    expect(p).toBe('/r/20260102-030405-067-boot.deja');
    // Whatever the label, the file stays in the folder.
    const odd = defaultRecordingPath('../../etc/x y', new Date(0), { DEJA_RECORDINGS_DIR: '/r' });
    expect(dirname(odd)).toBe('/r');
    expect(basename(odd)).toMatch(/^19700101-000000-000-[A-Za-z0-9_.-]+\.deja$/);
  });

  it('keeps the most recent N (20 unless $DEJA_RECORDINGS_KEEP says), never touching other files', () => {
    expect(recordingsKeep({})).toBe(DEFAULT_KEEP);
    expect(DEFAULT_KEEP).toBe(20);
    expect(recordingsKeep({ DEJA_RECORDINGS_KEEP: '3' })).toBe(3);
    expect(recordingsKeep({ DEJA_RECORDINGS_KEEP: '0' })).toBe(20);
    expect(recordingsKeep({ DEJA_RECORDINGS_KEEP: 'lots' })).toBe(20);
    const dir = tmp('deja-prune-');
    for (let i = 0; i < 25; i++) writeFileSync(join(dir, `202601${String(i + 1).padStart(2, '0')}-120000-000-boot.deja`), '');
    writeFileSync(join(dir, 'mine.deja'), '');
    writeFileSync(join(dir, 'notes.txt'), '');
    for (const d of [1, 6]) writeFileSync(join(dir, `2026010${d}-120000-000-boot.deja.snapshots`), '');
    writeFileSync(join(dir, 'mine.deja.snapshots'), '');
    const gone = pruneRecordings(dir, 20);
    // A deleted recording's snapshots go with it; the others' stay.
    expect(existsSync(join(dir, '20260101-120000-000-boot.deja.snapshots'))).toBe(false);
    expect(existsSync(join(dir, '20260106-120000-000-boot.deja.snapshots'))).toBe(true);
    expect(existsSync(join(dir, 'mine.deja.snapshots'))).toBe(true);
    expect(gone.map((g) => g.slice(dir.length + 1))).toEqual([1, 2, 3, 4, 5].map((d) => `2026010${d}-120000-000-boot.deja`));
    expect(named(dir)).toHaveLength(20);
    expect(named(dir)[0]).toBe('20260106-120000-000-boot.deja');
    expect(existsSync(join(dir, 'mine.deja'))).toBe(true);
    expect(existsSync(join(dir, 'notes.txt'))).toBe(true);
  });
});

describe.skipIf(!hasScript)('deja run on a terminal', () => {
  it('records to the default folder, says where in one line, and the recording replays', async () => {
    const dir = tmp('deja-default-');
    const r = dejaOnTty(['run', '--elf', ELF], { DEJA_RECORDINGS_DIR: dir });
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain('deja uart ok');
    const files = named(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/-uart-plic\.deja$/);
    const path = join(dir, files[0]);
    const said = r.output.split('\n').filter((l) => l.startsWith('deja: '));
    expect(said).toEqual([expect.stringMatching(/^deja: run: poweroff at icount \d+: the guest powered off$/), `deja: recorded to ${path} (replay with: deja replay ${path})`]);
    const rep = deja(['replay', path, '-q']);
    expect(rep.status, rep.stderr).toBe(0);
    expect(rep.stderr).toMatch(/as recorded/);
    // Cross-tier equality: the same recording under every tier setting.
    expect(replayAllTiers(await loadRecording(path)).failures).toEqual([]);
  });

  it('--no-record records nothing and says nothing', () => {
    const dir = tmp('deja-norecord-');
    const r = dejaOnTty(['run', '--no-record', '--elf', ELF], { DEJA_RECORDINGS_DIR: dir });
    expect(r.status, r.output).toBe(0);
    expect(readdirSync(dir)).toEqual([]);
    expect(r.output).not.toContain('recorded to');
  });

  it('--record FILE goes to FILE only', () => {
    const dir = tmp('deja-explicit-');
    const file = join(tmp('deja-explicit-file-'), 'mine.deja');
    const r = dejaOnTty(['run', '--record', file, '--elf', ELF], { DEJA_RECORDINGS_DIR: dir });
    expect(r.status, r.output).toBe(0);
    expect(existsSync(file)).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('keeps the most recent 20 default recordings', () => {
    const dir = tmp('deja-keep-');
    for (let i = 0; i < 25; i++) writeFileSync(join(dir, `2020${String(i + 1).padStart(4, '0')}-000000-000-old.deja`), '');
    writeFileSync(join(dir, 'mine.deja'), '');
    const r = dejaOnTty(['run', '--elf', ELF], { DEJA_RECORDINGS_DIR: dir });
    expect(r.status, r.output).toBe(0);
    const files = named(dir);
    expect(files).toHaveLength(20);
    expect(files[files.length - 1]).toMatch(/-uart-plic\.deja$/);
    expect(files[0]).toBe('20200007-000000-000-old.deja');
    expect(existsSync(join(dir, 'mine.deja'))).toBe(true);
  });

  it('an unwritable default folder: the run goes on without a recording, with a note', () => {
    const file = join(tmp('deja-blocked-'), 'a-file');
    writeFileSync(file, '');
    const r = dejaOnTty(['run', '--elf', ELF], { DEJA_RECORDINGS_DIR: join(file, 'sub') });
    expect(r.status, r.output).toBe(0);
    expect(r.output).toContain('deja uart ok');
    expect(r.output).toMatch(/^deja: note: not recording: .*\(--no-record skips recording\)$/m);
  });
});

describe('deja run without a terminal', () => {
  it('does not record unless asked', () => {
    const dir = tmp('deja-pipe-');
    const r = deja(['run', '--elf', ELF], { env: { DEJA_RECORDINGS_DIR: dir } });
    expect(r.status).toBe(0);
    expect(readdirSync(dir)).toEqual([]);
    expect(r.stderr).toMatch(/^deja: run: poweroff at icount \d+: the guest powered off\n$/);
  });

  it('--rtc fixes the RTC reading, which the recording logs; a bad --rtc is a usage error', async () => {
    const { initZstd } = await import('../../src/record/zstd.js');
    const { readRecording } = await import('../../src/record/reader.js');
    await initZstd();
    const file = join(tmp('deja-rtc-'), 'rtc.deja');
    // The bare-metal program does not read the RTC: the option is accepted, nothing logged.
    expect(deja(['run', '--elf', ELF, '-q', '--rtc', '2026-01-01T00:00:00Z', '--record', file]).status).toBe(0);
    expect(readRecording(file).events.filter((e) => e.kind === 'rtc')).toEqual([]);
    const bad = deja(['run', '--elf', ELF, '--rtc', 'yesterday']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe("deja: --rtc: 'yesterday' is not a time (examples: 2026-01-01T00:00:00Z, 1767225600000000000)\n");
  });
});
