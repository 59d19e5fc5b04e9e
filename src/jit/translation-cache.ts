// Turns generated source into functions. Units made together share one `new Function`
// (V8's fixed cost per compile is paid once per batch), and a unit whose source text was
// made before reuses that factory, so replays of one recording in one process (bisect,
// fuzz, threshold scans) compile each distinct unit once. The key is the whole source:
// settings that change the code change the key.

import { mulh, mulhsu, mulhu } from '../isa/arith.js';
import { TRAP } from '../cpu/mmu.js';
import { memoryMacros } from '../cpu/interpreter.js';
import type { PhysMemory } from '../cpu/memory.js';

/** What a unit's factory closes over for one hart: its registers, RAM views and memory helpers. */
export interface HartArrays {
  x: Int32Array;
  u8: Uint8Array;
  u16: Uint16Array;
  i32: Int32Array;
  /** Load and store helpers for compact code (see memoryHelpers). */
  M: unknown;
}

/** A unit to make: its function's name, the factory's own parameters and body. */
export interface UnitSource {
  name: string;
  params: string;
  body: string;
}

export type Factory = (...args: unknown[]) => unknown;

/** A unit's factory applied to a hart's arrays and the unit's own arguments. */
export function instantiate<F>(f: Factory, arrays: HartArrays, ...args: unknown[]): F {
  return f(arrays.x, arrays.u8, arrays.u16, arrays.i32, arrays.M, ...args) as F;
}

export class TranslationCache {
  private readonly factories = new Map<string, Factory>();
  /** Units made by V8, and units that reused an earlier translation. */
  made = 0;
  reused = 0;

  /**
   * Factories for `units`, in order; call one with the hart's arrays and its own arguments.
   * New sources are compiled together in one function.
   */
  factoriesFor(units: UnitSource[]): Factory[] {
    const keys = units.map((u) => `${u.params}\n${u.body}`);
    const fresh: number[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < units.length; i++) {
      if (this.factories.has(keys[i]) || seen.has(keys[i])) continue;
      seen.add(keys[i]);
      fresh.push(i);
    }
    if (fresh.length > 0) {
      // Parenthesized, so V8 compiles each function now instead of pre-parsing it and
      // parsing it again on its first call.
      const parts = fresh.map((i) => {
        const u = units[i];
        return `(function ${u.name}_factory(x, u8, u16, i32, M${u.params ? `, ${u.params}` : ''}) {\n  ${u.body}\n})`;
      });
      const first = units[fresh[0]].name;
      const made = new Function('mulh', 'mulhsu', 'mulhu', 'TRAP', `return [\n${parts.join(',\n')}\n];\n//# sourceURL=deja-${first}.js`)(mulh, mulhsu, mulhu, TRAP) as Factory[];
      fresh.forEach((i, k) => this.factories.set(keys[i], made[k]));
      this.made += fresh.length;
    }
    this.reused += units.length - fresh.length;
    return keys.map((k) => this.factories.get(k)!);
  }

  /** Makes one unit now: its factory applied to the hart's arrays and `args`. */
  make<F>(u: UnitSource, arrays: HartArrays, ...args: unknown[]): F {
    return instantiate<F>(this.factoriesFor([u])[0], arrays, ...args);
  }
}

/** The arrays a hart's units close over (made once per hart). */
export function hartArrays(hart: { x: Int32Array; mem: PhysMemory }): HartArrays {
  const mem = hart.mem;
  return { x: hart.x, u8: mem.u8, u16: mem.u16, i32: mem.i32, M: memoryHelpers(hart) };
}

/**
 * Shared load and store helpers for compact code: `M.lw(addr, pc, icount)` and the like,
 * instantiated from the interpreter's memory macros, so a compact unit's access is the
 * interpreter's own; the slow path gets the exact pc and icount of its instruction.
 * `M.out(pc, icount)` leaves a unit for the dispatcher (exit -1) with pc and icount set.
 */
function memoryHelpers(hart: { x: Int32Array; mem: PhysMemory }): unknown {
  const m = memoryMacros('(hart.pc = pc, hart.icount = ic)');
  const fn = (name: string, body: string, store: boolean) =>
    `${name}: function ${name}(a, ${store ? 't, ' : ''}pc, ic) { let vpn = 0, s = 0; const mmu = hart.mmu, ${store ? 'wT = mmu.wTag, wO = mmu.wOff' : 'rT = mmu.rTag, rO = mmu.rOff'}; return ${body}; }`;
  // `M.go<slot>(K, ...)`: a compact block leaves by a linked exit on its page (one function
  // per slot, so each reads its own fields of the block's DirectLinks).
  const go = (s: number) =>
    `go${s}: function go${s}(K, hart, limit, d, pc, ic, code) { hart.pc = pc; hart.icount = ic; const f = K.L${s}; return d > 0 && f !== null && ic + K.N${s} <= limit ? f(hart, limit, d - 1) : code; }`;
  const src = `return { ${[
    fn('lw', m.LOAD32('a'), false), fn('lhu', m.LOAD_U16('a'), false), fn('lh', m.LOAD_S16('a'), false),
    fn('lbu', m.LOAD_U8('a'), false), fn('lb', m.LOAD_S8('a'), false),
    fn('sw', m.STORE32('a', 't'), true), fn('sh', m.STORE16('a', 't'), true), fn('sb', m.STORE8('a', 't'), true),
    'out: function out(pc, ic) { hart.pc = pc; hart.icount = ic; return -1; }',
    go(0), go(1),
  ].join(',\n')} };`;
  const mem = hart.mem;
  return new Function('hart', 'u8', 'u16', 'i32', src)(hart, mem.u8, mem.u16, mem.i32);
}
