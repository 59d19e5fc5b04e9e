// The reference interpreter (tier 0), generated once from the semantics table: a loop over
// predecoded slots (decode-cache.ts, filled by the one decoder) whose switch has one leaf
// per (op, length), each leaf the op's semantics template with operands unpacked from the
// slot. Neither decoding nor meaning is written by hand here.

import { setFlagsFromString } from 'node:v8';
import { ENCODINGS, OP_NAMES } from '../isa/encodings.js';
import { decode } from '../isa/decode.js';
import { endsBlock, instantiate, OP_INDEX, SEMANTICS } from '../isa/semantics.js';
import { mulh, mulhsu, mulhu } from '../isa/arith.js';
import { Bus } from '../machine/bus.js';
import { VirtualClock } from '../machine/clock.js';
import { HEAT_BASE, HEAT_HOT, KEY_ILLEGAL, SLOT_HANDOVER, keyOf } from './decode-cache.js';
import { Hart, StopReason } from './hart.js';
import { PAGE_SHIFT, PhysMemory } from './memory.js';
import { TLB_MASK, TRAP } from './mmu.js';
import { MIP_MSIP, MSTATUS_MIE } from './constants.js';

export type RunFn = (hart: Hart, limit: number) => void;

// icount is kept as a small-integer countdown `n` to `end` on the hot path.
const SYNC = '(hart.pc = pc >>> 0, hart.icount = end - n)';

/**
 * A run returns early after this many traps, so a guest stuck in a trap loop (which
 * retires nothing, so never reaches the icount limit) leaves the host responsive.
 */
export const TRAP_STORM = 10000;

/**
 * A compiled unit's last translation of a page (for one base register): `page` holds the
 * page's virtual base (or 1: none), `off` its buffer offset. An access to the same page
 * skips the TLB; slow paths (which may refill or evict TLB entries) forget it.
 */
export interface PageCache {
  page: string;
  off: string;
}

/** Memory macros with the TLB fast path inline; the slow path gets exact pc and icount. */
export function memoryMacros(sync: string, afterSlow = '', loadCache: PageCache | null = null, storeCache: PageCache | null = null): Record<string, (...a: string[]) => string> {
  // `afterSlow` runs after every slow-path call (compiled units note there whether the call
  // needs them to leave), so the fast path carries no extra check.
  const slow = (call: string) => (afterSlow ? `(${sync}, s = ${call}, ${afterSlow}, s)` : `(${sync}, ${call})`);
  // The TLB lookup for an access of `width` bytes at `a` (misaligned ones take the slow path),
  // through the page cache when there is one: its page compare also checks the alignment.
  const access = (width: number, tag: string, offs: string, cache: PageCache | null, use: (idx: string) => string, slowPath: string) => {
    const aligned = width === 1 ? '' : ` && (a & ${width - 1}) === 0`;
    const hit = `vpn = a >>> 12, ${tag}[vpn & ${TLB_MASK}] === vpn${aligned}`;
    if (!cache) return `${hit} ? ${use(`${offs}[vpn & ${TLB_MASK}] + (a & 4095)`)} : ${slowPath}`;
    const { page, off } = cache;
    const fill = `(${page} = a & -4096, ${off} = ${offs}[vpn & ${TLB_MASK}], ${use(`${off} + (a & 4095)`)})`;
    return `(a & ${-4096 | (width - 1)}) === ${page} ? ${use(`${off} + (a & 4095)`)} : (${hit}) ? ${fill} : ${slowPath}`;
  };
  const load = (width: number, signed: boolean, read: (idx: string) => string) => (addr: string) =>
    `(a = ${addr}, ${access(width, 'rT', 'rO', loadCache, read, slow(`hart.loadSlow(a, ${width}, ${signed})`))})`;
  const store = (width: number, write: (idx: string) => string) => (addr: string, value: string) => {
    const slowPath = afterSlow ? `(${sync}, hart.storeSlow(a, ${width}, t), ${afterSlow})` : `(${sync}, hart.storeSlow(a, ${width}, t))`;
    return `(a = ${addr}, t = ${value}, ${access(width, 'wT', 'wO', storeCache, write, slowPath)})`;
  };
  return {
    LOAD32: load(4, true, (o) => `i32[(${o}) >> 2]`),
    LOAD_U16: load(2, false, (o) => `u16[(${o}) >> 1]`),
    LOAD_S16: load(2, true, (o) => `(u16[(${o}) >> 1] << 16) >> 16`),
    LOAD_U8: load(1, false, (o) => `u8[${o}]`),
    LOAD_S8: load(1, true, (o) => `(u8[${o}] << 24) >> 24`),
    STORE32: store(4, (o) => `(i32[(${o}) >> 2] = t)`),
    STORE16: store(2, (o) => `(u16[(${o}) >> 1] = t)`),
    STORE8: store(1, (o) => `(u8[${o}] = t)`),
    MULH: (p, q) => `mulh(${p}, ${q})`,
    MULHSU: (p, q) => `mulhsu(${p}, ${q})`,
    MULHU: (p, q) => `mulhu(${p}, ${q})`,
    LR: (addr) => slow(`hart.lr(${addr})`),
    SC: (addr, v) => slow(`hart.sc(${addr}, ${v})`),
    AMO: (op, addr, v) => slow(`hart.amo(${op}, ${addr}, ${v})`),
  };
}

