// `deja run`: build the machine from options, run it live with the console attached.

import { accessSync, closeSync, constants, existsSync, openSync, readSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { VirtioBlk } from '../machine/devices/virtio-blk.js';
import { Machine, formatExit, type MachineConfig, type ExitStatus } from '../machine/machine.js';
import { INPUT_ENDED_QUIET_SECONDS, LivePort } from '../record/input-port.js';
import { MAGIC, encodeHeader } from '../record/format.js';
import { DEFAULT_RAM_BYTES } from '../machine/board.js';
import { UserError, ExitCode, fileError } from '../errors.js';
import { readInput } from '../input-files.js';
import { GUEST_MIN_RAM, GUEST_MODES, defaultGuest, guestAppend } from './guest.js';
import { parseChoice, parseCount, parseEvery, parseRam } from '../option-values.js';
import { applyTier, prepareTier, reportDumps, settingsForJson, tierStats } from './tier.js';
import { tierSettings, type TierOptions } from '../session/tier.js';
import { ConsoleOut, attachConsoleInput, catchStopSignals } from './console.js';
import type { EventWriter } from '../record/writer.js';
import type { FlightWriter } from '../record/flight-recorder.js';
import type { Recorder, RecordingPort } from '../record/recorder.js';
import type { SnapshotWriter } from '../record/snapshot-file.js';
import { RecordingSnapshots } from '../record/recording-snapshots.js';
import { DEJA_VERSION } from '../version.js';
import { DEFAULT_CHECKPOINT_EVERY, embeddedImages, recordingHeader } from '../record/manifest.js';
import { defaultRecordingPath, ensureRecordingsDir, pruneRecordings, recordingsDir, recordingsKeep } from '../record/recordings-dir.js';
import { basename, dirname, resolve } from 'node:path';
import { DebugStops } from '../cpu/debug-stops.js';
import { LiveTarget } from '../gdb/live-target.js';
import { parseListen, serveGdb, type Listen } from '../gdb/server.js';

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
  /** --pace / --no-pace; unset: pace when stdin is a terminal. */
  pace?: boolean;
  /** A fixed RTC wall-clock time instead of the host's (the RTC reading is an input). */
  rtc?: string;
  quiet?: boolean;
  /** A file; false for --no-record; unset: record to the default place if stdin is a terminal. */
  record?: string | false;
  embed?: boolean;
  checkpointEvery?: string;
  /** Keep only what replays the last N instructions (two recordings taking turns). */
  flightRecorder?: string;
  /** Snapshots beside the recording (FILE.snapshots) every N instructions. */
  snapshotEvery?: string;
  /** Overwrite a --record file that is not a recording. */
  force?: boolean;
  /** Serve the run to gdb at [HOST:]PORT: it starts stopped at reset. */
  gdb?: string;
}

/** Machine configuration from command-line options (reads the image files). */
export function machineConfig(o: RunOptions): MachineConfig {
  const ramBytes = o.ram ? parseRam(o.ram) : DEFAULT_RAM_BYTES;
  if (o.mode !== undefined) parseChoice(o.mode, '--mode', GUEST_MODES);
  // --mode and --append-extra add to the reference guest's command line: refuse where they
  // would be dropped rather than drop them.
  const guestWords = [o.mode !== undefined ? '--mode' : '', o.appendExtra !== undefined ? '--append-extra' : ''].filter(Boolean).join(' and ');
  if (guestWords && o.append !== undefined) {
    throw new UserError(`--append replaces the whole kernel command line, so ${guestWords} would be ignored: give one or the other`, ExitCode.Usage);
  }
  if (guestWords && o.elf) throw new UserError(`${guestWords} ${guestWords.includes(' and ') ? 'are' : 'is'} for the reference guest's /init; --elf runs a bare-metal program`, ExitCode.Usage);
  const disks = (o.disk ?? []).map((p) => ({ name: p, bytes: readInput(p, 'disk image'), readonly: false }));
  if (o.elf) {
    if (o.bios || o.kernel || o.initrd) throw new UserError('--elf runs a bare-metal program alone: drop --bios/--kernel/--initrd', ExitCode.Usage);
    return { ramBytes, elf: { name: o.elf, bytes: readInput(o.elf, 'ELF program') }, append: o.append ?? '', disks };
  }
  const guest = !o.bios && !o.kernel ? defaultGuest() : null;
  if (guest && ramBytes < GUEST_MIN_RAM) {
    throw new UserError(
      `--ram ${o.ram}: the reference guest's firmware (OpenSBI fw_jump) copies the device tree to 0x82200000, ` +
        `past the end of ${ramBytes / 1024 ** 2} MiB of RAM; it needs at least ${GUEST_MIN_RAM / 1024 ** 2}M`,
      ExitCode.Usage,
    );
  }
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
    case 'idle-forever': return ExitCode.IdleForever;
    case 'input-ended': return ExitCode.InputEnded;
  }
}

