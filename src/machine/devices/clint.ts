// CLINT (SiFive/ACLINT layout): msip, mtimecmp and mtime, with mtime from virtual time.

import { MIP_MSIP, MIP_MTIP } from '../../cpu/constants.js';
import type { Device, Width } from '../bus.js';
import type { DeviceContext } from '../device-context.js';
import { node, cells64, PHANDLE, type FdtNode } from '../fdt.js';

const MSIP = 0x0, MTIMECMP = 0x4000, MTIME = 0xbff8;
const NEVER = 2 ** 64;

export class Clint implements Device {
  readonly name = 'clint';
  readonly size = 0x10000;
  readonly widths: readonly Width[] = [4];
  private msip = 0;
  private mtimecmp = NEVER;

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
      case MTIMECMP: return this.mtimecmp % 4294967296 | 0;
      case MTIMECMP + 4: return Math.floor(this.mtimecmp / 4294967296) | 0;
      case MTIME: return this.now() % 4294967296 | 0;
      case MTIME + 4: return Math.floor(this.now() / 4294967296) | 0;
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
        this.mtimecmp = Math.floor(this.mtimecmp / 4294967296) * 4294967296 + (v >>> 0);
        break;
      case MTIMECMP + 4:
        this.mtimecmp = (v >>> 0) * 4294967296 + (this.mtimecmp % 4294967296);
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

  /** Sets MTIP from the current time; the machine calls this at every loop boundary. */
  update(): void {
    this.ctx.hart.setIrqLine(MIP_MTIP, this.now() >= this.mtimecmp);
  }

  /** The icount at which MTIP will rise, or Infinity. */
  deadlineIcount(): number {
    if (this.mtimecmp >= NEVER || this.now() >= this.mtimecmp) return Infinity;
    return this.ctx.clock.icountAt(this.mtimecmp);
  }

  /** Ticks from now to the deadline, or Infinity. */
  ticksToDeadline(): number {
    if (this.mtimecmp >= NEVER) return Infinity;
    return Math.max(0, this.mtimecmp - this.now());
  }

  fdtNode(): FdtNode {
    return node(`clint@${this.base.toString(16)}`, {
      'interrupts-extended': [PHANDLE.intc, 3, PHANDLE.intc, 7],
      reg: [...cells64(this.base), ...cells64(this.size)],
      compatible: ['sifive,clint0', 'riscv,clint0'],
    });
  }

  save(): unknown {
    return { msip: this.msip, mtimecmp: this.mtimecmp };
  }

  restore(state: unknown): void {
    const s = state as { msip: number; mtimecmp: number };
    this.msip = s.msip;
    this.mtimecmp = s.mtimecmp;
  }
}
