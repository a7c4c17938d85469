import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { lstat, mkdir, open, rm } from 'node:fs/promises';
import path from 'node:path';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { UserError } from '../errors.js';
import { asWriteFailure } from '../write-error.js';
import { fingerprintOf } from './signing.js';

/**
 * A depot's keys: an age identity for its backups and an Ed25519 pair for its evidence bundles.
 * X25519 rather than age's post-quantum hybrid: every `age` and `rage` release decrypts it, and
 * the dumps must stay readable for years by whatever tool the depot has then. The private files
 * are created 0600 and never overwritten (a lost age.key makes every dump encrypted to it unreadable).
 */
export const KEY_FILES = {
  ageIdentity: 'age.key',
  ageRecipient: 'age.pub',
  signingKey: 'signing.key',
  signingPublic: 'signing.pub',
} as const;

export interface DepotKeys {
  dir: string;
  recipient: string;
  signingFingerprint: string;
  files: { path: string; mode: number; secret: boolean }[];
}

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(
    () => true,
    () => false,
  );
}

export async function newDepotKeys(outDir: string, now = new Date()): Promise<DepotKeys> {
  const dir = path.resolve(outDir);
  for (const name of Object.values(KEY_FILES)) {
    const p = path.join(dir, name);
    if (await exists(p))
      throw new UserError(
        'KEY_EXISTS',
        `${p} already exists: keys are never overwritten (a replaced age.key loses every dump encrypted to it)`,
        {
          where: { file: p },
          hint: 'choose another --out; to rotate, see README "Key custody"',
        },
      );
  }
  await mkdir(dir, { recursive: true, mode: 0o700 }).catch((e: unknown) => {
    throw asWriteFailure(e, dir);
  });

  const identity = await generateX25519Identity();
  const recipient = await identityToRecipient(identity);
  const pair = generateKeyPairSync('ed25519');
  const fingerprint = fingerprintOf(createPublicKey(pair.privateKey));
  const created = now.toISOString();
  const files: { name: string; text: string; mode: number; secret: boolean }[] = [
    {
      name: KEY_FILES.ageIdentity,
      // the layout age-keygen writes: `age -d -i age.key` reads it as it is
      text: `# created: ${created}\n# public key: ${recipient}\n${identity}\n`,
      mode: 0o600,
      secret: true,
    },
    { name: KEY_FILES.ageRecipient, text: `${recipient}\n`, mode: 0o644, secret: false },
    { name: KEY_FILES.signingKey, text: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), mode: 0o600, secret: true },
    { name: KEY_FILES.signingPublic, text: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(), mode: 0o644, secret: false },
  ];
  const written: string[] = [];
  try {
    for (const f of files) {
      const p = path.join(dir, f.name);
      // 'wx': fails if the file appeared meanwhile; the mode applies from creation, never a moment of 0644
      const fh = await open(p, 'wx', f.mode);
      written.push(p);
      try {
        await fh.writeFile(f.text);
        await fh.chmod(f.mode); // the umask may have narrowed the public files' mode, never widened
        await fh.sync();
      } finally {
        await fh.close();
      }
    }
  } catch (e) {
    // a half set of keys is worse than none: nobody could tell which files belong together
    for (const p of written) await rm(p, { force: true });
    if ((e as NodeJS.ErrnoException).code === 'EEXIST')
      throw new UserError('KEY_EXISTS', `a key file appeared in ${dir} while the keys were written: nothing kept`, {
        where: { file: dir },
      });
    throw asWriteFailure(e, dir);
  }
  return {
    dir,
    recipient,
    signingFingerprint: fingerprint,
    files: files.map((f) => ({ path: path.join(dir, f.name), mode: f.mode, secret: f.secret })),
  };
}
