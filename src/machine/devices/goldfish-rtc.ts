// Goldfish RTC (QEMU's hw/rtc/goldfish_rtc.c). The wall-clock value is an input (DESIGN.md
// I3): the port is asked once, at the first read, and the clock then runs on virtual time.

import type { Device, Width } from '../bus.js';
import type { DeviceContext } from '../device-context.js';
import { node, cells64, PHANDLE, type FdtNode } from '../fdt.js';

const TIME_LOW = 0x00, TIME_HIGH = 0x04, ALARM_LOW = 0x08, ALARM_HIGH = 0x0c;
const IRQ_ENABLED = 0x10, CLEAR_ALARM = 0x14, ALARM_STATUS = 0x18, CLEAR_INTERRUPT = 0x1c;
const NS_PER_TICK = 100;

interface RtcState {
  /** Wall-clock nanoseconds at virtual time `baseNanos`, once read from the port. */
  wallBase: number | null;
  baseNanos: number;
  timeHigh: number;
  alarm: number | null;
  irqEnabled: boolean;
  alarmFired: boolean;
}

export class GoldfishRtc implements Device {
  readonly name = 'goldfish-rtc';
  readonly size = 0x1000;
  readonly widths: readonly Width[] = [4];
  private s: RtcState = { wallBase: null, baseNanos: 0, timeHigh: 0, alarm: null, irqEnabled: false, alarmFired: false };

  constructor(
    readonly base: number,
    private readonly irq: number,
    private readonly ctx: DeviceContext,
  ) {}

  private virtualNanos(): number {
    return this.ctx.clock.nanos(this.ctx.hart.icount);
  }

  /** RTC time in nanoseconds since the epoch. */
  private now(): number {
    if (this.s.wallBase === null) {
      this.s.wallBase = this.ctx.input.rtcNanos(this.ctx.hart.icount);
      this.s.baseNanos = this.virtualNanos();
    }
    return this.s.wallBase + (this.virtualNanos() - this.s.baseNanos);
  }

  read(off: number): number {
    switch (off) {
      case TIME_LOW: {
        const t = this.now();
        this.s.timeHigh = Math.floor(t / 4294967296);
        return t % 4294967296 | 0;
      }
      case TIME_HIGH: return this.s.timeHigh | 0;
      case ALARM_LOW: return (this.s.alarm ?? 0) % 4294967296 | 0;
      case ALARM_HIGH: return Math.floor((this.s.alarm ?? 0) / 4294967296) | 0;
      case IRQ_ENABLED: return this.s.irqEnabled ? 1 : 0;
      case ALARM_STATUS: return this.s.alarm !== null ? 1 : 0;
    }
    return 0;
  }

  private alarmHigh = 0;

  write(off: number, _w: Width, v: number): void {
    switch (off) {
      case ALARM_HIGH:
        this.alarmHigh = v >>> 0;
        return;
      case ALARM_LOW:
        this.s.alarm = this.alarmHigh * 4294967296 + (v >>> 0);
        this.s.alarmFired = false;
        break;
      case IRQ_ENABLED:
        this.s.irqEnabled = (v & 1) === 1;
        break;
      case CLEAR_ALARM:
        this.s.alarm = null;
        break;
      case CLEAR_INTERRUPT:
        this.s.alarmFired = false;
        break;
      default:
        return;
    }
    this.update();
    this.ctx.replan();
  }

  /** Fires a due alarm; the machine calls this at every loop boundary. */
  update(): void {
    if (this.s.alarm !== null && this.s.wallBase !== null && this.now() >= this.s.alarm) {
      this.s.alarm = null;
      this.s.alarmFired = true;
    }
    this.ctx.setPlicLine(this.irq, this.s.alarmFired && this.s.irqEnabled);
  }

  /** Virtual ticks until the alarm is due, or Infinity. */
  ticksToDeadline(): number {
    if (this.s.alarm === null || this.s.wallBase === null) return Infinity;
    return Math.max(0, Math.ceil((this.s.alarm - this.now()) / NS_PER_TICK));
  }

  /** The icount at which the alarm fires (if the hart does not idle first), or Infinity. */
  deadlineIcount(): number {
    const ticks = this.ticksToDeadline();
    if (ticks === Infinity) return Infinity;
    return this.ctx.clock.icountAt(this.ctx.clock.mtime(this.ctx.hart.icount) + Math.max(1, ticks));
  }

  fdtNode(): FdtNode {
    return node(`rtc@${this.base.toString(16)}`, {
      interrupts: [this.irq],
      'interrupt-parent': [PHANDLE.plic],
      reg: [...cells64(this.base), ...cells64(this.size)],
      compatible: 'google,goldfish-rtc',
    });
  }

  save(): unknown {
    return { ...this.s, alarmHigh: this.alarmHigh };
  }

  restore(state: unknown): void {
    const st = state as RtcState & { alarmHigh: number };
    this.s = { ...st };
    this.alarmHigh = st.alarmHigh;
  }
}
