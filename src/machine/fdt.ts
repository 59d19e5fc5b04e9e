// Flattened device tree: nodes as plain data, serialised to a DTB (devicetree spec v0.4).

/** u32 cells, a string, a string list, raw bytes, or null for an empty property. */
export type FdtValue = number[] | string | string[] | Uint8Array | null;

export interface FdtNode {
  name: string;
  props: [string, FdtValue][];
  children: FdtNode[];
}

export function node(name: string, props: Record<string, FdtValue>, children: FdtNode[] = []): FdtNode {
  return { name, props: Object.entries(props), children };
}

/** A 64-bit value as two cells (for #address-cells = 2 / #size-cells = 2). */
export function cells64(v: number): number[] {
  return [Math.floor(v / 4294967296), v >>> 0];
}

const FDT_MAGIC = 0xd00dfeed;
const FDT_BEGIN_NODE = 1, FDT_END_NODE = 2, FDT_PROP = 3, FDT_END = 9;

export function serializeFdt(root: FdtNode, bootCpu = 0): Uint8Array {
  const strings: number[] = [];
  const stringOffsets = new Map<string, number>();
  const struct: number[] = [];
  const u32 = (v: number) => struct.push((v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
  const bytes = (b: ArrayLike<number>) => {
    for (let i = 0; i < b.length; i++) struct.push(b[i]);
    while (struct.length % 4) struct.push(0);
  };
  const strOff = (name: string) => {
    let off = stringOffsets.get(name);
    if (off === undefined) {
      off = strings.length;
      for (const c of Buffer.from(name, 'utf8')) strings.push(c);
      strings.push(0);
      stringOffsets.set(name, off);
    }
    return off;
  };
  const valueBytes = (v: FdtValue): Uint8Array => {
    if (v === null) return new Uint8Array(0);
    if (v instanceof Uint8Array) return v;
    if (typeof v === 'string') return Buffer.from(v + '\0', 'utf8');
    if (v.length > 0 && typeof v[0] === 'string') return Buffer.from((v as string[]).map((s) => s + '\0').join(''), 'utf8');
    const out = new Uint8Array(v.length * 4);
    const dv = new DataView(out.buffer);
    (v as number[]).forEach((c, i) => dv.setUint32(i * 4, c >>> 0));
    return out;
  };
  const emit = (n: FdtNode) => {
    u32(FDT_BEGIN_NODE);
    bytes([...Buffer.from(n.name, 'utf8'), 0]);
    for (const [k, v] of n.props) {
      const b = valueBytes(v);
      u32(FDT_PROP);
      u32(b.length);
      u32(strOff(k));
      bytes(b);
    }
    for (const c of n.children) emit(c);
    u32(FDT_END_NODE);
  };
  emit(root);
  u32(FDT_END);

  const headerSize = 40;
  const rsvmapOff = headerSize;
  const rsvmapSize = 16; // one terminating empty entry
  const structOff = rsvmapOff + rsvmapSize;
  const stringsOff = structOff + struct.length;
  const total = (stringsOff + strings.length + 7) & ~7;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  const header = [FDT_MAGIC, total, structOff, stringsOff, rsvmapOff, 17, 16, bootCpu, strings.length, struct.length];
  header.forEach((v, i) => dv.setUint32(i * 4, v));
  out.set(struct, structOff);
  out.set(strings, stringsOff);
  return out;
}

/** Fixed phandles of the board's tree. */
export const PHANDLE = { cpu0: 1, intc: 2, plic: 3, test: 4 } as const;
