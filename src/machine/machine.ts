// The machine: builds the board from a configuration and image bytes, and runs the hart
// in slices that end exactly where an event is due (DESIGN.md I4).

import { Hart, StopReason, type HartState } from '../cpu/hart.js';
import { PhysMemory, PAGE_CODE } from '../cpu/memory.js';
import { MIP_MEIP, MIP_SEIP } from '../cpu/constants.js';
import { interpreter, type RunFn } from '../cpu/interpreter.js';
import { UserError, ExitCode } from '../errors.js';
import { Bus, isDevice, type BoardPart } from './bus.js';
import { MAP, DEFAULT_RAM_BYTES, KERNEL_OFFSET, bootRom, buildFdt, fdtAddress, initrdAddress } from './board.js';
import { VIRT_BOARD, type BoardEntry } from './virt-board.js';
import { VirtualClock } from './clock.js';
import type { DeviceContext, ExitReason } from './device-context.js';
import { VirtioMmio } from './devices/virtio-mmio.js';
import { isElf, isLinuxImage, parseElf } from './loader.js';
import type { InputPort } from '../record/input-port.js';

export interface ImageBytes {
  /** Name for messages and the recording's manifest (the file's path). */
  name: string;
  bytes: Uint8Array;
}

export interface DiskConfig extends ImageBytes {
  readonly: boolean;
}

export interface MachineConfig {
  ramBytes: number;
  bios?: ImageBytes;
  kernel?: ImageBytes;
  initrd?: ImageBytes;
  /** A bare-metal ELF started directly in M-mode (HTIF tohost for pass/fail). */
  elf?: ImageBytes;
  append: string;
  disks: DiskConfig[];
  rngSeed?: Uint8Array;
  /**
   * The debug trigger module (Sdtrig, src/cpu/triggers.ts); on unless false. Recordings made
   * before it existed replay without it (their guests found no triggers).
   */
  debugTriggers?: boolean;
  /** The board's parts (default: the virt board). */
  board?: readonly BoardEntry[];
  /** Load nothing: RAM and ROM stay zero, for a state restored over them (a trimmed recording). */
  blank?: boolean;
}

/** Machine.save()'s form. */
export interface MachineState {
  hart: HartState;
  idleTicks: number;
  parts: Record<string, unknown>;
  /** How much of the kernel's panic line the console has seen; -1 once it has all. */
  panicMatch: number;
}

export interface ExitStatus {
  reason: ExitReason;
  code: number;
}

/**
 * An exit as users read it: the reason, with the guest's code where the guest gave one (a
 * failure's code, or an HTIF exit code); no other reason carries a code.
 */
export function formatExit(e: { reason: string; code: number }): string {
  return e.reason === 'fail' || e.code !== 0 ? `${e.reason} (code ${e.code})` : e.reason;
}

/** Where each image went (for the recording's manifest and for messages). */
export interface LoadedImage {
  role: 'bios' | 'kernel' | 'initrd' | 'elf' | 'disk' | 'dtb';
  name: string;
  addr: number;
  size: number;
}

/** Instructions per slice when nothing else bounds it: the loop's chance to see the host. */
export const SLICE_INSNS = 4_000_000;

/**
 * The slice at `icount`: short at first, growing to SLICE_INSNS by 32 M instructions. V8
 * can move a running loop to optimized code only by OSR, which it compiles after the
 * function's ordinary optimized code (about 80 ms more on this machine); a run that
 * returns soon is next called into the optimized code. A boot takes 0.55 s with 4 M
 * slices from the start, 0.47 s with these. Slices depend on icount alone, so record
 * and replay cut them alike.
 */
function sliceAt(icount: number): number {
  return Math.min(SLICE_INSNS, Math.max(65536, Math.floor(icount / 8)));
}

export { HTIF_GRACE_INSNS } from './devices/htif.js';

const PANIC_MARKER = 'Kernel panic - not syncing';

/** Trap storms in a row (each TRAP_STORM traps with nothing retired) that end a run as a trap loop. */
const TRAP_LOOP_STORMS = 3;

