// deja's command line.

import { Command, CommanderError, Option } from 'commander';
import { UserError, ExitCode } from '../errors.js';
import type { RunOptions } from './run.js';
import type { ReplayOptions } from './replay.js';
import { addTierOptions } from './tier.js';
import { onTierNote } from '../session/tier.js';
import type { DiffCliOptions } from './diff.js';
import type { BisectCliOptions } from './bisect.js';
import type { FuzzCliOptions } from './fuzz.js';
import type { StateOptions } from './state.js';
import type { TrimOptions } from './trim.js';
import type { IndexOptions } from './index-command.js';
import type { ReportOptions } from './report.js';
import type { MergeOptions } from './merge-results.js';
import { DEFAULT_SNAPSHOT_EVERY } from '../machine/snapshot.js';
import { DEFAULT_A, DEFAULT_B } from '../diff/settings.js';
import { DEJA_VERSION } from '../version.js';

// Each command's module is loaded when the command runs: start-up loads only what it needs.

const collect = (v: string, prev: string[] = []) => [...prev, v];
const JOBS = ['--jobs <n>', 'replays run at once, in worker threads (default: the machine\'s processors); the output is the same for any N'] as const;

/** The options `diff`, `bisect` and `fuzz` share. */
function addDiagnosisOptions(cmd: Command): Command {
  return cmd
    .option('--images <dir>', 'where to find images that are not embedded')
    .option('--json', 'machine-readable output')
    .option('--no-code', 'do not print the generated code of the unit')
    .option('--html <file>', 'also write the divergence as one self-contained HTML page')
    .option('-q, --quiet', 'no progress lines');
}

