import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { CHECKSUM_ALGORITHM, quoteIdent, readTableKeys, tableChecksum, tablesChecksums, type TableKey } from '../../db/checksum.js';
import { exportTableCsv } from '../../db/csv-export.js';
import {
  COMPRESSION_PATTERN,
  dumpArchive,
  listArchive,
  readArchiveBlocks,
  restoreArchive,
  startStreamingRestore,
  urlOf,
  type StreamingRestore,
} from '../../db/dump.js';
import { APP_SCHEMAS, PIPELINE_PREFIX, PIPELINE_SCHEMA, diffFingerprints, readFingerprint } from '../../db/fingerprint.js';
import { openDb } from '../../db/open.js';
import { PGLITE_DUMP_TOOL, asEmbedded, openScratchPglite, readSqlDumpToc, restoreSqlDump, withEmbeddedHold } from '../../db/pglite-dump.js';
import { findPgTool, type PgTool } from '../../db/pg-tools.js';
import { createScratchDatabase } from '../../db/scratch.js';
import { maskConnectionString } from '../../db/secrets.js';
import { diffStructures, readStructure } from '../../db/structure.js';
import { resolveTarget } from '../../db/target.js';
import type { Db, Queryable } from '../../db/types.js';
import { sha256Text } from '../../hash.js';
import { applyShimIfNeeded } from '../db-init.js';
import {
  ARCHIVE_FILE,
  AUTH_USERS_FILE,
  BACKUP_FUNCTIONS,
  MANIFEST_FILE,
  MANIFEST_FORMAT,
  PIPELINE_DUMP_FILE,
  SNAPSHOT_TABLES,
  SQL_DUMP_FILE,
  VERIFICATION_FILE,
  checkFileHashes,
  readManifest,
  writeManifest,
  writeVerification,
} from './manifest.js';
import type { TableChecksum } from '../../results/common.js';
import type { Comparison, Manifest, ManifestFile, Verification } from '../../results/backup.js';

/**
 * Runbook 3.1 / 4.2, "aucune modification PROD sans dump vérifié". One REPEATABLE READ
 * transaction exports its snapshot; pg_dump dumps that snapshot while the same transaction
 * reads the table checksums, the two functions, the three table snapshots, the auth.users rows
 * the application references and the catalog fingerprint, so every file describes one instant.
 * Then, always, the proof: the archive is restored into a scratch database and compared.
 *
 * The freeze window is the depot's downtime, so on PostgreSQL the proof overlaps the dump:
 * pg_dump's output goes to the archive file and, byte for byte, into a pg_restore of the scratch
 * database; each restored table is checksummed as soon as its data is in, while the next one
 * loads. The archive file is then proven to be those bytes (its SHA-256 re-read from disk), its
 * table of contents read and every block of it decompressed. `backup verify` restores the file
 * itself, any time later.
 *
 * The embedded database (PGlite) takes the same reads and the same proof with its own dump
 * tool (plain SQL, restored into a fresh in-memory PGlite); the manifest says which made it.
 */
export interface BackupOptions {
  outDir: string;
  /** an empty database to restore into; default: one created (and dropped) on the source's server */
  scratchUrl?: string;
  /** how long the snapshot reads and pg_dump wait for a table lock (default 60 s) */
  lockTimeoutMs?: number;
  /** pg_dump --compress (default DEFAULT_COMPRESSION) */
  compress?: string;
  env?: NodeJS.ProcessEnv;
}

export interface BackupResult {
  dir: string;
  manifest: Manifest;
  verification: Verification;
  ok: boolean;
  ms: { snapshot: number; verify: number; total: number };
  warnings: string[];
}

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

const LOCAL_HOSTS = new Set(['', 'localhost', '127.0.0.1', '::1', '[::1]']);

export function sourceHost(url: string): string {
  try {
    return new URL(url).hostname || 'localhost (socket)';
  } catch {
    return 'unknown';
  }
}

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

/** What is read first, before pg_dump starts: catalog reads, and a missing object stops the step before any long work. */
interface SourceFacts {
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
interface SnapshotReads {
  authUsers: AuthUsers;
  tables: TableChecksum[];
  csvFiles: ManifestFile[];
  fingerprint: Manifest['fingerprint'];
  structure: Manifest['structure'];
}

/** Runs `fn` on another session that sees the same snapshot (pg: SET TRANSACTION SNAPSHOT). */
type SnapshotSession = <T>(fn: (q: Queryable) => Promise<T>) => Promise<T>;

async function readSourceFacts(q: Queryable, dir: string): Promise<SourceFacts> {
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
    files.push({ path: file, kind: 'function', ...digest });
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
    file: { path: AUTH_USERS_FILE, kind: 'auth-users', ...digest },
  };
}

