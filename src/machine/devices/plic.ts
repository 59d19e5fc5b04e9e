// SiFive PLIC: 96 level-triggered sources, two contexts (hart 0 M-mode, hart 0 S-mode).

import { MIP_MEIP, MIP_SEIP } from '../../cpu/constants.js';
import type { Device, Width } from '../bus.js';
import type { DeviceContext } from '../device-context.js';
import { node, cells64, PHANDLE, type FdtNode } from '../fdt.js';

export const PLIC_SOURCES = 96;
const CONTEXTS = 2;
const CONTEXT_MIP = [MIP_MEIP, MIP_SEIP];

interface PlicState {
  priority: number[];
  level: boolean[];
  pending: boolean[];
  claimed: boolean[];
  enable: number[][]; // [context][word]
  threshold: number[];
}

export class Plic implements Device {
  readonly name = 'plic';
  readonly size = 0x600000;
  readonly widths: readonly Width[] = [4];
  private s: PlicState = {
    priority: new Array(PLIC_SOURCES).fill(0),
    level: new Array(PLIC_SOURCES).fill(false),
    pending: new Array(PLIC_SOURCES).fill(false),
    claimed: new Array(PLIC_SOURCES).fill(false),
    enable: Array.from({ length: CONTEXTS }, () => new Array(PLIC_SOURCES / 32).fill(0)),
    threshold: new Array(CONTEXTS).fill(0),
  };

  constructor(
    readonly base: number,
    private readonly ctx: DeviceContext,
  ) {}

  setLine(irq: number, level: boolean): void {
    if (irq <= 0 || irq >= PLIC_SOURCES || this.s.level[irq] === level) return;
    this.s.level[irq] = level;
    if (level && !this.s.claimed[irq]) this.s.pending[irq] = true;
    else if (!level) this.s.pending[irq] = false;
    this.update();
  }

  read(off: number): number {
    const s = this.s;
    if (off < 0x1000) return s.priority[off >>> 2] ?? 0;
    if (off < 0x1080) {
      const w = (off - 0x1000) >>> 2;
      let v = 0;
      for (let i = 0; i < 32; i++) if (s.pending[w * 32 + i]) v |= 1 << i;
      return v;
    }
    if (off >= 0x2000 && off < 0x2000 + 0x80 * CONTEXTS) {
      const c = (off - 0x2000) >>> 7, w = ((off - 0x2000) & 0x7f) >>> 2;
      return s.enable[c][w] ?? 0;
    }
    if (off >= 0x200000 && off < 0x200000 + 0x1000 * CONTEXTS) {
      const c = (off - 0x200000) >>> 12, r = off & 0xfff;
      if (r === 0) return s.threshold[c];
      if (r === 4) return this.claim(c);
    }
    return 0;
  }

  write(off: number, _w: Width, v: number): void {
    const s = this.s;
    if (off < 0x1000) {
      const i = off >>> 2;
      if (i > 0 && i < PLIC_SOURCES) s.priority[i] = v & 7;
    } else if (off >= 0x2000 && off < 0x2000 + 0x80 * CONTEXTS) {
      const c = (off - 0x2000) >>> 7, w = ((off - 0x2000) & 0x7f) >>> 2;
      if (w < PLIC_SOURCES / 32) s.enable[c][w] = w === 0 ? v & ~1 : v;
    } else if (off >= 0x200000 && off < 0x200000 + 0x1000 * CONTEXTS) {
      const c = (off - 0x200000) >>> 12, r = off & 0xfff;
      if (r === 0) s.threshold[c] = v & 7;
      else if (r === 4) this.complete(c, v >>> 0);
    } else return;
    this.update();
  }

  private enabled(c: number, i: number): boolean {
    return ((this.s.enable[c][i >>> 5] >>> (i & 31)) & 1) === 1;
  }

  /** Highest-priority pending, enabled, unclaimed source above the threshold (0: none). */
  private best(c: number): number {
    const s = this.s;
    let best = 0, prio = s.threshold[c];
    for (let i = 1; i < PLIC_SOURCES; i++) {
      if (s.pending[i] && !s.claimed[i] && s.priority[i] > prio && this.enabled(c, i)) {
        best = i;
        prio = s.priority[i];
      }
    }
    return best;
  }

  private claim(c: number): number {
    const irq = this.best(c);
    if (irq) {
      this.s.pending[irq] = false;
      this.s.claimed[irq] = true;
      this.update();
    }
    return irq;
  }

  private complete(c: number, irq: number): void {
    if (irq <= 0 || irq >= PLIC_SOURCES || !this.enabled(c, irq)) return;
    this.s.claimed[irq] = false;
    if (this.s.level[irq]) this.s.pending[irq] = true; // level-triggered: still asserted
  }

  private update(): void {
    for (let c = 0; c < CONTEXTS; c++) this.ctx.hart.setIrqLine(CONTEXT_MIP[c], this.best(c) !== 0);
  }

  fdtNode(): FdtNode {
    return node(`plic@${this.base.toString(16)}`, {
      phandle: [PHANDLE.plic],
      'riscv,ndev': [PLIC_SOURCES - 1],
      reg: [...cells64(this.base), ...cells64(this.size)],
      'interrupts-extended': [PHANDLE.intc, 11, PHANDLE.intc, 9],
      'interrupt-controller': null,
      compatible: ['sifive,plic-1.0.0', 'riscv,plic0'],
      '#address-cells': [0],
      '#interrupt-cells': [1],
    });
  }

  save(): PlicState {
    return copyState(this.s);
  }

  restore(state: unknown): void {
    this.s = copyState(state as PlicState);
    this.update();
  }
}

/** A copy (checkpoints save the state twice each; structuredClone was their largest cost). */
function copyState(s: PlicState): PlicState {
  return {
    priority: [...s.priority], level: [...s.level], pending: [...s.pending], claimed: [...s.claimed],
    enable: s.enable.map((w) => [...w]), threshold: [...s.threshold],
  };
}