export function buildProgram(): Command {
  const program = new Command('deja')
    .description('Full-system RISC-V (rv32, QEMU virt) emulator with deterministic record and replay')
    .version(`deja ${DEJA_VERSION}`, '--version', 'print the version')
    .exitOverride()
    // Commander's own errors take deja's form: `deja: unknown option '--x'`.
    .configureOutput({ outputError: (s, write) => write(`deja: ${s.replace(/^error: /, '')}`) })
    .hook('preAction', (_program, action) => refuseOptionsAsValues(action));

  const run = program
    .command('run')
    .description('boot a guest (default: the reference guest shipped in guest/, or DEJA_GUEST_DIR)')
    .option('--bios <file>', 'firmware (raw binary at 0x80000000, or ELF)')
    .option('--kernel <file>', 'kernel (Linux RISC-V Image, or ELF)')
    .option('--initrd <file>', 'initial ramdisk')
    .option('--append <cmdline>', 'kernel command line (replaces the default)')
    .option('--mode <mode>', 'reference guest /init mode: boot, bench, stress, kernel, panic, shell')
    .option('--append-extra <words>', 'words added to the default command line (e.g. benchiter=1000)')
    .option('--elf <file>', 'bare-metal ELF program (reports through HTIF tohost)')
    .option('--ram <size>', 'RAM size (default 128M)')
    .option('--disk <file>', 'virtio-blk disk image (repeatable; writes stay in memory)', collect)
    .option('--disk-write', 'write disk changes back to the image files at exit')
    .option('--max-insns <n>', 'stop after n instructions (exit reason "limit")')
    .option('--stats-json <file>', 'write run statistics as JSON at exit')
    .option('--pace', 'pace idle time to the wall clock (guest sleep 1 takes a second; the default when stdin is a terminal)')
    .option('--no-pace', 'jump over idle time at once (the default when stdin is not a terminal)')
    .option('--rtc <time>', 'fixed wall-clock time for the RTC instead of the host clock (ISO 8601, or ns since the epoch)')
    .option('-q, --quiet', 'do not print the guest console')
    .option('--record <file>', 'record the run to a .deja file (runs from a terminal record to $DEJA_RECORDINGS_DIR by default)')
    .option('--no-record', 'do not record, not even to the default place')
    .option('--embed', 'embed the images in the recording (one self-contained file)')
    .option('--checkpoint-every <n>', 'instructions between checkpoints in the recording (default 20M)')
    .option('--flight-recorder <n>', 'keep only what replays the last N instructions (at least N, at most 2N): FILE and FILE.next take turns')
    .option('--snapshot-every <n>', 'with a recording: write snapshots beside it (FILE.snapshots) every n instructions, as deja index does')
    .option('--force', 'let --record overwrite a file that is not a deja recording')
    .option('--gdb <[host:]port>', 'serve the run to gdb-multiarch (target remote), forward only; it starts stopped at reset; host defaults to 127.0.0.1')
    .action(async (o: RunOptions) => {
      if (recordGiven && noRecordGiven) throw new UserError('--record and --no-record contradict each other: give one', ExitCode.Usage);
      process.exitCode = await (await import('./run.js')).runCommand(o);
    });
  // --record FILE and --no-record set one option: the later would win unnoticed.
  let recordGiven = false;
  let noRecordGiven = false;
  run.on('option:record', () => (recordGiven = true));
  run.on('option:no-record', () => (noRecordGiven = true));

  addTierOptions(run, 'interp');

  const replay = program
    .command('replay <file>')
    .description('replay a recording exactly, checking every checkpoint')
    .option('--images <dir>', 'where to find images that are not embedded')
    .option('--no-verify', 'do not check checkpoints')
    .option('--to <icount>', 'stop at this icount (after that many instructions), checking the checkpoints up to there')
    .option('--no-snapshots', 'with --to: replay from reset, not from the snapshots beside the recording (deja index)')
    .option('--stats-json <file>', 'write replay statistics as JSON at exit')
    .option('-q, --quiet', 'do not print the guest console')
    .option('--gdb <[host:]port>', 'serve the recording to gdb-multiarch (target remote), forwards and backwards; host defaults to 127.0.0.1, port 0 takes a free one')
    .option('--vmlinux <file>', 'with --gdb: the kernel with symbols, named in the connect hint (gdb loads it)')
    .option('--symbols <file>', 'with --gdb: an ELF with symbols, named in the connect hint')
    .action(async (file: string, o: ReplayOptions & { gdb?: string; vmlinux?: string; symbols?: string }) => {
      // Options one way of replaying would ignore are refused.
      const misplaced: [boolean, string][] = o.gdb !== undefined
        ? [
            [o.to !== undefined, "--to does not go with --gdb (in gdb, 'monitor seek N' goes to icount N)"],
            [o.statsJson !== undefined, '--stats-json does not go with --gdb'],
            [o.verify === false, '--no-verify does not go with --gdb'],
          ]
        : [
            [o.vmlinux !== undefined, '--vmlinux goes with --gdb'],
            [o.symbols !== undefined, '--symbols goes with --gdb'],
          ];
      const refused = misplaced.find(([given]) => given);
      if (refused) throw new UserError(refused[1], ExitCode.Usage);
      if (o.gdb !== undefined) process.exitCode = await (await import('./gdb.js')).gdbReplayCommand(file, { ...o, gdb: o.gdb });
      else process.exitCode = await (await import('./replay.js')).replayCommand(file, o);
    });
  addTierOptions(replay, 'interp');

  addDiagnosisOptions(
    program
      .command('diff <file>')
      .description('replay a recording under two settings and find the first instruction where they differ')
      .option('--a <settings>', `reference settings, key=value,... with tier option names (default ${DEFAULT_A})`)
      .option('--b <settings>', `suspect settings (default ${DEFAULT_B})`),
  )
    .action(async (file: string, o: DiffCliOptions) => {
      process.exitCode = await (await import('./diff.js')).diffCommand(file, o);
    });

  addDiagnosisOptions(
    program
      .command('bisect <file>')
      .description('find the first compiled unit (trace, then block) whose translation makes a replay diverge')
      .option('--b <settings>', `settings of the failing replay (default ${DEFAULT_B})`)
      .option('--a <settings>', `reference settings for the final diff (default ${DEFAULT_A})`)
      .option('--threshold-scan <range>', 'instead: which trace thresholds (block thresholds for tier=block) diverge: A..B or a list 1,2,10; A > B (or a descending list) walks down to the highest that diverges and bisects there')
      .option('--threshold-steps <n>', 'thresholds in a walk down A..B (A > B), log-spaced, both ends included (default: two per decade)')
      .option('--no-boundary-stop', 'probes run to their first failure, not to the first run-loop boundary where the replay under --b differs from the reference')
      .option(...JOBS)
      .option('--shard <i/n>', 'with --threshold-scan: replay only shard I of N of the thresholds (join the --json outputs with deja merge-results)'),
  )
    .action(async (file: string, o: BisectCliOptions) => {
      process.exitCode = await (await import('./bisect.js')).bisectCommand(file, o);
    });

  addDiagnosisOptions(
    program
      .command('fuzz <file>')
      .description('replay under randomly drawn JIT settings; report the settings that diverge')
      .option('--runs <n>', 'settings to draw (default 20)')
      .option('--seed <n>', 'PRNG seed: the same seed draws the same settings (default 1)')
      .option('--base <settings>', 'settings every draw starts from (e.g. jit-fault=lost-writeback)')
      .option('--a <settings>', `reference settings for the diff of the first failure (default ${DEFAULT_A})`)
      .option(...JOBS)
      .option('--shard <i/n>', 'replay only shard I of N of the draws (join the --json outputs with deja merge-results)'),
  )
    .action(async (file: string, o: FuzzCliOptions) => {
      process.exitCode = await (await import('./fuzz.js')).fuzzCommand(file, o);
    });

  program
    .command('state <file> <icount>')
    .description('the machine at an icount of a recording: pc and its instruction, privilege, registers, CSRs, memory')
    .option('--mem <addr[:len]>', 'also LEN bytes (default 64, at most 1M) at virtual address ADDR, translated as the hart would for a load')
    .option('--phys', 'ADDR is a physical address')
    .option('--images <dir>', 'where to find images that are not embedded')
    .option('--json', 'machine-readable output')
    .option('--no-snapshots', 'replay from reset, not from the snapshots beside the recording (deja index)')
    .action(async (file: string, icount: string, o: StateOptions) => {
      process.exitCode = await (await import('./state.js')).stateCommand(file, icount, o);
    });

  const index = program
    .command('index <file>')
    .description('replay a recording once and write snapshots beside it (FILE.snapshots), so that --to and state start near any icount')
    .option('--every <n>', `instructions between snapshots (default ${DEFAULT_SNAPSHOT_EVERY / 1e6}M)`)
    .option('--images <dir>', 'where to find images that are not embedded')
    .option('-q, --quiet', 'no progress line')
    .action(async (file: string, o: IndexOptions) => {
      process.exitCode = await (await import('./index-command.js')).indexCommand(file, o);
    });
  addTierOptions(index, 'trace');

  program
    .command('trim <file>')
    .description('write a recording that starts at an icount of FILE, with the whole machine there, and ends where FILE ends')
    .option('-o, --output <file>', 'the trimmed recording')
    .option('--from <icount>', 'start at this icount')
    .option('--last <n>', 'keep the last N instructions')
    .option('--embed', 'embed the disk images too (the firmware and kernel are never needed)')
    .option('--force', 'replace OUT if it exists')
    .option('--images <dir>', 'where to find images that are not embedded')
    .option('--no-snapshots', 'replay from reset, not from the snapshots beside the recording')
    .action(async (file: string, o: TrimOptions) => {
      process.exitCode = await (await import('./trim.js')).trimCommand(file, o);
    });

  program
    .command('report <file>')
    .description('write one self-contained HTML page about a recording: header, timeline of console lines and events, and (--replay) what the JIT did')
    .option('-o, --output <file>', 'the HTML file to write')
    .option('--replay [settings]', 'add plots of a replay under these settings (key=value,... as for diff; default tier=trace)')
    .option('--images <dir>', 'where to find images that are not embedded')
    .option('--no-snapshots', 'do not show the snapshots beside the recording')
    .option('-q, --quiet', 'no progress line')
    .action(async (file: string, o: ReportOptions) => {
      process.exitCode = await (await import('./report.js')).reportCommand(file, o);
    });

  program
    .command('merge-results <files...>')
    .description('join the --json outputs of the shards of a fuzz or threshold scan (--shard I/N) into the report of the whole run')
    .option('--json', 'machine-readable output')
    .option('--no-code', 'do not print the generated code of the unit')
    .action(async (files: string[], o: MergeOptions) => {
      process.exitCode = await (await import('./merge-results.js')).mergeResultsCommand(files, o);
    });

  program
    .command('extract <file> <dir>')
    .description('write the images embedded in a recording to DIR (firmware, kernel, initrd, ELF, disks)')
    .action(async (file: string, dir: string) => {
      process.exitCode = await (await import('./extract.js')).extractCommand(file, dir);
    });

  program
    .command('inspect <file>')
    .description('describe a recording: header, images, events, checkpoints, end, sizes')
    .option('--json', 'machine-readable output')
    .action(async (file: string, o: ReplayOptions) => {
      process.exitCode = await (await import('./replay.js')).inspectCommand(file, o);
    });
  return program;
}