/** What ended a live run, in words, after the reason: `deja: run: REASON at icount N: WHY`. */
function whyEnded(exit: ExitStatus, machine: Machine, stoppedBy: string): string {
  switch (exit.reason) {
    case 'poweroff': return 'the guest powered off';
    case 'fail': return 'the guest reported failure';
    case 'reset': return 'the guest asked for a reset';
    case 'panic': return 'the guest kernel panicked';
    case 'limit': return '--max-insns reached';
    case 'stop': return `stopped by ${stoppedBy}`;
    case 'trap-loop': return `the guest is stuck taking traps without retiring an instruction: ${machine.trapLoop}`;
    case 'idle-forever': return `the guest waits in wfi and nothing can wake it: ${machine.idleDetail}`;
    case 'input-ended': return `stdin has ended and the guest then idled ${INPUT_ENDED_QUIET_SECONDS} s of virtual time without printing: it waits for input that cannot come`;
  }
}

/**
 * `--stats-json FILE` is checked before the run: a path that cannot be written is refused
 * at once (exit 3), not after the run, when it would take the run's verdict with it.
 */
export function checkStatsPath(file: string): void {
  try {
    const dir = dirname(resolve(file));
    if (!statSync(dir).isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
    accessSync(existsSync(file) ? file : dir, constants.W_OK);
    if (existsSync(file) && statSync(file).isDirectory()) throw Object.assign(new Error('is a folder'), { code: 'EISDIR' });
  } catch (e) {
    throw fileError(file, 'write stats', e);
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
    throw fileError(file, 'write stats', e);
  }
}

/**
 * --record FILE may replace an earlier recording, never another file (unless --force): an
 * existing file must be empty or start with the recording's magic.
 */
export function refuseOverwrite(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return; // nothing there (or unreadable: opening it to write says why)
  }
  const head = new Uint8Array(MAGIC.length);
  let n = 0;
  try {
    n = readSync(fd, head, 0, head.length, 0);
  } catch {
    return; // a folder: opening it to write says so
  } finally {
    closeSync(fd);
  }
  if (n > 0 && Buffer.from(head.subarray(0, n)).toString('latin1') !== MAGIC) {
    throw new UserError(`${path}: exists and is not a deja recording; not overwriting it (--force does)`, ExitCode.BadInput);
  }
}

/** Who stopped a live run (Ctrl-A X, or a signal), or null while it runs. */
export interface StopRequest {
  by: string | null;
}

/**
 * Runs a machine live until it exits, hits the limit, or the user stops it (Ctrl-A X, or
 * `stop.by` set by a signal handler): between steps, so always at an instruction boundary.
 */
export async function runLive(machine: Machine, port: LivePort, maxInsns: number, out: ConsoleOut, tick: () => void = () => {}, stop: StopRequest = { by: null }): Promise<ExitStatus> {
  const detach = attachConsoleInput(port, () => (stop.by ??= 'Ctrl-A X'));
  try {
    for (;;) {
      if (stop.by) return { reason: 'stop', code: 0 };
      // Short steps, so the recorder flushes at least every second.
      const r = machine.runUntil(Math.min(maxInsns, machine.hart.icount + 10_000_000));
      out.flush();
      tick();
      if (r === 'exit') return machine.exit!;
      if (stop.by) return { reason: 'stop', code: 0 };
      if (r === 'limit' && machine.hart.icount >= maxInsns) return { reason: 'limit', code: 0 };
      // Let the host deliver console input (and pace idle time) before going on.
      await new Promise((res) => (r === 'wait' ? setTimeout(res, 1) : setImmediate(res)));
    }
  } finally {
    detach();
  }
}

/** A live run served to gdb (--gdb): it runs when gdb says; how it ended, or 'stop' if the session ended first. */
async function debugLive(target: LiveTarget, port: LivePort, at: Listen, stop: StopRequest): Promise<ExitStatus> {
  const detach = attachConsoleInput(port, () => (stop.by ??= 'Ctrl-A X'));
  try {
    const end = await serveGdb(target, at, (host, p) => {
      process.stderr.write(`deja: gdb stub for this run (stopped at reset, icount ${target.icount}) listening on ${host}:${p}\n`);
      process.stderr.write(`deja: connect with: gdb-multiarch -ex 'target remote ${host}:${p}'\n`);
    }, () => stop.by !== null);
    if (!target.exit && end !== 'stopped') stop.by ??= `the gdb session (${end === 'disconnect' ? 'the client disconnected' : end === 'detach' ? 'detached' : 'killed'})`;
    return target.exit ?? { reason: 'stop', code: 0 };
  } finally {
    detach();
  }
}

