// The GDB remote serial protocol over one connection, for a recording (debugger.ts): the
// packets gdb-multiarch sends to debug a RISC-V target, reverse execution (bs, bc) and
// `monitor` commands that speak in icounts. A replay is read-only: G, P, M and X are
// refused, since a write would make the machine leave its recording.

import { WATCH_ACCESS, WATCH_READ, WATCH_WRITE } from '../cpu/debug-stops.js';
import { PRIV_NAMES } from '../inspect/machine-view.js';
import { formatHexdump, readMemory } from '../inspect/memory-view.js';
import { ACCESS_FETCH, ACCESS_READ } from '../cpu/mmu.js';
import { PRIV_S, PRIV_U } from '../cpu/constants.js';
import { UserError } from '../errors.js';
import { parseCount } from '../option-values.js';
import { disassemble } from '../isa/disasm.js';
import { formatExercised } from '../diff/exercised.js';
import type { DebugTarget, StopReason } from './debugger.js';
import { PacketReader, encodePacket, hexToText, le32, textToHex, toHex, MAX_PACKET, type Incoming } from './packets.js';
import { REG_PC, implementedCsrs, readRegister, targetXml } from './target.js';

/** Where the stub's bytes go (a socket), and how it ends the connection. */
export interface StubLink {
  send(bytes: Buffer): void;
  close(): void;
}

/** Why a session ended: the client detached or killed the target, or went away. */
export type SessionEnd = 'detach' | 'kill' | 'disconnect' | 'exited' | 'stopped';

const READ_ONLY = 'E.deja: a replay is read-only (writing registers or memory would leave the recording)';

/** The most bytes one `m` packet reads (its reply is twice that in hex). */
const MAX_READ = (MAX_PACKET - 16) >> 1;

export class GdbStub {
  private readonly reader = new PacketReader();
  private readonly queue: Incoming[] = [];
  private ack = true;
  private busy = false;
  private running = false;
  private interruptRequested = false;
  private lastSent: Buffer | null = null;
  private lastStop: StopReason = { kind: 'step' };
  private readonly csrs: number[];
  private readonly csrSet: Set<number>;
  private readonly xml: string;
  /** Breakpoints by the packet that set them (Z0: software, Z1: hardware), for the stop reply. */
  private readonly breakKinds = new Map<number, 'swbreak' | 'hwbreak'>();
  ended: SessionEnd | null = null;
  /** Called once when the session ends. */
  onEnd: ((why: SessionEnd) => void) | null = null;

  constructor(
    private readonly dbg: DebugTarget,
    private readonly link: StubLink,
  ) {
    this.csrs = implementedCsrs(dbg.machine.hart);
    this.csrSet = new Set(this.csrs);
    this.xml = targetXml(this.csrs);
  }

  /** Bytes from the client. */
  receive(chunk: Buffer): void {
    for (const m of this.reader.push(chunk)) {
      if (m.kind === 'interrupt') {
        // Only a run can be interrupted; a stopped target has already replied (gdbserver's way).
        if (this.running) this.interruptRequested = true;
      } else if (m.kind === 'nack') {
        // gdb sends '-' when a reply is slow (a long monitor seek) even in no-ack mode: the
        // reply is on its way, and a second one would answer its next packet.
        if (this.ack && this.lastSent) this.link.send(this.lastSent);
      } else if (m.kind !== 'ack') {
        this.queue.push(m);
        // Handled at once, up to the first wait: a run started by this packet is running
        // when the next byte (a Ctrl-C) is looked at.
        void this.pump();
      }
    }
  }

  /** The client went away: a run in progress stops, and the session ends. */
  disconnected(): void {
    this.interruptRequested = true;
    this.end('disconnect');
  }

  /** deja is told to stop (a signal, Ctrl-A X): a run in progress stops, and the session ends. */
  stop(): void {
    this.interruptRequested = true;
    this.end('stopped');
  }

