import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';

/**
 * The bundle's zip, streamed by archiver to a temporary name and renamed when complete, so a
 * fault never leaves a half bundle under the final name. Entries keep the order given.
 */
/** Already compressed (or encrypted): stored as is, deflating them again costs time and gains nothing. */
const STORED = /\.(dump|age|zip|gz|tgz|xz|zst|bz2|7z|jpe?g|png|gif|webp|mp4|mov|m4a|ogg|opus|pdf)$/i;

export type ZipSource = { name: string; text: string } | { name: string; file: string };

interface ZipWriter {
  pipe(dest: NodeJS.WritableStream): void;
  on(event: 'error' | 'warning', cb: (e: Error) => void): void;
  append(source: Buffer | Readable, data: { name: string; date: Date; mode: number; store?: boolean }): void;
  finalize(): Promise<void>;
  abort(): void;
}

/** archiver 8 is an ES module exporting ZipArchive; the installed @types/archiver describe version 6. */
async function zipWriter(): Promise<ZipWriter> {
  const mod = (await import('archiver')) as unknown as { ZipArchive: new (o: { zlib: { level: number } }) => ZipWriter };
  return new mod.ZipArchive({ zlib: { level: 9 } });
}

async function* lazyRead(file: string): AsyncGenerator<Buffer> {
  for await (const chunk of createReadStream(file)) yield chunk as Buffer;
}

export async function writeZip(out: string, sources: ZipSource[], date: Date): Promise<void> {
  await mkdir(path.dirname(out), { recursive: true });
  const partial = `${out}.partial-${process.pid}`;
  try {
    const zip = await zipWriter();
    const sink = createWriteStream(partial);
    let fail: (e: Error) => void = () => {};
    const closed = new Promise<void>((resolve, reject) => {
      fail = reject;
      sink.on('close', resolve);
      sink.on('error', reject);
      zip.on('error', reject);
      // a file that vanished between hashing and zipping must not give a bundle that lacks it
      zip.on('warning', reject);
    });
    zip.pipe(sink);
    for (const s of sources) {
      const data = { name: s.name, date, mode: 0o644, ...(STORED.test(s.name) ? { store: true } : {}) };
      // not zip.file(): its stat queue runs in parallel and can reorder entries. A generator
      // opens the file only when archiver reaches the entry, so no descriptor is held early.
      if ('text' in s) zip.append(Buffer.from(s.text, 'utf8'), data);
      else {
        // archiver pipes the source on without forwarding its errors: an unreadable file would hang the zip
        const source = Readable.from(lazyRead(s.file), { objectMode: false });
        source.on('error', (e) => {
          zip.abort();
          fail(new Error(`${s.name}: cannot be read while zipping (${e.message})`));
        });
        zip.append(source, data);
      }
    }
    await Promise.all([zip.finalize(), closed]);
    await rename(partial, out);
  } catch (e) {
    await rm(partial, { force: true });
    throw e;
  }
}