async function exportSnapshotTables(q: Queryable, keys: readonly TableKey[], dir: string, log: Logger): Promise<ManifestFile[]> {
  const files: ManifestFile[] = [];
  for (const qualified of SNAPSHOT_TABLES) {
    const [schema, table] = qualified.split('.') as [string, string];
    const k = keys.find((x) => x.schema === schema && x.table === table)!;
    const file = `tables/${qualified}.csv`;
    const csv = await exportTableCsv(q, schema, table, k.key, path.join(dir, file));
    files.push({ path: file, kind: 'table-snapshot', bytes: csv.bytes, sha256: csv.sha256 });
    log.info(`backup: ${qualified}: ${csv.rows} rows → ${file}`);
  }
  return files;
}

/**
 * The reads that run beside pg_dump. The referenced auth.users rows come first and go to
 * `onAuthUsers` (the scratch copy waits for them); then, with `csvSession`, the three CSV
 * snapshots are written on a second session of the same snapshot while this one checksums every
 * table: the two longest reads overlap (and both overlap pg_dump).
 */
async function readSnapshot(
  q: Queryable,
  facts: SourceFacts,
  dir: string,
  log: Logger,
  opts: { csvSession?: SnapshotSession; onAuthUsers?: (u: AuthUsers) => void } = {},
): Promise<SnapshotReads> {
  const authUsers = await readAuthUsers(q, facts.schemas.application, dir);
  opts.onAuthUsers?.(authUsers);
  const rest = async () => {
    // the tables the source facts listed, in this same snapshot
    const tables = await tablesChecksums(q, facts.keys);
    const fingerprint = await readFingerprint(q, facts.schemas.application);
    const structure = await readStructure(q, facts.schemas.application, PIPELINE_PREFIX);
    return { tables, fingerprint, structure };
  };
  if (opts.csvSession) {
    const [csvFiles, others] = await Promise.all([opts.csvSession((q2) => exportSnapshotTables(q2, facts.keys, dir, log)), rest()]);
    return { authUsers, csvFiles, ...others };
  }
  const csvFiles = await exportSnapshotTables(q, facts.keys, dir, log);
  return { authUsers, csvFiles, ...(await rest()) };
}

async function writeText(file: string, text: string): Promise<{ bytes: number; sha256: string }> {
  await writeFile(file, text);
  return { bytes: Buffer.byteLength(text, 'utf8'), sha256: sha256Text(text) };
}

async function prepareOutDir(outDir: string): Promise<string> {
  const dir = path.resolve(outDir);
  const existing = await readdir(dir).catch(() => undefined);
  if (existing && existing.length > 0) {
    throw new UserError('OUT_DIR_NOT_EMPTY', `${dir} is not empty; a backup goes into a new folder`, { where: { field: 'out' } });
  }
  await mkdir(path.join(dir, 'functions'), { recursive: true });
  await mkdir(path.join(dir, 'tables'), { recursive: true });
  return dir;
}

/** The database a restore is proven in: given (`--scratch-url`, never dropped) or created on the server and dropped after. */
interface Scratch {
  url: string;
  label: string;
  db: Db;
  /** closes the connection and drops the database if it was created here */
  release(log: Logger): Promise<void>;
}

async function openScratch(serverUrl: string | undefined, scratchUrl: string | undefined): Promise<Scratch> {
  const made = scratchUrl
    ? { url: scratchUrl, label: maskConnectionString(scratchUrl), drop: async () => {} }
    : await createScratchDatabase(serverUrl!, 'backup_verify').then((x) => ({
        url: x.url,
        label: `scratch database ${x.name} (created and dropped)`,
        drop: x.drop,
      }));
  const db = await openDb(resolveTarget({ url: made.url, cwd: process.cwd() })).catch(async (e: unknown) => {
    await made.drop().catch(() => {});
    throw e;
  });
  return {
    url: made.url,
    label: made.label,
    db,
    release: async (log) => {
      await db.close().catch(() => {});
      await made.drop().catch((e: unknown) => log.warn(`verify: could not drop ${made.label}: ${(e as Error).message}`));
    },
  };
}

/**
 * The scratch restore that runs while pg_dump writes (see the head of this file). Each
 * application table is checksummed, one at a time on its own connection, as soon as pg_restore
 * has moved past its data; the comparison computes whatever was not done by then.
 */
interface StreamedRestore {
  scratch: Scratch;
  kill(): void;
  /** settles when pg_restore has exited: its error, if any */
  outcome: Promise<Error | undefined>;
  startedAt: number;
  endedAt: number | undefined;
  early: Map<string, Promise<TableChecksum | undefined>>;
}

