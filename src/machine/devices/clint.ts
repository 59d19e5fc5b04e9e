// CLINT (SiFive/ACLINT layout): msip, mtimecmp and mtime, with mtime from virtual time.

import { MIP_MSIP, MIP_MTIP } from '../../cpu/constants.js';
import type { Device, Width } from '../bus.js';
import type { DeviceContext } from '../device-context.js';
import { node, cells64, PHANDLE, type FdtNode } from '../fdt.js';

const MSIP = 0x0, MTIMECMP = 0x4000, MTIME = 0xbff8;
const TWO32 = 4294967296;
/** A compare value at or past 2^53 ticks is never reached (a run would last 28 years). */
const REACHABLE = 2 ** 53;

export class Clint implements Device {
  readonly name = 'clint';
  readonly size = 0x10000;
  readonly widths: readonly Width[] = [4];
  private msip = 0;
  /** mtimecmp as two u32 halves (reset value 2^64 - 1): exact, whatever the guest writes. */
  private cmpLo = 0xffffffff;
  private cmpHi = 0xffffffff;

  constructor(
    readonly base: number,
    private readonly ctx: DeviceContext,
  ) {}

  private now(): number {
    return this.ctx.clock.mtime(this.ctx.hart.icount);
  }

  read(off: number): number {
    switch (off) {
      case MSIP: return this.msip;
      case MTIMECMP: return this.cmpLo | 0;
      case MTIMECMP + 4: return this.cmpHi | 0;
      case MTIME: return this.now() % TWO32 | 0;
      case MTIME + 4: return Math.floor(this.now() / TWO32) | 0;
    }
    return 0;
  }

  write(off: number, _w: Width, v: number): void {
    switch (off) {
      case MSIP:
        this.msip = v & 1;
        this.ctx.hart.setIrqLine(MIP_MSIP, this.msip === 1);
        return;
      case MTIMECMP:
        this.cmpLo = v >>> 0;
        break;
      case MTIMECMP + 4:
        this.cmpHi = v >>> 0;
        break;
      case MTIME:
      case MTIME + 4: {
        const now = this.now();
        const next = off === MTIME ? Math.floor(now / 4294967296) * 4294967296 + (v >>> 0) : (v >>> 0) * 4294967296 + (now % 4294967296);
        this.ctx.clock.idleTicks += next - now;
        break;
      }
      default: return;
    }
    this.update();
    this.ctx.replan();
  }

  /** mtimecmp as a number if it can ever be reached, else Infinity. */
  private compareValue(): number {
    const v = this.cmpHi * TWO32 + this.cmpLo;
    return v >= REACHABLE ? Infinity : v;
  }

  /** mtime >= mtimecmp, compared exactly as two 64-bit unsigned values. */
  private due(): boolean {
    const now = this.now();
    const hi = Math.floor(now / TWO32), lo = now % TWO32;
    return hi !== this.cmpHi ? hi > this.cmpHi : lo >= this.cmpLo;
  }

  /** Sets MTIP from the current time; the machine calls this at every loop boundary. */
  update(): void {
    this.ctx.hart.setIrqLine(MIP_MTIP, this.due());
  }

  boundary(): void {
    this.update();
  }

  /** A compare value already reached has raised MTIP: if that did not wake the hart, it never will. */
  ticksToWake(): number {
    const t = this.ticksToDeadline();
    return t > 0 ? t : Infinity;
  }

  /** The icount at which MTIP will rise, or Infinity. */
  deadlineIcount(): number {
    const cmp = this.compareValue();
    if (cmp === Infinity || this.due()) return Infinity;
    return this.ctx.clock.icountAt(cmp);
  }

  /** Ticks from now to the deadline, or Infinity. */
  ticksToDeadline(): number {
    const cmp = this.compareValue();
    if (cmp === Infinity) return Infinity;
    return Math.max(0, cmp - this.now());
  }

  fdtNode(): FdtNode {
    return node(`clint@${this.base.toString(16)}`, {
      'interrupts-extended': [PHANDLE.intc, 3, PHANDLE.intc, 7],
      reg: [...cells64(this.base), ...cells64(this.size)],
      compatible: ['sifive,clint0', 'riscv,clint0'],
    });
  }

  save(): unknown {
    return { msip: this.msip, mtimecmpLo: this.cmpLo, mtimecmpHi: this.cmpHi };
  }

  /** Restores the registers and drives the MSIP and MTIP lines to match them. */
  restore(state: unknown): void {
    const s = state as { msip: number; mtimecmpLo: number; mtimecmpHi: number };
    this.msip = s.msip & 1;
    this.cmpLo = s.mtimecmpLo >>> 0;
    this.cmpHi = s.mtimecmpHi >>> 0;
    this.ctx.hart.setIrqLine(MIP_MSIP, this.msip === 1);
    this.update();
  }
}