  private end(why: SessionEnd): void {
    if (this.ended) return;
    this.ended = why;
    this.onEnd?.(why);
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (this.queue.length && !this.ended) {
        const m = this.queue.shift()!;
        if (m.kind === 'bad-checksum') {
          if (this.ack) this.link.send(Buffer.from('-'));
          continue;
        }
        if (m.kind !== 'packet') continue;
        if (this.ack) this.link.send(Buffer.from('+'));
        const answer = await this.handle(m.data);
        if (answer !== null && !this.ended) this.reply(answer);
        if (this.ended) this.link.close();
      }
    } finally {
      this.busy = false;
    }
  }

  private reply(data: string): void {
    const p = encodePacket(data);
    this.lastSent = p;
    this.link.send(p);
  }

  /** Output for the user while the target runs (an O packet, which gdb prints). */
  private output(text: string): void {
    this.reply('O' + textToHex(text));
  }

  /** The reply to one packet (null: none, the session ended). */
  private async handle(p: string): Promise<string | null> {
    const dbg = this.dbg;
    const hart = dbg.machine.hart;
    switch (p[0]) {
      case '?':
        return this.stopReply(this.lastStop);
      case 'g': {
        let s = '';
        for (let i = 0; i <= REG_PC; i++) s += le32(readRegister(hart, i, this.csrSet)!);
        return s;
      }
      case 'p': {
        const v = readRegister(hart, parseInt(p.slice(1), 16), this.csrSet);
        return v === null ? 'E01' : le32(v);
      }
      case 'G':
      case 'P':
      case 'M':
      case 'X':
        return READ_ONLY;
      case 'm':
        return this.readMemory(p.slice(1));
      case 'Z':
      case 'z':
        return this.setStop(p[0] === 'Z', p.slice(1));
      case 'c':
      case 'C':
        if (p.length > 1 && p[0] === 'c') return 'E.deja: continuing from another address would leave the recording';
        return this.run(() => dbg.continue(this.control()));
      case 's':
      case 'S':
        if (p.length > 1 && p[0] === 's') return 'E.deja: stepping from another address would leave the recording';
        return this.run(async () => dbg.step());
      case 'b':
        if ((p === 'bs' || p === 'bc') && !dbg.reversible) return 'E.deja: a live run cannot go backwards: record it (--record FILE) and debug the recording with deja replay FILE --gdb';
        if (p === 'bs') return this.run(async () => dbg.reverseStep());
        if (p === 'bc') return this.run(() => dbg.reverseContinue(this.control()));
        return '';
      case 'H':
      case 'T':
        return 'OK';
      case 'D':
        this.end('detach');
        this.reply('OK');
        return null;
      case 'k':
        this.end('kill');
        return null;
      case 'q':
      case 'Q':
        return this.query(p);
      case 'v':
        return this.vPacket(p);
      default:
        return '';
    }
  }

  private async query(p: string): Promise<string | null> {
    if (p.startsWith('qSupported')) {
      const reverse = this.dbg.reversible ? 'ReverseStep+;ReverseContinue+;' : '';
      return `PacketSize=${MAX_PACKET.toString(16)};qXfer:features:read+;swbreak+;hwbreak+;${reverse}QStartNoAckMode+;vContSupported+`;
    }
    if (p === 'QStartNoAckMode') {
      // The OK still goes out acknowledged; from the next packet on, neither side acks.
      this.reply('OK');
      this.ack = false;
      return null;
    }
    if (p.startsWith('qXfer:features:read:')) {
      const m = /^qXfer:features:read:([^:]+):([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(p);
      if (!m) return 'E00';
      if (m[1] !== 'target.xml') return 'E00';
      const off = parseInt(m[2], 16);
      const len = parseInt(m[3], 16);
      const part = this.xml.slice(off, off + len);
      return (off + len >= this.xml.length ? 'l' : 'm') + part;
    }
    if (p === 'qAttached') return '1';
    if (p === 'qC') return 'QC1';
    if (p === 'qfThreadInfo') return 'm1';
    if (p === 'qsThreadInfo') return 'l';
    if (p.startsWith('qSymbol')) return 'OK';
    if (p.startsWith('qRcmd,')) {
      const text = hexToText(p.slice(6));
      return text === null ? 'E01' : textToHex(await this.monitor(text.trim()));
    }
    return '';
  }

  private async vPacket(p: string): Promise<string | null> {
    if (p === 'vCont?') return 'vCont;c;C;s;S';
    if (p.startsWith('vCont;')) {
      // One thread: the first action decides (s before c, as gdb orders them).
      const action = p.slice(6).split(';')[0].split(':')[0][0]; // C02, S05: the signal is dropped
      if (action === 's' || action === 'S') return this.run(async () => this.dbg.step());
      if (action === 'c' || action === 'C') return this.run(() => this.dbg.continue(this.control()));
      return 'E01';
    }
    if (p.startsWith('vKill')) {
      this.end('kill');
      this.reply('OK');
      return null;
    }
    if (p === 'vMustReplyEmpty') return '';
    return '';
  }

  private control() {
    return {
      interrupted: () => this.interruptRequested,
      progress: (line: string) => this.output(line + '\n'),
    };
  }

  /** Runs the target; the reply is the stop reply. */
  private async run(go: () => Promise<StopReason>): Promise<string | null> {
    this.running = true;
    this.interruptRequested = false;
    let r: StopReason;
    try {
      r = await go();
    } finally {
      this.running = false;
    }
    if (this.ended) return null;
    if (r.kind === 'exited') {
      // gdb hears that the process exited; the live run is over, and so is the session.
      this.output(`deja: the guest's run ended: ${r.how}\n`);
      this.reply(this.stopReply(r));
      this.end('exited');
      return null;
    }
    if (r.kind === 'divergence') this.output(`deja: the replay diverged from the recording at icount ${r.report.icount}: ${r.report.what}\n`);
    this.lastStop = r;
    return this.stopReply(r);
  }

  private stopReply(r: StopReason): string {
    const t = 'thread:1;';
    switch (r.kind) {
      case 'break':
        return `T05${t}${this.breakKinds.get(r.pc) ?? 'swbreak'}:;`;
      case 'watch': {
        const what = r.watch.kind === WATCH_WRITE ? 'watch' : r.watch.kind === WATCH_READ ? 'rwatch' : 'awatch';
        return `T05${t}${what}:${(r.addr >>> 0).toString(16)};`;
      }
      case 'end':
        return `T05${t}replaylog:${r.at};`;
      case 'exited':
        return `W${(r.code & 255).toString(16).padStart(2, '0')}`;
      case 'interrupt':
        return `T02${t}`;
      default:
        return `T05${t}`;
    }
  }

  private readMemory(args: string): string {
    const m = /^([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(args);
    if (!m) return 'E01';
    const addr = parseInt(m[1], 16) >>> 0;
    const len = Math.min(parseInt(m[2], 16), MAX_READ);
    const hart = this.dbg.machine.hart;
    let view = readMemory(hart, addr, len, { access: ACCESS_READ });
    // Stopped in user mode, gdb still reads the kernel (a backtrace through a trap):
    // what the user's page tables protect is read as the kernel would.
    if (view.bytes[0] === null && hart.priv === PRIV_U) {
      const priv = hart.priv;
      hart.priv = PRIV_S;
      try {
        view = readMemory(hart, addr, len, { access: ACCESS_READ });
      } finally {
        hart.priv = priv;
      }
    }
    const known = view.bytes.indexOf(null);
    const bytes = known < 0 ? view.bytes : view.bytes.slice(0, known);
    return bytes.length || len === 0 ? toHex(bytes as number[]) : 'E14';
  }

  private setStop(on: boolean, args: string): string {
    const m = /^([0-4]),([0-9a-fA-F]+),([0-9a-fA-F]+)/.exec(args);
    if (!m) return 'E01';
    const type = Number(m[1]);
    const addr = parseInt(m[2], 16) >>> 0;
    const len = parseInt(m[3], 16);
    const stops = this.dbg.stops;
    if (type <= 1) {
      stops.setBreakpoint(addr, on);
      if (on) this.breakKinds.set(addr, type === 0 ? 'swbreak' : 'hwbreak');
      else this.breakKinds.delete(addr);
    } else {
      stops.setWatchpoint({ addr, len, kind: type === 2 ? WATCH_WRITE : type === 3 ? WATCH_READ : WATCH_ACCESS }, on);
    }
    return 'OK';
  }

  /** A `monitor` command's output. */
  private async monitor(cmd: string): Promise<string> {
    const dbg = this.dbg;
    const [word, ...args] = cmd.split(/\s+/);
    const where = () => {
      const h = dbg.machine.hart;
      return `icount ${h.icount}  pc 0x${(h.pc >>> 0).toString(16).padStart(8, '0')}  priv ${PRIV_NAMES[h.priv] ?? h.priv}`;
    };
    try {
      switch (word) {
        case 'icount':
          return `${dbg.icount}\n`;
        case 'when':
          return `${where()}  (${dbg.what}: icount ${dbg.first}..${dbg.last === Infinity ? '' : dbg.last})\n`;
        case 'seek': {
          // "icount N" as deja's reports print it may be pasted whole.
          const at = args[0] === 'icount' ? args.slice(1) : args;
          if (at.length !== 1) return 'usage: monitor seek N (an icount, e.g. 1500000 or 40M)\n';
          // Reports print icounts with thousands separators (13,091,414) and end them with a stop.
          const n = parseCount(at[0].replace(/[,:;.]$/, '').replace(/,/g, ''), 'monitor seek', 'an icount (examples: 1500000, 40M)');
          if (n < dbg.first || n > dbg.last) return `monitor seek: icount ${n} is outside ${dbg.what} (icount ${dbg.first}..${dbg.last === Infinity ? '' : dbg.last})\n`;
          if (n < dbg.icount && !dbg.reversible) return `monitor seek: icount ${n} is behind: a live run cannot go back (record it, then deja replay FILE --gdb)\n`;
          const r = await dbg.seek(n);
          this.lastStop = { kind: 'step' };
          const note = r?.kind === 'divergence' ? `\nthe replay diverged at icount ${r.report.icount}: ${r.report.what}` : '';
          return `${where()}  (${dbg.lastSeconds.toFixed(2)} s)${note}\n(gdb keeps registers it has read: "maint flush register-cache" shows the new ones)\n`;
        }
        case 'phys': {
          const addr = args[0] === undefined ? NaN : Number(args[0]);
          const len = args[1] === undefined ? 64 : Number(args[1]);
          if (!Number.isInteger(addr) || addr < 0 || addr > 0xffffffff || !Number.isInteger(len) || len < 1 || len > 4096) {
            return 'usage: monitor phys ADDR [LEN] (a physical address; LEN 1..4096, default 64)\n';
          }
          return formatHexdump(readMemory(dbg.machine.hart, addr, len, { phys: true })).join('\n') + '\n';
        }
        case 'stats':
          return `${formatExercised(dbg.exercised())}\n`;
        case 'insn': {
          const h = dbg.machine.hart;
          const v = readMemory(h, h.pc >>> 0, 4, { access: ACCESS_FETCH });
          if (v.bytes.slice(0, 2).includes(null)) return 'the instruction at pc cannot be read\n';
          const bits = (v.bytes[0]! | (v.bytes[1]! << 8) | ((v.bytes[2] ?? 0) << 16) | ((v.bytes[3] ?? 0) << 24)) >>> 0;
          return `${disassemble((bits & 3) === 3 ? bits : bits & 0xffff, h.pc >>> 0)}\n`;
        }
        case 'help':
        case '':
          return [
            'deja monitor commands (positions are icounts, as deja replay, diff and state print them):',
            '  monitor icount        the current icount',
            '  monitor when          icount, pc and privilege',
            '  monitor seek N        go to icount N ("icount N" pasted from deja\'s reports works too;',
            '                        then: maint flush register-cache)',
            '  monitor phys ADDR [LEN]  physical memory, no translation',
            '  monitor insn          the instruction at pc',
            '  monitor stats         what this session ran in each tier, and compiled',
            '',
          ].join('\n');
        default:
          return `unknown monitor command '${word}' (monitor help lists them)\n`;
      }
    } catch (e) {
      if (e instanceof UserError) return `${e.message}\n`;
      throw e;
    }
  }
}
