// The board as data: a part added to the table is built, put on the bus and in the device
// tree, asked for its deadline, saved, restored and hashed, with no other edit.

import { describe, expect, it } from 'vitest';
import { Machine, type MachineConfig } from '../../src/machine/machine.js';
import { VIRT_BOARD, type BoardEntry } from '../../src/machine/virt-board.js';
import type { Device, Width } from '../../src/machine/bus.js';
import type { DeviceContext } from '../../src/machine/device-context.js';
import { node, cells64 } from '../../src/machine/fdt.js';
import { LivePort } from '../../src/record/input-port.js';
import { CURRENT_HASHES } from '../../src/record/state-hash.js';
import { tmp } from '../helpers/cli.js';
import { tinyConfig } from '../record/tiny-guest.js';

const BASE = 0x3000000;

/** A register, and a deadline `every` instructions after each boundary it saw. */
class Ticker implements Device {
  readonly name = 'ticker';
  readonly size = 0x1000;
  readonly widths: readonly Width[] = [4];
  value = 0;
  seen: number[] = [];
  constructor(readonly base: number, private readonly ctx: DeviceContext, private readonly at: number) {}
  read(): number {
    return this.value;
  }
  write(_o: number, _w: Width, v: number): void {
    this.value = v;
  }
  boundary(): void {
    if (this.ctx.hart.icount === this.at) this.seen.push(this.at);
  }
  deadlineIcount(): number {
    return this.ctx.hart.icount < this.at ? this.at : Infinity;
  }
  fdtNode() {
    return node(`ticker@${this.base.toString(16)}`, { reg: [...cells64(this.base), ...cells64(this.size)], compatible: 'deja,ticker' });
  }
  save(): unknown {
    return { value: this.value };
  }
  restore(s: unknown): void {
    this.value = (s as { value: number }).value;
  }
}

const TICK_AT = 1237;
const entry: BoardEntry = { name: 'ticker', base: BASE, make: (ctx, e) => new Ticker(e.base!, ctx, TICK_AT) };

function build(config: MachineConfig): { m: Machine; t: Ticker } {
  const m = new Machine({ ...config, board: [...VIRT_BOARD, entry] }, new LivePort({ pace: false }));
  return { m, t: m.parts.get('ticker') as Ticker };
}

describe('the board table', () => {
  const config = tinyConfig(tmp('deja-board-'));

  it('builds the added part, maps it on the bus and lists it in the device tree', () => {
    const { m, t } = build(config);
    expect(m.bus.find(BASE + 4)).toBe(t);
    expect(Buffer.from(m.fdt).toString('latin1')).toContain('deja,ticker');
    // the hart reaches it by MMIO
    m.hart.priv = 3;
    m.hart.storeSlow(BASE, 4, 0x1234);
    expect(t.value).toBe(0x1234);
    expect(m.hart.loadSlow(BASE, 4, false)).toBe(0x1234);
  });

  it('stops the run loop at its deadline and gives it its boundary there', () => {
    const { m, t } = build(config);
    for (let i = 0; i < 100 && m.hart.icount < 5000 && !m.exit; i++) m.runUntil(5000);
    expect(m.hart.icount).toBeGreaterThan(TICK_AT);
    expect(t.seen).toEqual([TICK_AT]);
  });

  it('saves, restores and hashes it with the rest of the machine', () => {
    const { m, t } = build(config);
    const before = CURRENT_HASHES.devices(m);
    t.value = 77;
    expect(m.save().parts.ticker).toEqual({ value: 77 });
    expect(CURRENT_HASHES.devices(m)).not.toBe(before);
    const { m: m2, t: t2 } = build(config);
    m2.restore(m.save());
    expect(t2.value).toBe(77);
    expect(CURRENT_HASHES.devices(m2)).toBe(CURRENT_HASHES.devices(m));
  });
});
