// A debugger's breakpoints and watchpoints on the hart (the gdb stub's, src/gdb/): host
// stops, never seen by the guest (the guest's own triggers are triggers.ts). Breakpoints
// are virtual pcs, checked by the interpreter's debug variant before an instruction runs;
// compiled code never holds one past its first instruction, and a block that starts at
// one is never compiled (block-compiler.ts, scanBlock), so every tier stops at the same
// instruction. Watchpoints are virtual address ranges: their pages get no data TLB entry
// (mmu.ts), so every access there reaches the hart's slow path, which checks it here.

/** Thrown (by identity) when a stop is hit; what was hit is on the DebugStops. */
export const DEBUG_STOP = { debugStop: true } as const;

export const WATCH_WRITE = 1;
export const WATCH_READ = 2;
export const WATCH_ACCESS = WATCH_WRITE | WATCH_READ;

export interface Watchpoint {
  addr: number;
  len: number;
  /** WATCH_WRITE, WATCH_READ or WATCH_ACCESS. */
  kind: number;
}

/** What stopped the run: a breakpoint at pc, or an access (before it is done) to a watched address. */
export type StopHit = { kind: 'break'; pc: number } | { kind: 'watch'; watch: Watchpoint; addr: number };

const FILTER_MASK = 0xffff;

export class DebugStops {
  private readonly breakpoints = new Set<number>();
  /** A breakpoint may be at pc only where filter[(pc >>> 1) & FILTER_MASK] is set (the interpreter's cheap test). */
  readonly filter = new Uint8Array(FILTER_MASK + 1);
  readonly watches: Watchpoint[] = [];
  /** Virtual page numbers a watchpoint touches (the MMU makes no data TLB entry for them). */
  readonly watchPages = new Set<number>();
  /**
   * No breakpoint stops at icount `from` with `fromTraps` traps taken (hart.traps): the run
   * resumes from a stop there. A trap retires nothing, so a handler's first instruction has
   * the trapping one's icount: with a trap taken since, it is another place, and stops.
   */
  from = -1;
  fromTraps = 0;
  /** The hart's trap count (hart.traps), read when a breakpoint is checked. */
  traps: () => number = () => 0;
  /** Watchpoints are not checked (stepping over the access that hit one). */
  suppressWatches = false;
  /** False while the debugger moves without stopping (a seek): nothing is checked. */
  active = true;
  hit: StopHit | null = null;
  /** The breakpoints and watchpoints compiled code was last made under, as one string. */
  private compiledUnder = '';

  private signature(): string {
    return [...this.breakpoints].sort((a, b) => a - b).join(',') + '|' + this.watches.map((w) => `${w.addr}:${w.len}:${w.kind}`).sort().join(',');
  }

  /**
   * Whether units compiled so far were made under other stops than these (then they must
   * go before the next run); these are theirs from now on. gdb takes its breakpoints out
   * at every stop and puts them back to resume: that changes nothing.
   */
  takeCompiledChange(): boolean {
    const now = this.signature();
    if (now === this.compiledUnder) return false;
    this.compiledUnder = now;
    return true;
  }

  /** A new JIT has compiled nothing: what it compiles is made under these stops. */
  compiledAfresh(): void {
    this.compiledUnder = this.signature();
  }

  /** Called after breakpoints or watchpoints change (the tier drops units, the MMU its TLBs). */
  onChange: (() => void) | null = null;

  /** What stopped the run (once). */
  takeHit(): StopHit | null {
    const h = this.hit;
    this.hit = null;
    return h;
  }

  hasBreakpoint(pc: number): boolean {
    return this.breakpoints.has(pc >>> 0);
  }

  setBreakpoint(pc: number, on: boolean): void {
    pc >>>= 0;
    if (on === this.breakpoints.has(pc)) return;
    if (on) this.breakpoints.add(pc);
    else this.breakpoints.delete(pc);
    this.filter.fill(0);
    for (const p of this.breakpoints) this.filter[(p >>> 1) & FILTER_MASK] = 1;
    this.onChange?.();
  }

  /** Adds or removes a watchpoint (removal matches address, length and kind). */
  setWatchpoint(w: Watchpoint, on: boolean): void {
    const i = this.watches.findIndex((v) => v.addr === w.addr && v.len === w.len && v.kind === w.kind);
    if (on === i >= 0) return;
    if (on) this.watches.push({ addr: w.addr >>> 0, len: Math.max(1, Math.min(w.len, 0x100000000 - (w.addr >>> 0))), kind: w.kind });
    else this.watches.splice(i, 1);
    this.watchPages.clear();
    for (const v of this.watches) {
      const last = Math.min(0xffffffff, v.addr + v.len - 1); // a range past the top stops there
      for (let p = v.addr >>> 12; p <= last >>> 12; p++) this.watchPages.add(p);
    }
    this.onChange?.();
  }

  /** The interpreter's check before the instruction at pc (icount `icount`) runs: throws DEBUG_STOP at a breakpoint. */
  checkBreak(pc: number, icount: number): void {
    if (this.active && this.breakpoints.has(pc >>> 0) && (icount !== this.from || this.traps() !== this.fromTraps)) {
      this.hit = { kind: 'break', pc: pc >>> 0 };
      throw DEBUG_STOP;
    }
  }

  /** The slow path's check of an access to [va, va + width): throws DEBUG_STOP, before the access, at a watched one. */
  checkAccess(va: number, width: number, write: boolean): void {
    if (this.suppressWatches || !this.active || !this.watchPages.has(va >>> 12) && !this.watchPages.has((va + width - 1) >>> 12)) return;
    const kind = write ? WATCH_WRITE : WATCH_READ;
    for (const w of this.watches) {
      if ((w.kind & kind) !== 0 && va < w.addr + w.len && va + width > w.addr) {
        this.hit = { kind: 'watch', watch: w, addr: Math.max(va, w.addr) >>> 0 };
        throw DEBUG_STOP;
      }
    }
  }
}
