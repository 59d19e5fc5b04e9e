// `deja run`: build the machine from options, run it live with the console attached.

import { closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { VirtioBlk } from '../machine/devices/virtio-blk.js';
import { Machine, type MachineConfig, type ExitStatus } from '../machine/machine.js';
import { LivePort } from '../record/input-port.js';
import { DEFAULT_RAM_BYTES } from '../machine/board.js';
import { UserError, ExitCode } from '../errors.js';
import { readInput } from './files.js';
import { defaultGuest, guestAppend } from './guest.js';
import { parseCount, parseRam } from './options.js';
import { applyTier, prepareTier, settingsForJson, tierSettings, tierStats, type TierOptions } from './tier.js';
import { ConsoleOut, attachConsoleInput } from './console.js';
import type { RecordingWriter } from '../record/writer.js';
import type { Recorder, RecordingPort } from '../record/recorder.js';
import { DEFAULT_CHECKPOINT_EVERY, embeddedImages, recordingHeader } from './manifest.js';
import { defaultRecordingPath, ensureRecordingsDir, pruneRecordings, recordingsDir, recordingsKeep } from '../record/recordings-dir.js';
import { basename } from 'node:path';

export { TIERS, type Tier } from './tier.js';

export interface RunOptions extends TierOptions {
  bios?: string;
  kernel?: string;
  initrd?: string;
  append?: string;
  mode?: string;
  appendExtra?: string;
  elf?: string;
  ram?: string;
  disk?: string[];
  diskWrite?: boolean;
  maxInsns?: string;
  statsJson?: string;
  pace?: boolean;
  /** A fixed RTC wall-clock time instead of the host's (the RTC reading is an input). */
  rtc?: string;
  quiet?: boolean;
  /** A file; false for --no-record; unset: record to the default place if stdin is a terminal. */
  record?: string | false;
  embed?: boolean;
  checkpointEvery?: string;
}

/** Machine configuration from command-line options (reads the image files). */
export function machineConfig(o: RunOptions): MachineConfig {
  const ramBytes = o.ram ? parseRam(o.ram) : DEFAULT_RAM_BYTES;
  const disks = (o.disk ?? []).map((p) => ({ name: p, bytes: readInput(p, 'disk image'), readonly: false }));
  if (o.elf) {
    if (o.bios || o.kernel || o.initrd) throw new UserError('--elf runs a bare-metal program alone: drop --bios/--kernel/--initrd', ExitCode.Usage);
    return { ramBytes, elf: { name: o.elf, bytes: readInput(o.elf, 'ELF program') }, append: o.append ?? '', disks };
  }
  const guest = !o.bios && !o.kernel ? defaultGuest() : null;
  const bios = o.bios ?? guest?.bios;
  const kernel = o.kernel ?? guest?.kernel;
  const initrd = o.initrd ?? (o.kernel ? undefined : guest?.initrd);
  return {
    ramBytes,
    bios: bios ? { name: bios, bytes: readInput(bios, 'firmware') } : undefined,
    kernel: kernel ? { name: kernel, bytes: readInput(kernel, 'kernel') } : undefined,
    initrd: initrd ? { name: initrd, bytes: readInput(initrd, 'initrd') } : undefined,
    append: o.append ?? guestAppend(o.mode, o.appendExtra),
    disks,
  };
}

/** --rtc: an ISO 8601 time (2026-01-01T00:00:00Z) or nanoseconds since the epoch. */
export function parseRtc(value: string): number {
  const v = value.trim();
  const ns = /^\d{1,20}$/.test(v) ? Number(v) : Date.parse(v) * 1e6;
  if (!Number.isFinite(ns) || ns < 0) throw new UserError(`--rtc: '${value}' is not a time (examples: 2026-01-01T00:00:00Z, 1767225600000000000)`, ExitCode.Usage);
  return ns;
}

export interface RunResult {
  exit: ExitStatus;
  icount: number;
  seconds: number;
}

export function exitCodeFor(exit: ExitStatus): number {
  switch (exit.reason) {
    case 'poweroff': return ExitCode.Ok;
    case 'fail': return ExitCode.GuestFail;
    case 'reset': return ExitCode.Reset;
    case 'panic': return ExitCode.Panic;
    case 'trap-loop': return ExitCode.TrapLoop;
    case 'limit': return ExitCode.Limit;
    case 'stop': return ExitCode.Stopped;
  }
}

export function writeStats(file: string, r: RunResult, extra: Record<string, unknown>): void {
  const stats = {
    icount: r.icount,
    seconds: r.seconds,
    mips: r.seconds > 0 ? r.icount / r.seconds / 1e6 : 0,
    exit: r.exit,
    ...extra,
  };
  try {
    writeFileSync(file, JSON.stringify(stats, null, 2) + '\n');
  } catch (e) {
    throw new UserError(`${file}: cannot write stats: ${(e as NodeJS.ErrnoException).code ?? e}`, ExitCode.BadInput);
  }
}

/** Runs a machine live until it exits, hits the limit, or the user stops it. */
export async function runLive(machine: Machine, port: LivePort, maxInsns: number, out: ConsoleOut, tick: () => void = () => {}): Promise<ExitStatus> {
  let stopped = false;
  const detach = attachConsoleInput(port, () => (stopped = true));
  try {
    for (;;) {
      // Short steps, so the recorder flushes at least every second.
      const r = machine.runUntil(Math.min(maxInsns, machine.hart.icount + 10_000_000));
      out.flush();
      tick();
      if (r === 'exit') return machine.exit!;
      if (stopped) return { reason: 'stop', code: 0 };
      if (r === 'limit' && machine.hart.icount >= maxInsns) return { reason: 'limit', code: 0 };
      // Let the host deliver console input (and pace idle time) before going on.
      await new Promise((res) => (r === 'wait' ? setTimeout(res, 1) : setImmediate(res)));
      if (stopped) return { reason: 'stop', code: 0 };
    }
  } finally {
    detach();
  }
}

export async function runCommand(o: RunOptions): Promise<number> {
  const tiers = tierSettings(o);
  const tier = tiers.tier;
  const maxInsns = o.maxInsns ? parseCount(o.maxInsns, '--max-insns') : Infinity;
  const every = o.checkpointEvery ? parseCount(o.checkpointEvery, '--checkpoint-every') : DEFAULT_CHECKPOINT_EVERY;
  if (every < 1) throw new UserError('--checkpoint-every must be at least 1', ExitCode.Usage);
  const rtcNanos = o.rtc === undefined ? undefined : parseRtc(o.rtc);
  const config = machineConfig(o);
  // Options and images are good: train the interpreter, which V8 then compiles while the
  // machine is built.
  prepareTier(tiers);
  const live = new LivePort({ pace: o.pace ?? false, rtcNanos });
  let recording: { writer: RecordingWriter; port: RecordingPort; recorder: (m: Machine) => Recorder } | null = null;
  // Interactive runs are recorded by default (README, Recordings), unless --no-record.
  const byDefault = o.record === undefined && process.stdin.isTTY === true;
  const recordTo = typeof o.record === 'string' ? o.record : byDefault ? defaultRecordingPath(o.mode ?? (o.elf ? basename(o.elf).replace(/\.elf$/, '') : 'run'), new Date()) : null;
  if (recordTo) {
    // Loaded only to record: a plain run starts without the codecs.
    const [{ initZstd }, { RecordingWriter }, { Recorder, RecordingPort }] = await Promise.all([
      import('../record/zstd.js'),
      import('../record/writer.js'),
      import('../record/recorder.js'),
    ]);
    await initZstd();
    const header = recordingHeader(config, { tier, ...(tiers.jit ? settingsForJson(tiers.jit) : {}), checkpointEvery: every }, every);
    try {
      if (byDefault) ensureRecordingsDir();
      const writer = new RecordingWriter(recordTo, header, o.embed ? embeddedImages(config) : []);
      recording = { writer, port: new RecordingPort(live, writer), recorder: (m) => new Recorder(m, writer, every) };
      if (byDefault) pruneRecordings(recordingsDir(), recordingsKeep());
    } catch (e) {
      if (!byDefault) throw e;
      process.stderr.write(`deja: note: not recording: ${e instanceof Error ? e.message : String(e)} (--no-record skips recording)\n`);
    }
  }
  const machine = new Machine(config, recording?.port ?? live);
  const recorder = recording ? recording.recorder(machine) : null;
  const jit = applyTier(machine, tiers, () => performance.now());
  const out = new ConsoleOut(o.quiet ? null : process.stdout);
  machine.consoleSink = (b) => {
    out.write(b);
    recorder?.console.push(b);
  };
  const t0 = performance.now();
  const exit = await runLive(machine, live, maxInsns, out, () => recording?.writer.maybeFlush(performance.now()));
  const seconds = (performance.now() - t0) / 1000;
  out.flush();
  recorder?.finish(exit);
  if (o.diskWrite) writeBackDisks(machine, o.disk ?? []);
  const result = { exit, icount: machine.hart.icount, seconds };
  if (o.statsJson) writeStats(o.statsJson, result, { ...tierStats(tier, jit, result.icount), ...(recording ? { recording: { file: recordTo, bytes: recording.writer.bytesWritten } } : {}) });
  if (byDefault && recording) process.stderr.write(`deja: recorded to ${recordTo} (replay with: deja replay ${recordTo})\n`);
  if (exit.reason === 'trap-loop') process.stderr.write(`deja: the guest is stuck taking traps without retiring an instruction: ${machine.trapLoop}\n`);
  return exitCodeFor(exit);
}

/** --disk-write: applies the guest's writes (the overlay) to the image files. */
function writeBackDisks(machine: Machine, paths: string[]): void {
  paths.forEach((path, i) => {
    const blk = machine.virtio[i]?.backend;
    if (!(blk instanceof VirtioBlk)) return;
    let fd: number;
    try {
      fd = openSync(path, 'r+');
    } catch (e) {
      throw new UserError(`${path}: cannot write disk back: ${(e as NodeJS.ErrnoException).code ?? e}`, ExitCode.BadInput);
    }
    try {
      for (const [sector, bytes] of blk.overlayEntries()) writeSync(fd, bytes, 0, bytes.length, sector * 512);
    } finally {
      closeSync(fd);
    }
  });
}
