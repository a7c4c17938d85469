import { createWriteStream } from 'node:fs';
import { openZipEntry, readZipDirectory } from '../evidence/zip-reader.js';

/** Every entry of a zip, by name, as bytes. */
export async function readZipEntries(zip: string): Promise<Map<string, Buffer>> {
  const entries = new Map<string, Buffer>();
  for (const e of await readZipDirectory(zip)) {
    const chunks: Buffer[] = [];
    for await (const c of await openZipEntry(zip, e)) chunks.push(c as Buffer);
    entries.set(e.name, Buffer.concat(chunks));
  }
  return entries;
}

/** A zip of these entries, in this order, as any zip tool would write it (archiver, other settings than the bundle's). */
export async function writeZipEntries(out: string, entries: Map<string, Buffer>): Promise<void> {
  const { ZipArchive } = (await import('archiver')) as unknown as {
    ZipArchive: new (o: object) => {
      pipe(d: NodeJS.WritableStream): void;
      append(data: Buffer, o: { name: string }): void;
      finalize(): Promise<void>;
    };
  };
  const z = new ZipArchive({ zlib: { level: 1 } });
  const sink = createWriteStream(out);
  const done = new Promise<void>((r) => sink.on('close', () => r()));
  z.pipe(sink);
  for (const [name, data] of entries) z.append(data, { name });
  await z.finalize();
  await done;
}
