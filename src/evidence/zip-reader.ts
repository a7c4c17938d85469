import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline, Readable, Transform, type TransformCallback } from 'node:stream';
import { createInflateRaw } from 'node:zlib';
import { UserError } from '../errors.js';
import { checkEntries, DEFAULT_ZIP_LIMITS, UnsafeZip, type ZipLimits } from './zip-safety.js';

/**
 * A minimal zip reader, enough for what archiver writes (stored and deflated entries, data
 * descriptors, zip64): the auditor's `evidence verify` then needs nothing but Node, no unzip
 * binary and no extra dependency. The central directory is read into memory (a few hundred
 * bytes per entry); entry contents are streamed from disk through inflateRaw, never past the
 * size the directory declares. Each local header must agree with its central record, and the
 * whole directory must pass zip-safety.ts, before any entry is read.
 */
export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflate; anything else is reported, not read */
  method: number;
  flags: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
  /** where its compressed data starts (after the local header, whose name and extra field may differ in length from the central record's) */
  dataStart: number;
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const MAX32 = 0xffffffff;

function corrupt(file: string, what: string): UserError {
  return new UserError('NOT_A_BUNDLE', `${file} is not a readable zip: ${what}`, { where: { file } });
}

function u64(buf: Buffer, at: number): number {
  const v = buf.readBigUInt64LE(at);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error('zip64 value too large');
  return Number(v);
}