function startScratchRestore(scratch: Scratch, tool: PgTool, facts: SourceFacts): { restore: StreamingRestore; streamed: StreamedRestore } {
  const early = new Map<string, Promise<TableChecksum | undefined>>();
  let queue: Promise<unknown> = Promise.resolve();
  const restore = startStreamingRestore({
    url: scratch.url,
    tool,
    schemas: [...facts.schemas.application, ...facts.schemas.pipeline],
    onTableLoaded: (qualified) => {
      const k = facts.keys.find((x) => `${x.schema}.${x.table}` === qualified);
      // only application tables: the pipeline schema is restored, never compared
      if (!k || early.has(qualified)) return;
      // a failed early read is simply done again after the restore
      const sum = queue.then(() => tableChecksum(scratch.db, k.schema, k.table, k.hashable)).catch(() => undefined);
      queue = sum;
      early.set(qualified, sum);
    },
  });
  const streamed: StreamedRestore = {
    scratch,
    kill: restore.kill,
    outcome: Promise.resolve(undefined),
    startedAt: Date.now(),
    endedAt: undefined,
    early,
  };
  streamed.outcome = restore.done
    .then(
      () => undefined,
      (e: Error) => e,
    )
    .finally(() => {
      streamed.endedAt = Date.now();
    });
  return { restore, streamed };
}

interface TakenSnapshot {
  facts: SourceFacts;
  reads: SnapshotReads;
  /** the dump file(s), first in the manifest's file list */
  dumpFiles: ManifestFile[];
  dump: Manifest['dump'];
  tool: { path: string; version: string };
  snapshot: string;
  database: string;
  streamed?: StreamedRestore;
}

/**
 * Real PostgreSQL: one REPEATABLE READ transaction exports its snapshot; pg_dump (custom
 * format, whole database) dumps that snapshot into the file and the scratch restore while the
 * same transaction does the reads. The scratch database is made ready meanwhile (`scratch`).
 */
async function takePgSnapshot(
  db: Db,
  ctx: {
    url: string;
    serverMajor: number;
    dir: string;
    lockTimeoutMs: number;
    compress: string | undefined;
    env: NodeJS.ProcessEnv;
    scratch: Promise<Scratch>;
    restoreTool: PgTool;
  },
  log: Logger,
): Promise<TakenSnapshot> {
  const { url, dir, lockTimeoutMs } = ctx;
  return db.withClient(
    async (c) => {
      // On failure there is no ROLLBACK: a snapshot read may still be waiting on this
      // connection and a ROLLBACK would queue behind it. withClient destroys a connection that
      // saw an error, which ends the read-only transaction on the server.
      await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await c.query(`SET LOCAL lock_timeout = ${Math.trunc(lockTimeoutMs)}`);
      await c.query('SET LOCAL statement_timeout = 0');
      const s = await c.query<{ id: string; db: string }>('SELECT pg_export_snapshot() AS id, current_database() AS db');
      const snapshot = s.rows[0]!.id;
      const facts = await readSourceFacts(c, dir);
      const scratch = await ctx.scratch;
      await prepareScratch(scratch.db, facts.schemas.application, log);
      const gate = await gateAuthUsers(scratch.db);
      log.info(`backup: snapshot ${snapshot} exported; pg_dump, the scratch restore and the snapshot reads run side by side`);
      // a second connection imports the same snapshot for the CSV snapshots
      const csvSession: SnapshotSession = (fn) =>
        db.withClient(
          async (c2) => {
            await c2.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
            await c2.query(`SET TRANSACTION SNAPSHOT '${snapshot.replace(/'/g, "''")}'`);
            await c2.query(`SET LOCAL lock_timeout = ${Math.trunc(lockTimeoutMs)}`);
            await c2.query('SET LOCAL statement_timeout = 0');
            const out = await fn(c2);
            await c2.query('COMMIT');
            return out;
          },
          { discard: true },
        );
      const { restore, streamed } = startScratchRestore(scratch, ctx.restoreTool, facts);
      const stop = new AbortController();
      // pg_dump imports the snapshot while this transaction holds it open
      const dumping = dumpArchive({
        url,
        serverMajor: ctx.serverMajor,
        file: path.join(dir, ARCHIVE_FILE),
        snapshot,
        lockWaitTimeoutMs: lockTimeoutMs,
        compress: ctx.compress,
        follower: restore.stdin,
        signal: stop.signal,
        env: ctx.env,
      });
      let dump: Awaited<typeof dumping>;
      let reads: SnapshotReads;
      try {
        [dump, reads] = await Promise.all([
          dumping,
          readSnapshot(c, facts, dir, log, { csvSession, onAuthUsers: gate.load }),
          gate.done,
        ]).then(([d, r]) => [d, r] as const);
      } catch (e) {
        // whichever part failed, the others stop: no pg_dump or pg_restore outlives the step
        stop.abort();
        gate.load(e instanceof Error ? e : new Error(String(e)));
        restore.kill();
        await Promise.all([dumping.catch(() => {}), streamed.outcome, gate.done.catch(() => {})]);
        throw e;
      }
      await c.query('COMMIT');
      return {
        facts,
        reads,
        dumpFiles: [{ path: ARCHIVE_FILE, kind: 'archive', bytes: dump.bytes, sha256: dump.sha256 }],
        dump: {
          engine: 'postgresql',
          format: 'custom',
          file: ARCHIVE_FILE,
          schemas: null,
          pipelineFile: null,
          compression: dump.compress,
          consistency: `pg_dump --snapshot=${snapshot}, exported by the transaction that did the reads`,
        },
        tool: { path: dump.tool.path, version: dump.tool.version },
        snapshot,
        database: s.rows[0]!.db,
        streamed,
      };
    },
    { discard: true },
  );
}

