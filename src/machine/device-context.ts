// What devices may reach: interrupt lines, virtual time, the input port, the console and
// the machine's power controls. Devices never touch the host directly (DESIGN.md I3).

import type { Hart } from '../cpu/hart.js';
import type { PhysMemory } from '../cpu/memory.js';
import type { VirtualClock } from './clock.js';
import type { InputPort } from '../record/input-port.js';

export type ExitReason = 'poweroff' | 'reset' | 'fail' | 'panic' | 'limit' | 'stop' | 'trap-loop' | 'idle-forever' | 'input-ended';

export interface DeviceContext {
  readonly hart: Hart;
  readonly mem: PhysMemory;
  readonly clock: VirtualClock;
  readonly input: InputPort;
  /** Guest console output bytes. */
  consoleWrite(byte: number): void;
  /** Raise or lower PLIC source `irq` (1..95). */
  setPlicLine(irq: number, level: boolean): void;
  /** The machine stops before the next instruction with this outcome. */
  requestExit(reason: ExitReason, code: number): void;
  /** Timer or other scheduling state changed: the run loop must re-plan its limit. */
  replan(): void;
}
