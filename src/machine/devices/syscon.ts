// SiFive test finisher ("syscon" at 0x100000): 0x5555 powers off, 0x7777 resets,
// 0x3333 | code << 16 fails with an exit code.

import type { Device, Width } from '../bus.js';
import type { DeviceContext } from '../device-context.js';
import { node, cells64, PHANDLE, type FdtNode } from '../fdt.js';

export class Syscon implements Device {
  readonly name = 'syscon';
  readonly size = 0x1000;
  readonly widths: readonly Width[] = [4];

  constructor(
    readonly base: number,
    private readonly ctx: DeviceContext,
  ) {}

  read(): number {
    return 0;
  }

  write(off: number, _w: Width, v: number): void {
    if (off !== 0) return;
    const cmd = v & 0xffff;
    if (cmd === 0x5555) this.ctx.requestExit('poweroff', 0);
    else if (cmd === 0x7777) this.ctx.requestExit('reset', 0);
    else if (cmd === 0x3333) this.ctx.requestExit('fail', (v >>> 16) & 0xffff);
  }

  fdtRootNodes(): FdtNode[] {
    const regmap = { offset: [0], regmap: [PHANDLE.test] };
    return [
      node('poweroff', { ...regmap, value: [0x5555], compatible: 'syscon-poweroff' }),
      node('reboot', { ...regmap, value: [0x7777], compatible: 'syscon-reboot' }),
    ];
  }

  fdtNode(): FdtNode {
    return node(`test@${this.base.toString(16)}`, {
      phandle: [PHANDLE.test],
      reg: [...cells64(this.base), ...cells64(this.size)],
      compatible: ['sifive,test1', 'sifive,test0', 'syscon'],
    });
  }
}