/** After anything that may change privilege or mstatus, the TLB set may have changed. */
const RELOAD_TLB = 'rT = mmu.rTag; rO = mmu.rOff; wT = mmu.wTag; wO = mmu.wOff; xT = mmu.xTag; xO = mmu.xOff;';

const RD = '((w >>> 8) & 63)';
const RS1 = '((w >>> 14) & 31)';
const RS2 = '((w >>> 19) & 31)';
const CSR = '((w >>> 19) & 4095)';

/** The leaf for one op at one length. */
function leaf(op: string, len: 2 | 4, counting: boolean): string {
  const sem = SEMANTICS[op];
  const opIndex = OP_INDEX[op];
  const names = { rs1: `x[${RS1}]`, rs2: `x[${RS2}]`, imm: 'imm', pc: 'pc', npc: `((pc + ${len}) | 0)`, OP: String(opIndex) };
  const macros = memoryMacros(SYNC);
  const writeRd = (v: string) => `x[${RD}] = ${v};`; // rd 0 is packed as the sink x[32]
  // What follows a block's last instruction starts a block: the counting interpreter marks
  // the fetched page's base odd, so that the next fetch takes the page path, which counts it.
  const head = counting ? ' fpVa |= 1;' : '';
  if (sem.system) {
    // The slot holds zimm in the rs1 field and the raw bits in imm (decode-cache.ts). Its
    // fpVa = -1 also makes the next instruction a counted head.
    return `${SYNC}; hart.system(${opIndex}, ${RD}, ${RS1}, ${RS1}, ${CSR}, ${len}, imm); pc = hart.pc | 0; n = end - hart.icount; fpVa = -1; ${RELOAD_TLB} if (hart.stormTraps > ${TRAP_STORM}) return;`;
  }
  if (sem.target) return `{ const target = ${instantiate(sem.target, names, macros)}; ${writeRd(names.npc)} pc = target; n--;${head} }`;
  if (sem.cond) return `pc = (${instantiate(sem.cond, names, macros)}) ? (pc + imm) | 0 : (pc + ${len}) | 0; n--;${head}`;
  const parts: string[] = [];
  if (sem.effect) parts.push(`${instantiate(sem.effect, names, macros)};`);
  if (sem.rd) parts.push(writeRd(instantiate(sem.rd, names, macros)));
  return `${parts.join(' ')} pc = (pc + ${len}) | 0; n--;`;
}

/**
 * The interpreter's body. The counting variant (for the JIT) also counts block heads, the
 * instructions after a control transfer or system instruction, in the page's heat counters,
 * and returns at one whose heat has reached the threshold (a block to compile, or compiled),
 * once it has retired something: the dispatcher takes over there.
 */
