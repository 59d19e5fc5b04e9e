// Trace formation: records the path the guest takes from a hot loop head (a new trace) or
// from a hot side exit of a trace (a branch that grows it), block by block as the
// dispatcher runs them, and hands the finished path to the Jit to compile.

import { isCall, kindOf } from './emit.js';
import type { JitSettings } from './jit.js';
import type { Linker } from './linker.js';
import { siteKey, type ExitSite, type TracePath } from './trace-compiler.js';
import type { Block, Trace } from './unit.js';

/**
 * Loop passes after which a compact tree (Trace.compact) is compiled again with inline
 * accesses: young trees at low thresholds are many and cheap to compile compact, and
 * the few that stay hot run faster with the TLB lookup and page caches inline.
 */
export const PROMOTE_ITERS = 1 << 16;

/**
 * A path being recorded: the blocks run since it started and the exits they took. A new
 * trace starts at its head; a branch starts at a hot side exit of `tree`.
 */
interface PathRecording {
  head: Block;
  blocks: Block[];
  path: number[];
  tree: Trace | null;
  site: ExitSite | null;
  /** Return addresses of the calls the path has made and not returned from. */
  calls: number[];
  /** The call stack (as a key) each recorded block ran under. */
  contexts: string[];
}

/** A new recording from `head` (a new trace) or from a side exit of `tree`. */
function recordingAt(head: Block, tree: Trace | null, site: ExitSite | null): PathRecording {
  return { head, blocks: [], path: [], tree, site, calls: [], contexts: [] };
}

/** Tracks calls and returns across a recorded block's end (a return pops, a call pushes). */
function followCall(calls: number[], b: Block): void {
  const last = b.insns[b.insns.length - 1];
  if (isCall(last.d)) calls.push((last.pc + last.d.len) >>> 0);
  else if (dynamicEnd(b) === 'indirect') calls.pop(); // an indirect jump that does not link
}

/** The exit slot a block left by, from the pc it left for: -1 if not a fixed exit. */
export function exitSlotOf(b: Block, pc: number): number {
  const e = b.exitPcs;
  if (e.length > 0 && e[0] === pc) return 0;
  if (e.length > 1 && e[1] === pc) return 1;
  return -1;
}

/** Why a block left by exit -1: a system instruction, an indirect jump, or a slow path mid-block. */
function dynamicEnd(b: Block): 'system' | 'indirect' | 'slow' {
  const k = kindOf(b.insns[b.insns.length - 1].d);
  return k === 'system' ? 'system' : k === 'jump' && b.exitPcs.length === 0 ? 'indirect' : 'slow';
}

/** Times a head whose recording ran into a cycle is recorded again (see finishTrace). */
const CYCLE_RETRIES = 3;

/** Branches a trace may grow (bounds the size of its function). */
const MAX_BRANCHES = 8;

/**
 * Times an exit of `t` is taken before it grows a branch: the trace threshold, and for a
 * compact tree (low thresholds) 16 times that for its first branch, 256 times for its
 * second, and so on (at most 2^32 - 1, what an exit counter holds) until it is promoted.
 * Each branch compiles the whole tree again, and at low thresholds most trees are on code
 * that soon goes cold.
 */
export function growAt(t: Trace, traceThreshold: number): number {
  return t.compact ? Math.min(traceThreshold * 16 ** (t.branchCount + 1), 0xffffffff) : traceThreshold;
}

export class TraceRecorder {
  /** The path being recorded, or null (the dispatcher drops it whenever it must stop). */
  recording: PathRecording | null = null;
  /** Trace ids, given as traces are formed. */
  private traceCount = 0;

  constructor(
    private readonly settings: JitSettings,
    private readonly linker: Linker,
    /** Compiles a recorded path into a trace, or a grown tree in place of `old` (the Jit). */
    private readonly installer: { install(id: number, root: TracePath, old: Trace | null, promote?: boolean): void },
  ) {}

