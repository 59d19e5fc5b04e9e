// Links between compiled units (DESIGN.md, Linking and unlinking), and the direct calls
// compiled blocks make along them. A unit's exit slot links to the block the dispatcher
// found there; the target keeps the (unit, slot) pair in `incoming`, so dropping it clears
// exactly those links. A compiled block also calls its linked successor itself (a variable
// of its closure, set through `linkFn`) while the successor may be run that way (a trace
// head's trace, if it heads one), and a block ending in a call calls the block at its
// return address when the callee returns there (block-compiler.ts, leaveBy).

import { SLOT_RETURN } from './block-compiler.js';
import { Block, type BlockFn, type Unit } from './unit.js';

export class Linker {
  constructor(
    private readonly stats: { linksMade: number; linksBroken: number },
    /** Under the trace tier, a loop head still counting toward a trace is not called directly. */
    private readonly traceTier: boolean,
  ) {}

  /** `b` is dropped: every link into it goes (and the direct calls along them). */
  unlinkIncoming(b: Block): void {
    for (const [u, s] of b.incoming) {
      // (Slot 3 of a block is its return link; of a trace, an ordinary exit.)
      if (u instanceof Block && s === SLOT_RETURN) {
        if (u.returnTo === b) {
          u.returnTo = null;
          this.setDirect(u, s);
        }
      } else if (u.links[s] === b) {
        u.links[s] = null;
        this.setDirect(u, s);
        this.stats.linksBroken++;
      }
    }
    b.incoming.length = 0;
  }

  /** `u` is dropped: its links go. */
  unlinkOutgoing(u: Unit): void {
    if (u instanceof Block) {
      const r = u.returnTo;
      if (r !== null) {
        u.returnTo = null;
        const i = r.incoming.findIndex(([v, vs]) => v === u && vs === SLOT_RETURN);
        if (i >= 0) r.incoming.splice(i, 1);
      }
    }
    for (let s = 0; s < u.links.length; s++) {
      const t = u.links[s];
      if (!t) continue;
      u.links[s] = null;
      this.setDirect(u, s);
      const i = t.incoming.findIndex(([v, vs]) => v === u && vs === s);
      if (i >= 0) t.incoming.splice(i, 1);
    }
  }

  /** Links exit `slot` of `u` to `b`, which the dispatcher found there. */
  link(u: Unit, slot: number, b: Block): void {
    if (u.exitPcs[slot] !== b.vpc) return;
    u.links[slot] = b;
    b.incoming.push([u, slot]);
    this.stats.linksMade++;
    if (u.loopEdge[slot] === 1 && !b.loopHead) {
      b.loopHead = true;
      this.refreshIncoming(b);
    } else this.setDirect(u, slot);
  }

  /**
   * Whether compiled blocks that link to `b` may call it directly: a compiled block, or a
   * trace head (they call its trace). A loop head the trace tier still counts toward a trace
   * must be entered through the dispatcher, which counts it.
   */
  chainable(b: Block): boolean {
    if (!b.valid) return false;
    if (b.trace !== null) return b.trace.valid;
    return b.fn !== null && !(this.traceTier && b.loopHead && !b.noTrace);
  }

  /** Makes a compiled block's direct link at `slot` agree with its link there. */
  setDirect(u: Unit, slot: number): void {
    if (!(u instanceof Block) || u.linkFn === null) return;
    const t = slot === SLOT_RETURN ? u.returnTo : u.links[slot];
    if (t === null || !this.chainable(t)) u.linkFn(slot, null, 0, 0);
    // A trace is entered only with budget for its longest pass (I4).
    else if (t.trace !== null) u.linkFn(slot, t.trace.fn as BlockFn, t.trace.iterLen, t.pageOff);
    else u.linkFn(slot, t.fn, t.n, t.pageOff);
  }

  /** `b` ends in a call whose return address starts `r` (on the same page). */
  linkReturn(b: Block, r: Block): void {
    b.returnTo = r;
    r.incoming.push([b, SLOT_RETURN]);
    this.setDirect(b, SLOT_RETURN);
  }

  /** After `b` changed (compiled, became a head, gained or lost a trace): its callers' direct links. */
  refreshIncoming(b: Block): void {
    for (const [u, s] of b.incoming) this.setDirect(u, s);
  }
}
