// The debug trigger module (Sdtrig) as QEMU 7.2 has it (target/riscv/debug.c): two
// triggers, each an address match of type 2 (mcontrol) or 6 (mcontrol6), whose only action
// is a breakpoint exception (cause 3, tval 0) before an instruction at its address runs or
// before a load or store that touches the bytes it watches. The CSRs are tselect, tdata1-3
// and tinfo, M-mode only; QEMU 7.2 has no tcontrol, mcontext or scontext. Which accesses hit
// follows QEMU's breakpoints and watchpoints, quirks included (execHit, dataHit, and the
// ranges the hart's slow paths pass).

import { CSR } from './constants.js';

/** Triggers per hart (QEMU 7.2's RV_MAX_TRIGGERS). */
export const TRIGGERS = 2;

const TYPE_MCONTROL = 2;
const TYPE_MCONTROL6 = 6;
/** tdata1 at reset: an mcontrol trigger that matches nothing. */
export const TDATA1_RESET = TYPE_MCONTROL << 28;
/** tinfo: every trigger can be of type 2 or 6. */
const TINFO = (1 << TYPE_MCONTROL) | (1 << TYPE_MCONTROL6);

// tdata1 fields, at the same places in both types (VU and VS exist in type 6 only).
const LOAD = 1 << 0;
const STORE = 1 << 1;
const EXEC = 1 << 2;
const MODE_U = 1 << 3; // bit 3 + privilege: U 3, S 4, M 6
const MODE_S = 1 << 4;
const MODE_M = 1 << 6;
const MODE_VU = 1 << 23;
const MODE_VS = 1 << 24;
const MCONTROL_SIZELO = 3 << 16;
const MCONTROL6_SIZE = 15 << 16;
const MODES = MODE_U | MODE_S | MODE_M | MODE_VU | MODE_VS;
/** What a write keeps of mcontrol: type, sizelo, modes and actions (match, chain, action, timing, select, hit read 0). */
const MCONTROL_KEPT = MCONTROL_SIZELO | MODE_U | MODE_S | MODE_M | LOAD | STORE | EXEC;
const MCONTROL6_KEPT = MODES | LOAD | STORE | EXEC;
/** mcontrol6 sizes QEMU keeps (any, 1, 2, 3 and 5: its table of 1, 2, 4 and 8 bytes); others read 0. */
const MCONTROL6_SIZES = 0b101111;

/** What an access does, as the watch bits of tdata1 name it. */
export const WATCH_LOAD = LOAD;
export const WATCH_STORE = STORE;

/** A trigger fires at all: it has a mode and an access kind (QEMU inserts no breakpoint otherwise). */
function enabled(tdata1: number): boolean {
  return (tdata1 & MODES) !== 0 && (tdata1 & (LOAD | STORE | EXEC)) !== 0;
}

/** The trigger's U, S or M bit for privilege `priv`. */
function inMode(tdata1: number, priv: number): boolean {
  return ((tdata1 >>> 3) & (1 << priv)) !== 0;
}

/**
 * Bytes a load or store trigger watches from tdata2. QEMU passes the size field's encoding
 * as the length, so mcontrol's sizelo 3 ("4 bytes") watches 3 and mcontrol6's size 5
 * ("8 bytes") watches 5; size 0 ("any") watches 4 (mcontrol) or 8 (mcontrol6) bytes.
 */
function watchLength(tdata1: number): number {
  const size = tdata1 >>> 28 === TYPE_MCONTROL ? (tdata1 >>> 16) & 3 : (tdata1 >>> 16) & 15;
  return size !== 0 ? size : tdata1 >>> 28 === TYPE_MCONTROL ? 4 : 8;
}

export class Triggers {
  /** tselect: always below TRIGGERS (a larger write is ignored). */
  select = 0;
  readonly tdata1 = new Int32Array(TRIGGERS).fill(TDATA1_RESET);
  readonly tdata2 = new Int32Array(TRIGGERS);
  /** Non-zero while some trigger is enabled: run loops then check every instruction (hart.ts). */
  armed = 0;
  /** WATCH_LOAD and WATCH_STORE of the enabled triggers: accesses of those kinds are checked. */
  watching = 0;

