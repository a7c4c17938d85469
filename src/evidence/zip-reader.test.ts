import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../errors.js';
import { hashStream } from '../hash.js';
import { openZipEntry, readZipDirectory } from './zip-reader.js';

const root = mkdtempSync(path.join(tmpdir(), 'astm53b-zip-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function archive(file: string, entries: { name: string; data: Buffer; store?: boolean }[], options: object): Promise<void> {
  const { ZipArchive } = (await import('archiver')) as unknown as { ZipArchive: new (o: object) => any };
  const z = new ZipArchive(options);
  const sink = createWriteStream(file);
  const done = new Promise<void>((r) => sink.on('close', () => r()));
  z.pipe(sink);
  for (const e of entries) z.append(e.data, { name: e.name, ...(e.store ? { store: true } : {}) });
  await z.finalize();
  await done;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('zip reader (archiver output)', () => {
  const entries = [
    { name: 'empty.txt', data: Buffer.alloc(0) },
    { name: 'text/réception été.json', data: Buffer.from(JSON.stringify({ volume: 38123.4 }).repeat(500)) },
    { name: 'bin/random.dump', data: randomBytes(300_000), store: true },
  ];
  for (const [label, options] of [
    ['plain', { zlib: { level: 9 } }],
    ['zip64', { zlib: { level: 1 }, forceZip64: true }],
  ] as const) {
    it(`reads stored, deflated and empty entries back byte for byte (${label})`, async () => {
      const file = path.join(root, `${label}.zip`);
      await archive(file, entries, options);
      const dir = await readZipDirectory(file);
      expect(dir.map((e) => [e.name, e.method, e.size])).toEqual([
        ['empty.txt', 0, 0], // archiver stores an empty entry
        ['text/réception été.json', 8, entries[1]!.data.length],
        ['bin/random.dump', 0, 300_000],
      ]);
      for (const [i, e] of dir.entries()) {
        const d = await hashStream(await openZipEntry(file, e));
        expect(d).toEqual({ bytes: entries[i]!.data.length, sha256: sha(entries[i]!.data) });
      }
    });
  }

  it('refuses what is not a zip, naming the file', async () => {
    const file = path.join(root, 'truncated.zip');
    await archive(path.join(root, 'whole.zip'), entries, {});
    const { readFileSync } = await import('node:fs');
    writeFileSync(file, readFileSync(path.join(root, 'whole.zip')).subarray(0, 1000));
    const e = await readZipDirectory(file).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).where?.file).toBe(file);
  });
});
