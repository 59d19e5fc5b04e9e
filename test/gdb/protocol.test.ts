// The gdb stub at the packet level, as a client that does not behave sends it: noise
// between packets, a bad checksum, a packet too long, malformed arguments, writes to a
// read-only replay, unknown packets, Ctrl-C during a forward and a backward run, and a
// client that goes away mid-run. Then the registers and CSRs through gdb-multiarch.

import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { ROOT, deja, tmp } from '../helpers/cli.js';
import { buildGuestPrograms, GUEST_BUILD_DIR } from '../helpers/run-elf.js';
import { gdbPath, mark, replaysUnderEveryTier, runGdb, startStub, type Stub } from '../helpers/gdb.js';
import { TIER_ARGS } from '../helpers/tiers.js';
import { encodePacket } from '../../src/gdb/packets.js';

const TICKER = join(ROOT, 'recordings/ticker-panic.deja');
let rec = '';

beforeAll(() => {
  buildGuestPrograms();
  rec = join(tmp(), 'debug-target.deja');
  const r = deja(['run', '--elf', join(GUEST_BUILD_DIR, 'debug-target.elf'), '--record', rec]);
  expect(r.status, r.stderr).toBe(0);
  replaysUnderEveryTier(rec, TIER_ARGS, 0);
});