export class Machine {
  readonly bus = new Bus();
  readonly mem: PhysMemory;
  readonly clock = new VirtualClock();
  readonly hart: Hart;
  /** The board's parts, in table order, each under its entry's name. */
  readonly parts = new Map<string, BoardPart>();
  /** The virtio transports, in slot order. */
  readonly virtio: VirtioMmio[] = [];
  readonly images: LoadedImage[] = [];
  exit: ExitStatus | null = null;
  /** Guest console bytes go here (the CLI prints them, the recorder hashes them). */
  consoleSink: (byte: number) => void = () => {};
  /** Set once the console has printed the kernel's panic line. */
  panicked = false;
  private panicMatch = 0;
  private run: RunFn | null = null;
  /**
   * Runs the CPU: the interpreter unless a JIT was installed (useJit). Made on first use, so
   * a JIT run does not compile (and V8 does not optimize) an interpreter it never calls.
   */
  get runFn(): RunFn {
    return (this.run ??= interpreter(false, this.hart));
  }
  set runFn(f: RunFn) {
    this.run = f;
  }
  private trapStorms = 0;
  /** Where the guest was when it was found stuck in a trap loop (for the exit message). */
  trapLoop = '';
  /** Why and where the guest waits with nothing to wake it (for the exit message of 'idle-forever'). */
  idleDetail = '';
  /** The next icount at which `checkpointHook` runs (recording and replay). */
  nextCheckpoint = Infinity;
  /** Runs at exactly `nextCheckpoint`, before inputs due then; returns the next one. */
  checkpointHook: ((m: Machine) => number) | null = null;
  /** Runs at every loop boundary (replay checks for inputs it passed). */
  boundaryHook: ((m: Machine) => void) | null = null;
  /** The icount limit of the slice the run loop ran last (-1: none yet). */
  lastSliceLimit = -1;

  constructor(
    readonly config: MachineConfig,
    readonly input: InputPort,
  ) {
    const ramBytes = config.ramBytes || DEFAULT_RAM_BYTES;
    this.mem = new PhysMemory({ ramBase: MAP.ram, ramBytes, romBase: MAP.rom, romBytes: MAP.romSize }, this.bus);
    this.hart = new Hart(this.mem, this.clock);
    this.hart.hasTriggers = config.debugTriggers !== false;
    this.mem.codeWriteListener = (page) => this.hart.decodeCache.pageWritten(page);
    let irqController: BoardPart | null = null;
    const ctx: DeviceContext = {
      hart: this.hart,
      mem: this.mem,
      clock: this.clock,
      input,
      consoleWrite: (b) => this.console(b),
      setPlicLine: (irq, level) => irqController!.setLine!(irq, level),
      requestExit: (reason, code) => this.requestExit(reason, code),
      replan: () => this.hart.requestStop(),
    };
    const board = config.board ?? VIRT_BOARD;
    for (const e of board) {
      if (this.parts.has(e.name)) throw new Error(`two board parts are named ${e.name}`);
      const part = e.make(ctx, e, config);
      this.parts.set(e.name, part);
      if (part.setLine && !irqController) irqController = part;
      if (part instanceof VirtioMmio) this.virtio.push(part);
      if (isDevice(part)) this.bus.add(part);
    }
    this.partList = [...this.parts.values()];
    this.timed = this.partList.filter((p) => p.deadlineIcount);
    if (config.disks.length > this.virtio.length) throw new UserError(`at most ${this.virtio.length} disks`, ExitCode.Usage);
    if (!config.blank) this.load();
  }

  private readonly partList: BoardPart[];
  /** The parts with deadlines (the run loop asks them before every slice). */
  private readonly timed: BoardPart[];

  private console(b: number): void {
    // Recognise the kernel's panic line as it streams past.
    if (!this.panicked) {
      if (b === PANIC_MARKER.charCodeAt(this.panicMatch)) {
        if (++this.panicMatch === PANIC_MARKER.length) this.panicked = true;
      } else this.panicMatch = b === PANIC_MARKER.charCodeAt(0) ? 1 : 0;
    }
    this.consoleSink(b);
  }

  requestExit(reason: ExitReason, code: number): void {
    if (this.exit) return;
    this.exit = { reason: reason === 'reset' && this.panicked ? 'panic' : reason, code };
    this.hart.requestStop();
  }

  private place(role: LoadedImage['role'], img: ImageBytes, addr: number, bytes = img.bytes): void {
    try {
      this.mem.load(addr, bytes);
    } catch {
      // A larger --ram helps only an image that runs past RAM's end, not one that starts below it.
      const hint = addr >= MAP.ram ? '; try --ram' : ': it starts below RAM, which --ram does not move';
      throw new UserError(
        `${img.name}: ${bytes.length} bytes at 0x${addr.toString(16)} do not fit in RAM ` +
          `(0x${MAP.ram.toString(16)}..0x${(MAP.ram + this.mem.ramBytes).toString(16)}${hint})`,
      );
    }
    this.images.push({ role, name: img.name, addr, size: bytes.length });
  }

  private loadElf(role: LoadedImage['role'], img: ImageBytes): { entry: number; end: number; symbols: Map<string, number> } {
    const elf = parseElf(img.bytes, img.name);
    let end = 0;
    for (const s of elf.segments) {
      const full = new Uint8Array(s.memsz);
      full.set(s.bytes);
      this.place(role, img, s.paddr, full);
      end = Math.max(end, s.paddr + s.memsz);
    }
    return { entry: elf.entry, end, symbols: elf.symbols };
  }