/**
 * The scratch copy's auth.users must hold the rows the application references before pg_restore
 * creates the foreign keys to it, at the very end. Rather than read them before starting pg_dump,
 * a transaction on the scratch takes auth.users in SHARE ROW EXCLUSIVE mode, the lock that
 * creating a foreign key to it needs, and holds it until the rows are in: pg_restore waits for
 * them whatever the timing, and the read runs beside pg_dump.
 */
export async function gateAuthUsers(sdb: Db): Promise<{ load: (u: AuthUsers | Error) => void; done: Promise<void> }> {
  let load!: (u: AuthUsers | Error) => void;
  const users = new Promise<AuthUsers | Error>((r) => (load = r));
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => (locked = r));
  const done = sdb.withTransaction(
    async (tx) => {
      await tx.query('LOCK TABLE auth.users IN SHARE ROW EXCLUSIVE MODE');
      locked();
      const u = await users;
      if (u instanceof Error) throw u;
      if (!u.entry || u.entry.rows === 0 || u.json === null) return;
      const cols = await tx.query<{ name: string }>(
        "SELECT column_name AS name FROM information_schema.columns WHERE table_schema = 'auth' AND table_name = 'users'",
      );
      await insertAuthUsers(
        tx,
        u.entry,
        u.json,
        cols.rows.map((x) => x.name),
      );
    },
    { statementTimeoutMs: 0 },
  );
  await Promise.race([isLocked, done]);
  return { load, done };
}

/**
 * The embedded database: the PGlite dump tool writes plain SQL of the application schemas
 * (with DROP … IF EXISTS first, so the same script restores a fresh copy and rolls back the
 * target) and, apart, of the pipeline schema. PGlite's single backend is held from the first
 * read to the last dump, so nothing writes in between.
 */
async function takeEmbeddedSnapshot(db: Db, dir: string, log: Logger): Promise<TakenSnapshot> {
  return withEmbeddedHold(asEmbedded(db), async (hold) => {
    // COPY into a blob and the reads share one transaction; the dump tool cannot run inside one
    await hold.q.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const facts = await readSourceFacts(hold.q, dir);
    const reads = await readSnapshot(hold.q, facts, dir, log);
    const database = (await hold.q.query<{ db: string }>('SELECT current_database() AS db')).rows[0]!.db;
    await hold.q.query('COMMIT');
    const main = await hold.dump({ file: path.join(dir, SQL_DUMP_FILE), schemas: facts.schemas.application, clean: true });
    const dumpFiles: ManifestFile[] = [{ path: SQL_DUMP_FILE, kind: 'archive', ...main }];
    if (facts.schemas.pipeline.length) {
      const pipeline = await hold.dump({ file: path.join(dir, PIPELINE_DUMP_FILE), schemas: facts.schemas.pipeline, clean: false });
      dumpFiles.push({ path: PIPELINE_DUMP_FILE, kind: 'archive', ...pipeline });
    }
    const toc = await readSqlDumpToc(path.join(dir, SQL_DUMP_FILE));
    const consistency = 'the single PGlite backend was held from the first read to the last dump: nothing could write in between';
    log.info(`backup: ${SQL_DUMP_FILE} written by ${PGLITE_DUMP_TOOL} (pg_dump ${toc.dumpedBy ?? '?'}), ${toc.entries.length} entries`);
    return {
      facts,
      reads,
      dumpFiles,
      dump: {
        engine: 'pglite',
        format: 'plain',
        file: SQL_DUMP_FILE,
        schemas: facts.schemas.application,
        pipelineFile: facts.schemas.pipeline.length ? PIPELINE_DUMP_FILE : null,
        compression: null,
        consistency,
      },
      tool: { path: PGLITE_DUMP_TOOL, version: toc.dumpedBy ?? 'unknown' },
      snapshot: 'embedded (single backend held)',
      database,
    };
  });
}

