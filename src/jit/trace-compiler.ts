// The trace tier's translator. A trace is a tree of recorded paths: the root path starts
// at the head block; a side exit that becomes hot grows a branch, the path the guest took
// from there. The whole tree is one function with guest registers in local variables,
// written back at every exit; a path that returns to the head continues a real JavaScript
// loop, with the icount budget checked at the back-edge.

import { TLB_MASK } from '../cpu/mmu.js';
import type { PhysMemory } from '../cpu/memory.js';
import { disassemble } from '../isa/disasm.js';
import { SLOT_NEXT, SLOT_TAKEN, isMem, tlbPrologue } from './block-compiler.js';
import type { HartArrays, TranslationCache, UnitSource } from './translation-cache.js';
import { branchCondition, emitJump, emitPlain, emitSystem, hex, insnComment, isCall, kindOf, pageCaches, type UnitEnv } from './emit.js';
import { Trace, type Block, type TraceFn } from './unit.js';

/** A recorded path: its blocks, the exit slot each took, whether it returns to the head. */
export interface TracePath {
  blocks: Block[];
  path: number[];
  loops: boolean;
  /** Whether recording stopped at a block the path already holds (a cycle that is not the head's loop). */
  cycle: boolean;
  /** Branches grown from this path's side exits, by site key (see `siteKey`). */
  branches: Map<number, TracePath>;
}

/** Where a side exit leaves a path: before block i's page check, after block i's branch, or at the end. */
export const siteKey = {
  pageGuard: (i: number) => 2 * i,
  branch: (i: number) => 2 * i + 1,
  end: (p: TracePath) => 2 * p.blocks.length,
};

/**
 * What a trace returns: exit slot `slot` (SLOT_DYNAMIC for an exit with no slot) of trace
 * `id`, as a number below -1, apart from blocks' exit codes (block-compiler.ts, exitCode)
 * and their dynamic exit -1. A block that calls a trace head's trace returns it unchanged.
 */
const SLOT_BITS = 10;
export const SLOT_DYNAMIC = (1 << SLOT_BITS) - 1;
export function traceExitCode(id: number, slot: number): number {
  return -2 - ((id << SLOT_BITS) | slot);
}
/** The trace id and the slot of a trace exit code. */
export const traceOfExit = (code: number): number => (-2 - code) >> SLOT_BITS;
export const slotOfExit = (code: number): number => (-2 - code) & SLOT_DYNAMIC;

export interface ExitSite {
  path: TracePath;
  key: number;
}

function allPaths(p: TracePath, out: TracePath[] = []): TracePath[] {
  out.push(p);
  for (const b of p.branches.values()) allPaths(b, out);
  return out;
}

/** Registers the tree reads or writes, and those it writes. */
function registers(paths: TracePath[]): { used: number[]; written: number[] } {
  const used = new Set<number>();
  const written = new Set<number>();
  for (const p of paths) {
    for (const b of p.blocks) {
      for (const { d } of b.insns) {
        for (const r of [d.rs1, d.rs2]) if (r !== 0) used.add(r);
        if (d.rd !== 0) {
          used.add(d.rd);
          written.add(d.rd);
        }
      }
    }
  }
  const sort = (s: Set<number>) => [...s].sort((p, q) => p - q);
  return { used: sort(used), written: sort(written) };
}

/** Instructions along the longest path from the head back to the head or out. */
function longest(p: TracePath, k0 = 0): number {
  const n = p.blocks.reduce((s, b) => s + b.n, 0);
  let best = k0 + n;
  for (const [key, br] of p.branches) {
    const at = key === siteKey.end(p) ? n : p.blocks.slice(0, Math.ceil(key / 2)).reduce((s, b) => s + b.n, 0);
    best = Math.max(best, longest(br, k0 + at));
  }
  return best;
}

/**
 * What a trace's code is generated from: its id, its recorded paths, and which of the
 * registers it writes a side exit writes back (all of them, unless an injected fault drops
 * one: faults.ts).
 */
export interface TraceInput {
  id: number;
  root: TracePath;
  /** Loads and stores call the shared helpers (a young tree at low thresholds: see Trace.compact). */
  compact: boolean;
  sideWrites(written: number[]): number[];
}

/** The trace's own input. */
export function traceInput(id: number, root: TracePath, compact: boolean): TraceInput {
  return { id, root, compact, sideWrites: (written) => written };
}

