import type { Logger } from '../logger.js';
import { sqlPath } from '../paths.js';
import { lockPipeline } from '../db/advisory-lock.js';
import { readSqlFile, runStatements } from '../db/sql-file.js';
import type { Queryable } from '../db/types.js';

/**
 * The pipeline's own records in schema `astm53b` (sql/pipeline/state.sql,
 * sql/README-pipeline.md): environment marker, apply ledger, freeze state and log. Created on
 * first use by the steps that write; steps that only read never create it, so a refused step
 * leaves no trace.
 */
export const STATE_FILE = 'pipeline/state.sql';

export async function stateExists(q: Queryable): Promise<boolean> {
  const r = await q.query<{ ok: boolean }>("SELECT to_regclass('astm53b.environment') IS NOT NULL AS ok");
  return r.rows[0]?.ok === true;
}

/** Brings the schema up to date inside the caller's transaction (idempotent). */
export async function ensureStateSchema(tx: Queryable, log: Logger, lockTimeoutMs = 5_000): Promise<void> {
  await lockPipeline(tx, 'state', 30_000, lockTimeoutMs, 'pipeline state');
  const name = `sql/${STATE_FILE}`;
  await runStatements(tx, await readSqlFile(sqlPath(STATE_FILE), name), name, { log });
}