/**
 * An option's value that is another of the command's options (`--append-extra -q`) is a
 * value forgotten, not the value: commander takes the next word whatever it is.
 */
function refuseOptionsAsValues(cmd: Command): void {
  const flags = new Set(cmd.options.flatMap((o) => [o.short, o.long]).filter((f): f is string => !!f));
  for (const opt of cmd.options) {
    if (!opt.required && !opt.optional) continue;
    const v: unknown = cmd.getOptionValue(opt.attributeName());
    for (const word of Array.isArray(v) ? v : [v]) {
      if (typeof word === 'string' && flags.has(word)) {
        throw new UserError(`${opt.long ?? opt.short}: '${word}' is an option, not a value for ${opt.long ?? opt.short} (give its value after it)`, ExitCode.Usage);
      }
    }
  }
}

/**
 * Output closed early (`deja ... | head`): deja stops at once, without a message, with the
 * exit code of a process killed by SIGPIPE, as Unix tools end there.
 */
export const EXIT_PIPE_CLOSED = 141;

export async function main(argv: string[]): Promise<void> {
  onTierNote((line) => process.stderr.write(`deja: note: ${line}\n`));
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
      process.exit(EXIT_PIPE_CLOSED);
    });
  }
  try {
    await buildProgram().parseAsync(argv);
  } catch (e) {
    process.exitCode = exitCodeOf(e);
  }
  // Flush stdout before leaving; stdin listeners must not keep the process alive. (Output
  // closed while it was written is told here before the stream's error event.)
  process.stdout.write('', (e) => process.exit((e as NodeJS.ErrnoException | null | undefined)?.code === 'EPIPE' ? EXIT_PIPE_CLOSED : (process.exitCode ?? 0)));
}

function exitCodeOf(e: unknown): number {
  if (e instanceof CommanderError) {
    return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help' ? 0 : ExitCode.Usage;
  }
  if (e instanceof UserError) {
    process.stderr.write(`deja: ${e.message}\n`);
    return e.exitCode;
  }
  process.stderr.write(`deja: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  return ExitCode.Internal;
}