/** Generates the tree's function body; collects its exits. */
export function buildTrace({ id, root, compact, sideWrites }: TraceInput, annotate = false): { trace: Trace; body: string } {
  const paths = allPaths(root);
  const { used, written } = registers(paths);
  // Registers go back to the hart, and the loop passes (counted in a local) to the trace.
  const stores = (regs: number[]) => [...regs.map((r) => `x[${r}] = r${r};`), 'T.loopIters += it;'].join(' ');
  const flush = stores(written);
  const sideFlush = stores(sideWrites(written));
  // Side exits that write back otherwise than the others mark themselves (lw) for the epilogue.
  const sideDiffers = sideFlush !== flush;
  const head = root.blocks[0];
  const maxLen = longest(root);
  const pcs: number[] = [];
  const from: number[] = [];
  const fromCall: boolean[] = [];
  const sites: ExitSite[] = [];
  const exitSlot = (pc: number, fromBlock: Block, site: ExitSite): number => {
    const last = fromBlock.insns.at(-1)!;
    pcs.push(pc);
    from.push(last.pc);
    fromCall.push(isCall(last.d));
    sites.push(site);
    return pcs.length - 1;
  };
  // Every exit goes through one epilogue (see `epilogue` below); `side` marks a side exit
  // whose write-back differs (sideDiffers).
  const leaveTo = (pc: string, k: number, exit: number, side = false) => `{ ${side ? 'lw = true; ' : ''}xs = ${exit}; xpc = ${pc}; xk = ${k}; break out; }`;
  // A compact tree's loads and stores call the shared helpers; only its other accesses
  // (atomics) keep page caches.
  const inline = paths.flatMap((p) => p.blocks.flatMap((b) => b.insns)).filter((i) => !compact || !isMem(i));
  const caches = pageCaches(inline);
  const env: UnitEnv = {
    read: (r) => `r${r}`,
    write: (r, v) => `r${r} = ${v};`,
    sync: (pc, k) => `(hart.pc = ${hex(pc)}, hart.icount = ic + ${k})`,
    leave: (pc, k, exit) => leaveTo(pc, k, exit),
    flush: () => flush,
    // (It flushed before the instruction ran: the instruction may write a register itself.)
    leaveAfterSystem: () => `T.insns += hart.icount - ic0; return ${traceExitCode(id, SLOT_DYNAMIC)};`,
    caches,
    compact,
  };

  /** A path's code, starting `k0` instructions into the iteration, after block `prev`. */
  const emitPath = (p: TracePath, k0: number, prev: Block | null, out: string[], depth: number): void => {
    const ind = '  '.repeat(depth);
    const push = (s: string) => out.push(ind + s);
    let k = k0;
    let last: Block | null = prev;
    // Code for leaving at a site: the branch grown there, or an exit.
    const side = (key: number, pc: number, from: Block, kAt: number, wrap: (code: string[]) => void) => {
      const br = p.branches.get(key);
      if (br) {
        const inner: string[] = [];
        emitPath(br, kAt, from, inner, depth + 1);
        wrap(inner);
      } else {
        const slot = exitSlot(pc, from, { path: p, key });
        const isSide = key !== siteKey.end(p);
        wrap([leaveTo(hex(pc), kAt, slot, isSide && sideDiffers)]);
      }
    };
    for (let bi = 0; bi < p.blocks.length; bi++) {
      const b = p.blocks[bi];
      if (last !== null && b.pageOff !== last.pageOff) {
        // Entering another page: the code holds only while the fetch TLB still maps it there.
        const vpn = b.vpc >>> 12;
        const test = `xT[${vpn & TLB_MASK}] !== ${vpn} || xO[${vpn & TLB_MASK}] !== ${b.pageOff}`;
        side(siteKey.pageGuard(bi), b.vpc, last, k, (code) => {
          push(`if (${test}) {`);
          out.push(...code.map((l) => `${ind}  ${l}`));
          push('}');
        });
      }
      if (annotate) push(`// block ${b.id} at ${hex(b.vpc)}`);
      for (const i of b.insns) {
        if (annotate) push(insnComment(i));
        const kind = kindOf(i.d);
        if (kind === 'plain') push(emitPlain(i, k, env));
        else if (kind === 'system') push(emitSystem(i, k, env));
        else if (kind === 'branch') {
          const cond = branchCondition(i, env);
          const took = p.path[bi];
          const otherPc = b.exitPcs[took === SLOT_TAKEN ? SLOT_NEXT : SLOT_TAKEN];
          const kAt = k + 1;
          side(siteKey.branch(bi), otherPc, b, kAt, (code) => {
            push(`if (${took === SLOT_TAKEN ? `!(${cond})` : cond}) {`);
            out.push(...code.map((l) => `${ind}  ${l}`));
            push('}');
          });
        } else {
          const jmp = emitJump(i, env);
          push(jmp.code);
          if (jmp.fixed === null) {
            // An indirect jump continues the path only to the target it was recorded with.
            const next = bi + 1 < p.blocks.length ? p.blocks[bi + 1].vpc : p.loops ? head.vpc : null;
            if (next === null) push(env.leave(jmp.target, k + 1, -1));
            else push(`if ((t >>> 0) !== ${hex(next)}) ${env.leave('t >>> 0', k + 1, -1)}`);
          }
        }
        k++;
      }
      last = b;
    }
    const tail = p.blocks.at(-1);
    if (tail) {
      const kind = kindOf(tail.insns.at(-1)!.d);
      if (kind === 'system' || (kind === 'jump' && tail.exitPcs.length === 0 && !p.loops)) return; // already left
    }
    if (p.loops) {
      push(`ic += ${k}; it++;`);
      push(`if (ic + ${maxLen} > limit) ${env.leave(hex(head.vpc), 0, -1)}`);
      push('continue;');
      return;
    }
    const next = tail!.exitPcs[p.path[p.blocks.length - 1]];
    side(siteKey.end(p), next, tail!, k, (code) => out.push(...code.map((l) => `${ind}${l}`)));
  };

  const body: string[] = [];
  emitPath(root, 0, null, body, 2);
  const trace = new Trace(id, head, paths.flatMap((p) => p.blocks), root.path, root.loops, pcs, from, fromCall);
  trace.root = root;
  trace.compact = compact;
  trace.sites = sites;
  trace.iterLen = maxLen;
  trace.isSide = Uint8Array.from(sites, (site) => (site.key === siteKey.end(site.path) ? 0 : 1));
  trace.exitCounts = new Uint32Array(sites.length);
  const prologue = ['let ic = hart.icount, it = 0;', 'const ic0 = ic;', 'let a = 0, t = 0, vpn = 0, s = 0, sl = false;', 'let xs = -1, xpc = 0, xk = 0;', 'const mmu = hart.mmu, xT = mmu.xTag, xO = mmu.xOff;'];
  if (sideDiffers) prologue.push('let lw = false;');
  const tlb = tlbPrologue(inline);
  if (tlb) prologue.push(`const ${tlb.slice(2)};`);
  if (used.length) prologue.push(`let ${used.map((r) => `r${r} = x[${r}]`).join(', ')};`);
  if (caches.decl) prologue.push(caches.decl);
  // One epilogue writes the registers back and sets pc and icount for every exit: a side
  // exit first taken after V8 has optimized the trace then finds feedback for those stores
  // and that addition, where code of its own would deoptimize the trace (V8 has no feedback
  // for code that has never run, and bench's hot traces were optimized 5-18 times each).
  // It returns the exit as a trace exit code (traceExitCode): a block that called the trace
  // directly passes it on to the dispatcher unchanged.
  const epilogue = `${sideDiffers ? `if (lw) { ${sideFlush} } else { ${flush} }` : flush} hart.pc = xpc; hart.icount = ic + xk; T.insns += ic + xk - ic0; return ${traceExitCode(id, 0)} - (xs & ${SLOT_DYNAMIC});`;
  const src = [...prologue, 'out: {', 'try {', '  for (;;) {', ...body, '  }', `} catch (e) { ${flush} T.insns += hart.icount - ic0; throw e; }`, '}', epilogue].join('\n  ');
  return { trace, body: src };
}

