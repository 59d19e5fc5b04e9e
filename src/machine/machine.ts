// The machine: builds the board from a configuration and image bytes, and runs the hart
// in slices that end exactly where an event is due (DESIGN.md I4).

import { Hart, StopReason } from '../cpu/hart.js';
import { PhysMemory, PAGE_CODE, PAGE_WATCH, PAGE_SHIFT } from '../cpu/memory.js';
import { MIP_MEIP, MIP_SEIP } from '../cpu/constants.js';
import { interpreter, type RunFn } from '../cpu/interpreter.js';
import { UserError, ExitCode } from '../errors.js';
import { Bus, type Device } from './bus.js';
import { MAP, IRQ, DEFAULT_RAM_BYTES, KERNEL_OFFSET, bootRom, buildFdt, fdtAddress, initrdAddress } from './board.js';
import { VirtualClock } from './clock.js';
import type { DeviceContext, ExitReason } from './device-context.js';
import { Uart16550 } from './devices/uart16550.js';
import { Clint } from './devices/clint.js';
import { Plic } from './devices/plic.js';
import { Syscon } from './devices/syscon.js';
import { GoldfishRtc } from './devices/goldfish-rtc.js';
import { VirtioMmio } from './devices/virtio-mmio.js';
import { VirtioBlk } from './devices/virtio-blk.js';
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

/**
 * HTIF: instructions a lone write of tohost's low word waits for the high word before it is
 * taken as a command on its own (see `watchTohost`).
 */
export const HTIF_GRACE_INSNS = 16;

const PANIC_MARKER = 'Kernel panic - not syncing';

/** Trap storms in a row (each TRAP_STORM traps with nothing retired) that end a run as a trap loop. */
const TRAP_LOOP_STORMS = 3;

export class Machine {
  readonly bus = new Bus();
  readonly mem: PhysMemory;
  readonly clock = new VirtualClock();
  readonly hart: Hart;
  readonly uart: Uart16550;
  readonly clint: Clint;
  readonly plic: Plic;
  readonly rtc: GoldfishRtc;
  readonly syscon: Syscon;
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
  private tohost = -1;
  private trapStorms = 0;
  /** Where the guest was when it was found stuck in a trap loop (for the exit message). */
  trapLoop = '';
  /** Why and where the guest waits with nothing to wake it (for the exit message of 'idle-forever'). */
  idleDetail = '';
  private fromhost = -1;
  /** The halves of tohost written since the last command: 1 = low word, 2 = high word. */
  private tohostWritten = 0;
  /** When a lone low-word write of tohost is taken as a whole command (or Infinity). */
  private tohostDeadline = Infinity;
  /** The next icount at which `checkpointHook` runs (recording and replay). */
  nextCheckpoint = Infinity;
  /** Runs at exactly `nextCheckpoint`, before inputs due then; returns the next one. */
  checkpointHook: ((m: Machine) => number) | null = null;
  /** Runs at every loop boundary (replay checks for inputs it passed). */
  boundaryHook: ((m: Machine) => void) | null = null;

