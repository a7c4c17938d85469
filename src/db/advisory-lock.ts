import { UserError } from '../errors.js';
import type { Queryable } from './types.js';

/**
 * The pipeline's advisory locks, one key per kind of step, so that two runs (two workflow
 * runs, or a laptop and CI) never change the same database at once. Transaction-scoped:
 * released by COMMIT, ROLLBACK, or the server when the connection dies, so a killed run
 * never leaves the lock behind.
 */
const CLASS_ID = 53053; // "53B" + "53": one class for every lock of this pipeline

export const PIPELINE_LOCKS = {
  /** creating the pipeline's own schema */
  state: 0,
  /** anything that changes the app's schema or data: apply, staging reset, freeze */
  change: 1,
} as const;

export type PipelineLock = keyof typeof PIPELINE_LOCKS;

/**
 * Waits at most `waitMs` for the lock (lock_timeout applies to advisory locks), then fails
 * with who holds it. Must be called inside a transaction; it leaves lock_timeout at `restoreMs`.
 */
export async function lockPipeline(tx: Queryable, lock: PipelineLock, waitMs: number, restoreMs: number, step: string): Promise<void> {
  await tx.query(`SET LOCAL lock_timeout = ${Math.max(1, Math.trunc(waitMs))}`);
  try {
    await tx.query('SELECT pg_advisory_xact_lock($1, $2)', [CLASS_ID, PIPELINE_LOCKS[lock]]);
  } catch (e) {
    if ((e as { code?: string }).code !== '55P03') throw e;
    throw new UserError(
      'PIPELINE_BUSY',
      `${step}: another pipeline step holds the ${lock} lock on this database; gave up after ${waitMs} ms`,
      {
        hint: 'wait for the other run to finish (see pg_stat_activity, application_name astm53b-pipeline), then retry',
        cause: e,
      },
    );
  }
  await tx.query(`SET LOCAL lock_timeout = ${Math.max(0, Math.trunc(restoreMs))}`);
}

/** The backends holding or waiting for a pipeline lock (for tests and diagnostics). */
export async function pipelineLockHolders(q: Queryable, lock: PipelineLock): Promise<{ pid: number; granted: boolean }[]> {
  const r = await q.query<{ pid: number; granted: boolean }>(
    `SELECT pid, granted FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND objid = $2 AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) ORDER BY pid`,
    [CLASS_ID, PIPELINE_LOCKS[lock]],
  );
  return r.rows;
}
