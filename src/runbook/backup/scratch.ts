import { UserError } from '../../errors.js';
import { writeFailure } from '../../write-error.js';
import type { Logger } from '../../logger.js';
import { quoteIdent, tableChecksum } from '../../db/checksum.js';
import { exportTableCsv, type CsvExport } from '../../db/csv-export.js';
import { startStreamingRestore, type StreamingRestore } from '../../db/dump.js';
import { openDb } from '../../db/open.js';
import type { PgTool } from '../../db/pg-tools.js';
import { createScratchDatabase } from '../../db/scratch.js';
import { maskConnectionString } from '../../db/secrets.js';
import { resolveTarget } from '../../db/target.js';
import type { Db, Queryable } from '../../db/types.js';
import { applyShimIfNeeded } from '../db-init.js';
import type { AuthUsers, SourceFacts } from './source-reads.js';
import type { TableChecksum } from '../../results/common.js';
import type { Manifest } from '../../results/backup.js';

/** The database a restore is proven in: given (`--scratch-url`, never dropped) or created on the server and dropped after. */
export interface Scratch {
  url: string;
  label: string;
  db: Db;
  /** closes the connection and drops the database if it was created here */
  release(log: Logger): Promise<void>;
}

export async function openScratch(serverUrl: string | undefined, scratchUrl: string | undefined): Promise<Scratch> {
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

/** What a scratch restore restores: the application schemas and the pipeline's (our triggers may call it). */
export const restoredSchemas = (s: Pick<Manifest['schemas'], 'application' | 'pipeline'>): string[] => [...s.application, ...s.pipeline];

/**
 * The scratch restore that runs while pg_dump writes (see the head of index.ts). Each
 * application table is checksummed, one at a time on its own connection, as soon as pg_restore
 * has moved past its data; the comparison computes whatever was not done by then.
 *
 * With `csv`, the CSV snapshots are written from this copy, by the very query a source export
 * uses (src/db/csv-export.ts), once pg_restore has built the primary keys: on their own
 * connection, while pg_restore builds the other indexes and constraints. The source is then read
 * once (by pg_dump) for those rows instead of twice, and the comparison proves the copy equal to
 * the source table by table (count and checksum) before the backup is declared verified.
 */
export interface StreamedRestore {
  scratch: Scratch;
  kill(): void;
  /** settles when pg_restore has exited: its error, if any */
  outcome: Promise<Error | undefined>;
  startedAt: number;
  endedAt: number | undefined;
  early: Map<string, Promise<TableChecksum | undefined>>;
  /**
   * The CSV snapshots written from this copy, by table. Each settles with the export, or with
   * undefined when this copy could not give it (the restore failed first, a read failed): the
   * caller exports that table from the source snapshot instead. A file that cannot be written
   * rejects (WRITE_FAILED): the step stops.
   */
  csv: Map<string, Promise<CsvExport | undefined>>;
}

export function startScratchRestore(
  scratch: Scratch,
  tool: PgTool,
  facts: SourceFacts,
  csv?: { tables: readonly string[]; fileOf: (qualified: string) => string },
): { restore: StreamingRestore; streamed: StreamedRestore } {
  const early = new Map<string, Promise<TableChecksum | undefined>>();
  let queue: Promise<unknown> = Promise.resolve();
  const exports = new Map<string, Promise<CsvExport | undefined>>();
  let keysBuilt!: (go: boolean) => void;
  const exportsMayStart = new Promise<boolean>((r) => (keysBuilt = r));
  const restore = startStreamingRestore({
    url: scratch.url,
    tool,
    schemas: restoredSchemas(facts.schemas),
    onTableLoaded: (qualified) => {
      const k = facts.keys.find((x) => `${x.schema}.${x.table}` === qualified);
      // only application tables: the pipeline schema is restored, never compared
      if (!k || early.has(qualified)) return;
      // a failed early read is simply done again after the restore
      const sum = queue.then(() => tableChecksum(scratch.db, k.schema, k.table, k.hashable)).catch(() => undefined);
      queue = sum;
      early.set(qualified, sum);
    },
    onKeysBuilt: () => keysBuilt(true),
  });
  const streamed: StreamedRestore = {
    scratch,
    kill: restore.kill,
    outcome: Promise.resolve(undefined),
    startedAt: Date.now(),
    endedAt: undefined,
    early,
    csv: exports,
  };
  streamed.outcome = restore.done
    .then(
      () => undefined,
      (e: Error) => e,
    )
    .finally(() => {
      streamed.endedAt = Date.now();
    });
  // a restore that fails before its keys are built gives no snapshot: the source gives them
  void streamed.outcome.then(() => keysBuilt(false));
  let csvQueue: Promise<unknown> = exportsMayStart;
  for (const qualified of csv?.tables ?? []) {
    const k = facts.keys.find((x) => `${x.schema}.${x.table}` === qualified);
    const one = csvQueue.then(async () => {
      // by now every table's data is in (pg_restore restores the data before the keys)
      if (!k || !(await exportsMayStart) || !early.has(qualified)) return undefined;
      return exportTableCsv(scratch.db, k.schema, k.table, k.key, csv!.fileOf(qualified)).catch((e: unknown) => {
        if (writeFailure(e, csv!.fileOf(qualified))) throw e;
        return undefined;
      });
    });
    csvQueue = one.catch(() => undefined);
    exports.set(qualified, one);
  }
  return { restore, streamed };
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

/** What the streamed restore's early work gave, by table (what failed or was not done is left out, to be done again). */
export async function settled<T>(early: Map<string, Promise<T | undefined>>): Promise<Map<string, T>> {
  const out = new Map<string, T>();
  for (const [table, p] of early) {
    const r = await p.catch(() => undefined);
    if (r) out.set(table, r);
  }
  return out;
}

/**
 * An empty scratch gets the shim where it has no auth schema, and, for pg_restore, every schema
 * it fills (`schemas`): `pg_restore -n` restores what is in a schema but never the schema
 * itself (its CREATE SCHEMA entry belongs to no schema), so one other than public (ML_PP's
 * astm, the pipeline's astm53b) must exist first. A plain SQL dump creates its schemas itself.
 * Then, given, the referenced auth.users rows.
 */
export async function prepareScratch(
  sdb: Db,
  application: readonly string[],
  log: Logger,
  opts: { schemas?: readonly string[]; authUsers?: { entry: Manifest['authUsers']; json: string | null } } = {},
): Promise<void> {
  const authUsers = opts.authUsers;
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
      for (const schema of opts.schemas ?? []) await tx.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
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