/** A raw protocol client: what it receives, and waiting for a packet or an ack. */
class Client {
  private buf = '';
  private readonly waiters: (() => void)[] = [];
  closed = false;
  constructor(readonly sock: Socket) {
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      this.buf += d;
      for (const w of this.waiters.splice(0)) w();
    });
    sock.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
  }
  static async open(port: number): Promise<Client> {
    const sock = connect(port, '127.0.0.1');
    await new Promise((resolve) => sock.on('connect', resolve));
    return new Client(sock);
  }
  write(bytes: string | Buffer): void {
    this.sock.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }
  send(data: string): void {
    this.write(encodePacket(data));
  }
  /** The next thing received: '+', '-', or a packet's data (its checksum checked). */
  async next(timeoutMs = 30_000): Promise<string> {
    const t0 = Date.now();
    for (;;) {
      const m = /^([+-])|^\$([^#]*)#([0-9a-f]{2})/.exec(this.buf);
      if (m) {
        this.buf = this.buf.slice(m[0].length);
        if (m[1]) return m[1];
        const sum = [...m[2]].reduce((s, c) => (s + c.charCodeAt(0)) & 255, 0);
        expect(sum.toString(16).padStart(2, '0')).toBe(m[3]);
        return m[2];
      }
      if (this.closed) return 'closed';
      if (Date.now() - t0 > timeoutMs) throw new Error(`nothing received; have ${JSON.stringify(this.buf)}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }
  /** Sends a packet and returns its reply, the ack checked. */
  async ask(data: string): Promise<string> {
    this.send(data);
    expect(await this.next()).toBe('+');
    return this.next();
  }
}

let stub: Stub | null = null;
afterEach(() => {
  stub?.kill();
  stub = null;
});

describe('gdb stub: packets', () => {
  it('answers what it can, refuses writes with a message, asks again on a bad checksum, ignores noise', async () => {
    stub = await startStub(rec, []);
    const c = await Client.open(stub.port);
    c.write('hello, noise between packets\n');
    expect(await c.ask('qSupported:multiprocess+;swbreak+;hwbreak+')).toMatch(/^PacketSize=[0-9a-f]+;qXfer:features:read\+;swbreak\+;hwbreak\+;ReverseStep\+;ReverseContinue\+;QStartNoAckMode\+/);
    expect(await c.ask('?')).toBe('T05thread:1;');
    // A bad checksum: '-' (send it again); the packet is not acted on.
    c.write('$?#00');
    expect(await c.next()).toBe('-');
    // A packet longer than PacketSize is dropped the same way, its checksum right or not.
    c.write(encodePacket(`m${'0'.repeat(20000)}`));
    expect(await c.next()).toBe('-');
    expect(await c.ask('m80000000,zz')).toBe('E01');
    expect(await c.ask('m80000000,4')).toMatch(/^[0-9a-f]{8}$/);
    // Device registers are never read (a read can change a device): an error, not made-up bytes.
    expect(await c.ask('m10000000,4')).toBe('E14');
    for (const w of ['G' + '00'.repeat(33 * 4), 'P1=01000000', 'M80003070,4:01000000', 'X80003070,0:']) {
      expect(await c.ask(w)).toMatch(/^E\.deja: a replay is read-only/);
    }
    expect(await c.ask('qNoSuchThing')).toBe('');
    expect(await c.ask('Z9,80000000,4')).toBe('E01');
    const xml = await c.ask('qXfer:features:read:target.xml:0,ffff');
    expect(xml).toMatch(/^l<\?xml/);
    expect(xml).toContain('<architecture>riscv:rv32</architecture>');
    expect(xml).toContain('<feature name="org.gnu.gdb.riscv.csr">');
    expect(xml).toContain(`<reg name="mstatus" bitsize="32" type="int" regnum="${65 + 0x300}"`);
    expect(xml).toContain(`<reg name="priv" bitsize="32" type="int" regnum="${65 + 4096}"`);
    // No-ack mode: from the next packet on, no '+'.
    expect(await c.ask('QStartNoAckMode')).toBe('OK');
    c.send('qC');
    expect(await c.next()).toBe('QC1');
    // gdb sends '-' when a reply is slow, even now: it must not get the last reply again.
    c.write('-');
    c.send('qAttached');
    expect(await c.next()).toBe('1');
    c.send('D');
    expect(await c.next()).toBe('OK');
    expect(await stub.exited).toBe(0);
    expect(stub.stderr()).toMatch(/gdb session ended \(detached\) at icount 0$/m);
  });

  it('Ctrl-C stops a forward run and a backward one, where it got to and where it was', async () => {
    stub = await startStub(TICKER, ['--tier', 'interp']);
    const c = await Client.open(stub.port);
    // The packet and the interrupt in one write: the run has started when the 0x03 is read.
    c.write(Buffer.concat([encodePacket('c'), Buffer.from([3])]));
    expect(await c.next()).toBe('+');
    expect(await c.next()).toBe('T02thread:1;');
    expect(await c.ask('qRcmd,' + Buffer.from('icount').toString('hex'))).toSatisfy((h: string) => {
      const n = Number(Buffer.from(h, 'hex').toString().trim());
      return n > 0 && n < 13_091_414;
    });
    // On to the end, then backwards with a breakpoint that is never reached: interrupted.
    expect(await c.ask('qRcmd,' + Buffer.from('seek 13000000').toString('hex'))).toMatch(/^[0-9a-f]+$/);
    expect(await c.ask('Z0,1234,4')).toBe('OK');
    c.write(Buffer.concat([encodePacket('bc'), Buffer.from([3])]));
    expect(await c.next()).toBe('+');
    expect(await c.next()).toBe('T02thread:1;');
    const at = await c.ask('qRcmd,' + Buffer.from('icount').toString('hex'));
    expect(Buffer.from(at, 'hex').toString().trim()).toBe('13000000');
    c.send('k');
    expect(await stub.exited).toBe(0);
    expect(stub.stderr()).toMatch(/gdb session ended \(killed\) at icount 13000000$/m);
  });

  it('a client that goes away mid-run ends the session cleanly (exit 0)', async () => {
    stub = await startStub(TICKER, ['--tier', 'interp']);
    const c = await Client.open(stub.port);
    c.send('c');
    expect(await c.next()).toBe('+');
    c.sock.destroy();
    expect(await stub.exited).toBe(0);
    expect(stub.stderr()).toMatch(/gdb session ended \(the client disconnected\) at icount \d+$/m);
  });

  it('refuses a port it cannot listen on, in one line (exit 2)', () => {
    const r = deja(['replay', rec, '--gdb', 'nosuchhost.invalid:1']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^deja: --gdb nosuchhost\.invalid:1: cannot listen/);
    const bad = deja(['replay', rec, '--gdb', 'port']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^deja: --gdb: 'port' is not \[HOST:\]PORT/);
  });
});

describe('gdb stub: registers, CSRs and memory through gdb-multiarch', () => {
  it('info registers, p $mstatus, p $priv, memory by symbol, and a refused register write', async () => {
    expect(gdbPath()).not.toBeNull();
    const r = await runGdb(rec, [], [
      'monitor seek 30000',
      'maint flush register-cache',
      ...mark('regs', 'info registers'),
      ...mark('mstatus', 'p/x $mstatus'),
      ...mark('priv', 'p $priv'),
      ...mark('misa', 'p/x $misa'),
      ...mark('accum', 'p/x *(int*)&accum'),
      ...mark('when', 'monitor when'),
      ...mark('write', 'set var $a0 = 5'),
      ...mark('help', 'monitor help'),
      ...mark('bad', 'monitor seek 99999999999'),
    ], { file: join(GUEST_BUILD_DIR, 'debug-target.elf') });
    expect(r.dejaStatus, r.gdb + r.deja).toBe(0);
    const regs = r.marked.get('regs')![0];
    for (const name of ['ra', 'sp', 'gp', 'a0', 't6', 'pc']) expect(regs).toMatch(new RegExp(`^${name}\\s+0x[0-9a-f]+`, 'm'));
    expect(r.marked.get('mstatus')![0]).toMatch(/^\$\d+ = 0x[0-9a-f]+/);
    expect(r.marked.get('priv')![0]).toMatch(/^\$\d+ = (3|prv3|machine)/i);
    // rv32 (MXL 1), with I, M, A and C.
    expect(r.marked.get('misa')![0]).toMatch(/^\$\d+ = 0x4\w*1105/);
    expect(r.marked.get('accum')![0]).toMatch(/^\$\d+ = 0x[0-9a-f]+/);
    expect(r.marked.get('when')![0]).toMatch(/^icount 30000 {2}pc 0x800020[0-9a-f]{2} {2}priv M/);
    expect(r.marked.get('write')![0]).toMatch(/read-only/);
    expect(r.marked.get('help')![0]).toMatch(/monitor seek N/);
    expect(r.marked.get('bad')![0]).toMatch(/outside the recording/);
  });
});
