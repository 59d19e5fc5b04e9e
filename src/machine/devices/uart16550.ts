// NS16550A UART (QEMU's serial.c behaviour, which Linux's 8250 driver relies on):
// byte registers, a 16-byte RX FIFO, instant transmit, and THRE/RX interrupts.

import type { Device, Width } from '../bus.js';
import type { DeviceContext } from '../device-context.js';
import { node, cells64, PHANDLE, type FdtNode } from '../fdt.js';

const IER_RDI = 1, IER_THRI = 2, IER_RLSI = 4;
const IIR_NO_INT = 1, IIR_THRI = 2, IIR_RDI = 4, IIR_RLSI = 6, IIR_CTI = 0xc, IIR_FIFO = 0xc0;
const LSR_DR = 1, LSR_OE = 2, LSR_THRE = 0x20, LSR_TEMT = 0x40, LSR_INT_ANY = 0x1e;
const FCR_ENABLE = 1, FCR_CLEAR_RX = 2;
const LCR_DLAB = 0x80;
const MCR_LOOP = 0x10;
const FIFO_SIZE = 16;
const TRIGGER = [1, 4, 8, 14];

export interface UartState {
  ier: number; lcr: number; mcr: number; fcr: number; scr: number; dll: number; dlm: number;
  lsr: number; thrPending: boolean; rx: number[];
}

export class Uart16550 implements Device {
  readonly name = 'uart16550';
  readonly size = 0x100;
  readonly widths: readonly Width[] = [1];
  private s: UartState = { ier: 0, lcr: 0, mcr: 0, fcr: 0, scr: 0, dll: 0, dlm: 0, lsr: LSR_THRE | LSR_TEMT, thrPending: false, rx: [] };

  constructor(
    readonly base: number,
    private readonly irq: number,
    private readonly ctx: DeviceContext,
  ) {}

  /**
   * How many bytes the RX FIFO can take now. Nothing until the guest enables the RX
   * interrupt: input typed before the driver listens would be lost to its FIFO resets.
   */
  rxRoom(): number {
    if (!(this.s.ier & IER_RDI)) return 0;
    return this.s.fcr & FCR_ENABLE ? FIFO_SIZE - this.s.rx.length : this.s.rx.length === 0 ? 1 : 0;
  }

  receive(bytes: number[]): void {
    for (const b of bytes) {
      if (this.s.rx.length >= FIFO_SIZE) this.s.lsr |= LSR_OE;
      else this.s.rx.push(b & 255);
    }
    if (this.s.rx.length) this.s.lsr |= LSR_DR;
    this.update();
  }

  read(off: number): number {
    const s = this.s;
    switch (off & 7) {
      case 0: {
        if (s.lcr & LCR_DLAB) return s.dll;
        const v = s.rx.length ? s.rx.shift()! : 0;
        if (!s.rx.length) s.lsr &= ~LSR_DR;
        this.update();
        return v;
      }
      case 1: return s.lcr & LCR_DLAB ? s.dlm : s.ier;
      case 2: {
        const iir = this.iir();
        if ((iir & 0xf) === IIR_THRI) {
          s.thrPending = false;
          this.update();
        }
        return iir;
      }
      case 3: return s.lcr;
      case 4: return s.mcr;
      case 5: {
        const v = s.lsr;
        if (s.lsr & LSR_INT_ANY) {
          s.lsr &= ~LSR_INT_ANY;
          this.update();
        }
        return v;
      }
      case 6:
        if (s.mcr & MCR_LOOP) {
          // Loopback: modem inputs follow the modem outputs.
          const m = s.mcr;
          return ((m & 2) << 3) | ((m & 1) << 5) | ((m & 4) << 4) | ((m & 8) << 4);
        }
        return 0xb0; // DCD, DSR, CTS
      default: return s.scr;
    }
  }

  write(off: number, _w: Width, v: number): void {
    const s = this.s;
    v &= 255;
    switch (off & 7) {
      case 0:
        if (s.lcr & LCR_DLAB) { s.dll = v; return; }
        if (s.mcr & MCR_LOOP) this.receive([v]);
        else this.ctx.consoleWrite(v);
        // Transmission is instant: THR is empty again and THRE re-asserts.
        s.lsr |= LSR_THRE | LSR_TEMT;
        s.thrPending = true;
        this.update();
        return;
      case 1:
        if (s.lcr & LCR_DLAB) { s.dlm = v; return; }
        {
          const changed = (s.ier ^ v) & 0x0f;
          s.ier = v & 0x0f;
          if (changed & IER_THRI) s.thrPending = (s.ier & IER_THRI) !== 0 && (s.lsr & LSR_THRE) !== 0;
          this.update();
        }
        return;
      case 2:
        if (v & FCR_CLEAR_RX) {
          s.rx = [];
          s.lsr &= ~LSR_DR;
        }
        s.fcr = v & 0xc9;
        this.update();
        return;
      case 3: s.lcr = v; return;
      case 4: s.mcr = v & 0x1f; return;
      case 7: s.scr = v; return;
    }
  }

  private iir(): number {
    const s = this.s;
    let id = IIR_NO_INT;
    if (s.ier & IER_RLSI && s.lsr & LSR_INT_ANY) id = IIR_RLSI;
    else if (s.ier & IER_RDI && s.lsr & LSR_DR)
      id = s.fcr & FCR_ENABLE && s.rx.length < TRIGGER[s.fcr >>> 6] ? IIR_CTI : IIR_RDI;
    else if (s.ier & IER_THRI && s.thrPending) id = IIR_THRI;
    // Modem status never changes (no modem lines), so IER_MSI never fires.
    return id | (s.fcr & FCR_ENABLE ? IIR_FIFO : 0);
  }

  private update(): void {
    this.ctx.setPlicLine(this.irq, (this.iir() & 0xf) !== IIR_NO_INT);
  }

  /** Console input due now, as much as the FIFO takes (the rest stays with the port). */
  boundary(): void {
    const bytes = this.ctx.input.takeConsoleInput(this.ctx.hart.icount, this.rxRoom());
    if (bytes.length) this.receive(bytes);
  }

  fdtNode(): FdtNode {
    return node(`serial@${this.base.toString(16)}`, {
      interrupts: [this.irq],
      'interrupt-parent': [PHANDLE.plic],
      'clock-frequency': [3686400],
      reg: [...cells64(this.base), ...cells64(this.size)],
      compatible: 'ns16550a',
    });
  }

  save(): UartState {
    return { ...this.s, rx: [...this.s.rx] };
  }

  restore(state: unknown): void {
    const st = state as UartState;
    this.s = { ...st, rx: [...st.rx] };
    this.update();
  }
}
