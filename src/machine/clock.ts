// Virtual time (DESIGN.md, Time): mtime advances with icount at a fixed nominal rate and
// jumps forward while the hart idles in wfi. How far it jumps is an input (I3), decided by
// the input port and applied here.

/** 10 MHz timebase, as on QEMU's virt board. */
export const TIMEBASE_HZ = 10_000_000;
/** Nominal rate: 100 instructions per tick, i.e. one instruction per virtual nanosecond. */
export const INSNS_PER_TICK = 100;

export class VirtualClock {
  /** Ticks added by idle jumps so far. */
  idleTicks = 0;

  mtime(icount: number): number {
    return Math.floor(icount / INSNS_PER_TICK) + this.idleTicks;
  }

  /** The first icount at which mtime >= ticks (given no further idle jumps). */
  icountAt(ticks: number): number {
    return Math.max(0, (ticks - this.idleTicks) * INSNS_PER_TICK);
  }

  /** Virtual nanoseconds since reset. */
  nanos(icount: number): number {
    return this.mtime(icount) * (1e9 / TIMEBASE_HZ);
  }
}
