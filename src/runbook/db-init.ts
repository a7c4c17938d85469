import { UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import { sqlPath } from '../paths.js';
import { schemaExists } from '../db/catalog.js';
import { readSqlFile, runStatements, type SqlRunReport } from '../db/sql-file.js';
import type { SqlStatement } from '../db/sql-split.js';
import type { Db, Queryable } from '../db/types.js';

/**
 * `astm53b db init`: our model of ML_PP's stock module (sql/README.md) plus the demo depot,
 * on the embedded database or a real PostgreSQL. Everything runs in ONE transaction, so a
 * failure anywhere leaves the target exactly as it was.
 */
export interface InitOptions {
  /** 1 = the demo depot as the runbook found PROD; N > 1 adds about 10 000 movement rows per unit (benchmarks) */
  scale: number;
  /** seeds the deterministic generator of demo values */
  seed: number;
}

export interface InitResult {
  target: string;
  scale: number;
  seed: number;
  shimApplied: boolean;
  files: SqlRunReport[];
  ms: number;
}

export const FIXTURE_FILES = {
  shim: 'supabase/shim.sql',
  schema: 'schema/ml_pp_stock.sql',
  grants: 'supabase/grants.sql',
  demo: 'seed/demo.sql',
  scale: 'seed/scale.sql',
} as const;

export function validateInitOptions(o: { scale?: unknown; seed?: unknown }): InitOptions {
  const scale = o.scale === undefined ? 1 : Number(o.scale);
  const seed = o.seed === undefined ? 1 : Number(o.seed);
  if (!Number.isInteger(scale) || scale < 1) {
    throw new UserError('BAD_OPTION', `--scale must be a positive integer, got "${String(o.scale)}"`, { where: { field: 'scale' } });
  }
  if (scale > 1000) {
    throw new UserError('BAD_OPTION', `--scale ${scale} would generate about ${scale * 10_000} rows; the limit is 1000`, {
      where: { field: 'scale' },
    });
  }
  if (!Number.isInteger(seed) || seed < 0 || seed > 2_147_483_647) {
    throw new UserError('BAD_OPTION', `--seed must be an integer between 0 and 2147483647, got "${String(o.seed)}"`, {
      where: { field: 'seed' },
    });
  }
  return { scale, seed };
}

/** Our fixture files carry BEGIN/COMMIT so psql can run them alone; here the caller's transaction frames them. */
export const dropTransactionControl = (s: SqlStatement): SqlStatement | undefined =>
  /^(BEGIN|COMMIT|START\s+TRANSACTION|END)\s*$/i.test(s.sql) ? undefined : s;

async function runFixtureFile(q: Queryable, rel: string, log: Logger, settings?: Record<string, string>): Promise<SqlRunReport> {
  const name = `sql/${rel}`;
  const text = await readSqlFile(sqlPath(rel), name);
  log.info(`db init: ${name}`);
  return runStatements(q, text, name, { filter: dropTransactionControl, log, ...(settings ? { settings } : {}) });
}

export async function isInitialised(q: Queryable): Promise<boolean> {
  const r = await q.query<{ t: string | null }>("SELECT to_regclass('public.receptions')::text AS t");
  return r.rows[0]?.t != null;
}

/** The Supabase shim, only where the target has no `auth` schema (a real Supabase has its own). */
export async function applyShimIfNeeded(q: Queryable, log: Logger): Promise<SqlRunReport | undefined> {
  if (await schemaExists(q, 'auth')) return undefined;
  return runFixtureFile(q, FIXTURE_FILES.shim, log);
}

export async function initFixture(db: Db, opts: InitOptions, log: Logger): Promise<InitResult> {
  const started = Date.now();
  const files: SqlRunReport[] = [];
  let shimApplied = false;
  await db.withClient(
    async (c) => {
      if (await isInitialised(c)) {
        throw new UserError('ALREADY_INITIALISED', `${db.label} already has public.receptions; db init only fills an empty database`, {
          hint: db.kind === 'pglite' ? 'add --reset to start the embedded database afresh' : 'create a new database for it',
        });
      }
      await c.query('BEGIN');
      try {
        // generating 1M rows must not hit the default 60 s statement cap of runbook steps
        await c.query('SET LOCAL statement_timeout = 0');
        const shim = await applyShimIfNeeded(c, log);
        if (shim) {
          files.push(shim);
          shimApplied = true;
        }
        const params = { 'astm53b.seed': String(opts.seed), 'astm53b.scale': String(opts.scale) };
        files.push(await runFixtureFile(c, FIXTURE_FILES.schema, log));
        files.push(await runFixtureFile(c, FIXTURE_FILES.grants, log));
        files.push(await runFixtureFile(c, FIXTURE_FILES.demo, log, params));
        if (opts.scale > 1) files.push(await runFixtureFile(c, FIXTURE_FILES.scale, log, params));
        await c.query('COMMIT');
      } catch (e) {
        await c.query('ROLLBACK').catch(() => {});
        throw e;
      }
    },
    { discard: true },
  );
  return { target: db.label, scale: opts.scale, seed: opts.seed, shimApplied, files, ms: Date.now() - started };
}
