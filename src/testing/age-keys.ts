import { open, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { expect } from 'vitest';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { parseIdentities, type AgeIdentities } from '../crypto/age.js';

/** A depot's age key pair for a test: the identity file written into `dir`, and its recipient. */
export interface TestAgeKey {
  file: string;
  recipient: string;
  identity: AgeIdentities;
}

export async function makeAgeKey(dir: string, name = 'age.key'): Promise<TestAgeKey> {
  const secret = await generateX25519Identity();
  const recipient = await identityToRecipient(secret);
  const file = path.join(dir, name);
  await writeFile(file, `# test key\n${secret}\n`, { mode: 0o600 });
  return { file, recipient, identity: parseIdentities(secret, { file }) };
}

const AGE_HEADER = 'age-encryption.org/v1\n';

async function startsWithAgeHeader(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const b = Buffer.alloc(AGE_HEADER.length);
    await fh.read(b, 0, b.length, 0);
    return b.toString('latin1') === AGE_HEADER;
  } finally {
    await fh.close();
  }
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(path.relative(dir, path.join(e.parentPath, e.name)));
  }
  return out.sort();
}

/**
 * Every file of an encrypted backup folder is either its record (manifest.json,
 * verification.json), a function's definition (code, no rows), or an age file; and none of
 * them holds any of `plaintextMarkers` (an e-mail of auth.users, a reception's id…).
 */
export async function expectNoPlaintextData(dir: string, plaintextMarkers: readonly string[]): Promise<string[]> {
  const files = await filesUnder(dir);
  for (const f of files) {
    const record = f === 'manifest.json' || f === 'verification.json' || /^functions\/[^/]+\.sql$/.test(f);
    if (!record) {
      expect(f, `${f} should be ciphertext`).toMatch(/\.age$/);
      expect(await startsWithAgeHeader(path.join(dir, f)), `${f} starts with the age header`).toBe(true);
    }
    const bytes = await readFile(path.join(dir, f));
    for (const m of plaintextMarkers) expect(bytes.includes(Buffer.from(m)), `${f} holds ${m} in clear`).toBe(false);
  }
  return files;
}