/** Compiles a trace from its code (buildTrace's, as it runs: faults.ts), which it keeps. */
export function compileTrace({ trace, body }: { trace: Trace; body: string }, arrays: HartArrays, cache: TranslationCache): Trace {
  trace.source = body;
  trace.fn = cache.make<TraceFn>(traceUnit(`trace_${trace.head.vpc.toString(16)}`, body), arrays, trace);
  return trace;
}

/** A trace's unit: a factory of (T, the Trace whose counters the code updates) that returns its function. */
export function traceUnit(name: string, body: string): UnitSource {
  return { name, params: 'T', body: `return (function ${name}(hart, limit) {\n  ${body}\n});` };
}

/** A trace's paths and their guest disassembly. */
export function traceListing(t: Trace): string {
  const lines = [`trace ${t.id}: head ${hex(t.head.vpc)}, ${t.blocks.length} blocks, longest pass ${t.iterLen} instructions${t.loops ? ', loop' : ''}`];
  const walk = (p: TracePath, label: string) => {
    lines.push(` ${label}${p.loops ? ' (returns to head)' : ''}`);
    p.blocks.forEach((b, i) => {
      const dir = p.path[i] === SLOT_TAKEN ? 'taken' : p.path[i] === SLOT_NEXT ? 'fall-through' : 'dynamic';
      lines.push(`  block ${b.id} at ${hex(b.vpc)} (then ${dir})`);
      for (const ins of b.insns) lines.push(`    ${hex(ins.pc)}: ${disassemble(ins.d.raw, ins.pc)}`);
    });
    for (const [key, br] of p.branches) walk(br, `branch at site ${key} of ${label.trim()}`);
  };
  walk(t.root!, 'root path');
  return lines.join('\n');
}
