// What the peek tests compare against: the MMU's real translation, and its TLBs.

import { TRAP, type Access, type Mmu } from '../../src/cpu/mmu.js';

/** translate's answer, with its side effects: the physical address, or the fault's cause. */
export function translated(mmu: Mmu, va: number, access: Access): { pa: number; fault?: undefined } | { fault: number; pa?: undefined } {
  try {
    return { pa: mmu.translate(va, access) };
  } catch (e) {
    if (e !== TRAP) throw e;
    return { fault: mmu.faultCause };
  }
}

/** Every TLB set's arrays, copied (the sets are private: looking must not change them). */
export function tlbState(mmu: Mmu): number[][] {
  const sets = Reflect.get(mmu, 'sets') as Record<string, Int32Array>[];
  return sets.flatMap((s) => ['rTag', 'rOff', 'wTag', 'wOff', 'xTag', 'xOff'].map((k) => Array.from(s[k])));
}