function generate(counting: boolean, debug: boolean): string {
  // A leaf for each (op, length) some encoding decodes to: others cannot occur, and would
  // only make the function V8 optimizes bigger.
  const pairs = new Set(ENCODINGS.map((e) => `${e.op}/${e.len}`));
  const cases: string[] = [];
  for (const op of OP_NAMES) {
    for (const len of [2, 4] as const) {
      if (pairs.has(`${op}/${len}`)) cases.push(`          case ${keyOf(OP_INDEX[op], len)}: /* ${op} (${len}) */ ${leaf(op, len, counting)} break;`);
    }
  }
  // A block head marks the fetched page's base odd (fpVa |= 1), so that the next fetch takes
  // the page path, which counts it (as it counts page starts) and translates only for
  // another page: the loop carries no extra state, and the leaves no return of their own
  // (with the count in each branch and jump leaf, a boot took 0.477 s against 0.447 s so).
  // The instruction a run starts at is not counted (the dispatcher has counted it).
  const countHead = counting
    ? `
          if (n !== n0) {
            const h = code[${HEAT_BASE} + ((pc & 4094) >> 1)];
            if (h >= heatT) {
              ${SYNC};
              return;
            }
            code[${HEAT_BASE} + ((pc & 4094) >> 1)] = h + 1;
          }`
    : '';
  return `
  const x = hart.x, mem = hart.mem, u8 = mem.u8, u16 = mem.u16, i32 = mem.i32, mmu = hart.mmu, dc = hart.decodeCache;
  let rT = mmu.rTag, rO = mmu.rOff, wT = mmu.wTag, wO = mmu.wOff, xT = mmu.xTag, xO = mmu.xOff;
  const pages = dc.pages;
  // At most 2^30 instructions per call, so the countdown stays a small integer.
  const end = Math.min(limit, hart.icount + 1073741824);
  let pc = hart.pc | 0, n = end - hart.icount, a = 0, t = 0, vpn = 0;
  const n0 = n;
  let fpVa = -1, code = dc.none;${counting ? '\n  const heatT = dc.heatThreshold;' : ''}${debug ? '\n  const dbg = hart.debug, bpf = dbg !== null ? dbg.filter : NO_FILTER;' : ''}
  for (;;) {
    try {
      while (n > 0) {
        if (hart.attention) {
          ${SYNC};
          if (hart.service()) return;
          pc = hart.pc | 0;
          fpVa = -1;
          ${RELOAD_TLB}
        }${debug ? `
        if (bpf[(pc >>> 1) & 65535] !== 0) {
          ${SYNC};
          dbg.checkBreak(pc, hart.icount);
        }` : ''}
        if ((pc & -4096) !== fpVa) {${counting ? `
          // A head on the page already fetched (its base marked odd) is only counted.
          if ((pc & -4096) !== (fpVa ^ 1)) {` : ''}
          // Fetch TLB hit on a page already decoded: no call.
          vpn = pc >>> 12;
          const page = xT[vpn & ${TLB_MASK}] === vpn ? pages[xO[vpn & ${TLB_MASK}] >>> 12] : null;
          if (page !== null) code = page;
          else {
            ${SYNC};
            code = dc.pageFor(pc);
          }${counting ? `
          }` : ''}
          fpVa = pc & -4096;${countHead}
        }
        const i = pc & 4094;
        let w = code[i], imm = code[i + 1];
        if (w <= 0) {
          ${SYNC};
          if (w === 0) dc.decodeAt(pc, code, i);
          else if (n !== n0) return; // a compiled block's head: the dispatcher runs it
          else dc.decodeOnly(pc);
          w = dc.w;
          imm = dc.imm;
        }
        switch (w & 255) {
${cases.join('\n')}
          case ${KEY_ILLEGAL}:
          default:
            ${SYNC};
            hart.illegal(imm);
            pc = hart.pc | 0;
            fpVa = -1;
            ${RELOAD_TLB}
            if (hart.stormTraps > ${TRAP_STORM}) return;
        }
      }
      ${SYNC};
      return;
    } catch (e) {
      if (e !== TRAP) throw e;
      ${SYNC};
      hart.takeFault();
      pc = hart.pc | 0;
      n = end - hart.icount;
      fpVa = -1;
      ${RELOAD_TLB}
      if (hart.stormTraps > ${TRAP_STORM}) return;
    }
  }`;
}

/**
 * Runs every leaf of the interpreter a few times on a scratch hart, so that V8 has type
 * feedback for all of them before it optimizes the loop; otherwise each leaf met for the
 * first time deoptimizes it. Every encoding runs with its operand fields zero, first with
 * registers zero (accesses fault), then with registers pointing into RAM (pc and addresses
 * are large int32 values, as in a real guest): loads and stores miss the TLB, then hit;
 * branches, taken and not, and jumps loop in place; system instructions trap. A leaf path
 * first met after V8 has optimized the loop costs a deoptimization and about 0.1 s of
 * boot.
 */
