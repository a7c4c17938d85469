import { deflateRawSync } from 'node:zlib';

/**
 * Zips written byte by byte, for the tests of what `evidence verify` must refuse: no zip library
 * writes a `../` name, a duplicate, entries sharing their data, or a size that lies, so these
 * are laid out by hand (local headers, central directory, end record; no CRC checked by the reader).
 */
export interface HandEntry {
  name: string;
  /** the bytes stored after the local header */
  data: Buffer;
  method: 0 | 8;
  /** the uncompressed size declared (central directory and local header) */
  size: number;
  /** the name written in the local header, when it must differ from the central one */
  localName?: string;
  /** central directory only: point at another entry's local header instead of writing one */
  sameLocalAs?: number;
}

function localHeader(name: string, method: number, csize: number, size: number): Buffer {
  const n = Buffer.from(name, 'utf8');
  const h = Buffer.alloc(30);
  h.writeUInt32LE(0x04034b50, 0);
  h.writeUInt16LE(20, 4);
  h.writeUInt16LE(0x0800, 6); // UTF-8 names
  h.writeUInt16LE(method, 8);
  h.writeUInt32LE(csize, 18);
  h.writeUInt32LE(size, 22);
  h.writeUInt16LE(n.length, 26);
  return Buffer.concat([h, n]);
}

function centralRecord(name: string, method: number, csize: number, size: number, offset: number): Buffer {
  const n = Buffer.from(name, 'utf8');
  const h = Buffer.alloc(46);
  h.writeUInt32LE(0x02014b50, 0);
  h.writeUInt16LE(20, 4);
  h.writeUInt16LE(20, 6);
  h.writeUInt16LE(0x0800, 8);
  h.writeUInt16LE(method, 10);
  h.writeUInt32LE(csize, 20);
  h.writeUInt32LE(size, 24);
  h.writeUInt16LE(n.length, 28);
  h.writeUInt32LE(offset, 42);
  return Buffer.concat([h, n]);
}

export function handZip(entries: readonly HandEntry[]): Buffer {
  const parts: Buffer[] = [];
  const offsets: number[] = [];
  let at = 0;
  for (const e of entries) {
    if (e.sameLocalAs !== undefined) {
      offsets.push(offsets[e.sameLocalAs]!);
      continue;
    }
    offsets.push(at);
    const block = Buffer.concat([localHeader(e.localName ?? e.name, e.method, e.data.length, e.size), e.data]);
    parts.push(block);
    at += block.length;
  }
  const cdStart = at;
  const central = entries.map((e, i) => {
    const src = e.sameLocalAs !== undefined ? entries[e.sameLocalAs]! : e;
    return centralRecord(e.name, src.method, src.data.length, src.size, offsets[i]!);
  });
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(cdStart, 16);
  return Buffer.concat([...parts, cd, end]);
}

export const stored = (name: string, text: string | Buffer): HandEntry => {
  const data = Buffer.isBuffer(text) ? text : Buffer.from(text);
  return { name, data, method: 0, size: data.length };
};

export const deflated = (name: string, plain: Buffer, declaredSize = plain.length): HandEntry => ({
  name,
  data: deflateRawSync(plain, { level: 9 }),
  method: 8,
  size: declaredSize,
});

/** Entry "a" whose stored data is entry "b" itself (its local header and data): their byte ranges overlap. */
export function overlapping(): Buffer {
  const inner = Buffer.concat([localHeader('b.txt', 0, 5, 5), Buffer.from('hello')]);
  const outer = Buffer.concat([localHeader('a.txt', 0, inner.length, inner.length), inner]);
  const innerOffset = 30 + Buffer.byteLength('a.txt');
  const cd = Buffer.concat([centralRecord('a.txt', 0, inner.length, inner.length, 0), centralRecord('b.txt', 0, 5, 5, innerOffset)]);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(2, 8);
  end.writeUInt16LE(2, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(outer.length, 16);
  return Buffer.concat([outer, cd, end]);
}