export async function readZipDirectory(file: string, limits: ZipLimits = DEFAULT_ZIP_LIMITS): Promise<ZipEntry[]> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (e) {
    throw new UserError('NOT_A_BUNDLE', `cannot open ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      where: { file },
    });
  }
  try {
    const { size } = await fh.stat();
    const read = async (at: number, length: number): Promise<Buffer> => {
      if (at < 0 || at + length > size) throw corrupt(file, `a record at byte ${at} runs past the end of the file (${size} bytes)`);
      const buf = Buffer.alloc(length);
      await fh.read(buf, 0, length, at);
      return buf;
    };
    // the end record sits in the last 22 bytes plus at most a 64 KiB comment
    const tailLength = Math.min(size, 22 + 0xffff);
    const tail = await read(size - tailLength, tailLength);
    let eocd = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (tail.readUInt32LE(i) === EOCD_SIG) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) throw corrupt(file, 'no end-of-central-directory record');
    let count = tail.readUInt16LE(eocd + 10);
    let cdSize = tail.readUInt32LE(eocd + 12);
    let cdOffset = tail.readUInt32LE(eocd + 16);
    const eocdAbs = size - tailLength + eocd;
    if (eocdAbs >= 20) {
      const loc = await read(eocdAbs - 20, 20);
      if (loc.readUInt32LE(0) === ZIP64_LOCATOR_SIG) {
        const z = await read(u64(loc, 8), 56);
        if (z.readUInt32LE(0) !== ZIP64_EOCD_SIG) throw corrupt(file, 'zip64 end record not where its locator says');
        count = u64(z, 32);
        cdSize = u64(z, 40);
        cdOffset = u64(z, 48);
      }
    }
    const cd = await read(cdOffset, cdSize);
    const entries: Omit<ZipEntry, 'dataStart'>[] = [];
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + 46 > cd.length || cd.readUInt32LE(p) !== CENTRAL_SIG) throw corrupt(file, `central directory entry ${i + 1} is damaged`);
      const nameLength = cd.readUInt16LE(p + 28);
      const extraLength = cd.readUInt16LE(p + 30);
      const commentLength = cd.readUInt16LE(p + 32);
      let size32 = cd.readUInt32LE(p + 24);
      let csize32 = cd.readUInt32LE(p + 20);
      let offset32 = cd.readUInt32LE(p + 42);
      if (p + 46 + nameLength + extraLength + commentLength > cd.length)
        throw corrupt(file, `central directory entry ${i + 1} runs past its end`);
      const name = cd.toString('utf8', p + 46, p + 46 + nameLength);
      // zip64 extra field: the 64-bit values, in this order, for each 32-bit field set to 0xFFFFFFFF
      let e = p + 46 + nameLength;
      const extraEnd = e + extraLength;
      while (e + 4 <= extraEnd) {
        const id = cd.readUInt16LE(e);
        const len = cd.readUInt16LE(e + 2);
        if (id === 0x0001) {
          let q = e + 4;
          if (size32 === MAX32) ((size32 = u64(cd, q)), (q += 8));
          if (csize32 === MAX32) ((csize32 = u64(cd, q)), (q += 8));
          if (offset32 === MAX32) offset32 = u64(cd, q);
        }
        e += 4 + len;
      }
      entries.push({
        name,
        method: cd.readUInt16LE(p + 10),
        flags: cd.readUInt16LE(p + 8),
        compressedSize: csize32,
        size: size32,
        localHeaderOffset: offset32,
      });
      p = extraEnd + commentLength;
    }
    const located: ZipEntry[] = [];
    for (const e of entries) located.push({ ...e, dataStart: await localDataStart(file, e, read) });
    checkEntries(
      file,
      located.map((e) => ({
        name: e.name,
        start: e.localHeaderOffset,
        end: e.dataStart + e.compressedSize,
        size: e.size,
        compressedSize: e.compressedSize,
        method: e.method,
      })),
      cdOffset,
      limits,
    );
    return located;
  } finally {
    await fh.close();
  }
}

/**
 * The entry's local header, which unzip tools trust: it must carry the central record's name,
 * method and (without a data descriptor) sizes, or a tool could extract other bytes, or another
 * name, than the ones verified.
 */
async function localDataStart(
  file: string,
  e: Omit<ZipEntry, 'dataStart'>,
  read: (at: number, length: number) => Promise<Buffer>,
): Promise<number> {
  const local = await read(e.localHeaderOffset, 30);
  if (local.readUInt32LE(0) !== LOCAL_SIG) throw new UnsafeZip(file, e.name, `no local header at byte ${e.localHeaderOffset}`);
  const nameLength = local.readUInt16LE(26);
  const name = (await read(e.localHeaderOffset + 30, nameLength)).toString('utf8');
  if (name !== e.name) throw new UnsafeZip(file, e.name, `its local header names it ${JSON.stringify(name)}`);
  if (local.readUInt16LE(8) !== e.method)
    throw new UnsafeZip(file, e.name, 'its local header and the central directory disagree on its compression');
  // bit 3: sizes follow the data in a descriptor, and the header's are zero
  if (!(e.flags & 0x8)) {
    const csize = local.readUInt32LE(18);
    const size = local.readUInt32LE(22);
    const sizesAgree = (csize === MAX32 || csize === e.compressedSize) && (size === MAX32 || size === e.size);
    if (!sizesAgree) throw new UnsafeZip(file, e.name, 'its local header and the central directory disagree on its size');
  }
  return e.localHeaderOffset + 30 + nameLength + local.readUInt16LE(28);
}

/** Passes at most `limit` bytes on; one more fails the stream: a deflate stream that inflates past its declared size is cut there. */
class SizeLimit extends Transform {
  private seen = 0;
  constructor(
    private readonly name: string,
    private readonly limit: number,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) return cb(new Error(`${this.name}: inflates past the ${this.limit} bytes the zip directory declares`));
    cb(null, chunk);
  }
}

/** The entry's uncompressed bytes as a stream; a damaged entry makes the stream fail, naming it. */
export async function openZipEntry(file: string, entry: ZipEntry): Promise<Readable> {
  if (entry.flags & 0x1) throw new Error(`${entry.name}: encrypted entries are not supported`);
  if (entry.method !== 0 && entry.method !== 8)
    throw new Error(`${entry.name}: compression method ${entry.method} is not supported (stored or deflate only)`);
  const { dataStart } = entry;
  const raw =
    entry.compressedSize > 0 ? createReadStream(file, { start: dataStart, end: dataStart + entry.compressedSize - 1 }) : Readable.from([]);
  if (entry.method === 0) return raw;
  const limit = new SizeLimit(entry.name, entry.size);
  // pipeline destroys all of them on an error, so the consumer's loop sees it and no inflation goes on
  pipeline(raw, createInflateRaw(), limit, () => {});
  return limit;
}
