import { randomBytes, createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeAgeKey } from '../testing/age-keys.js';
import { expectUserError } from '../testing/command.js';
import { decryptToBuffer, encryptFile, openDecrypted, parseIdentities, parseRecipients } from './age.js';

/** The age layer on its own: what it accepts, and what it refuses in the user's words. */
const root = mkdtempSync(path.join(tmpdir(), 'astm53b-age-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('age recipients and identities', () => {
  it('reads recipients one per line or comma separated, with comments, and refuses anything else naming the option', async () => {
    const a = await makeAgeKey(root, 'a.key');
    const b = await makeAgeKey(root, 'b.key');
    expect(parseRecipients([`# depot\n${a.recipient}\n`, ` ${b.recipient}, ${a.recipient}`])).toEqual([a.recipient, b.recipient]);
    expect(parseRecipients(['', '  '])).toEqual([]);
    // one character of the checksum changed (to another one: a random key may already end in q)
    const typo = await expectUserError(() => parseRecipients([`${a.recipient.slice(0, -1)}${a.recipient.endsWith('q') ? 'p' : 'q'}`]));
    expect(typo).toMatchObject({ code: 'BAD_OPTION', where: { field: 'encrypt-to' } });
    const secret = readFileSync(a.file, 'utf8').trim().split('\n').pop()!;
    const leaked = await expectUserError(() => parseRecipients([secret]));
    expect(leaked.hint).toMatch(/private identity/);
    expect(leaked.message).not.toContain(secret);
  });

  it('reads an identity file, and refuses a public key or an empty file naming the file', async () => {
    const a = await makeAgeKey(root, 'c.key');
    const bad = await expectUserError(() => parseIdentities(`# x\n${a.recipient}\n`, { file: '/keys/age.key' }));
    expect(bad).toMatchObject({ code: 'BAD_IDENTITY', where: { file: '/keys/age.key', field: 'identity' } });
    expect(bad.hint).toMatch(/recipient/);
    expect((await expectUserError(() => parseIdentities('# nothing\n', { input: 'age-identity' }, 'age-identity'))).where).toEqual({
      field: 'age-identity',
    });
  });
});

describe('encrypting and decrypting a file in a stream', () => {
  it('round-trips 3 MiB, hashing both sides; a wrong identity, a flipped byte and a swapped plaintext are refused', async () => {
    const key = await makeAgeKey(root, 'd.key');
    const other = await makeAgeKey(root, 'e.key');
    const src = path.join(root, 'plain.bin');
    const plain = randomBytes(3 * 1024 * 1024 + 17);
    writeFileSync(src, plain);
    const dest = path.join(root, 'plain.bin.age');
    const d = await encryptFile(src, dest, [key.recipient, other.recipient]);
    expect(d.plain).toEqual({ bytes: plain.length, sha256: sha(plain) });
    const cipher = readFileSync(dest);
    expect(d.cipher).toEqual({ bytes: cipher.length, sha256: sha(cipher) });
    expect(cipher.subarray(0, 22).toString()).toBe('age-encryption.org/v1\n');
    // either recipient's identity opens it
    expect((await decryptToBuffer(dest, other.identity, { expect: d.plain })).equals(plain)).toBe(true);

    const stranger = await makeAgeKey(root, 'f.key');
    const wrong = await expectUserError(openDecrypted(dest, stranger.identity));
    expect(wrong).toMatchObject({ code: 'WRONG_IDENTITY', where: { file: stranger.file, field: 'identity' } });

    const flipped = Buffer.from(cipher);
    flipped[flipped.length - 1000]! ^= 1;
    writeFileSync(path.join(root, 'flipped.age'), flipped);
    const broken = await expectUserError(decryptToBuffer(path.join(root, 'flipped.age'), key.identity));
    expect(broken).toMatchObject({ code: 'BACKUP_TAMPERED', message: expect.stringMatching(/decryption failed/) });

    const swapped = await expectUserError(decryptToBuffer(dest, key.identity, { expect: { ...d.plain, sha256: 'e'.repeat(64) } }));
    expect(swapped.message).toMatch(/decrypts to \d+ bytes SHA-256 [0-9a-f]{12}…; the manifest records/);
  });
});
