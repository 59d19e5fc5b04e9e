// The GDB remote serial protocol's framing: `$data#cc` packets (cc, the modulo-256 sum of
// data, in hex), `+`/`-` acknowledgements, a lone 0x03 byte for an interrupt, and the
// escape `}` (the next byte xor 0x20) for `$`, `#`, `}` and `*` inside data.

/** What arrives from the client. */
export type Incoming =
  | { kind: 'packet'; data: string }
  /** A packet whose checksum is wrong: the client is asked to send it again. */
  | { kind: 'bad-checksum'; data: string }
  | { kind: 'interrupt' }
  | { kind: 'ack' }
  | { kind: 'nack' };

/** Longest packet accepted; a longer one is dropped as malformed (PacketSize in qSupported says so). */
export const MAX_PACKET = 16384;

const hex2 = (n: number) => n.toString(16).padStart(2, '0');

function checksum(data: Buffer): number {
  let sum = 0;
  for (const b of data) sum = (sum + b) & 255;
  return sum;
}

/** The packet for `data` (a latin1 string: one byte a character), escaped and summed. */
export function encodePacket(data: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < data.length; i++) {
    const c = data.charCodeAt(i) & 255;
    if (c === 0x24 || c === 0x23 || c === 0x7d || c === 0x2a) out.push(0x7d, c ^ 0x20);
    else out.push(c);
  }
  const body = Buffer.from(out);
  return Buffer.concat([Buffer.from('$'), body, Buffer.from(`#${hex2(checksum(body))}`)]);
}

/** Splits the byte stream from the client into what it says. */
export class PacketReader {
  private state: 'idle' | 'data' | 'sum1' | 'sum2' = 'idle';
  private data: number[] = [];
  private sum = '';
  private tooLong = false;

  /** Feeds bytes; returns what they completed, in order. */
  push(chunk: Buffer): Incoming[] {
    const out: Incoming[] = [];
    for (const b of chunk) {
      switch (this.state) {
        case 'idle':
          if (b === 0x24) {
            this.state = 'data';
            this.data = [];
            this.tooLong = false;
          } else if (b === 0x03) out.push({ kind: 'interrupt' });
          else if (b === 0x2b) out.push({ kind: 'ack' });
          else if (b === 0x2d) out.push({ kind: 'nack' });
          // Anything else between packets is noise, ignored as gdb's own stubs do.
          break;
        case 'data':
          if (b === 0x23) this.state = 'sum1';
          else if (b === 0x24) this.data = []; // a new start: the broken packet is dropped
          else if (this.data.length < MAX_PACKET) this.data.push(b);
          else this.tooLong = true;
          break;
        case 'sum1':
          this.sum = String.fromCharCode(b);
          this.state = 'sum2';
          break;
        case 'sum2': {
          this.sum += String.fromCharCode(b);
          this.state = 'idle';
          const raw = Buffer.from(this.data);
          const data = unescape(raw);
          const good = /^[0-9a-fA-F]{2}$/.test(this.sum) && parseInt(this.sum, 16) === checksum(raw) && !this.tooLong;
          out.push({ kind: good ? 'packet' : 'bad-checksum', data });
          break;
        }
      }
    }
    return out;
  }
}

/** Undoes the `}` escapes (binary data in X packets; anywhere else, harmless). */
function unescape(raw: Buffer): string {
  let s = '';
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === 0x7d && i + 1 < raw.length) s += String.fromCharCode(raw[++i] ^ 0x20);
    else s += String.fromCharCode(raw[i]);
  }
  return s;
}

/** Bytes as hex, two digits each. */
export function toHex(bytes: ArrayLike<number>): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += hex2(bytes[i] & 255);
  return s;
}

/** A string's bytes (UTF-8) as hex, for O packets and qRcmd replies. */
export function textToHex(text: string): string {
  return Buffer.from(text, 'utf8').toString('hex');
}

/** Hex to text, or null if it is not hex. */
export function hexToText(hex: string): string | null {
  if (!/^([0-9a-fA-F]{2})*$/.test(hex)) return null;
  return Buffer.from(hex, 'hex').toString('utf8');
}

/** A 32-bit value as gdb reads a register: 4 bytes, little-endian, in hex. */
export function le32(v: number): string {
  v >>>= 0;
  return hex2(v & 255) + hex2((v >>> 8) & 255) + hex2((v >>> 16) & 255) + hex2(v >>> 24);
}