export async function backup(db: Db, opts: BackupOptions, log: Logger): Promise<BackupResult> {
  const t0 = Date.now();
  const startedAt = new Date().toISOString();
  const embedded = db.kind === 'pglite';
  const url = embedded ? undefined : urlOf(db);
  const server = await db.server();
  const env = opts.env ?? process.env;
  if (opts.compress !== undefined && !COMPRESSION_PATTERN.test(opts.compress)) {
    throw new UserError(
      'BAD_OPTION',
      `--compress ${opts.compress}: expected a level 0-9, or on pg_dump 16+ gzip|lz4|zstd[:level] or none`,
      { where: { field: 'compress' } },
    );
  }
  // both clients are needed: find them before anything is written
  const restoreTool = url ? await findPgTool('pg_restore', server.major, env) : undefined;
  if (url) await findPgTool('pg_dump', server.major, env);
  const lockTimeoutMs = opts.lockTimeoutMs ?? 60_000;
  const dir = await prepareOutDir(opts.outDir);
  log.info(`backup: ${db.label} (${embedded ? 'PGlite' : 'PostgreSQL'} ${server.version}) → ${dir}`);

  // the scratch database is created while the snapshot's first reads run
  const scratch = url
    ? openScratch(url, opts.scratchUrl).then((x) => {
        log.info(`backup: the proof restores into ${x.label}`);
        return x;
      })
    : undefined;
  scratch?.catch(() => {}); // awaited below; an early failure elsewhere must not leave it unhandled
  try {
    const taken =
      url && scratch && restoreTool
        ? await takePgSnapshot(
            db,
            { url, serverMajor: server.major, dir, lockTimeoutMs, compress: opts.compress, env, scratch, restoreTool },
            log,
          )
        : await takeEmbeddedSnapshot(db, dir, log);
    const { facts, reads } = taken;
    const snapshotMs = Date.now() - t0;
    const main = taken.dumpFiles[0]!;
    log.info(
      `backup: ${main.path} ${main.bytes} bytes (pg_dump ${taken.tool.version}), ${reads.tables.length} tables checksummed in ${snapshotMs} ms`,
    );

    const host = url ? sourceHost(url) : 'localhost (embedded, in process)';
    const sameHost = !url || LOCAL_HOSTS.has(host) || host === os.hostname();
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      startedAt,
      finishedAt: new Date().toISOString(),
      source: { label: db.label, database: taken.database, host, serverVersion: server.version, serverMajor: server.major },
      written: { host: os.hostname(), dir, sameHostAsDatabase: sameHost },
      snapshot: taken.snapshot,
      dump: taken.dump,
      tools: { pg_dump: taken.tool },
      schemas: facts.schemas,
      files: [...taken.dumpFiles, ...facts.files, ...(reads.authUsers.file ? [reads.authUsers.file] : []), ...reads.csvFiles],
      checksumAlgorithm: CHECKSUM_ALGORITHM,
      tables: reads.tables,
      functions: facts.functions,
      authUsers: reads.authUsers.entry,
      fingerprint: reads.fingerprint,
      structure: reads.structure,
    };
    const manifestSha256 = await writeManifest(dir, manifest);
    const warnings: string[] = [];
    // the embedded database is a laptop rehearsal: there is no PROD server to keep the dump off
    if (url && sameHost) {
      warnings.push(
        `the dump was written on the database's own host (${host}); runbook 4.2 wants it stored off the PROD server: copy the folder elsewhere (the workflow uploads it as an artifact)`,
      );
    }
    for (const w of warnings) log.warn(`backup: ${w}`);

    const t1 = Date.now();
    const verification = await verifyAgainstRestore(
      dir,
      manifest,
      manifestSha256,
      { env, ...(taken.streamed ? { streamed: taken.streamed } : {}) },
      log,
    );
    await writeVerification(dir, verification);
    return {
      dir,
      manifest,
      verification,
      ok: verification.ok,
      ms: { snapshot: snapshotMs, verify: Date.now() - t1, total: Date.now() - t0 },
      warnings,
    };
  } finally {
    await (await scratch?.catch(() => undefined))?.release(log);
  }
}

