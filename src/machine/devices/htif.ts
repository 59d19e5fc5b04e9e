// HTIF, as riscv-tests and Spike use it: tohost is a 64-bit word in RAM, found by the ELF's
// symbols. Device 0 command 0 with payload bit 0 set is exit (code = payload >> 1); device 1
// command 1 is console putchar (the low byte), answered in fromhost. Other commands are
// dropped (tohost is cleared as the host would).
//
// An rv32 guest writes the word in two halves, in either order (riscv-tests: low then high;
// deja's macros.h: high then low). A command is taken once both halves have been written
// since the last one. A lone low-word write (the high word already 0) is taken by itself
// HTIF_GRACE_INSNS instructions later, or when the hart waits in wfi, unless the high word
// comes first: until then it may be the first half of a putchar, not an exit. The deadline
// is an icount, so this is deterministic (I1, I4).

import { StopReason } from '../../cpu/hart.js';
import { PAGE_SHIFT, PAGE_WATCH } from '../../cpu/memory.js';
import type { BoardPart } from '../bus.js';
import type { DeviceContext } from '../device-context.js';

/** Instructions a lone write of tohost's low word waits for the high word. */
export const HTIF_GRACE_INSNS = 16;

interface HtifState {
  /** Where tohost and fromhost are (-1: none): a machine restored without the ELF learns them here. */
  tohost: number;
  fromhost: number;
  written: number;
  deadline: number | null;
}

export class Htif implements BoardPart {
  readonly name = 'htif';
  private tohost = -1;
  private fromhost = -1;
  /** The halves of tohost written since the last command: 1 = low word, 2 = high word. */
  private written = 0;
  /** When a lone low-word write of tohost is taken as a whole command (or Infinity). */
  private deadline = Infinity;

  constructor(private readonly ctx: DeviceContext) {}

  symbolsLoaded(symbols: ReadonlyMap<string, number>): void {
    this.attach(symbols.get('tohost') ?? -1, symbols.get('fromhost') ?? -1);
  }

  private attach(tohost: number, fromhost: number): void {
    const mem = this.ctx.mem;
    const off = mem.offsetOf(tohost);
    if (tohost < 0 || off < 0 || mem.offsetOf(tohost + 7) !== off + 7) return;
    this.tohost = tohost;
    mem.pageFlags[off >>> PAGE_SHIFT] |= PAGE_WATCH;
    mem.pageFlags[(off + 7) >>> PAGE_SHIFT] |= PAGE_WATCH;
    if (fromhost >= 0 && mem.offsetOf(fromhost) >= 0 && mem.offsetOf(fromhost + 7) >= 0) this.fromhost = fromhost;
    mem.watchListener = (pa, width) => this.stored(pa, width);
  }

  private stored(pa: number, width: number): void {
    const at = pa - this.tohost;
    if (at + width <= 0 || at >= 8) return;
    if (at < 4) this.written |= 1;
    if (at + width > 4) this.written |= 2;
    if (this.written === 3) {
      this.command();
    } else if (this.deadline === Infinity) {
      this.deadline = this.ctx.hart.icount + HTIF_GRACE_INSNS;
      this.ctx.replan();
    }
  }

  /** Takes the command in tohost (if any) and starts waiting for the next one. */
  private command(): void {
    this.written = 0;
    this.deadline = Infinity;
    const mem = this.ctx.mem;
    const o = mem.offsetOf(this.tohost);
    const lo = mem.readOff(o, 4) >>> 0, hi = mem.readOff(o + 4, 4) >>> 0;
    if (lo === 0 && hi === 0) return;
    const device = hi >>> 24, cmd = (hi >>> 16) & 255;
    if (device === 0 && cmd === 0 && lo & 1) {
      const code = (hi & 0xffff) * 2 ** 31 + (lo >>> 1);
      this.ctx.requestExit(code === 0 ? 'poweroff' : 'fail', code);
      return;
    }
    // The host clears tohost once it has taken a command (a host store, as DMA: no listener).
    mem.dmaWrite(this.tohost, new Uint8Array(8));
    if (device === 1 && cmd === 1) {
      this.ctx.consoleWrite(lo & 255);
      if (this.fromhost >= 0) {
        // Spike's answer: the same device and command, payload 0x100 | the byte.
        const answer = new Uint8Array(8);
        const dv = new DataView(answer.buffer);
        dv.setUint32(0, 0x100 | (lo & 255), true);
        dv.setUint32(4, hi & 0xffff0000, true);
        mem.dmaWrite(this.fromhost, answer);
      }
    }
  }

  /** A lone low-word write of tohost whose grace has run out, or that the hart waits on. */
  boundary(): void {
    if (this.written !== 0 && (this.ctx.hart.icount >= this.deadline || this.ctx.hart.stop === StopReason.Wfi)) this.command();
  }

  deadlineIcount(): number {
    return this.deadline;
  }

  save(): HtifState {
    return { tohost: this.tohost, fromhost: this.fromhost, written: this.written, deadline: this.deadline === Infinity ? null : this.deadline };
  }

  restore(state: unknown): void {
    const s = state as HtifState;
    if (this.tohost < 0 && s.tohost >= 0) this.attach(s.tohost, s.fromhost);
    // The run loop stops at the deadline: anything but an icount would stop it nowhere.
    if (s.deadline !== null && !Number.isSafeInteger(s.deadline)) throw new Error(`htif deadline ${String(s.deadline)} is not an icount`);
    this.written = s.written;
    this.deadline = s.deadline ?? Infinity;
  }
}
