// Compiled units and the links between them (DESIGN.md, Linking and unlinking).
//
// A unit's exits are numbered slots. A slot whose successor is a fixed pc can be linked to
// the block there: the unit keeps the target in `links`, the target keeps the (unit, slot)
// pair in `incoming`, and invalidating the target clears exactly those slots. Exit -1 is a
// dynamic exit (indirect jump, system instruction, slow path): the dispatcher looks the
// next pc up. A unit never unlinks for an interrupt: budgets are checked at every head.

import { isCall, type Insn } from './emit.js';
import type { ExitSite, TracePath } from './trace-compiler.js';
import type { FaultKind } from './faults.js';

/**
 * A block's generated function: runs, sets hart.pc/icount, and returns -1 (a dynamic exit)
 * or `exitCode(id, slot)` of the block it left from: with depth `d` > 0 it may run on into
 * its linked successors itself (block-compiler.ts).
 */
export type BlockFn = (hart: unknown, limit: number, d?: number) => number;
/** Sets or clears (fn null) a block's direct link at an exit slot (block-compiler.ts). */
export type LinkFn = (slot: number, fn: BlockFn | null, n: number, pageOff: number) => void;
/** A trace's generated function: runs, sets hart.pc/icount, returns a trace exit code (trace-compiler.ts). */
export type TraceFn = (hart: unknown, limit: number) => number;

export abstract class Unit {
  valid = true;
  /** An injected fault this unit carries (--jit-fault), or null. */
  fault: FaultKind | null = null;
  /** Successor by exit slot (null: not linked). */
  readonly links: (Block | null)[];
  /** 1 where the slot's target lies on another virtual page than the exit: re-checked against the fetch TLB. */
  readonly cross: number[];
  /** The fixed target pc of each slot (unsigned), or -1. */
  readonly exitPcs: number[];

  /** 1 where the slot is a backward branch or jump (not a call): its target starts a loop. */
  readonly loopEdge: number[];

  // Plain arrays: a block is made for every head the guest reaches, most never compiled,
  // and typed arrays cost far more to allocate.
  constructor(exitPcs: number[], fromPc: (i: number) => number, fromCall: (i: number) => boolean) {
    const n = exitPcs.length;
    this.exitPcs = exitPcs;
    this.links = new Array<Block | null>(n).fill(null);
    this.loopEdge = new Array<number>(n);
    this.cross = new Array<number>(n);
    for (let i = 0; i < n; i++) {
      const t = exitPcs[i];
      const from = fromPc(i);
      this.loopEdge[i] = t >= 0 && t <= from && !fromCall(i) ? 1 : 0;
      this.cross[i] = t >= 0 && t >>> 12 !== from >>> 12 ? 1 : 0;
    }
  }
}

/** A guest basic block: straight-line instructions on one physical page. */
export class Block extends Unit {
  /** Compiled function, or null while cold (the interpreter runs it). */
  fn: BlockFn | null = null;
  /** Sets the direct links the compiled function follows itself (null while cold). */
  linkFn: LinkFn | null = null;
  /** For a block that ends in a call: the block at its return address (its direct link). */
  returnTo: Block | null = null;
  /**
   * Translated as compact code (loads and stores call shared helpers): where heads are
   * counted (low thresholds, most blocks cold); hot blocks of the sampled range inline them.
   */
  compact = false;
  /** Due for compiling: waiting in the JIT's queue (heat.ts). */
  queued = false;
  /** Executions at a loop head toward the trace threshold (cold ones count in the heat counters). */
  hot = 0;
  /** The trace that starts here; whoever runs this block runs it instead. */
  trace: Trace | null = null;
  /** Reached by a backward jump or branch: where loops start, so where traces may start. */
  loopHead = false;
  /** No trace will be formed here (--no-trace-at, or formation failed). */
  noTrace = false;
  /** Recordings from this head that ran into another loop (a cycle) and are to be tried again. */
  cycleRetries = 0;
  /** Blocks that link to this one, by (unit, slot). */
  readonly incoming: [Unit, number][] = [];
  /** Next block with the same physical start but another virtual pc or privilege. */
  sameStart: Block | null = null;
  /** False for a head the translator cannot take (illegal or page-crossing first instruction). */
  readonly compilable: boolean;
  /** Compile order (deterministic), or -1 while cold. */
  id = -1;
  source = '';
  /** Buffer offset of the block's page (a field: the dispatcher reads it on every lookup). */
  readonly pageOff: number;

  constructor(
    /** Virtual pc of the first instruction (unsigned). */
    readonly vpc: number,
    /** Buffer offset of the first instruction, and of its page. */
    readonly off: number,
    readonly priv: number,
    readonly insns: Insn[],
    /** Instructions the block retires when it runs to its end (1 for an uncompilable head). */
    readonly n: number,
    exitPcs: number[],
  ) {
    const last = insns.length ? insns[insns.length - 1] : null;
    const call = last !== null && isCall(last.d);
    const from = last?.pc ?? vpc;
    super(exitPcs, () => from, () => call);
    this.compilable = insns.length > 0;
    this.pageOff = off & ~4095;
  }

  /** Bytes of guest code the block was made from (a store there invalidates it). */
  get bytes(): number {
    return this.insns.length ? this.insns.reduce((s, i) => s + i.d.len, 0) : 4;
  }

}

/** A tree of hot paths from one head, compiled as one function (see trace-compiler.ts). */
export class Trace extends Unit {
  fn: TraceFn = () => -1;
  source = '';
  /** Instructions in the longest pass through the trace (the budget a head check needs). */
  iterLen: number;
  /** The recorded paths, and the site each exit slot leaves from. */
  root: TracePath | null = null;
  sites: ExitSite[] = [];
  /** 1 for slots that leave a path early (not at its planned end). */
  isSide = new Uint8Array(0);
  /** Times each exit was taken: a hot one grows a branch. */
  exitCounts = new Uint32Array(0);
  /** Back-edges taken (the generated loop counts them here). */
  loopIters = 0;
  /** Times entered, and times left by a side exit. */
  runs = 0;
  /** Instructions retired inside the trace (the generated code counts them here). */
  insns = 0;
  sideExits = 0;
  /** Branches grown so far. */
  branchCount = 0;
  /** Times an exit is taken before it grows a branch (Jit.install). */
  growAt = 0;
  /**
   * Compiled as compact code: a tree whose head block is compact (low thresholds) starts so,
   * and is compiled again with inline accesses once its loop has run PROMOTE_ITERS times.
   */
  compact = false;

  constructor(
    readonly id: number,
    readonly head: Block,
    /** Every block in the tree. */
    readonly blocks: Block[],
    /** The exit slot each root-path block took when it was recorded. */
    readonly path: number[],
    readonly loops: boolean,
    exitPcs: number[],
    fromPcs: number[],
    fromCall: boolean[],
  ) {
    super(exitPcs, (i) => fromPcs[i], (i) => fromCall[i]);
    this.iterLen = blocks.reduce((s, b) => s + b.n, 0);
  }

  /** Physical pages the trace's code lies on. */
  pages(): number[] {
    return [...new Set(this.blocks.map((b) => b.off >>> 12))];
  }
}