/** `astm53b backup verify DIR`: hashes again, then a fresh restore of the archive file into a scratch database. */
export async function verifyBackup(
  dir: string,
  opts: { serverUrl?: string; scratchUrl?: string; env?: NodeJS.ProcessEnv },
  log: Logger,
): Promise<Verification> {
  const abs = path.resolve(dir);
  const { manifest, sha256 } = await readManifest(abs);
  if (manifest.dump.format === 'custom' && !opts.serverUrl && !opts.scratchUrl) {
    throw new UserError(
      'MISSING_OPTION',
      'verification restores the backup: give --url (a server where a scratch database can be created) or --scratch-url',
      {
        where: { field: 'url' },
      },
    );
  }
  const v = await verifyAgainstRestore(abs, manifest, sha256, { ...opts, env: opts.env ?? process.env }, log);
  await writeVerification(abs, v);
  return v;
}

const NOT_COMPARED_NOTE =
  'Supabase-managed and other non-application schemas are kept in the archive but are neither restored into the scratch database nor compared; ' +
  'only the auth.users rows the application references are loaded there, so that its foreign keys hold.';

const EMBEDDED_NOT_COMPARED_NOTE =
  "The embedded dump holds the application schemas (and, apart, the pipeline schema) only; the shim's auth schema is recreated in the scratch copy " +
  'and only the auth.users rows the application references are loaded there, so that its foreign keys hold.';

async function verifyAgainstRestore(
  dir: string,
  manifest: Manifest,
  manifestSha256: string,
  opts: { serverUrl?: string | undefined; scratchUrl?: string | undefined; env: NodeJS.ProcessEnv; streamed?: StreamedRestore },
  log: Logger,
): Promise<Verification> {
  const failures: string[] = [];
  const v: Verification = {
    format: 'astm53b-backup-verification/1',
    ok: false,
    checkedAt: new Date().toISOString(),
    manifestSha256,
    hashes: await checkFileHashes(dir, manifest),
    archive: { readable: false, entries: 0, dumpedBy: null },
    restore: null,
    comparison: null,
    notCompared: {
      schemas: manifest.schemas.excluded,
      note: manifest.dump.format === 'plain' ? EMBEDDED_NOT_COMPARED_NOTE : NOT_COMPARED_NOTE,
    },
    failures,
  };
  const streamed = opts.streamed;
  // a streamed restore that cannot prove anything is stopped rather than waited for
  const abandon = async () => {
    streamed?.kill();
    await streamed?.outcome;
    return v;
  };
  for (const p of v.hashes.problems) failures.push(`${p.path}: ${p.problem}`);
  if (!v.hashes.ok) return abandon();
  if (manifest.dump.format === 'plain') return verifyPlainRestore(dir, manifest, v, log);

  const archive = path.join(dir, ARCHIVE_FILE);
  try {
    const toc = await listArchive({ file: archive, serverMajor: manifest.source.serverMajor, env: opts.env });
    v.archive = { readable: true, entries: toc.entries.length, dumpedBy: toc.dumpedBy ?? null };
    if (toc.entries.length === 0) failures.push(`${ARCHIVE_FILE}: the table of contents is empty`);
  } catch (e) {
    v.archive = { readable: false, entries: 0, dumpedBy: null, error: (e as Error).message };
    failures.push(`${ARCHIVE_FILE}: pg_restore --list failed: ${(e as Error).message}`);
    return abandon();
  }

  const schemas = [...manifest.schemas.application, ...manifest.schemas.pipeline];
  // no scratch database (no CREATEDB, unreachable): the user's to fix, said before any work
  const scratch = streamed ? streamed.scratch : await openScratch(opts.serverUrl, opts.scratchUrl);
  // the blocks the restore does not read are read apart, while the restore and the comparison go on
  const wholeRead = readArchiveBlocks({
    file: archive,
    serverMajor: manifest.source.serverMajor,
    excludeSchemas: schemas,
    env: opts.env,
  }).then(
    () => undefined,
    (e: Error) => e,
  );
  const started = Date.now();
  try {
    if (streamed) {
      v.restore = { into: scratch.label, from: 'dump stream', schemas, ms: 0 };
      const error = await streamed.outcome;
      v.restore.ms = (streamed.endedAt ?? Date.now()) - streamed.startedAt;
      if (error) throw error;
    } else {
      v.restore = { into: scratch.label, from: 'archive file', schemas, ms: 0 };
      const server = await scratch.db.server();
      await prepareScratch(scratch.db, manifest.schemas.application, log, await recordedAuthUsers(dir, manifest));
      log.info(`verify: restoring ${schemas.join(', ')} into ${scratch.label}`);
      await restoreArchive({
        url: scratch.url,
        file: archive,
        serverMajor: Math.max(server.major, manifest.source.serverMajor),
        schemas,
        env: opts.env,
      });
      v.restore.ms = Date.now() - started;
    }
    const known = streamed ? await settled(streamed.early) : undefined;
    if (known) v.restore.checkedAsLoaded = [...known.keys()].sort();
    v.comparison = await compareWithManifest(scratch.db, manifest, known);
    describeMismatches(v.comparison, failures);
  } catch (e) {
    const why = (e as Error).message;
    if (v.restore) v.restore.error = why;
    failures.push(`restore into ${scratch.label} failed: ${why}`);
  } finally {
    // a streamed restore's scratch belongs to the backup step, which releases it
    if (!streamed) await scratch.release(log);
  }
  const unreadable = await wholeRead;
  if (unreadable) {
    v.archive = { ...v.archive, readable: false, error: unreadable.message };
    failures.push(
      `${ARCHIVE_FILE}: reading the blocks of ${manifest.schemas.excluded.join(', ') || 'the other schemas'} failed: ${unreadable.message}`,
    );
  }
  v.ok = failures.length === 0 && v.comparison?.ok === true;
  log.info(`verify: ${v.ok ? 'the restored copy equals the source' : `FAILED (${failures.length} problem(s))`}`);
  return v;
}

