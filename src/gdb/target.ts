// What gdb is told the target is (qXfer:features:read, target.xml) and how its register
// numbers map onto the hart: x0-x31 are 0-31, pc 32, a CSR is 65 + its number and the
// privilege (the virtual `priv` register) 65 + 4096, as gdb's RISC-V port numbers them.

import type { Hart } from '../cpu/hart.js';
import { REG_NAMES, csrName } from '../isa/disasm.js';
import { csrAsMachine } from '../inspect/machine-view.js';

export const REG_PC = 32;
export const REG_CSR0 = 65;
export const REG_PRIV = REG_CSR0 + 4096;

/** The CSRs the hart implements, in number order. */
export function implementedCsrs(hart: Hart): number[] {
  const list: number[] = [];
  for (let csr = 0; csr < 4096; csr++) if (csrAsMachine(hart, csr) !== null) list.push(csr);
  return list;
}

/** The target description: rv32, the x registers and pc, the CSRs, and priv. */
export function targetXml(csrs: readonly number[]): string {
  const cpu = REG_NAMES.map((name, i) => {
    const type = name === 'ra' ? 'code_ptr' : name === 'sp' || name === 'gp' || name === 'tp' || name === 's0' ? 'data_ptr' : 'int';
    return `    <reg name="${name}" bitsize="32" type="${type}" regnum="${i}"/>`;
  });
  cpu.push(`    <reg name="pc" bitsize="32" type="code_ptr" regnum="${REG_PC}"/>`);
  const csr = csrs.map((c) => `    <reg name="${csrName(c)}" bitsize="32" type="int" regnum="${REG_CSR0 + c}" save-restore="no"/>`);
  return [
    '<?xml version="1.0"?>',
    '<!DOCTYPE target SYSTEM "gdb-target.dtd">',
    '<target version="1.0">',
    '  <architecture>riscv:rv32</architecture>',
    '  <feature name="org.gnu.gdb.riscv.cpu">',
    ...cpu,
    '  </feature>',
    '  <feature name="org.gnu.gdb.riscv.csr">',
    ...csr,
    '  </feature>',
    '  <feature name="org.gnu.gdb.riscv.virtual">',
    `    <reg name="priv" bitsize="32" type="int" regnum="${REG_PRIV}" save-restore="no"/>`,
    '  </feature>',
    '</target>',
    '',
  ].join('\n');
}

/** Register `n` by gdb's number, or null if the target has none such. */
export function readRegister(hart: Hart, n: number, csrs: ReadonlySet<number>): number | null {
  if (n >= 0 && n < 32) return hart.x[n] >>> 0;
  if (n === REG_PC) return hart.pc >>> 0;
  if (n === REG_PRIV) return hart.priv;
  const csr = n - REG_CSR0;
  // Read as the debugger sees it: every CSR, whatever the hart's mode.
  return csr >= 0 && csr < 4096 && csrs.has(csr) ? csrAsMachine(hart, csr) : null;
}