  constructor(
    readonly config: MachineConfig,
    readonly input: InputPort,
  ) {
    const ramBytes = config.ramBytes || DEFAULT_RAM_BYTES;
    this.mem = new PhysMemory({ ramBase: MAP.ram, ramBytes, romBase: MAP.rom, romBytes: MAP.romSize }, this.bus);
    this.hart = new Hart(this.mem, this.clock);
    this.hart.hasTriggers = config.debugTriggers !== false;
    this.mem.codeWriteListener = (page) => this.hart.decodeCache.pageWritten(page);
    const ctx: DeviceContext = {
      hart: this.hart,
      mem: this.mem,
      clock: this.clock,
      input,
      consoleWrite: (b) => this.console(b),
      setPlicLine: (irq, level) => this.plic.setLine(irq, level),
      requestExit: (reason, code) => this.requestExit(reason, code),
      replan: () => this.hart.requestStop(),
    };
    this.plic = new Plic(MAP.plic, ctx);
    this.clint = new Clint(MAP.clint, ctx);
    this.uart = new Uart16550(MAP.uart, IRQ.uart, ctx);
    this.rtc = new GoldfishRtc(MAP.rtc, IRQ.rtc, ctx);
    this.syscon = new Syscon(MAP.syscon, ctx);
    const devices: Device[] = [this.syscon, this.rtc, this.clint, this.plic, this.uart];
    for (let i = 0; i < MAP.virtioSlots; i++) {
      const disk = config.disks[i];
      const backend = disk ? new VirtioBlk(disk.bytes, { readonly: disk.readonly }) : null;
      const slot = new VirtioMmio(MAP.virtio + i * MAP.virtioStride, IRQ.virtio0 + i, ctx, backend);
      this.virtio.push(slot);
      devices.push(slot);
    }
    if (config.disks.length > MAP.virtioSlots) throw new UserError(`at most ${MAP.virtioSlots} disks`, ExitCode.Usage);
    for (const d of devices) this.bus.add(d);
    this.load();
  }

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
      throw new UserError(
        `${img.name}: ${bytes.length} bytes at 0x${addr.toString(16)} do not fit in RAM ` +
          `(0x${MAP.ram.toString(16)}..0x${(MAP.ram + this.mem.ramBytes).toString(16)}; try --ram)`,
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
      const tohost = e.symbols.get('tohost');
      if (tohost !== undefined) this.watchTohost(tohost, e.symbols.get('fromhost'));
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
      extraRoot: this.syscon.fdtNodes(),
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

  /** The generated device tree blob. */
  fdt: Uint8Array = new Uint8Array(0);

  /**
   * HTIF, as riscv-tests and Spike use it: tohost is a 64-bit word, device in bits 63:56,
   * command in 55:48, payload below. Device 0 command 0 with payload bit 0 set is exit
   * (code = payload >> 1); device 1 command 1 is console putchar (the low byte), answered
   * in fromhost. Other commands are dropped (tohost is cleared as the host would).
   *
   * An rv32 guest writes the word in two halves, in either order (riscv-tests: low then
   * high; deja's macros.h: high then low). A command is taken once both halves have been
   * written since the last one. A lone low-word write (the high word already 0) is taken
   * by itself HTIF_GRACE_INSNS instructions later, or when the hart waits in wfi, unless
   * the high word comes first: until then it may be the first half of a putchar, not an
   * exit. The deadline is an icount, so this is deterministic (I1, I4).
   */
  private watchTohost(addr: number, fromhost: number | undefined): void {
    const off = this.mem.offsetOf(addr);
    if (off < 0 || this.mem.offsetOf(addr + 7) !== off + 7) return;
    this.tohost = addr;
    this.mem.pageFlags[off >>> PAGE_SHIFT] |= PAGE_WATCH;
    this.mem.pageFlags[(off + 7) >>> PAGE_SHIFT] |= PAGE_WATCH;
    if (fromhost !== undefined && this.mem.offsetOf(fromhost) >= 0 && this.mem.offsetOf(fromhost + 7) >= 0) {
      this.fromhost = fromhost;
    }
    this.mem.watchListener = (pa, width) => {
      const at = pa - this.tohost;
      if (at + width <= 0 || at >= 8) return;
      if (at < 4) this.tohostWritten |= 1;
      if (at + width > 4) this.tohostWritten |= 2;
      if (this.tohostWritten === 3) {
        this.htifCommand();
      } else if (this.tohostDeadline === Infinity) {
        this.tohostDeadline = this.hart.icount + HTIF_GRACE_INSNS;
        this.hart.requestStop(); // the run loop re-plans with the deadline
      }
    };
  }

  /** Takes the command in tohost (if any) and starts waiting for the next one. */
  private htifCommand(): void {
    this.tohostWritten = 0;
    this.tohostDeadline = Infinity;
    const o = this.mem.offsetOf(this.tohost);
    const lo = this.mem.readOff(o, 4) >>> 0, hi = this.mem.readOff(o + 4, 4) >>> 0;
    if (lo === 0 && hi === 0) return;
    const device = hi >>> 24, cmd = (hi >>> 16) & 255;
    if (device === 0 && cmd === 0 && lo & 1) {
      const code = (hi & 0xffff) * 2 ** 31 + (lo >>> 1);
      this.requestExit(code === 0 ? 'poweroff' : 'fail', code);
      return;
    }
    // The host clears tohost once it has taken a command (a host store, as DMA: no listener).
    this.mem.dmaWrite(this.tohost, new Uint8Array(8));
    if (device === 1 && cmd === 1) {
      this.console(lo & 255);
      if (this.fromhost >= 0) {
        // Spike's answer: the same device and command, payload 0x100 | the byte.
        const answer = new Uint8Array(8);
        const dv = new DataView(answer.buffer);
        dv.setUint32(0, 0x100 | (lo & 255), true);
        dv.setUint32(4, hi & 0xffff0000, true);
        this.mem.dmaWrite(this.fromhost, answer);
      }
    }
  }

  /** At a loop boundary: a lone low-word write of tohost whose grace has run out. */
  private htifBoundary(): void {
    if (this.tohostWritten !== 0 && (this.hart.icount >= this.tohostDeadline || this.hart.stop === StopReason.Wfi)) {
      this.htifCommand();
    }
  }

  /** Delivers console input due now; keeps device interrupt lines current. */
  private boundary(): void {
    if (this.hart.icount >= this.nextCheckpoint && this.checkpointHook) this.nextCheckpoint = this.checkpointHook(this);
    this.boundaryHook?.(this);
    this.htifBoundary();
    const bytes = this.input.takeConsoleInput(this.hart.icount, this.uart.rxRoom());
    if (bytes.length) this.uart.receive(bytes);
    this.clint.update();
    this.rtc.update();
  }

  /**
   * Ticks until a timer deadline that can still wake the hart, or Infinity. A CLINT compare
   * value already reached has raised MTIP: if that did not wake the hart, waiting for it
   * again never will.
   */
  private ticksToWake(): number {
    const clint = this.clint.ticksToDeadline();
    return Math.min(clint > 0 ? clint : Infinity, this.rtc.ticksToDeadline());
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
    return Math.min(this.clint.deadlineIcount(), this.rtc.deadlineIcount(), this.tohostDeadline);
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
