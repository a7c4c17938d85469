import { UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import { lockPipeline } from '../db/advisory-lock.js';
import type { Db, Queryable } from '../db/types.js';
import { readAppActivity } from './app-activity.js';
import { ensureStateSchema, stateExists } from './state-schema.js';
import type { FreezeResult, FreezeStatus } from '../results/freeze.js';
import type { RunContext } from '../results/run-context.js';

/**
 * `astm53b freeze on|off|status` (runbook 3.4 / 4.1): the DATABASE refuses every write to
 * receptions and sorties_produit while the migration runs, with SQLSTATE A53F0 and a message
 * saying why. `on` attaches statement-level triggers named astm53b_freeze (function
 * astm53b.freeze_guard, sql/pipeline/state.sql); `off` drops them, so the catalog is then
 * exactly what it was, and the fingerprint, which skips astm53b_* objects, is equal even
 * while frozen. The pipeline's own controlled writes pass with `allowFrozenWrites`.
 */
export const FROZEN_TABLES = ['receptions', 'sorties_produit'] as const;
export const FREEZE_TRIGGER = 'astm53b_freeze';
export const FREEZE_SQLSTATE = 'A53F0';

/** Inside the caller's transaction: the pipeline's controlled writes pass the freeze. */
export async function allowFrozenWrites(tx: Queryable): Promise<void> {
  await tx.query("SELECT set_config('astm53b.freeze_bypass', 'on', true)");
}

export interface FreezeOptions {
  reason: string;
  force: boolean;
  run: RunContext;
  windowMinutes?: number;
  appRoles?: string[];
  lockWaitMs?: number;
}

async function guardedTables(q: Queryable): Promise<string[]> {
  const r = await q.query<{ t: string }>(
    `SELECT c.relname AS t FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND g.tgname = $1 AND NOT g.tgisinternal ORDER BY 1`,
    [FREEZE_TRIGGER],
  );
  return r.rows.map((x) => x.t);
}

async function readStatus(q: Queryable, target: string): Promise<FreezeStatus> {
  const tables = await guardedTables(q);
  let row: { frozen: boolean; since: string; by_whom: string; reason: string; run_id: string } | undefined;
  if (await stateExists(q)) {
    row = (
      await q.query<{ frozen: boolean; since: string; by_whom: string; reason: string; run_id: string }>(
        'SELECT frozen, since::text, by_whom, reason, run_id FROM astm53b.freeze_state',
      )
    ).rows[0];
  }
  const frozen = row?.frozen === true;
  const consistent = frozen ? tables.length === FROZEN_TABLES.length : tables.length === 0;
  return {
    target,
    frozen,
    ...(row && frozen ? { since: row.since, by: row.by_whom, reason: row.reason, runId: row.run_id } : {}),
    guardedTables: tables,
    consistent,
  };
}

export async function freezeStatus(db: Db): Promise<FreezeStatus> {
  return db.withTransaction((tx) => readStatus(tx, db.label), { readOnly: true });
}

export function validateReason(reason: unknown, required: boolean): string {
  const r = typeof reason === 'string' ? reason.trim() : '';
  if (!r && required)
    throw new UserError('BAD_OPTION', '--reason is required: say why the depot cannot enter receptions and sorties', {
      where: { field: 'reason' },
    });
  if (r.length > 500)
    throw new UserError('BAD_OPTION', `--reason is ${r.length} characters; keep it under 500`, { where: { field: 'reason' } });
  return r;
}

export async function freezeOn(db: Db, opts: FreezeOptions, log: Logger): Promise<FreezeResult> {
  const reason = validateReason(opts.reason, true);
  return db.withTransaction(async (tx) => {
    await lockPipeline(tx, 'change', opts.lockWaitMs ?? 10_000, 5_000, 'freeze on');
    const before = await readStatus(tx, db.label);
    if (before.frozen && before.consistent) {
      log.info(`freeze: already frozen since ${before.since} by ${before.by} (${before.reason}); nothing done`);
      return { ...before, action: 'on' as const, changed: false, forced: false };
    }
    const activity = await readAppActivity(tx, {
      ...(opts.windowMinutes !== undefined ? { windowMinutes: opts.windowMinutes } : {}),
      ...(opts.appRoles ? { appRoles: opts.appRoles } : {}),
    });
    if (activity.writing && !opts.force) {
      throw new UserError('APP_ACTIVE', `refusing to freeze: the app is visibly writing: ${activity.seen.join('; ')}`, {
        hint: 'wait until the depot has stopped entering movements, or pass --force once you have checked these yourself',
      });
    }
    if (activity.writing) log.warn(`freeze on --force despite: ${activity.seen.join('; ')}`);
    await ensureStateSchema(tx, log);
    const now = (await tx.query<{ now: string }>('SELECT now()::text AS now')).rows[0]!.now;
    const detail = `frozen since ${now} by ${opts.run.actor}, run ${opts.run.runId}: ${reason}`;
    for (const t of FROZEN_TABLES) {
      await tx.query(`DROP TRIGGER IF EXISTS ${FREEZE_TRIGGER} ON public.${t}`);
      await tx.query(
        `CREATE TRIGGER ${FREEZE_TRIGGER} BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON public.${t} FOR EACH STATEMENT EXECUTE FUNCTION astm53b.freeze_guard(${quoteLiteral(detail)})`,
      );
    }
    await tx.query(
      `INSERT INTO astm53b.freeze_state (frozen, since, by_whom, reason, run_id) VALUES (true, now(), $1, $2, $3)
       ON CONFLICT (singleton) DO UPDATE SET frozen = true, since = now(), by_whom = EXCLUDED.by_whom, reason = EXCLUDED.reason, run_id = EXCLUDED.run_id`,
      [opts.run.actor, reason, opts.run.runId],
    );
    await tx.query('INSERT INTO astm53b.freeze_log (action, by_whom, reason, run_id, forced, activity) VALUES ($1, $2, $3, $4, $5, $6)', [
      'on',
      opts.run.actor,
      reason,
      opts.run.runId,
      opts.force && activity.writing,
      JSON.stringify(activity),
    ]);
    const after = await readStatus(tx, db.label);
    log.info(`freeze: ON (${FROZEN_TABLES.join(', ')} refuse writes with SQLSTATE ${FREEZE_SQLSTATE})`);
    return { ...after, action: 'on' as const, changed: true, forced: opts.force && activity.writing, activity };
  });
}

export async function freezeOff(db: Db, opts: Omit<FreezeOptions, 'force'>, log: Logger): Promise<FreezeResult> {
  const reason = validateReason(opts.reason, false) || 'migration window closed';
  return db.withTransaction(async (tx) => {
    await lockPipeline(tx, 'change', opts.lockWaitMs ?? 10_000, 5_000, 'freeze off');
    const before = await readStatus(tx, db.label);
    if (!before.frozen && before.consistent) {
      log.info('freeze: not frozen; nothing done');
      return { ...before, action: 'off' as const, changed: false, forced: false };
    }
    for (const t of FROZEN_TABLES) await tx.query(`DROP TRIGGER IF EXISTS ${FREEZE_TRIGGER} ON public.${t}`);
    await ensureStateSchema(tx, log);
    await tx.query('UPDATE astm53b.freeze_state SET frozen = false, since = now(), by_whom = $1, reason = $2, run_id = $3', [
      opts.run.actor,
      reason,
      opts.run.runId,
    ]);
    await tx.query('INSERT INTO astm53b.freeze_log (action, by_whom, reason, run_id) VALUES ($1, $2, $3, $4)', [
      'off',
      opts.run.actor,
      reason,
      opts.run.runId,
    ]);
    const after = await readStatus(tx, db.label);
    log.info('freeze: OFF, receptions and sorties accepted again');
    return { ...after, action: 'off' as const, changed: true, forced: false };
  });
}

function quoteLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}
