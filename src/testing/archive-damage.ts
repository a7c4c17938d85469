import { open } from 'node:fs/promises';

export async function flipByte(file: string, at: number): Promise<void> {
  const h = await open(file, 'r+');
  try {
    const b = Buffer.alloc(1);
    await h.read(b, 0, 1, at);
    b[0] = b[0]! ^ 0xff;
    await h.write(b, 0, 1, at);
  } finally {
    await h.close();
  }
}

export function flip(b: Buffer, at: number): Buffer {
  const c = Buffer.from(b);
  c[at] = c[at]! ^ 0xff;
  return c;
}

/**
 * Where the data block of a TOC entry starts in a custom-format archive: BLK_DATA (1), then the
 * dump id as pg_dump writes an int (a sign byte, then 4 bytes little-endian). Data blocks follow
 * the table of contents, so the last match is the block.
 */
export function dataBlockOf(b: Buffer, dumpId: number): number {
  const marker = Buffer.from([1, 0, dumpId & 0xff, (dumpId >> 8) & 0xff, (dumpId >> 16) & 0xff, 0]);
  const at = b.lastIndexOf(marker);
  if (at < 0) throw new Error(`no data block for dump id ${dumpId}`);
  return at;
}

export function replaceOnce(b: Buffer, from: string, to: string): Buffer {
  const at = b.indexOf(from);
  if (at < 0 || from.length !== to.length) throw new Error(`"${from}" is not in the archive`);
  const c = Buffer.from(b);
  c.write(to, at);
  return c;
}
