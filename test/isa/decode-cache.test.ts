import { describe, expect, it } from 'vitest';
import { decode } from '../../src/isa/decode.js';
import { pack } from '../../src/cpu/decode-cache.js';
import { Hart } from '../../src/cpu/hart.js';
import { PhysMemory } from '../../src/cpu/memory.js';
import { Bus } from '../../src/machine/bus.js';
import { VirtualClock } from '../../src/machine/clock.js';

describe('decode cache: slot words by instruction bits', () => {
  it('gives what the decoder gives, for 100 000 words (the table starts over twice) and again for the first ones', () => {
    const ramBase = 0x80000000;
    const mem = new PhysMemory({ ramBase, ramBytes: 1 << 20, romBase: 0x1000, romBytes: 0x1000 }, new Bus());
    const hart = new Hart(mem, new VirtualClock());
    hart.reset(ramBase);
    const dc = hart.decodeCache;
    let seed = 1;
    const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) | 0);
    // 32-bit words (low bits 11) and 16-bit ones, with 0 and the all-ones word among them.
    const words = [0, -1, 0x00000013, 0x0000, 0xffff];
    while (words.length < 100_000) {
      const r = next() ^ (next() << 13);
      words.push(words.length % 3 === 0 ? r & 0xfffc : r | 3);
    }
    const check = (raw: number) => {
      const at = ramBase + 0x1000;
      mem.i32[0x1000 >> 2] = raw;
      const got = dc.decodeOnly(at);
      const bits = (raw & 3) === 3 ? raw | 0 : raw & 0xffff;
      expect(got).toBe(bits);
      const [w, imm] = pack(decode(bits), bits);
      expect([dc.w, dc.imm]).toEqual([w, imm]);
    };
    for (const raw of words) check(raw);
    for (const raw of words.slice(0, 1000)) check(raw);
  });
});