  /** A loop head reached the trace threshold: recording starts there, with it. */
  start(head: Block): void {
    this.recording = recordingAt(head, null, null);
    this.recordNext(head);
  }

  /** Called with the block about to run while a path is being recorded. */
  recordNext(b: Block): void {
    const rec = this.recording!;
    if (b === rec.head && (rec.blocks.length > 0 || rec.tree !== null)) return this.finishTrace(true);
    // A branch may run on through another trace's head (as blocks); a new path stops there.
    if (rec.blocks.length > 0) followCall(rec.calls, rec.blocks[rec.blocks.length - 1]);
    // A cycle is a block met again under the same calls: a loop the path does not close.
    // The same function called twice (a helper in a loop body) is not one.
    const context = rec.calls.join(',');
    const cycle = rec.blocks.some((p, i) => p === b && rec.contexts[i] === context);
    if ((b.trace !== null && rec.tree === null) || !b.compilable || cycle) {
      if (rec.blocks.length === 0) this.recording = null;
      else this.finishTrace(false, cycle);
      return;
    }
    rec.blocks.push(b);
    rec.contexts.push(context);
  }

  /** Block `b` ran while a path is recorded and left by `slot` (-2: a slow path mid-block). */
  recorded(b: Block, slot: number): void {
    const rec = this.recording!;
    rec.path.push(slot);
    const how = slot >= 0 ? 'fixed' : slot === -1 ? dynamicEnd(b) : 'slow';
    // A slow-path exit in the middle of a block does not describe a path.
    if (how === 'slow') this.recording = null;
    else if (how === 'system' || rec.blocks.length >= this.settings.maxTraceBlocks) this.finishTrace(false);
  }

  /** A trace left by `slot` for the growAt-th time: a hot side exit starts recording a branch there. */
  exitTaken(tr: Trace, slot: number): void {
    if (tr.branchCount >= MAX_BRANCHES || this.recording !== null || !tr.valid) return;
    // The end of a path that stopped at a cycle: a branch there would only unroll the cycle
    // once more (and again each time its end got hot).
    const site = tr.sites[slot];
    if (site.path.cycle && site.key === siteKey.end(site.path)) return;
    this.recording = recordingAt(tr.head, tr, site);
  }

  /** Ends recording: compiles a new trace, or regrows a tree with the new branch. */
  private finishTrace(loops: boolean, cycle = false): void {
    const rec = this.recording!;
    this.recording = null;
    const path: TracePath = { blocks: rec.blocks, path: rec.path, loops, cycle, branches: new Map() };
    if (rec.tree !== null) return this.growTrace(rec.tree, rec.site!, path);
    const head = rec.head;
    if (!loops && cycle && head.cycleRetries < CYCLE_RETRIES) {
      // The path ran into another loop before it came back: which way a data-dependent
      // branch went while recording decides that, so the head counts again and retries.
      head.cycleRetries++;
      head.hot = 0;
      return;
    }
    head.noTrace = true; // one formation attempt per head; a dropped trace frees it again
    // Only a path that returns to its head gains from registers in locals: a straight
    // path pays for loading and writing them back on every run, more than linked blocks.
    const id = loops ? this.traceCount++ : -1;
    if (loops && id < this.settings.traceLimit) {
      head.noTrace = false;
      this.installer.install(id, path, null);
    }
    // The head no longer counts toward a trace: blocks may now call it (or its trace) directly.
    this.linker.refreshIncoming(head);
  }

  /** A compact tree whose loop has run PROMOTE_ITERS times: compiled again with inline accesses (unless a path is being recorded). */
  promote(tr: Trace): void {
    if (tr.valid && tr.head.trace === tr && this.recording === null) this.installer.install(tr.id, tr.root!, tr, true);
  }

  private growTrace(old: Trace, site: ExitSite, branch: TracePath): void {
    if (!old.valid || old.head.trace !== old) return;
    if (branch.blocks.length === 0 && !branch.loops) return;
    site.path.branches.set(site.key, branch);
    this.installer.install(old.id, old.root!, old);
  }
}