async function recordedAuthUsers(dir: string, manifest: Manifest): Promise<{ entry: Manifest['authUsers']; json: string | null }> {
  return { entry: manifest.authUsers, json: manifest.authUsers ? await readFile(path.join(dir, manifest.authUsers.file), 'utf8') : null };
}

async function settled(early: Map<string, Promise<TableChecksum | undefined>>): Promise<Map<string, TableChecksum>> {
  const out = new Map<string, TableChecksum>();
  for (const [table, sum] of early) {
    const r = await sum;
    if (r) out.set(table, r);
  }
  return out;
}

/**
 * The embedded counterpart of the pg_restore test: pg_dump's closing line proves the script is
 * whole (the role of `pg_restore --list`), then it is run into a fresh in-memory PGlite (the
 * shim and the referenced auth.users first, the pipeline schema before the application's,
 * whose freeze triggers call it) and compared exactly as a PostgreSQL restore is.
 */
async function verifyPlainRestore(dir: string, manifest: Manifest, v: Verification, log: Logger): Promise<Verification> {
  const failures = v.failures;
  const scripts = [manifest.dump.pipelineFile, manifest.dump.file].filter((f): f is string => f !== null);
  let entries = 0;
  let dumpedBy: string | null = null;
  for (const file of scripts) {
    const toc = await readSqlDumpToc(path.join(dir, file));
    if (file === manifest.dump.file) {
      entries = toc.entries.length;
      dumpedBy = toc.dumpedBy ?? null;
    }
    if (!toc.complete) failures.push(`${file}: pg_dump's opening or closing line is missing: the script is truncated or not a dump`);
    else if (toc.entries.length === 0) failures.push(`${file}: the script lists no object`);
  }
  v.archive = { readable: failures.length === 0, entries, dumpedBy };
  if (failures.length) return v;

  const started = Date.now();
  const sdb = await openScratchPglite();
  v.restore = { into: sdb.label, from: 'archive file', schemas: [...manifest.schemas.application, ...manifest.schemas.pipeline], ms: 0 };
  try {
    await prepareScratch(sdb, manifest.schemas.application, log, await recordedAuthUsers(dir, manifest));
    log.info(`verify: running ${scripts.join(', ')} into ${sdb.label}`);
    for (const file of scripts) await restoreSqlDump(sdb, path.join(dir, file), file);
    v.restore.ms = Date.now() - started;
    v.comparison = await compareWithManifest(sdb, manifest);
    describeMismatches(v.comparison, failures);
  } catch (e) {
    // a failing statement is named file:line
    const why = e instanceof UserError ? e.describe() : (e as Error).message;
    v.restore.error = why;
    failures.push(`restore into ${sdb.label} failed: ${why}`);
  } finally {
    await sdb.close().catch(() => {});
  }
  v.ok = failures.length === 0 && v.comparison?.ok === true;
  log.info(`verify: ${v.ok ? 'the restored copy equals the source' : `FAILED (${failures.length} problem(s))`}`);
  return v;
}