  /** As QEMU's trigger init at reset, which leaves tselect as it was. */
  reset(): void {
    this.tdata1.fill(TDATA1_RESET);
    this.tdata2.fill(0);
    this.update();
  }

  /** Whether the registers hold their reset values (tselect 0 included). */
  atReset(): boolean {
    return this.select === 0 && this.tdata1.every((v) => v === TDATA1_RESET) && this.tdata2.every((v) => v === 0);
  }

  save(): { select: number; tdata1: number[]; tdata2: number[] } {
    return { select: this.select, tdata1: [...this.tdata1], tdata2: [...this.tdata2] };
  }

  restore(s: { select: number; tdata1: number[]; tdata2: number[] }): void {
    this.select = s.select;
    this.tdata1.set(s.tdata1);
    this.tdata2.set(s.tdata2);
    this.update();
  }

  read(csr: number): number {
    switch (csr) {
      case CSR.tselect: return this.select;
      case CSR.tdata1: return this.tdata1[this.select];
      case CSR.tdata2: return this.tdata2[this.select];
      case CSR.tinfo: return TINFO;
      default: return 0; // tdata3: neither type keeps anything there
    }
  }

  /** Writes a trigger CSR: WARL as QEMU 7.2 (a tdata1 write of a type other than 2 or 6 is ignored). */
  write(csr: number, v: number): void {
    switch (csr) {
      case CSR.tselect:
        if (v >>> 0 < TRIGGERS) this.select = v;
        return;
      case CSR.tdata1: {
        const type = v >>> 28;
        if (type === TYPE_MCONTROL) this.tdata1[this.select] = TDATA1_RESET | (v & MCONTROL_KEPT);
        else if (type === TYPE_MCONTROL6) {
          const size = (MCONTROL6_SIZES >>> ((v >>> 16) & 15)) & 1 ? v & MCONTROL6_SIZE : 0;
          this.tdata1[this.select] = (TYPE_MCONTROL6 << 28) | size | (v & MCONTROL6_KEPT);
        }
        break;
      }
      case CSR.tdata2:
        this.tdata2[this.select] = v;
        break;
      default:
        return; // tdata3, tinfo: ignored
    }
    this.update();
  }

  private update(): void {
    let armed = 0, watching = 0;
    for (let i = 0; i < TRIGGERS; i++) {
      const c = this.tdata1[i];
      if (!enabled(c)) continue;
      armed |= 1 << i;
      watching |= c & (LOAD | STORE);
    }
    this.armed = armed;
    this.watching = watching;
  }

  /**
   * Whether the instruction at `pc` takes a breakpoint in privilege `priv`. As QEMU 7.2: some
   * enabled execute trigger is at pc, and some execute trigger fires in this mode, which
   * need not be the one at pc.
   */
  execHit(pc: number, priv: number): boolean {
    let at = false, mode = false;
    for (let i = 0; i < TRIGGERS; i++) {
      const c = this.tdata1[i];
      if ((c & EXEC) === 0) continue;
      if (this.tdata2[i] === (pc | 0) && enabled(c)) at = true;
      if (inMode(c, priv)) mode = true;
    }
    return at && mode;
  }

  /**
   * Whether an access of `kind` (WATCH_LOAD or WATCH_STORE) to bytes first..last, unsigned
   * (QEMU's watchpoint test: first may exceed last, see the hart's misaligned stores),
   * takes a breakpoint in privilege `priv`. As QEMU 7.2: an enabled trigger of that kind
   * watches a byte in range, and some trigger at the same address with an access kind in
   * common with it fires in this mode.
   */
  dataHit(first: number, last: number, kind: number, priv: number): boolean {
    for (let k = 0; k < TRIGGERS; k++) {
      const c = this.tdata1[k];
      const kinds = c & (LOAD | STORE);
      if ((kinds & kind) === 0 || !enabled(c)) continue;
      const at = this.tdata2[k] >>> 0;
      if (first > at + watchLength(c) - 1 || at > last) continue;
      for (let i = 0; i < TRIGGERS; i++) {
        if (this.tdata1[i] & kinds && this.tdata2[i] >>> 0 === at && inMode(this.tdata1[i], priv)) return true;
      }
    }
    return false;
  }
}