function train(run: RunFn, counting: boolean, rounds: number): Hart {
  const ramBase = 0x80000000;
  const mem = new PhysMemory({ ramBase, ramBytes: 1 << 20, romBase: 0x1000, romBytes: 0x1000 }, new Bus());
  // The objects the guest's hart holds, of the same classes: a field that later holds an
  // object of another class (or a double where a small integer was) gives the hart a new
  // map, and code optimized against the old one deoptimizes at its first check.
  const hart = new Hart(mem, new VirtualClock());
  const codeOff = 0x10000;
  // Registers zero (accesses fault), then x5 (rs1) equal to and below x4 (rs2): each branch
  // goes both ways; then at the code itself, where an indirect jump loops in place. The
  // counting variant then runs twice more with heat threshold 1, so that it leaves at a hot
  // head, on the fetched page and on another. Without V8's natives, all of it twice: V8
  // starts compiling the loop during the second round, with the feedback of every path.
  // (Started during the first, the compile would lack the feedback of what had not run.)
  const data = ramBase + 0x1000;
  const code = ramBase + codeOff; // an indirect jump loops in place
  const settings: [number, number][] = [[0, 0], [data, data], [data, data + 8], [code, code]];
  const passes = settings.map(([regs, rs2]) => [regs, rs2, HEAT_HOT]);
  if (counting) passes.push([data, data, 1], [code, code, 1]);
  // At heat 1 only what ends a block makes heads to count (and keeps the count of runs low
  // enough that V8 does not start optimizing on its own before optimizeNow).
  const enders = ENCODINGS.filter((e) => endsBlock(e.op));
  for (const [regs, rs2, heat] of rounds === 1 ? passes : [...passes, ...passes]) {
    for (const e of heat === 1 ? enders : ENCODINGS) {
      hart.reset(ramBase + codeOff);
      hart.x.fill(regs | 0);
      hart.x[0] = 0;
      hart.x[4] = rs2 | 0;
      hart.mtvec = ramBase + codeOff + 0x100; // an mret, so traps retire something
      mem.i32[(codeOff + 0x100) >> 2] = 0x30200073;
      // The instruction back to back (a 16-bit one four times), so that a load or store
      // runs again after its first run has filled the TLB.
      const word = trainingWord(e);
      const insn = e.len === 2 ? word | (word << 16) : word;
      mem.i32[codeOff >> 2] = insn;
      mem.i32[(codeOff >> 2) + 1] = insn;
      // A jump may have run code on the data page: it is data again, so stores can hit.
      hart.decodeCache.clear();
      mem.pageFlags.fill(0);
      hart.decodeCache.heatThreshold = heat | 0; // a small integer, as in the guest's hart
      hart.stormTraps = 0;
      run(hart, hart.icount + 4);
      hart.stop = StopReason.None;
    }
  }
  // A handover slot (a compiled block's head) on a jump that loops in place: run from, it
  // is decoded uncached; reached again, the run returns.
  for (let r = 0; r < rounds; r++) {
    hart.reset(ramBase + codeOff);
    hart.decodeCache.heatThreshold = HEAT_HOT;
    mem.i32[codeOff >> 2] = 0x0000006f; // jal x0, 0
    hart.decodeCache.clear();
    hart.decodeCache.page(codeOff >>> PAGE_SHIFT)[0] = SLOT_HANDOVER;
    hart.stormTraps = 0;
    run(hart, hart.icount + 4);
    hart.stop = StopReason.None;
  }
  // An interrupt, taken where the loop services the hart (a machine software interrupt,
  // pending and enabled, on a few nops).
  hart.reset(ramBase + codeOff);
  hart.decodeCache.heatThreshold = HEAT_HOT;
  for (let i = 0; i < 4; i++) mem.i32[(codeOff >> 2) + i] = 0x00000013;
  hart.mtvec = ramBase + codeOff + 0x100;
  mem.i32[(codeOff + 0x100) >> 2] = 0x30200073;
  hart.decodeCache.clear();
  hart.mstatus |= MSTATUS_MIE;
  hart.mie = MIP_MSIP;
  hart.setIrqLine(MIP_MSIP, true);
  run(hart, hart.icount + 8);
  hart.setIrqLine(MIP_MSIP, false);
  hart.stop = StopReason.None;
  return hart;
}

/**
 * An instruction word of encoding `e` for training: rs1 = x5, rs2 = x4 where a 32-bit
 * encoding leaves the fields free, so accesses can reach RAM and divisions divide. Where
 * all-zero free fields make the word another encoding or illegal (c.mv, c.jr, c.lui,
 * c.lwsp and others reserve zero registers or immediates), free bits are set until it
 * decodes as `e`: a leaf never trained would deoptimize the interpreter the first time a
 * guest used it.
 */