  private load(): void {
    const c = this.config;
    let entry: number;
    let kernelAddr = MAP.ram + KERNEL_OFFSET;
    if (c.elf) {
      const e = this.loadElf('elf', c.elf);
      entry = e.entry;
      for (const p of this.partList) p.symbolsLoaded?.(e.symbols);
    } else {
      if (!c.bios) throw new UserError('no firmware: give --bios (or --elf for a bare-metal program)', ExitCode.Usage);
      let biosEnd: number;
      if (isElf(c.bios.bytes)) {
        const e = this.loadElf('bios', c.bios);
        entry = e.entry;
        biosEnd = e.end;
      } else {
        if (c.bios.bytes.length === 0) throw new UserError(`${c.bios.name}: empty file`);
        this.place('bios', c.bios, MAP.ram);
        entry = MAP.ram;
        biosEnd = MAP.ram + c.bios.bytes.length;
      }
      if (c.kernel) {
        if (isElf(c.kernel.bytes)) {
          kernelAddr = this.loadElf('kernel', c.kernel).entry;
        } else {
          if (c.kernel.bytes.length < 64) throw new UserError(`${c.kernel.name}: truncated kernel image (${c.kernel.bytes.length} bytes)`);
          if (!isLinuxImage(c.kernel.bytes)) throw new UserError(`${c.kernel.name}: not a RISC-V Linux Image (no "RSC\\x05" magic at 0x38) or ELF`);
          kernelAddr = Math.max(kernelAddr, Math.ceil(biosEnd / 0x400000) * 0x400000);
          this.place('kernel', c.kernel, kernelAddr);
        }
      }
    }
    let initrd: { start: number; end: number } | undefined;
    if (c.initrd) {
      const start = initrdAddress(this.mem.ramBytes, kernelAddr);
      this.place('initrd', c.initrd, start);
      initrd = { start, end: start + c.initrd.bytes.length };
    }
    const fdt = buildFdt({
      ramBytes: this.mem.ramBytes,
      bootargs: c.append,
      initrd,
      devices: this.bus.list(),
      extraRoot: this.partList.flatMap((p) => p.fdtRootNodes?.() ?? []),
      rngSeed: c.rngSeed,
    });
    const fdtAddr = fdtAddress(this.mem.ramBytes, fdt.length);
    this.place('dtb', { name: 'dtb', bytes: fdt }, fdtAddr);
    this.fdt = fdt;
    this.mem.load(MAP.rom, bootRom(entry, fdtAddr, kernelAddr));
    this.hart.reset(MAP.rom);
  }

  /** Runs the CPU under the block or trace tier; stores and DMA to code reach its cache (I6). */
  useJit(jit: { run: RunFn; codeWritten(page: number, from: number, to: number): void }): void {
    this.runFn = jit.run;
    const decoded = this.hart.decodeCache;
    this.mem.codeWriteListener = (page, from, to) => {
      jit.codeWritten(page, from, to);
      // Where the JIT keeps the page flagged (code it still holds), only the written bytes
      // lose their decoding; elsewhere the flag is gone, and so must all of it be.
      if (this.mem.pageFlags[page] & PAGE_CODE) decoded.rangeWritten(page, from, to);
      else decoded.pageWritten(page);
    };
  }

  /**
   * The machine's state as plain data, RAM and disk contents aside (DESIGN.md I8): the
   * hart, virtual time, every board part by name, and the console's panic scan.
   */
  save(): MachineState {
    const parts: Record<string, unknown> = {};
    for (const [name, p] of this.parts) if (p.save) parts[name] = p.save();
    return { hart: this.hart.save(), idleTicks: this.clock.idleTicks, parts, panicMatch: this.panicked ? -1 : this.panicMatch };
  }

  /** Puts a saved state back; RAM and disks are put back separately (snapshot.ts). */
  restore(s: MachineState): void {
    this.clock.idleTicks = s.idleTicks;
    this.hart.restore(s.hart);
    for (const [name, p] of this.parts) if (p.restore && name in s.parts) p.restore(s.parts[name]);
    // Parts re-drive their lines from their registers and the time; the lines as saved are
    // what the hart saw (a timer due at this very icount is raised at the boundary, later).
    this.hart.mipHw = s.hart.mipHw as number;
    this.panicked = s.panicMatch === -1;
    this.panicMatch = Math.max(0, s.panicMatch);
    this.exit = null;
    this.trapStorms = 0;
    this.lastSliceLimit = -1;
  }

  /** The generated device tree blob. */
  fdt: Uint8Array = new Uint8Array(0);