/** An empty scratch gets the shim where it has no auth schema; then, given, the referenced auth.users rows. */
async function prepareScratch(
  sdb: Db,
  application: readonly string[],
  log: Logger,
  authUsers?: { entry: Manifest['authUsers']; json: string | null },
): Promise<void> {
  await sdb.withTransaction(
    async (tx) => {
      const busy = await tx.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ANY($1) AND c.relkind IN ('r','p','v','m')`,
        [application],
      );
      if ((busy.rows[0]?.n ?? 0) > 0) {
        throw new UserError(
          'SCRATCH_NOT_EMPTY',
          `the scratch database already has tables in ${application.join(', ')}; give an empty one`,
          { where: { field: 'scratch-url' } },
        );
      }
      await applyShimIfNeeded(tx, log);
      if (!authUsers?.entry || authUsers.entry.rows === 0 || authUsers.json === null) return;
      const cols = await tx.query<{ name: string }>(
        "SELECT column_name AS name FROM information_schema.columns WHERE table_schema = 'auth' AND table_name = 'users'",
      );
      await insertAuthUsers(
        tx,
        authUsers.entry,
        authUsers.json,
        cols.rows.map((x) => x.name),
      );
    },
    { statementTimeoutMs: 0 },
  );
}

/** The recorded auth.users rows, in the columns the scratch's auth.users also has. */
async function insertAuthUsers(
  tx: Queryable,
  entry: NonNullable<Manifest['authUsers']>,
  json: string,
  present: readonly string[],
): Promise<void> {
  const usable = entry.columns
    .filter((c) => present.includes(c))
    .map(quoteIdent)
    .join(', ');
  await tx.query(
    `INSERT INTO auth.users (${usable}) SELECT ${usable} FROM json_populate_recordset(NULL::auth.users, $1::json) ON CONFLICT DO NOTHING`,
    [json],
  );
}

/**
 * What the backup recorded against what a database holds now: every application table's
 * count and checksum, the two exported functions, and the catalog fingerprint (functions,
 * triggers, policies, RLS, grants). Used by the scratch verification and by the rollback proof.
 * `known`: checksums already taken of this database (a streamed restore's, table by table).
 */
export async function compareWithManifest(
  q: Queryable,
  manifest: Manifest,
  known?: ReadonlyMap<string, TableChecksum>,
): Promise<Comparison> {
  const actual = await tablesChecksums(q, await readTableKeys(q, manifest.schemas.application, PIPELINE_PREFIX), known);
  const names = [...new Set([...manifest.tables.map((t) => t.table), ...actual.map((t) => t.table)])].sort();
  const tables = names.map((table) => {
    const e = manifest.tables.find((t) => t.table === table);
    const a = actual.find((t) => t.table === table);
    return {
      table,
      expected: e ? { rows: e.rows, checksum: e.checksum } : null,
      actual: a ? { rows: a.rows, checksum: a.checksum } : null,
      match: !!e && !!a && e.rows === a.rows && e.checksum === a.checksum,
    };
  });
  const functions = [];
  for (const f of manifest.functions) {
    const now = await readFunctionExport(q, f.name);
    const actualSha256 = now.signatures.length ? sha256Text(now.text) : null;
    functions.push({ name: f.name, expectedSha256: f.sha256, actualSha256, match: actualSha256 === f.sha256 });
  }
  const fp = await readFingerprint(q, manifest.schemas.application);
  const changes = diffFingerprints(manifest.fingerprint, fp);
  const catalog = { match: changes.length === 0, expectedSha256: manifest.fingerprint.sha256, actualSha256: fp.sha256, changes };
  const shape = diffStructures(manifest.structure, await readStructure(q, manifest.schemas.application, PIPELINE_PREFIX));
  const structure = { match: shape.length === 0, changes: shape };
  return {
    tables,
    functions,
    catalog,
    structure,
    ok: tables.every((t) => t.match) && functions.every((f) => f.match) && catalog.match && structure.match,
  };
}

export function describeMismatches(c: Comparison, failures: string[]): void {
  for (const t of c.tables.filter((x) => !x.match)) {
    failures.push(
      !t.expected
        ? `${t.table}: not in the backup`
        : !t.actual
          ? `${t.table}: missing`
          : `${t.table}: ${t.actual.rows} rows checksum ${t.actual.checksum.slice(0, 12)}…, backup ${t.expected.rows} rows checksum ${t.expected.checksum.slice(0, 12)}…`,
    );
  }
  for (const f of c.functions.filter((x) => !x.match)) failures.push(`${f.name}: definition differs from the exported one`);
  for (const ch of [...c.catalog.changes, ...c.structure.changes]) failures.push(`${ch.kind} ${ch.name}: ${ch.change}`);
}
