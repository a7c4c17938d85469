import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { AGE_SUFFIX, AGE_TOOL, encryptFile } from '../../crypto/age.js';
import { asWriteFailure } from '../../write-error.js';
import { DATA_FILE_KINDS, type Manifest, type ManifestFile } from '../../results/backup.js';

/**
 * A backup with recipients (`--encrypt-to`): the whole backup is taken and verified as usual,
 * but in a private folder of the runner's temporary space (RUNNER_TEMP on GitHub, emptied after
 * every job; else the system's), never in --out. Once the verification has read the plaintext,
 * each file holding table data is encrypted into --out and its plaintext deleted at once; the
 * other files (the two functions' definitions: code, no rows) are copied as they are. The folder
 * is removed whatever happens, so --out only ever receives ciphertext.
 */
export async function plaintextWorkDir(parent: string | undefined, env: NodeJS.ProcessEnv): Promise<string> {
  const base = parent ?? env.RUNNER_TEMP ?? os.tmpdir();
  const at = path.join(base, 'astm53b-backup-plain-');
  // mkdtemp creates it 0700: no other local user reads the plaintext while it exists
  return mkdtemp(at).catch((e: unknown) => {
    throw asWriteFailure(e, at, 'free space in the temporary folder (RUNNER_TEMP or TMPDIR)');
  });
}

export async function removeWorkDir(dir: string, log: Logger): Promise<void> {
  await rm(dir, { recursive: true, force: true }).catch((e: unknown) =>
    log.warn(`backup: could not remove the plaintext working folder ${dir}: ${(e as Error).message}: delete it by hand`),
  );
}

const encryptedName = (p: string) => `${p}${AGE_SUFFIX}`;

/**
 * Encrypts the data files of `work` into `out` and returns the manifest of `out`. The plaintext
 * is hashed again as it is encrypted: the ciphertext must be of the very bytes the verification
 * proved, else the step fails rather than bind one to the other.
 */
export async function encryptBackup(
  work: string,
  out: string,
  manifest: Manifest,
  recipients: readonly string[],
  log: Logger,
): Promise<Manifest> {
  const files: ManifestFile[] = [];
  const renamed = new Map<string, string>();
  for (const f of manifest.files) {
    const src = path.join(work, f.path);
    if (!DATA_FILE_KINDS.includes(f.kind)) {
      const dest = path.join(out, f.path);
      await mkdir(path.dirname(dest), { recursive: true });
      await copyFile(src, dest).catch((e: unknown) => {
        throw asWriteFailure(e, dest);
      });
      files.push(f);
      continue;
    }
    const name = encryptedName(f.path);
    const dest = path.join(out, name);
    await mkdir(path.dirname(dest), { recursive: true });
    const { plain, cipher } = await encryptFile(src, dest, recipients).catch((e: unknown) => {
      throw asWriteFailure(e, dest);
    });
    await rm(src, { force: true });
    if (plain.bytes !== f.bytes || plain.sha256 !== f.sha256) {
      throw new UserError(
        'BACKUP_CHANGED',
        `${f.path} changed in the temporary folder between its verification and its encryption (${plain.sha256.slice(0, 12)}…, verified ${f.sha256.slice(0, 12)}…)`,
        { where: { file: src }, hint: 'something else writes into the runner temporary folder: take the backup again' },
      );
    }
    renamed.set(f.path, name);
    files.push({ path: name, kind: f.kind, bytes: cipher.bytes, sha256: cipher.sha256, plaintext: { path: f.path, ...plain } });
    log.info(`backup: ${name}: ${cipher.bytes} bytes encrypted (plaintext ${plain.bytes} bytes, SHA-256 ${plain.sha256.slice(0, 12)}…)`);
  }
  const to = (p: string) => renamed.get(p) ?? p;
  return {
    ...manifest,
    files,
    dump: { ...manifest.dump, file: to(manifest.dump.file), pipelineFile: manifest.dump.pipelineFile && to(manifest.dump.pipelineFile) },
    authUsers: manifest.authUsers && { ...manifest.authUsers, file: to(manifest.authUsers.file) },
    encryption: { method: 'age', tool: AGE_TOOL, recipients: [...recipients] },
  };
}
