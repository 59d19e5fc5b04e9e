// A tiny bare-metal guest, assembled here, that uses every kind of input a recording
// logs: it reads the goldfish RTC (an rtc input), idles in wfi until a CLINT timer
// deadline (idle inputs) and echoes what arrives on the UART (uart-rx inputs), printing
// '.' when a round passes without input; then it powers off through syscon. Recording
// and replaying it in-process takes milliseconds, so the fuzz tests can do it hundreds
// of times.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Machine, type MachineConfig } from '../../src/machine/machine.js';
import { LivePort } from '../../src/record/input-port.js';
import { RecordingWriter } from '../../src/record/writer.js';
import { Recorder, RecordingPort } from '../../src/record/recorder.js';
import { embeddedImages, recordingHeader } from '../../src/record/manifest.js';
import { readRecording, type Recording } from '../../src/record/reader.js';

// ---- a few RV32I encodings ----
const R = { zero: 0, t0: 5, t1: 6, t2: 7, s0: 8, s1: 9, a0: 10, s2: 18, s3: 19, s4: 20, t3: 28, t4: 29, t5: 30, t6: 31 };
const i12 = (imm: number) => imm & 0xfff;
const itype = (op: number, f3: number, rd: number, rs1: number, imm: number) => (i12(imm) << 20) | (rs1 << 15) | (f3 << 12) | (rd << 7) | op;
const stype = (f3: number, rs1: number, rs2: number, imm: number) =>
  (((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | ((imm & 0x1f) << 7) | 0x23;
const btype = (f3: number, rs1: number, rs2: number, off: number) =>
  (((off >> 12) & 1) << 31) | (((off >> 5) & 0x3f) << 25) | (rs2 << 20) | (rs1 << 15) | (f3 << 12) | (((off >> 1) & 0xf) << 8) | (((off >> 11) & 1) << 7) | 0x63;
const jtype = (rd: number, off: number) =>
  (((off >> 20) & 1) << 31) | (((off >> 1) & 0x3ff) << 21) | (((off >> 11) & 1) << 20) | (((off >> 12) & 0xff) << 12) | (rd << 7) | 0x6f;

type Item = number | { label: string } | ((pc: number, labels: Map<string, number>) => number);

class Asm {
  items: Item[] = [];
  emit(...w: Item[]) {
    this.items.push(...w);
  }
  label(name: string) {
    this.items.push({ label: name });
  }
  li(rd: number, v: number) {
    const lo = ((v & 0xfff) << 20) >> 20;
    const hi = ((v - lo) >>> 12) & 0xfffff;
    if (hi) this.emit((hi << 12) | (rd << 7) | 0x37, itype(0x13, 0, rd, rd, lo));
    else this.emit(itype(0x13, 0, rd, 0, lo));
  }
  addi = (rd: number, rs1: number, imm: number) => this.emit(itype(0x13, 0, rd, rs1, imm));
  andi = (rd: number, rs1: number, imm: number) => this.emit(itype(0x13, 7, rd, rs1, imm));
  lw = (rd: number, rs1: number, off: number) => this.emit(itype(0x03, 2, rd, rs1, off));
  lbu = (rd: number, rs1: number, off: number) => this.emit(itype(0x03, 4, rd, rs1, off));
  sw = (rs2: number, rs1: number, off: number) => this.emit(stype(2, rs1, rs2, off));
  sb = (rs2: number, rs1: number, off: number) => this.emit(stype(0, rs1, rs2, off));
  csrw = (csr: number, rs1: number) => this.emit(itype(0x73, 1, 0, rs1, csr));
  wfi = () => this.emit(0x10500073);
  bne = (rs1: number, rs2: number, to: string) => this.emit((pc, l) => btype(1, rs1, rs2, l.get(to)! - pc));
  j = (to: string) => this.emit((pc, l) => jtype(0, l.get(to)! - pc));

  assemble(base: number): Uint8Array {
    const labels = new Map<string, number>();
    let pc = base;
    for (const it of this.items) {
      if (typeof it === 'object') labels.set(it.label, pc);
      else pc += 4;
    }
    const words: number[] = [];
    pc = base;
    for (const it of this.items) {
      if (typeof it === 'object') continue;
      words.push(typeof it === 'function' ? it(pc, labels) : it);
      pc += 4;
    }
    const out = new Uint8Array(words.length * 4);
    const dv = new DataView(out.buffer);
    words.forEach((w, i) => dv.setUint32(i * 4, w >>> 0, true));
    return out;
  }
}

/**
 * The program: `rounds` rounds of (timer 50 ticks ahead, wfi, echo console input or '.'),
 * then power off; or, `endless`, idle for ever with no timer set and only the external
 * interrupt enabled (a live run then waits for the host).
 */
export function tinyProgram(rounds = 12, endless = false): Uint8Array {
  const a = new Asm();
  a.li(R.s0, 0x10000000); // UART
  a.li(R.t0, 1);
  a.sb(R.t0, R.s0, 1); // IER: receive interrupts on (the UART takes input only then)
  a.sb(R.t0, R.s0, 2); // FCR: FIFO on
  a.li(R.s1, 0x101000); // goldfish RTC
  a.lw(R.t1, R.s1, 0); // TIME_LOW: the one rtc input
  a.li(R.s2, 0x2004000); // mtimecmp
  a.li(R.s3, 0x200bff8); // mtime
  a.li(R.t0, 0x80);
  a.csrw(0x304, R.t0); // mie = MTIE: the timer ends wfi (mstatus.MIE stays off: no trap)
  a.li(R.s4, rounds);
  a.label('loop');
  a.lw(R.t3, R.s3, 0);
  a.addi(R.t3, R.t3, 50);
  a.sw(R.t3, R.s2, 0);
  a.sw(R.zero, R.s2, 4);
  a.wfi(); // idle input
  a.li(R.t5, 300);
  a.label('poll');
  a.lbu(R.t6, R.s0, 5); // LSR
  a.andi(R.t6, R.t6, 1); // data ready
  a.bne(R.t6, R.zero, 'got');
  a.addi(R.t5, R.t5, -1);
  a.bne(R.t5, R.zero, 'poll');
  a.li(R.a0, 0x2e); // '.'
  a.sb(R.a0, R.s0, 0);
  a.j('next');
  a.label('got');
  a.lbu(R.a0, R.s0, 0);
  a.sb(R.a0, R.s0, 0); // echo
  a.j('poll');
  a.label('next');
  a.addi(R.s4, R.s4, -1);
  a.bne(R.s4, R.zero, 'loop');
  if (endless) {
    a.li(R.t0, -1);
    a.sw(R.t0, R.s2, 4); // mtimecmp: never
    a.sw(R.t0, R.s2, 0);
    // mie = MEIE: only an external interrupt (console input) could end the wait, so a live
    // run waits for the host (with nothing enabled at all, the run would end idle-forever).
    a.li(R.t0, 0x800);
    a.csrw(0x304, R.t0);
    a.label('idle');
    a.wfi();
    a.j('idle');
  }
  a.li(R.t0, 0x100000); // syscon
  a.li(R.t1, 0x5555);
  a.sw(R.t1, R.t0, 0); // power off
  a.label('hang');
  a.j('hang');
  return a.assemble(0x80000000);
}

export const TINY_RAM = 16 * 1024 * 1024;
/** A fixed RTC value, so two recordings of the same input are the same. */
export const TINY_RTC_NANOS = 1_767_225_600_000_000_000;

/** Writes the program to `dir`/tiny.bin; returns the machine configuration that boots it. */
export function tinyConfig(dir: string, rounds = 12, endless = false): MachineConfig {
  const path = join(dir, endless ? 'tiny-endless.bin' : 'tiny.bin');
  const bytes = tinyProgram(rounds, endless);
  writeFileSync(path, bytes);
  return { ramBytes: TINY_RAM, bios: { name: path, bytes }, append: '', disks: [] };
}

export interface TinyRecording {
  console: string;
  exit: { reason: string; code: number };
  icount: number;
}

/**
 * Records the tiny guest in-process to `file`. `input[i]` is typed before step i; each
 * step runs `stepInsns` instructions and then writes a chunk, so the file has several.
 */
export function recordTiny(
  file: string,
  config: MachineConfig,
  o: {
    input?: (string | null)[];
    every?: number;
    embed?: boolean;
    stepInsns?: number;
    steps?: number;
    /** Ends the run as the host would (Ctrl-A X: stop) after a runUntil that returned this. */
    stopAfter?: { result: 'idled' | 'limit' | 'wait'; step: number; reason?: 'stop' | 'limit' };
  } = {},
): TinyRecording {
  const every = o.every ?? 2000;
  const live = new LivePort({ pace: false, rtcNanos: TINY_RTC_NANOS });
  const writer = new RecordingWriter(file, recordingHeader(config, { tier: 'interp', checkpointEvery: every }, every), o.embed ? embeddedImages(config) : []);
  const machine = new Machine(config, new RecordingPort(live, writer));
  const recorder = new Recorder(machine, writer, every);
  let out = '';
  machine.consoleSink = (b) => {
    recorder.console.push(b);
    out += String.fromCharCode(b);
  };
  const steps = o.steps ?? 8;
  const stepInsns = o.stepInsns ?? 2500;
  let stopped: 'stop' | 'limit' | null = null;
  const stop = o.stopAfter;
  outer: for (let i = 0; i < steps && !machine.exit; i++) {
    const typed = o.input?.[i];
    if (typed) live.pushConsole(Buffer.from(typed, 'latin1'));
    const until = machine.hart.icount + stepInsns;
    for (let guard = 0; guard < 10_000 && !machine.exit && machine.hart.icount < until; guard++) {
      const r = machine.runUntil(until);
      if (stop && i >= stop.step && r === stop.result) {
        stopped = stop.reason ?? 'stop';
        break outer;
      }
      if (r === 'wait') break;
    }
    writer.flush();
  }
  for (let guard = 0; guard < 100_000 && !machine.exit && !stopped; guard++) {
    const r = machine.runUntil(machine.hart.icount + 100_000);
    if (stop && r === stop.result) stopped = stop.reason ?? 'stop';
    if (r === 'wait') break;
  }
  const exit = stopped ? { reason: stopped, code: 0 } : (machine.exit ?? { reason: 'limit' as const, code: 0 });
  recorder.finish(exit);
  return { console: out, exit, icount: machine.hart.icount };
}

/** Console input typed step by step: the recordings then hold every kind of input. */
export const TINY_INPUT = [null, 'hi', null, 'x', 'abcdefghijklmnopqrstuvwxyz', null, '\r\n'];

/** Records the tiny guest typing TINY_INPUT to `dir`/tiny.deja and reads it back (after initZstd). */
export function tinyRecording(dir: string): Recording {
  const file = join(dir, 'tiny.deja');
  recordTiny(file, tinyConfig(dir), { input: TINY_INPUT });
  return readRecording(file);
}