function trainingWord(e: (typeof ENCODINGS)[number]): number {
  let insn = e.match;
  // A jal keeps offset 0 (those fields are its offset): it loops in place, on its page.
  const fields = e.len === 4 && e.op !== 'jal';
  if (fields && (e.mask & (31 << 15)) === 0) insn |= 5 << 15;
  // In an I-type word the rs2 field is imm[4:0]: 4 keeps a word load aligned, so its
  // TLB-hit path is trained too.
  if (fields && (e.mask & (31 << 20)) === 0) insn |= 4 << 20;
  const free = ~e.mask & (e.len === 4 ? -1 : 0xffff);
  for (const bits of [0, 0x0004, 0x0084, 0x0104, 0x1104, 0x10a4, 0x1ffc]) {
    const w = (insn | (bits & free)) >>> 0;
    if (decode(w)?.enc === e) return w | 0;
  }
  return insn;
}

/** By variant: counting (1) and debug (2) bits. */
const compiled: (RunFn | null)[] = [null, null, null, null];
const ready = [false, false, false, false];

/** The debug variant's breakpoint filter on a hart without breakpoints (the training hart's). */
const NO_FILTER = new Uint8Array(65536);

/**
 * V8 compiled the trained interpreter in the background while the guest started, so a boot
 * ran its first million instructions unoptimized (about 45 ms, against 11 ms), and an OSR
 * compile of the running loop then took the compiler thread for another 100 ms. With V8's
 * natives syntax the compile starts as training ends and is waited for before the guest
 * runs, and training needs one round. Null where V8 refuses the syntax.
 */
const natives = ((): { optimizeSoon: Optimize; optimizeNow: Optimize; finish: () => void; isOptimized: (f: RunFn) => boolean } | null => {
  try {
    setFlagsFromString('--allow-natives-syntax');
    // Each optimize call marks f and calls it to the hart's own icount: it retires nothing.
    return {
      optimizeSoon: new Function('f', 'hart', "%OptimizeFunctionOnNextCall(f, 'concurrent'); f(hart, hart.icount);") as Optimize,
      optimizeNow: new Function('f', 'hart', '%OptimizeFunctionOnNextCall(f); f(hart, hart.icount);') as Optimize,
      finish: new Function('%FinalizeOptimization();') as () => void,
      isOptimized: new Function('f', 'return (%GetOptimizationStatus(f) & 16) !== 0;') as (f: RunFn) => boolean,
    };
  } catch {
    return null;
  }
})();
type Optimize = (f: RunFn, hart: Hart) => void;

/**
 * The interpreter: runs until icount reaches `limit` or the hart asks to stop. Under a JIT
 * it may also return earlier, once it has retired something: at the first instruction of
 * a compiled block (its slot hands over), and the counting variant at a hot block head. Made and
 * trained on first use, after which V8 compiles it in the background; given the hart it will
 * run, it returns only once the optimized code is in place (the training hart's objects
 * have the same maps as the guest's, so that code's checks hold).
 */
export function interpreter(counting = false, hart: Hart | null = null): RunFn {
  // A hart with a debugger's stops runs the variant that checks breakpoints (debug-stops.ts).
  const debug = hart !== null && hart.debug !== null;
  const k = (counting ? 1 : 0) | (debug ? 2 : 0);
  let run = compiled[k];
  if (!run) {
    const name = `interp_${counting ? 'counting' : 'run'}${debug ? '_debug' : ''}`;
    const factory = new Function('TRAP', 'mulh', 'mulhsu', 'mulhu', 'NO_FILTER', `return function ${name}(hart, limit) {${generate(counting, debug)}\n}\n//# sourceURL=deja-${name}.js`);
    run = compiled[k] = factory(TRAP, mulh, mulhsu, mulhu, NO_FILTER) as RunFn;
    const scratch = train(run, counting, natives ? 1 : 2);
    natives?.optimizeSoon(run, scratch);
  }
  if (hart && natives && !ready[k]) {
    ready[k] = true;
    natives.finish();
    if (!natives.isOptimized(run)) natives.optimizeNow(run, hart);
  }
  return run;
}

/** The generated source, for reading. */
export function interpreterSource(counting = false, debug = false): string {
  return generate(counting, debug);
}
