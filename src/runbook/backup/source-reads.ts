import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { quoteIdent, readTableKeys, tablesChecksums, type TableKey } from '../../db/checksum.js';
import { exportTableCsv, type CsvExport } from '../../db/csv-export.js';
import { APP_SCHEMAS, PIPELINE_PREFIX, PIPELINE_SCHEMA, readFingerprint } from '../../db/fingerprint.js';
import { readStructure } from '../../db/structure.js';
import type { Queryable } from '../../db/types.js';
import { sha256Text } from '../../hash.js';
import { asWriteFailure } from '../../write-error.js';
import { AUTH_USERS_FILE, BACKUP_FUNCTIONS, SNAPSHOT_TABLES, snapshotFileOf } from './manifest.js';
import type { TableChecksum } from '../../results/common.js';
import type { Manifest, ManifestFile } from '../../results/backup.js';

/** Columns of the Supabase auth.users that our shim also has: the ones a scratch restore can take. */
export const AUTH_USER_COLUMNS = [
  'instance_id',
  'id',
  'aud',
  'role',
  'email',
  'email_confirmed_at',
  'raw_app_meta_data',
  'raw_user_meta_data',
  'is_anonymous',
  'created_at',
  'updated_at',
];

async function classifySchemas(q: Queryable): Promise<Manifest['schemas']> {
  const r = await q.query<{ name: string }>(
    `SELECT nspname AS name FROM pg_namespace
      WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\\_%' ORDER BY 1`,
  );
  const all = r.rows.map((x) => x.name);
  return {
    application: APP_SCHEMAS.filter((s) => all.includes(s)),
    pipeline: all.filter((s) => s === PIPELINE_SCHEMA),
    excluded: all.filter((s) => !(APP_SCHEMAS as readonly string[]).includes(s) && s !== PIPELINE_SCHEMA),
  };
}

/** The definitions of every overload of a function, as one runnable .sql text. */
export async function readFunctionExport(q: Queryable, qualified: string): Promise<{ text: string; signatures: string[] }> {
  const [schema, name] = qualified.split('.') as [string, string];
  const r = await q.query<{ def: string; args: string }>(
    `SELECT pg_get_functiondef(p.oid) AS def, pg_get_function_identity_arguments(p.oid) AS args
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = $1 AND p.proname = $2 ORDER BY 2`,
    [schema, name],
  );
  return { text: r.rows.map((x) => `${x.def.trimEnd()};\n`).join('\n'), signatures: r.rows.map((x) => `${qualified}(${x.args})`) };
}