  /** Checkpoints, then every part's turn: timers fire, console input arrives. */
  private boundary(): void {
    if (this.hart.icount >= this.nextCheckpoint && this.checkpointHook) this.nextCheckpoint = this.checkpointHook(this);
    this.boundaryHook?.(this);
    for (const p of this.partList) p.boundary?.();
  }

  /** Ticks until a timer deadline that can still wake the hart, or Infinity. */
  private ticksToWake(): number {
    let t = Infinity;
    for (const p of this.partList) if (p.ticksToWake) t = Math.min(t, p.ticksToWake());
    return t;
  }

  /** Ends the run: the hart waits in wfi and nothing can wake it. */
  private idleForever(why: string): void {
    const h = this.hart;
    const hex = (v: number) => `0x${(v >>> 0).toString(16)}`;
    let last = '';
    if (h.mcause !== 0 || h.mtval !== 0) {
      last = `; the last M-mode trap: mcause ${hex(h.mcause)}, mtval ${hex(h.mtval)}`;
      const cause = h.mcause >>> 0;
      const ramEnd = MAP.ram + this.mem.ramBytes;
      // An access fault just past RAM: a firmware placing something (a device tree) where
      // this much RAM does not reach.
      if ((cause === 1 || cause === 5 || cause === 7) && h.mtval >>> 0 >= ramEnd && h.mtval >>> 0 < ramEnd + 0x40000000) {
        last += ` (an access beyond the end of RAM at ${hex(ramEnd)}: try a larger --ram)`;
      }
    }
    this.idleDetail = `${why}: pc ${hex(h.pc)}, priv ${h.priv}, mie ${hex(h.mie)}${last}`;
    this.requestExit('idle-forever', 0);
  }

  private deadline(): number {
    let d = Infinity;
    for (const p of this.timed) d = Math.min(d, p.deadlineIcount!());
    return d;
  }

  /**
   * Runs until the guest exits, `maxIcount` is reached ('limit'), the hart idles and the
   * input port says to wait for the host ('wait'), or a live run has idled ('idled'). A hart
   * that idles with nothing that could wake it exits ('idle-forever', 'input-ended').
   */
  runUntil(maxIcount: number): 'exit' | 'limit' | 'wait' | 'idled' {
    const hart = this.hart;
    while (!this.exit) {
      this.boundary();
      if (this.exit) break; // e.g. an HTIF exit taken at the boundary
      if (hart.stop === StopReason.Wfi) {
        if ((hart.mip() & hart.mie) !== 0) {
          hart.stop = StopReason.None;
        } else {
          const until = this.ticksToWake();
          // Only a timer deadline or an external interrupt (a device, from input) can end
          // this wait; software interrupts need software, and the hart runs none. A live
          // run ends at once; a replay asks its port, which answers as the recording ended
          // (I3: a recording made before this rule ended such a wait otherwise).
          const hopeless = until === Infinity && (hart.mie & (MIP_MEIP | MIP_SEIP)) === 0;
          const noIrq = 'no interrupt that a timer or device could raise is enabled';
          if (hopeless && this.input.live) {
            this.idleForever(noIrq);
            break;
          }
          const ticks = this.input.idle(hart.icount, until);
          if (ticks === 'wait') return 'wait';
          if (ticks === 'never') {
            if (until === Infinity) this.idleForever(hopeless ? noIrq : 'no timer is set, and no input can arrive (stdin has ended)');
            else this.requestExit('input-ended', 0);
            break;
          }
          this.clock.idleTicks += ticks;
          // A live run gives the host a turn after each idle period (console input).
          if (this.input.live) return 'idled';
          continue;
        }
      } else if (hart.stop !== StopReason.None) {
        hart.stop = StopReason.None;
      }
      if (hart.icount >= maxIcount) return 'limit';
      const limit = Math.min(maxIcount, this.deadline(), this.input.nextPushIcount(), this.nextCheckpoint, hart.icount + sliceAt(hart.icount));
      hart.attention = true;
      const before = hart.icount;
      this.lastSliceLimit = limit;
      hart.stormTraps = 0;
      this.runFn(hart, limit);
      // A run returns without retiring anything only from a trap storm (TRAP_STORM traps).
      if (hart.icount === before && limit > before && hart.stop === StopReason.None && !this.exit) {
        if (++this.trapStorms >= TRAP_LOOP_STORMS) {
          this.requestExit('trap-loop', 0);
          this.trapLoop = `pc 0x${(hart.pc >>> 0).toString(16)}, priv ${hart.priv}, mcause 0x${(hart.mcause >>> 0).toString(16)}, mtvec 0x${(hart.mtvec >>> 0).toString(16)}, scause 0x${(hart.scause >>> 0).toString(16)}, stvec 0x${(hart.stvec >>> 0).toString(16)}`;
        }
      } else this.trapStorms = 0;
    }
    return 'exit';
  }
}
