// Goldfish RTC (QEMU's hw/rtc/goldfish_rtc.c): a 64-bit nanosecond wall clock with one
// alarm. The wall-clock value is an input (DESIGN.md I3): the port is asked once, the first
// time the guest needs the time (Linux: its first TIME_LOW read), and from then on the
// clock runs on virtual time, so replays see the same time at the same icount.

import type { Device, Width } from '../bus.js';
import type { DeviceContext } from '../device-context.js';
import { node, cells64, PHANDLE, type FdtNode } from '../fdt.js';
import { TIMEBASE_HZ } from '../clock.js';

const TIME_LOW = 0x00, TIME_HIGH = 0x04, ALARM_LOW = 0x08, ALARM_HIGH = 0x0c;
const IRQ_ENABLED = 0x10, CLEAR_ALARM = 0x14, ALARM_STATUS = 0x18, CLEAR_INTERRUPT = 0x1c;
const NS_PER_TICK = BigInt(1e9 / TIMEBASE_HZ);
const U32 = 0xffffffffn;

interface RtcState {
  /**
   * RTC nanoseconds minus virtual nanoseconds (QEMU's tick_offset), null until the port
   * has been asked. Bigints: epoch nanoseconds do not fit a double exactly.
   */
  offset: bigint | null;
  timeHigh: number;
  alarmNext: bigint;
  /** An alarm is armed; it fires at mtime `alarmTicks`. */
  alarmRunning: boolean;
  alarmTicks: number;
  irqPending: boolean;
  irqEnabled: boolean;
}

/** save() form: bigints as decimal strings, so the state is plain data. */
interface SavedRtc extends Omit<RtcState, 'offset' | 'alarmNext'> {
  offset: string | null;
  alarmNext: string;
}

export class GoldfishRtc implements Device {
  readonly name = 'goldfish-rtc';
  readonly size = 0x1000;
  readonly widths: readonly Width[] = [4];
  private s: RtcState = {
    offset: null, timeHigh: 0, alarmNext: 0n, alarmRunning: false, alarmTicks: 0, irqPending: false, irqEnabled: false,
  };

  constructor(
    readonly base: number,
    private readonly irq: number,
    private readonly ctx: DeviceContext,
  ) {}

  private mtime(): number {
    return this.ctx.clock.mtime(this.ctx.hart.icount);
  }

  private virtualNanos(): bigint {
    return BigInt(Math.floor(this.mtime())) * NS_PER_TICK;
  }

  /** RTC offset from virtual time; asks the input port the first time only. */
  private offset(): bigint {
    if (this.s.offset === null) {
      const wall = this.ctx.input.rtcNanos(this.ctx.hart.icount);
      // A replayed value is untrusted: anything but a finite non-negative number reads as 0.
      const ns = Number.isFinite(wall) && wall > 0 ? BigInt.asUintN(64, BigInt(Math.floor(wall))) : 0n;
      this.s.offset = ns - this.virtualNanos();
    }
    return this.s.offset;
  }

  /** RTC time: nanoseconds since the epoch, as an unsigned 64-bit value. */
  private count(): bigint {
    return BigInt.asUintN(64, this.offset() + this.virtualNanos());
  }

  read(off: number): number {
    const s = this.s;
    switch (off) {
      case TIME_LOW: {
        // Reading TIME_LOW latches TIME_HIGH, so the pair reads one instant.
        const t = this.count();
        s.timeHigh = Number(t >> 32n);
        return Number(t & U32) | 0;
      }
      case TIME_HIGH: return s.timeHigh | 0;
      case ALARM_LOW: return Number(s.alarmNext & U32) | 0;
      case ALARM_HIGH: return Number(s.alarmNext >> 32n) | 0;
      case IRQ_ENABLED: return s.irqEnabled ? 1 : 0;
      case ALARM_STATUS: return s.alarmRunning ? 1 : 0;
    }
    return 0;
  }

  write(off: number, _w: Width, v: number): void {
    const s = this.s;
    const word = BigInt(v >>> 0);
    switch (off) {
      case TIME_LOW:
      case TIME_HIGH: {
        // Setting the clock moves the offset only; an armed alarm keeps its virtual
        // deadline, as QEMU's timer does.
        const now = this.count();
        const next = off === TIME_LOW ? (now & ~U32) | word : (word << 32n) | (now & U32);
        s.offset = this.offset() + (next - now);
        return;
      }
      case ALARM_LOW:
        s.alarmNext = (s.alarmNext & ~U32) | word;
        this.setAlarm();
        break;
      case ALARM_HIGH:
        s.alarmNext = (word << 32n) | (s.alarmNext & U32);
        return;
      case IRQ_ENABLED:
        s.irqEnabled = (v & 1) === 1;
        break;
      case CLEAR_ALARM:
        s.alarmRunning = false;
        break;
      case CLEAR_INTERRUPT:
        s.irqPending = false;
        break;
      default:
        return;
    }
    this.drive();
    this.ctx.replan();
  }

  /** Arms the alarm at `alarmNext`, or fires it at once if that time has passed. */
  private setAlarm(): void {
    const s = this.s;
    const now = this.count();
    if (s.alarmNext <= now) {
      s.alarmRunning = false;
      s.irqPending = true;
      return;
    }
    // The first tick at which count() >= alarmNext (past 2^53 ticks, rounding is moot).
    const virtualNs = s.alarmNext - this.offset();
    s.alarmTicks = Number((virtualNs + NS_PER_TICK - 1n) / NS_PER_TICK);
    s.alarmRunning = true;
  }

  private drive(): void {
    this.ctx.setPlicLine(this.irq, this.s.irqPending && this.s.irqEnabled);
  }

  /** Fires a due alarm; the machine calls this at every loop boundary. */
  update(): void {
    const s = this.s;
    if (s.alarmRunning && this.mtime() >= s.alarmTicks) {
      s.alarmRunning = false;
      s.irqPending = true;
    }
    this.drive();
  }

  boundary(): void {
    this.update();
  }

  ticksToWake(): number {
    return this.ticksToDeadline();
  }

  /** Virtual ticks until the alarm is due, or Infinity. */
  ticksToDeadline(): number {
    if (!this.s.alarmRunning) return Infinity;
    return Math.max(0, this.s.alarmTicks - this.mtime());
  }

  /** The icount at which the alarm fires (if the hart does not idle first), or Infinity. */
  deadlineIcount(): number {
    if (!this.s.alarmRunning || this.mtime() >= this.s.alarmTicks) return Infinity;
    return this.ctx.clock.icountAt(this.s.alarmTicks);
  }

  fdtNode(): FdtNode {
    return node(`rtc@${this.base.toString(16)}`, {
      interrupts: [this.irq],
      'interrupt-parent': [PHANDLE.plic],
      reg: [...cells64(this.base), ...cells64(this.size)],
      compatible: 'google,goldfish-rtc',
    });
  }

  save(): SavedRtc {
    const s = this.s;
    return { ...s, offset: s.offset === null ? null : s.offset.toString(), alarmNext: s.alarmNext.toString() };
  }

  restore(state: unknown): void {
    const st = state as SavedRtc;
    this.s = { ...st, offset: st.offset === null ? null : BigInt(st.offset), alarmNext: BigInt(st.alarmNext) };
    this.drive();
  }
}