export async function runCommand(o: RunOptions): Promise<number> {
  // SIGINT and SIGTERM stop the guest as Ctrl-A X does; a second one kills at once.
  const stop: StopRequest = { by: null };
  const release = catchStopSignals((sig) => (stop.by ??= sig));
  try {
    return await runWith(o, stop);
  } finally {
    release();
  }
}

async function runWith(o: RunOptions, stop: StopRequest): Promise<number> {
  const tiers = tierSettings(o);
  const tier = tiers.tier;
  const maxInsns = o.maxInsns ? parseCount(o.maxInsns, '--max-insns') : Infinity;
  const every = o.checkpointEvery ? parseEvery(o.checkpointEvery, '--checkpoint-every') : DEFAULT_CHECKPOINT_EVERY;
  const snapshotEvery = o.snapshotEvery === undefined ? null : parseEvery(o.snapshotEvery, '--snapshot-every');
  const rtcNanos = o.rtc === undefined ? undefined : parseRtc(o.rtc);
  const gdbAt = o.gdb === undefined ? null : parseListen(o.gdb, '--gdb');
  const config = machineConfig(o);
  if (typeof o.record === 'string' && !o.force) refuseOverwrite(o.record);
  if (o.statsJson) checkStatsPath(o.statsJson);
  // Options and images are good: train the interpreter, which V8 then compiles while the
  // machine is built.
  prepareTier(tiers);
  // An idle guest at a terminal waits in wall-clock time rather than spinning a host core;
  // piped runs jump over idle time (both are inputs, logged: replays never wait).
  const live = new LivePort({ pace: o.pace ?? process.stdin.isTTY === true, rtcNanos });
  const flight = o.flightRecorder === undefined ? null : parseEvery(o.flightRecorder, '--flight-recorder');
  if (flight !== null && o.record === false) throw new UserError('--flight-recorder records: it does not go with --no-record', ExitCode.Usage);
  // The snapshots would name the first of the flight recorder's files, which it drops.
  if (flight !== null && snapshotEvery !== null) throw new UserError('--snapshot-every does not go with --flight-recorder (index the file it keeps: deja index FILE)', ExitCode.Usage);
  let recording: { writer: EventWriter; recorder: (m: Machine) => Recorder; flight: FlightWriter | null; snapshots: SnapshotWriter | null } | null = null;
  // Interactive runs are recorded by default (README, Recordings), unless --no-record.
  const byDefault = o.record === undefined && process.stdin.isTTY === true;
  const recordTo = typeof o.record === 'string' ? o.record : byDefault ? defaultRecordingPath(o.mode ?? (o.elf ? basename(o.elf).replace(/\.elf$/, '') : 'run'), new Date()) : null;
  if (flight !== null && !recordTo) throw new UserError('--flight-recorder keeps a recording: give --record FILE', ExitCode.Usage);
  if (snapshotEvery !== null && !recordTo) throw new UserError('--snapshot-every writes snapshots beside a recording: give --record FILE', ExitCode.Usage);
  // The machine is built before the recording's file is opened: an image that does not fit
  // leaves no file, and an earlier recording at that path as it was.
  let port: RecordingPort | null = null;
  let codecs: (typeof import('../record/writer.js') & typeof import('../record/recorder.js') & typeof import('../record/flight-recorder.js') & typeof import('../record/snapshot-file.js')) | null = null;
  if (recordTo) {
    // Loaded only to record: a plain run starts without the codecs.
    const [{ initZstd }, writerModule, recorderModule, flightModule, snapshotModule] = await Promise.all([
      import('../record/zstd.js'),
      import('../record/writer.js'),
      import('../record/recorder.js'),
      import('../record/flight-recorder.js'),
      import('../record/snapshot-file.js'),
    ]);
    await initZstd();
    codecs = { ...writerModule, ...recorderModule, ...flightModule, ...snapshotModule };
    port = new recorderModule.RecordingPort(live);
  }
  const machine = new Machine(config, port ?? live);
  if (recordTo && codecs && port) {
    const { RecordingWriter, Recorder, FlightWriter, SnapshotWriter, dropSnapshotsOf, recordingIdentity, snapshotPath } = codecs;
    const header = recordingHeader(config, { tier, ...(tiers.jit ? settingsForJson(tiers.jit) : {}), checkpointEvery: every }, every);
    try {
      if (byDefault) {
        try {
          ensureRecordingsDir();
        } catch (e) {
          throw fileError(recordingsDir(), 'make the folder for recordings', e);
        }
      }
      const embedded = o.embed ? embeddedImages(config) : [];
      const identity = recordingIdentity(encodeHeader(header));
      let flightWriter: FlightWriter | null = null;
      let writer: EventWriter;
      if (flight !== null) {
        const disks = embedded.filter((i) => i.role === 'disk');
        writer = flightWriter = new FlightWriter(recordTo, header, embedded, disks);
      } else writer = new RecordingWriter(recordTo, header, embedded);
      // Snapshots of a recording it replaces would name that one; new ones name this one by its
      // identity, as `deja index` does (the writer's header frame is encodeHeader's).
      if (snapshotEvery === null) dropSnapshotsOf(recordTo);
      const snapshots = snapshotEvery === null ? null : new SnapshotWriter(snapshotPath(recordTo), { recording: identity, every: snapshotEvery, deja: DEJA_VERSION });
      port.attach(writer);
      recording = {
        writer,
        flight: flightWriter,
        snapshots,
        recorder: (m) => {
          const r = new Recorder(m, writer, every);
          if (flightWriter) r.addMark(flight!, (mm) => flightWriter.turn(mm, r.console.save(), { name: recordTo, identity }));
          return r;
        },
      };
      if (byDefault) pruneRecordings(recordingsDir(), recordingsKeep());
    } catch (e) {
      if (!byDefault) throw e;
      process.stderr.write(`deja: note: not recording: ${e instanceof Error ? e.message : String(e)} (--no-record skips recording)\n`);
    }
  }
  const recorder = recording ? recording.recorder(machine) : null;
  const snapshots = recording?.snapshots ? new RecordingSnapshots(machine, recording.snapshots, snapshotEvery!, recorder!.console) : null;
  // A debugger's stops go on the hart before its tier, which then runs the checking interpreter.
  const stops = gdbAt ? new DebugStops() : null;
  if (stops) machine.hart.attachDebugger(stops);
  const jit = applyTier(machine, tiers, () => performance.now());
  const out = new ConsoleOut(o.quiet ? null : process.stdout);
  machine.consoleSink = (b) => {
    out.write(b);
    live.noteOutput();
    recorder?.console.push(b);
  };
  const t0 = performance.now();
  const tick = () => {
    recording?.writer.maybeFlush(performance.now());
    snapshots?.settle();
  };
  const exit = gdbAt ? await debugLive(new LiveTarget(machine, stops!, tier, jit, { last: maxInsns, tick: () => (out.flush(), tick()), stopped: () => stop.by !== null, exitCode: exitCodeFor, now: () => performance.now() }), live, gdbAt, stop) : await runLive(machine, live, maxInsns, out, tick, stop);
  const seconds = (performance.now() - t0) / 1000;
  out.flush();
  recorder?.finish(exit);
  snapshots?.close();
  if (o.diskWrite) writeBackDisks(machine, o.disk ?? []);
  const result = { exit, icount: machine.hart.icount, seconds };
  if (o.statsJson) {
    const snaps = snapshots ? { snapshots: { file: snapshots.writer.path, count: snapshots.writer.count, bytes: snapshots.writer.bytesWritten } } : {};
    writeStats(o.statsJson, result, { ...tierStats(tier, jit, result.icount), ...(recording ? { recording: { file: recordTo, bytes: recording.writer.bytesWritten, ...snaps } } : {}) });
  }
  reportDumps(tiers, jit);
  // One line for every end, -q or not (-q silences the guest's console only).
  process.stderr.write(`deja: run: ${formatExit(exit)} at icount ${result.icount}: ${whyEnded(exit, machine, stop.by ?? 'the user')}\n`);
  if (byDefault && recording) process.stderr.write(`deja: recorded to ${recordTo} (replay with: deja replay ${recordTo})\n`);
  const fw = recording?.flight;
  if (fw) {
    const kept = result.icount - fw.startIcount;
    process.stderr.write(`deja: flight recorder: ${recordTo} keeps icount ${fw.startIcount} to ${result.icount} (the last ${kept} instructions, ${fw.bytesWritten} bytes; ${fw.turns} turns, ${fw.bytesTotal} bytes written in all)\n`);
  }
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
      throw fileError(path, 'write disk back', e);
    }
    try {
      for (const [sector, bytes] of blk.overlayEntries()) writeSync(fd, bytes, 0, bytes.length, sector * 512);
    } finally {
      closeSync(fd);
    }
  });
}
