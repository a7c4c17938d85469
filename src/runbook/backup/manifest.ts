import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ARCHIVE_FILE, AUTH_USERS_FILE, BACKUP_FILES, PIPELINE_DUMP_FILE, SQL_DUMP_FILE } from '../../results/files.js';
import { Manifest, MANIFEST_FORMAT, Verification, type HashCheck } from '../../results/backup.js';
import { describeIssue, writeValidated } from '../../results/io.js';
import { UserError } from '../../errors.js';
import { hashFile, sha256Text } from '../../hash.js';

/**
 * A backup folder on disk: reading its manifest, re-hashing its files, and the gate every step
 * that depends on it passes (sql-apply, rollback, decide). The files and their schemas are the
 * results contract's (src/results/backup.ts, src/results/files.ts). A folder counts as verified
 * only when verification.json says ok, still matches the manifest, and every listed file still
 * has its recorded hash.
 */
export const MANIFEST_FILE = BACKUP_FILES.manifest.file;
export const VERIFICATION_FILE = BACKUP_FILES.verification.file;
export { ARCHIVE_FILE, AUTH_USERS_FILE, MANIFEST_FORMAT, PIPELINE_DUMP_FILE, SQL_DUMP_FILE };

/** Runbook 3.1 / 4.2: exported separately, one .sql file each. */
export const BACKUP_FUNCTIONS = ['public.validate_sortie', 'public.sorties_produit_block_update_delete'] as const;
/** Runbook 3.1: snapshots of these three tables. */
export const SNAPSHOT_TABLES = ['public.stocks_journaliers', 'public.sorties_produit', 'public.receptions'] as const;

async function readJson(file: string, display: string): Promise<{ text: string; value: unknown }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new UserError('BACKUP_INCOMPLETE', `cannot read ${display}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      where: { file: display },
    });
  }
  try {
    return { text, value: JSON.parse(text) };
  } catch (e) {
    throw new UserError('BACKUP_CORRUPT', `${display} is not valid JSON: ${(e as Error).message}`, { where: { file: display } });
  }
}

export async function readManifest(dir: string): Promise<{ manifest: Manifest; sha256: string }> {
  const display = path.join(dir, MANIFEST_FILE);
  const { text, value } = await readJson(display, display);
  const format = (value as { format?: unknown } | null)?.format;
  if (typeof format === 'string' && format.startsWith('astm53b-backup/') && format !== MANIFEST_FORMAT) {
    throw new UserError(
      'BACKUP_FORMAT',
      `${display} is a ${format} backup; this astm53b reads ${MANIFEST_FORMAT} (its table checksums are computed differently)`,
      {
        where: { file: display, field: 'format' },
        hint: 'take a new backup with this version (astm53b backup)',
      },
    );
  }
  const r = Manifest.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new UserError('BACKUP_CORRUPT', `not an astm53b backup manifest: ${issue.message}`, {
      where: { file: display, field: issue.path.join('.') },
    });
  }
  return { manifest: r.data, sha256: sha256Text(text) };
}

/** Writes manifest.json (checked against its schema); returns the SHA-256 of the text, which verification.json binds to. */
export async function writeManifest(dir: string, manifest: Manifest): Promise<string> {
  return sha256Text(await writeValidated(path.join(dir, MANIFEST_FILE), Manifest, manifest, MANIFEST_FILE));
}

export async function writeVerification(dir: string, verification: Verification): Promise<void> {
  await writeValidated(path.join(dir, VERIFICATION_FILE), Verification, verification, VERIFICATION_FILE);
}

/** Every file the manifest lists, re-hashed: missing, resized or altered files are named. */
export async function checkFileHashes(dir: string, manifest: Manifest): Promise<HashCheck> {
  const problems: HashCheck['problems'] = [];
  for (const f of manifest.files) {
    const abs = path.join(dir, f.path);
    if (path.relative(dir, abs).startsWith('..')) {
      problems.push({ path: f.path, problem: 'path leaves the backup folder' });
      continue;
    }
    const d = await hashFile(abs).catch(() => undefined);
    if (!d) problems.push({ path: f.path, problem: 'missing' });
    else if (d.bytes !== f.bytes) problems.push({ path: f.path, problem: `size ${d.bytes} bytes, recorded ${f.bytes}` });
    else if (d.sha256 !== f.sha256)
      problems.push({ path: f.path, problem: `SHA-256 ${d.sha256.slice(0, 12)}…, recorded ${f.sha256.slice(0, 12)}…` });
  }
  return { ok: problems.length === 0, problems };
}

/**
 * The gate of every step that depends on the backup (sql-apply, rollback): refuses a folder
 * that was never verified, failed verification, or changed since.
 */
export async function assertVerifiedBackup(dir: string): Promise<Manifest> {
  const { manifest, sha256 } = await readManifest(dir);
  const vFile = path.join(dir, VERIFICATION_FILE);
  const { value } = await readJson(vFile, vFile).catch((e: unknown) => {
    if (e instanceof UserError && e.code === 'BACKUP_INCOMPLETE') {
      throw new UserError('BACKUP_NOT_VERIFIED', `${dir} was never verified (no ${VERIFICATION_FILE})`, {
        hint: 'run astm53b backup verify DIR',
      });
    }
    throw e;
  });
  const v = Verification.safeParse(value);
  if (!v.success) {
    throw new UserError('BACKUP_CORRUPT', `${VERIFICATION_FILE} is not a verification record (${describeIssue(v.error)})`, {
      where: { file: vFile },
    });
  }
  if (!v.data.ok)
    throw new UserError('BACKUP_NOT_VERIFIED', `${dir} failed its verification; it cannot be used`, { where: { file: vFile } });
  if (v.data.manifestSha256 !== sha256) {
    throw new UserError('BACKUP_TAMPERED', `${MANIFEST_FILE} changed after it was verified`, {
      where: { file: path.join(dir, MANIFEST_FILE) },
    });
  }
  const hashes = await checkFileHashes(dir, manifest);
  if (!hashes.ok) {
    const first = hashes.problems[0]!;
    throw new UserError(
      'BACKUP_TAMPERED',
      `${hashes.problems.length} file(s) no longer match the manifest: ${first.path} ${first.problem}`,
      {
        where: { file: path.join(dir, first.path) },
      },
    );
  }
  return manifest;
}
