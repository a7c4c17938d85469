import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ARCHIVE_FILE, AUTH_USERS_FILE, BACKUP_FILES, PIPELINE_DUMP_FILE, SQL_DUMP_FILE } from '../../results/files.js';
import { Manifest, MANIFEST_FORMAT, Verification, VERIFICATION_FORMAT, type HashCheck } from '../../results/backup.js';
import { describeIssue, writeValidated } from '../../results/io.js';
import { UserError } from '../../errors.js';
import { hashFile, sha256Text } from '../../hash.js';
import { asWriteFailure } from '../../write-error.js';

/**
 * A backup folder on disk: reading its manifest, re-hashing its files, and the gate every step
 * that depends on it passes (sql-apply, rollback, decide). The files and their schemas are the
 * results contract's (src/results/backup.ts, src/results/files.ts). A folder counts as verified
 * only when verification.json says ok, still matches the manifest, vouches for exactly the
 * manifest's files and hashes, and every listed file still has its recorded hash.
 */
export const MANIFEST_FILE = BACKUP_FILES.manifest.file;
export const VERIFICATION_FILE = BACKUP_FILES.verification.file;
export { ARCHIVE_FILE, AUTH_USERS_FILE, MANIFEST_FORMAT, PIPELINE_DUMP_FILE, SQL_DUMP_FILE };

/** Runbook 3.1 / 4.2: exported separately, one .sql file each. */
export const BACKUP_FUNCTIONS = ['public.validate_sortie', 'public.sorties_produit_block_update_delete'] as const;
/** Runbook 3.1: snapshots of these three tables. */
export const SNAPSHOT_TABLES = ['public.stocks_journaliers', 'public.sorties_produit', 'public.receptions'] as const;
/** Where the snapshot of one of them is written in the backup folder. */
export const snapshotFileOf = (qualified: string): string => `tables/${qualified}.csv`;

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
      `${display} is a ${format} backup; this astm53b reads ${MANIFEST_FORMAT} (older formats compute table checksums differently, do not record which database they came from, or cannot say which files are encrypted)`,
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

/**
 * Writes manifest.json (checked against its schema) whole or not at all: a backup whose disk
 * filled up has no manifest, never a truncated one. Returns the SHA-256 of the text, which
 * verification.json binds to.
 */
export async function writeManifest(dir: string, manifest: Manifest): Promise<string> {
  const file = path.join(dir, MANIFEST_FILE);
  const text = await writeValidated(file, Manifest, manifest, MANIFEST_FILE, { atomic: true }).catch((e: unknown) => {
    throw asWriteFailure(e, file);
  });
  return sha256Text(text);
}

export async function writeVerification(dir: string, verification: Verification): Promise<void> {
  const file = path.join(dir, VERIFICATION_FILE);
  await writeValidated(file, Verification, verification, VERIFICATION_FILE, { atomic: true }).catch((e: unknown) => {
    throw asWriteFailure(e, file, 'move the backup folder to a disk with room');
  });
}

/**
 * Every file the manifest lists, re-hashed: missing, resized or altered files are named, and
 * `files` holds what was found for every file that could be read (verification.json keeps it).
 */
export async function checkFileHashes(dir: string, manifest: Manifest): Promise<{ hashes: HashCheck; files: Verification['files'] }> {
  const problems: HashCheck['problems'] = [];
  const files: Verification['files'] = [];
  for (const f of manifest.files) {
    const abs = path.join(dir, f.path);
    if (path.relative(dir, abs).startsWith('..')) {
      problems.push({ path: f.path, problem: 'path leaves the backup folder' });
      continue;
    }
    const d = await hashFile(abs).catch(() => undefined);
    if (d) files.push({ path: f.path, sha256: d.sha256 });
    if (!d) problems.push({ path: f.path, problem: 'missing' });
    else if (d.bytes !== f.bytes) problems.push({ path: f.path, problem: `size ${d.bytes} bytes, recorded ${f.bytes}` });
    else if (d.sha256 !== f.sha256)
      problems.push({ path: f.path, problem: `SHA-256 ${d.sha256.slice(0, 12)}…, recorded ${f.sha256.slice(0, 12)}…` });
  }
  return { hashes: { ok: problems.length === 0, problems }, files };
}

/**
 * The files verification.json vouches for must be the manifest's, hash for hash: a manifest
 * re-written after the verification (a file swapped and its hash re-recorded, the record's
 * manifestSha256 re-bound) names a file the verification never saw.
 */
function assertVouchedFiles(dir: string, manifest: Manifest, vouched: Verification['files'], vFile: string): void {
  const found = new Map(vouched.map((f) => [f.path, f.sha256]));
  const refuse = (file: string, why: string) => {
    throw new UserError('BACKUP_TAMPERED', `${file}: ${why}`, { where: { file: path.join(dir, file) } });
  };
  for (const f of manifest.files) {
    const sha = found.get(f.path);
    if (sha === undefined) refuse(f.path, `listed in ${MANIFEST_FILE} but not among the files ${VERIFICATION_FILE} verified`);
    else if (sha !== f.sha256)
      refuse(f.path, `${MANIFEST_FILE} records SHA-256 ${f.sha256.slice(0, 12)}…, ${VERIFICATION_FILE} verified ${sha.slice(0, 12)}…`);
  }
  const listed = new Set(manifest.files.map((f) => f.path));
  for (const f of vouched)
    if (!listed.has(f.path)) refuse(f.path, `${VERIFICATION_FILE} verified it but ${MANIFEST_FILE} does not list it`);
  if (found.size !== vouched.length) {
    throw new UserError('BACKUP_TAMPERED', `${VERIFICATION_FILE} lists a file twice`, { where: { file: vFile, field: 'files' } });
  }
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
  const format = (value as { format?: unknown } | null)?.format;
  if (typeof format === 'string' && format.startsWith('astm53b-backup-verification/') && format !== VERIFICATION_FORMAT) {
    throw new UserError('BACKUP_NOT_VERIFIED', `${VERIFICATION_FILE} is a ${format} record, which does not name the files it verified`, {
      where: { file: vFile, field: 'format' },
      hint: 'run astm53b backup verify DIR',
    });
  }
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
  assertVouchedFiles(dir, manifest, v.data.files, vFile);
  const { hashes } = await checkFileHashes(dir, manifest);
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