/** auth.users rows referenced by a foreign key of an application table (FACTS §1.12 item 7). */
async function readReferencedAuthUsers(q: Queryable, schemas: readonly string[]): Promise<{ columns: string[]; rows: unknown[] } | null> {
  const exists = await q.query<{ t: string | null }>("SELECT to_regclass('auth.users')::text AS t");
  if (!exists.rows[0]?.t) return null;
  const refs = await q.query<{ tbl: string; col: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS tbl, a.attname AS col
       FROM pg_constraint k
       JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
      WHERE k.contype = 'f' AND k.confrelid = 'auth.users'::regclass AND cardinality(k.conkey) = 1 AND n.nspname = ANY($1)
      ORDER BY 1, 2`,
    [schemas],
  );
  const present = await q.query<{ name: string }>(
    "SELECT column_name AS name FROM information_schema.columns WHERE table_schema = 'auth' AND table_name = 'users'",
  );
  const columns = AUTH_USER_COLUMNS.filter((c) => present.rows.some((p) => p.name === c));
  if (refs.rows.length === 0) return { columns, rows: [] };
  const ids = refs.rows.map((r) => `SELECT ${quoteIdent(r.col)}::text AS id FROM ${r.tbl}`).join(' UNION ');
  const r = await q.query<{ rows: unknown[] | null }>(
    `SELECT json_agg(u ORDER BY u.id) AS rows FROM (SELECT ${columns.map(quoteIdent).join(', ')} FROM auth.users WHERE id::text IN (${ids})) u`,
  );
  return { columns, rows: r.rows[0]?.rows ?? [] };
}

/** Which database the snapshot is of (Manifest['source'] less what the connection string says). */
export interface SourceIdentity {
  database: string;
  systemIdentifier: string | null;
  databaseOid: number;
}

/**
 * Read in the snapshot transaction. pg_control_system() may be revoked from the role (managed
 * servers do): then the identifier is unknown, never a failed backup; a savepoint keeps an error
 * there from aborting the snapshot transaction.
 */
export async function readSourceIdentity(q: Queryable): Promise<SourceIdentity> {
  const r = await q.query<{ db: string; oid: string; may: boolean }>(
    `SELECT d.datname AS db, d.oid::text AS oid, has_function_privilege('pg_catalog.pg_control_system()', 'EXECUTE') AS may
       FROM pg_database d WHERE d.datname = current_database()`,
  );
  const row = r.rows[0]!;
  let systemIdentifier: string | null = null;
  if (row.may) {
    await q.query('SAVEPOINT astm53b_identity');
    try {
      const sys = await q.query<{ id: string | null }>('SELECT system_identifier::text AS id FROM pg_catalog.pg_control_system()');
      systemIdentifier = sys.rows[0]?.id ?? null;
      await q.query('RELEASE SAVEPOINT astm53b_identity');
    } catch {
      await q.query('ROLLBACK TO SAVEPOINT astm53b_identity');
      await q.query('RELEASE SAVEPOINT astm53b_identity');
    }
  }
  return { database: row.db, systemIdentifier, databaseOid: Number(row.oid) };
}

/** What is read first, before pg_dump starts: catalog reads, and a missing object stops the step before any long work. */
export interface SourceFacts {
  schemas: Manifest['schemas'];
  keys: TableKey[];
  files: ManifestFile[];
  functions: Manifest['functions'];
}

export interface AuthUsers {
  entry: Manifest['authUsers'];
  /** the rows as written to AUTH_USERS_FILE */
  json: string | null;
  file: ManifestFile | null;
}

/** What is read while pg_dump runs, from the same snapshot. */
export interface SnapshotReads {
  authUsers: AuthUsers;
  tables: TableChecksum[];
  csvFiles: ManifestFile[];
  fingerprint: Manifest['fingerprint'];
  structure: Manifest['structure'];
}

export async function readSourceFacts(q: Queryable, dir: string): Promise<SourceFacts> {
  const schemas = await classifySchemas(q);
  const files: ManifestFile[] = [];
  const keys = await readTableKeys(q, schemas.application, PIPELINE_PREFIX);
  for (const qualified of SNAPSHOT_TABLES) {
    const [schema, table] = qualified.split('.') as [string, string];
    if (!keys.some((x) => x.schema === schema && x.table === table)) {
      throw new UserError('TABLE_MISSING', `${qualified} does not exist in the source; runbook 3.1 requires a snapshot of it`);
    }
  }
  const functions: Manifest['functions'] = [];
  for (const fn of BACKUP_FUNCTIONS) {
    const { text, signatures } = await readFunctionExport(q, fn);
    if (!signatures.length)
      throw new UserError('FUNCTION_MISSING', `${fn} does not exist in the source; runbook 3.1 requires exporting it`);
    const file = `functions/${fn}.sql`;
    const digest = await writeText(path.join(dir, file), text);
    files.push({ path: file, kind: 'function', ...digest, plaintext: null });
    functions.push({ name: fn, file, signatures, sha256: digest.sha256 });
  }
  return { schemas, keys, files, functions };
}

/** The auth.users rows the application references, written to AUTH_USERS_FILE (the scratch copy loads them). */
async function readAuthUsers(q: Queryable, schemas: readonly string[], dir: string): Promise<AuthUsers> {
  const users = await readReferencedAuthUsers(q, schemas);
  if (!users) return { entry: null, json: null, file: null };
  const json = `${JSON.stringify(users.rows, null, 1)}\n`;
  const digest = await writeText(path.join(dir, AUTH_USERS_FILE), json);
  return {
    entry: { file: AUTH_USERS_FILE, rows: users.rows.length, columns: users.columns },
    json,
    file: { path: AUTH_USERS_FILE, kind: 'auth-users', ...digest, plaintext: null },
  };
}

/** One runbook snapshot table written as CSV from `q` (the source snapshot; for a streamed pg backup, see exportFrom). */
export async function exportSnapshotTable(q: Queryable, keys: readonly TableKey[], qualified: string, dir: string): Promise<CsvExport> {
  const [schema, table] = qualified.split('.') as [string, string];
  const k = keys.find((x) => x.schema === schema && x.table === table)!;
  return exportTableCsv(q, schema, table, k.key, path.join(dir, snapshotFileOf(qualified)));
}

/** The manifest entry of a written snapshot, logged with where its rows were read. */
export function snapshotFile(qualified: string, csv: CsvExport, from: string, log: Logger): ManifestFile {
  const file = snapshotFileOf(qualified);
  log.info(`backup: ${qualified}: ${csv.rows} rows → ${file} (${from})`);
  return { path: file, kind: 'table-snapshot', bytes: csv.bytes, sha256: csv.sha256, plaintext: null };
}

async function exportSnapshotTables(q: Queryable, keys: readonly TableKey[], dir: string, log: Logger): Promise<ManifestFile[]> {
  const files: ManifestFile[] = [];
  for (const qualified of SNAPSHOT_TABLES) {
    files.push(snapshotFile(qualified, await exportSnapshotTable(q, keys, qualified, dir), 'the snapshot', log));
  }
  return files;
}

/**
 * The reads that run beside pg_dump. The referenced auth.users rows come first and go to
 * `onAuthUsers` (the scratch copy waits for them); then every table's checksum, the catalog
 * fingerprint and the structure. The three CSV snapshots are written here too, unless
 * `csvElsewhere`: a streamed pg backup writes them from its scratch copy (take-pg.ts), and
 * `csvFiles` is left empty for it to fill.
 */
export async function readSnapshot(
  q: Queryable,
  facts: SourceFacts,
  dir: string,
  log: Logger,
  opts: { csvElsewhere?: boolean; onAuthUsers?: (u: AuthUsers) => void } = {},
): Promise<SnapshotReads> {
  const authUsers = await readAuthUsers(q, facts.schemas.application, dir);
  opts.onAuthUsers?.(authUsers);
  const csvFiles = opts.csvElsewhere ? [] : await exportSnapshotTables(q, facts.keys, dir, log);
  // the tables the source facts listed, in this same snapshot
  const tables = await tablesChecksums(q, facts.keys);
  const fingerprint = await readFingerprint(q, facts.schemas.application);
  const structure = await readStructure(q, facts.schemas.application, PIPELINE_PREFIX);
  return { authUsers, csvFiles, tables, fingerprint, structure };
}

async function writeText(file: string, text: string): Promise<{ bytes: number; sha256: string }> {
  await writeFile(file, text).catch((e: unknown) => {
    throw asWriteFailure(e, file);
  });
  return { bytes: Buffer.byteLength(text, 'utf8'), sha256: sha256Text(text) };
}
