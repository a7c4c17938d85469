import { UserError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { quoteIdent, tableChecksum } from '../../db/checksum.js';
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
 */
export interface StreamedRestore {
  scratch: Scratch;
  kill(): void;
  /** settles when pg_restore has exited: its error, if any */
  outcome: Promise<Error | undefined>;
  startedAt: number;
  endedAt: number | undefined;
  early: Map<string, Promise<TableChecksum | undefined>>;
}

export function startScratchRestore(
  scratch: Scratch,
  tool: PgTool,
  facts: SourceFacts,
): { restore: StreamingRestore; streamed: StreamedRestore } {
  const early = new Map<string, Promise<TableChecksum | undefined>>();
  let queue: Promise<unknown> = Promise.resolve();
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

export async function settled(early: Map<string, Promise<TableChecksum | undefined>>): Promise<Map<string, TableChecksum>> {
  const out = new Map<string, TableChecksum>();
  for (const [table, sum] of early) {
    const r = await sum;
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
