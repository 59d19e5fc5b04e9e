// Compiled units and the links between them (DESIGN.md, Linking and unlinking).
//
// A unit's exits are numbered slots. A slot whose successor is a fixed pc can be linked to
// the block there: the unit keeps the target in `links`, the target keeps the (unit, slot)
// pair in `incoming`, and invalidating the target clears exactly those slots. Exit -1 is a
// dynamic exit (indirect jump, system instruction, slow path): the dispatcher looks the
// next pc up. A unit never unlinks for an interrupt: budgets are checked at every head.

import type { Insn } from './emit.js';
import type { ExitSite, TracePath } from './trace-compiler.js';
import type { FaultKind } from './faults.js';

/** What a unit's generated function does: run, set hart.pc/icount, return an exit slot. */
export type BlockFn = (hart: unknown, limit: number) => number;
export type TraceFn = (hart: unknown, limit: number) => number;

export abstract class Unit {
  valid = true;
  /** An injected fault this unit carries (--jit-fault), or null. */
  fault: FaultKind | null = null;
  /** Successor by exit slot (null: not linked). */
  readonly links: (Block | null)[];
  /** 1 where the slot's target lies on another virtual page than the exit: re-checked against the fetch TLB. */
  readonly cross: Uint8Array;
  /** The fixed target pc of each slot (unsigned), or -1. */
  readonly exitPcs: number[];

  /** 1 where the slot is a backward branch or jump (not a call): its target starts a loop. */
  readonly loopEdge: Uint8Array;

  constructor(exitPcs: number[], fromPc: number[], fromCall: boolean[]) {
    this.exitPcs = exitPcs;
    this.loopEdge = Uint8Array.from(exitPcs, (t, i) => (t >= 0 && t <= fromPc[i] && !fromCall[i] ? 1 : 0));
    this.links = exitPcs.map(() => null);
    this.cross = Uint8Array.from(exitPcs, (t, i) => (t >= 0 && t >>> 12 !== fromPc[i] >>> 12 ? 1 : 0));
  }
}

/** A guest basic block: straight-line instructions on one physical page. */
export class Block extends Unit {
  /** Compiled function, or null while cold (the interpreter runs it). */
  fn: BlockFn | null = null;
  /** Executions while cold (toward the block threshold) and, once compiled, toward the trace threshold. */
  count = 0;
  hot = 0;
  /** The trace that starts here; whoever runs this block runs it instead. */
  trace: Trace | null = null;
  /** Reached by a backward jump or branch: where loops start, so where traces may start. */
  loopHead = false;
  /** No trace will be formed here (--no-trace-at, or formation failed). */
  noTrace = false;
  /** Blocks that link to this one, by (unit, slot). */
  readonly incoming: [Unit, number][] = [];
  /** Next block with the same physical start but another virtual pc or privilege. */
  sameStart: Block | null = null;
  /** False for a head the translator cannot take (illegal or page-crossing first instruction). */
  readonly compilable: boolean;
  /** Compile order (deterministic), or -1 while cold. */
  id = -1;
  source = '';

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
    const call = last !== null && last.d.op === 'jal' && last.d.rd !== 0;
    super(exitPcs, exitPcs.map(() => last?.pc ?? vpc), exitPcs.map(() => call));
    this.compilable = insns.length > 0;
  }

  /** Bytes of guest code the block was made from (a store there invalidates it). */
  get bytes(): number {
    return this.insns.length ? this.insns.reduce((s, i) => s + i.d.len, 0) : 4;
  }

  get pageOff(): number {
    return this.off & ~4095;
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
  sideExits = 0;
  /** Branches grown so far. */
  branchCount = 0;

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
    super(exitPcs, fromPcs, fromCall);
    this.iterLen = blocks.reduce((s, b) => s + b.n, 0);
  }

  /** Physical pages the trace's code lies on. */
  pages(): number[] {
    return [...new Set(this.blocks.map((b) => b.off >>> 12))];
  }
}
