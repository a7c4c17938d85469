import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { UserError } from '../errors.js';
import type { FingerprintChange } from '../db/fingerprint.js';
import type { StructureChange } from '../db/structure.js';
import { hashFile, sha256Text } from '../evidence/file-hash.js';

/**
 * What a backup folder holds and what it proved. `manifest.json` is written once, when the
 * dump and its companions are complete; `verification.json` records the restore test and the
 * SHA-256 of the manifest it checked. A folder counts as verified only when that record says
 * ok, still matches the manifest, and every listed file still has its recorded hash.
 */
export const MANIFEST_FILE = 'manifest.json';
export const VERIFICATION_FILE = 'verification.json';
export const ARCHIVE_FILE = 'database.dump';
export const AUTH_USERS_FILE = 'auth-users.json';
/** The embedded database's dumps (plain SQL, from the PGlite dump tool). */
export const SQL_DUMP_FILE = 'database.sql';
export const PIPELINE_DUMP_FILE = 'pipeline.sql';

/** Runbook 3.1 / 4.2: exported separately, one .sql file each. */
export const BACKUP_FUNCTIONS = ['public.validate_sortie', 'public.sorties_produit_block_update_delete'] as const;
/** Runbook 3.1: snapshots of these three tables. */
export const SNAPSHOT_TABLES = ['public.stocks_journaliers', 'public.sorties_produit', 'public.receptions'] as const;

const FileEntry = z.object({
  path: z.string(),
  kind: z.enum(['archive', 'function', 'table-snapshot', 'auth-users']),
  bytes: z.number().int(),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
const Checksum = z.object({ table: z.string(), rows: z.number().int(), checksum: z.string() });
const FunctionExport = z.object({ name: z.string(), file: z.string(), signatures: z.array(z.string()), sha256: z.string() });
const FingerprintSchema = z.object({
  schemas: z.array(z.string()),
  entries: z.array(
    z.object({
      kind: z.enum(['function', 'trigger', 'policy', 'rls', 'table_grant', 'function_grant']),
      name: z.string(),
      value: z.string(),
    }),
  ),
  sha256: z.string(),
});

export const MANIFEST_FORMAT = 'astm53b-backup/2';

export const Manifest = z.object({
  format: z.literal(MANIFEST_FORMAT),
  startedAt: z.string(),
  finishedAt: z.string(),
  source: z.object({ label: z.string(), database: z.string(), host: z.string(), serverVersion: z.string(), serverMajor: z.number().int() }),
  /** runbook 4.2: "vérifier que le dump est stocké hors serveur PROD" */
  written: z.object({ host: z.string(), dir: z.string(), sameHostAsDatabase: z.boolean() }),
  snapshot: z.string(),
  /** which engine and dump format made the backup: they decide how it is verified and restored */
  dump: z.object({
    engine: z.enum(['postgresql', 'pglite']),
    /** custom: pg_dump -Fc archive, restored with pg_restore; plain: SQL script, run statement by statement */
    format: z.enum(['custom', 'plain']),
    file: z.string(),
    /** the schemas in `file`; null when it holds the whole database */
    schemas: z.array(z.string()).nullable(),
    /** plain format: the pipeline schema, dumped apart so that a rollback never restores it */
    pipelineFile: z.string().nullable(),
    /** pg_dump's --compress (custom format); null for a plain script */
    compression: z.string().nullable(),
    /** how the dump and the snapshot reads saw one instant */
    consistency: z.string(),
  }),
  tools: z.object({ pg_dump: z.object({ path: z.string(), version: z.string() }) }),
  schemas: z.object({
    /** application schemas present in the source: restored and compared */
    application: z.array(z.string()),
    /** the pipeline's own schema, restored into the scratch copy (our triggers may call it) but never compared */
    pipeline: z.array(z.string()),
    /** everything else (Supabase-managed: auth, storage, realtime, …): in the archive, never restored nor compared */
    excluded: z.array(z.string()),
  }),
  files: z.array(FileEntry),
  /** how each table's checksum is computed (src/db/checksum.ts), so it can be recomputed with psql */
  checksumAlgorithm: z.string(),
  tables: z.array(Checksum),
  functions: z.array(FunctionExport),
  authUsers: z.object({ file: z.string(), rows: z.number().int(), columns: z.array(z.string()) }).nullable(),
  fingerprint: FingerprintSchema,
  structure: z.object({
    entries: z.array(z.object({ kind: z.enum(['column', 'constraint', 'index', 'view']), name: z.string(), value: z.string() })),
    sha256: z.string(),
  }),
});
export type Manifest = z.infer<typeof Manifest>;
export type ManifestFile = z.infer<typeof FileEntry>;

export interface TableComparison {
  table: string;
  expected: { rows: number; checksum: string } | null;
  actual: { rows: number; checksum: string } | null;
  match: boolean;
}

export interface FunctionComparison {
  name: string;
  expectedSha256: string;
  actualSha256: string | null;
  match: boolean;
}

export interface Comparison {
  tables: TableComparison[];
  functions: FunctionComparison[];
  catalog: { match: boolean; expectedSha256: string; actualSha256: string; changes: FingerprintChange[] };
  structure: { match: boolean; changes: StructureChange[] };
  ok: boolean;
}

export interface HashCheck {
  ok: boolean;
  problems: { path: string; problem: string }[];
}

export interface Verification {
  format: 'astm53b-backup-verification/1';
  ok: boolean;
  checkedAt: string;
  manifestSha256: string;
  hashes: HashCheck;
  archive: { readable: boolean; entries: number; dumpedBy: string | null; error?: string };
  restore: {
    into: string;
    /** pg_dump's output as it was written (the same bytes as the archive: its SHA-256 is re-checked above), or the archive file */
    from: 'dump stream' | 'archive file';
    /** dump stream: the tables checksummed as soon as their data was in (while the next ones loaded) */
    checkedAsLoaded?: string[];
    schemas: string[];
    ms: number;
    error?: string;
  } | null;
  comparison: Comparison | null;
  notCompared: { schemas: string[]; note: string };
  failures: string[];
}

const VerificationShape = z.object({ ok: z.boolean(), manifestSha256: z.string() }).passthrough();

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

export async function writeJson(file: string, value: unknown): Promise<string> {
  const text = `${JSON.stringify(value, null, 2)}\n`;
  await writeFile(file, text);
  return sha256Text(text);
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
  const v = VerificationShape.safeParse(value);
  if (!v.success) throw new UserError('BACKUP_CORRUPT', `${VERIFICATION_FILE} is not a verification record`, { where: { file: vFile } });
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
