import { readFileSync } from 'node:fs';
import { brotliDecompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32c, newSystemIdentifier, pgControlCrcOffset, pgControlSystemIdentifier, setSystemIdentifier, tarFiles } from './pg-control.js';
import { TEMPLATE_PATH } from './pglite-template.js';

/** The committed empty cluster's data folder, as a tar (a fresh copy each time: setSystemIdentifier writes in place). */
const templateTar = () => brotliDecompressSync(readFileSync(TEMPLATE_PATH));
const file = (tar: Buffer, name: string) => {
  const f = tarFiles(tar).find((e) => e.name === name);
  if (!f) throw new Error(`no ${name} in the template`);
  return tar.subarray(f.start, f.start + f.size);
};
const walSegments = (tar: Buffer) => tarFiles(tar).filter((f) => /^pg_wal\/[0-9A-F]{24}$/.test(f.name));

describe('a cluster of its own: the system identifier rewritten in pg_control and the WAL', () => {
  it('CRC-32C is PostgreSQL’s (Castagnoli): the check value of "123456789" is 0xE3069283', () => {
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array())).toBe(0);
  });

  it('finds the one offset of pg_control holding the CRC of the bytes before it', () => {
    const ctl = file(templateTar(), 'global/pg_control');
    expect(ctl.length).toBe(8192);
    const at = pgControlCrcOffset(ctl);
    expect(ctl.readUInt32LE(at)).toBe(crc32c(ctl.subarray(0, at)));
  });

  it('writes the new identifier in pg_control, with a CRC that holds again, and in every WAL segment’s long header', () => {
    const tar = templateTar();
    const before = Buffer.from(file(tar, 'global/pg_control'));
    const id = newSystemIdentifier();
    const r = setSystemIdentifier(tar, id);
    expect(r).toEqual({ was: pgControlSystemIdentifier(before), now: id });
    expect(r.now).not.toBe(r.was);
    const ctl = file(tar, 'global/pg_control');
    expect(pgControlSystemIdentifier(ctl)).toBe(id);
    const at = pgControlCrcOffset(ctl);
    expect(at).toBe(pgControlCrcOffset(before));
    // nothing else of pg_control changed
    expect(Buffer.compare(ctl.subarray(8, at), before.subarray(8, at))).toBe(0);
    expect(walSegments(tar).length).toBeGreaterThan(0);
    for (const seg of walSegments(tar)) expect(tar.readBigUInt64LE(seg.start + 24)).toBe(id);
  });

  it('two identifiers made in the same second differ, and have initdb’s shape (seconds in the high 32 bits)', () => {
    const now = Date.UTC(2026, 11, 5, 4, 0, 0);
    const a = newSystemIdentifier(now);
    const b = newSystemIdentifier(now);
    expect(a).not.toBe(b);
    expect(a >> 32n).toBe(BigInt(now / 1000));
  });

  it('refuses a pg_control whose CRC does not hold, and a WAL segment of another cluster, instead of loading them', () => {
    const tar = templateTar();
    const ctl = file(tar, 'global/pg_control');
    ctl[40] = ctl[40]! ^ 0xff;
    expect(() => setSystemIdentifier(tar)).toThrow(/^pg_control: no offset holds the CRC-32C of the bytes before them$/);

    const other = templateTar();
    const seg = walSegments(other)[0]!;
    other.writeBigUInt64LE(12345n, seg.start + 24);
    expect(() => setSystemIdentifier(other)).toThrow(/^pg_wal\/[0-9A-F]{24}: its first page is not a long header of cluster \d+$/);
  });
});
