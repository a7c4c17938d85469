import { createHash, randomBytes } from 'node:crypto';
import { UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import { lockPipeline } from '../db/advisory-lock.js';
import { APP_SCHEMAS } from '../db/fingerprint.js';
import type { Db, Queryable } from '../db/types.js';
import type { FreezeResult, FreezeStatus } from '../results/freeze.js';
import type { RunContext } from '../results/run-context.js';
import { readAppActivity } from './app-activity.js';
import { ensureStateSchema, stateExists } from './state-schema.js';

/**
 * `astm53b freeze on|off|status` (runbook 3.4 / 4.1): the DATABASE refuses every write to every
 * table of the application schemas (everything a rollback restores: receptions, sorties, the
 * journal, adjustments, trucks, logs…) while the migration runs, with SQLSTATE A53F0 and a
 * message saying why. Reads stay allowed. `on` attaches statement-level triggers named
 * astm53b_freeze (function astm53b.freeze_guard, sql/pipeline/state.sql); `off` drops them, so
 * the catalog is then exactly what it was, and the fingerprint, which skips astm53b_* objects,
 * is equal even while frozen.
 *
 * Only the pipeline's own sessions pass, with `allowFrozenWrites`: each freeze draws a random
 * token kept in astm53b.freeze_state (which no app role can read); the triggers carry its
 * SHA-256 and the guard lets a statement through only when the transaction-local setting
 * astm53b.freeze_bypass is the token itself. An app user who sets the setting to anything it can
 * know (on, true, the hash it can read in pg_trigger) is refused.
 */
export const FREEZE_TRIGGER = 'astm53b_freeze';
export const FREEZE_SQLSTATE = 'A53F0';
const BYPASS_SETTING = 'astm53b.freeze_bypass';

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
const quoteLiteral = (s: string) => `'${s.replace(/'/g, "''")}'`;
const quoteIdent = (s: string) => `"${s.replace(/"/g, '""')}"`;

/**
 * Inside the caller's transaction: the pipeline's controlled writes pass the freeze. Works also
 * after SET LOCAL ROLE (the smoke acts as an app user): the token is read as the pipeline's own
 * role, then the app role is taken again.
 */
export async function allowFrozenWrites(tx: Queryable): Promise<void> {
  const who = (await tx.query<{ cur: string; ses: string }>('SELECT current_user AS cur, session_user AS ses')).rows[0]!;
  const acting = who.cur !== who.ses;
  if (acting) await tx.query('SET LOCAL ROLE NONE');
  try {
    if (!(await stateExists(tx))) return;
    const row = (await tx.query<{ token: string | null }>('SELECT bypass_token AS token FROM astm53b.freeze_state WHERE frozen')).rows[0];
    if (row?.token) await tx.query('SELECT set_config($1, $2, true)', [BYPASS_SETTING, row.token]);
  } finally {
    if (acting) await tx.query(`SET LOCAL ROLE ${quoteIdent(who.cur)}`);
  }
}

export interface FreezeOptions {
  reason: string;
  force: boolean;
  run: RunContext;
  windowMinutes?: number;
  appRoles?: string[];
  lockWaitMs?: number;
}

/** Every table of the application schemas: what the freeze guards and a rollback restores. */
export async function applicationTables(q: Queryable): Promise<string[]> {
  const r = await q.query<{ t: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS t FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p') ORDER BY 1`,
    [APP_SCHEMAS],
  );
  return r.rows.map((x) => x.t);
}

async function guardedTables(q: Queryable): Promise<string[]> {
  const r = await q.query<{ t: string }>(
    `SELECT format('%I.%I', n.nspname, c.relname) AS t FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE g.tgname = $1 AND NOT g.tgisinternal ORDER BY 1`,
    [FREEZE_TRIGGER],
  );
  return r.rows.map((x) => x.t);
}

interface FreezeRow {
  frozen: boolean;
  since: string;
  by_whom: string;
  reason: string;
  run_id: string;
  token: string | null;
}

async function readFreezeRow(q: Queryable): Promise<FreezeRow | undefined> {
  if (!(await stateExists(q))) return undefined;
  return (await q.query<FreezeRow>('SELECT frozen, since::text, by_whom, reason, run_id, bypass_token AS token FROM astm53b.freeze_state'))
    .rows[0];
}

async function readStatus(q: Queryable, target: string): Promise<FreezeStatus> {
  const [guarded, tables, row] = [await guardedTables(q), await applicationTables(q), await readFreezeRow(q)];
  const frozen = row?.frozen === true;
  const consistent = frozen ? row.token !== null && tables.every((t) => guarded.includes(t)) : guarded.length === 0;
  return {
    target,
    frozen,
    ...(row && frozen ? { since: row.since, by: row.by_whom, reason: row.reason, runId: row.run_id } : {}),
    guardedTables: guarded.map((t) => (t.startsWith('public.') ? t.slice('public.'.length) : t)),
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

async function detachFreezeTriggers(tx: Queryable): Promise<void> {
  for (const t of await guardedTables(tx)) await tx.query(`DROP TRIGGER IF EXISTS ${FREEZE_TRIGGER} ON ${t}`);
}

async function attachFreezeTriggers(tx: Queryable, row: FreezeRow): Promise<void> {
  const detail = `frozen since ${row.since} by ${row.by_whom}, run ${row.run_id}: ${row.reason}`;
  const hash = sha256(row.token!);
  await detachFreezeTriggers(tx);
  for (const t of await applicationTables(tx)) {
    await tx.query(
      `CREATE TRIGGER ${FREEZE_TRIGGER} BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON ${t} FOR EACH STATEMENT EXECUTE FUNCTION astm53b.freeze_guard(${quoteLiteral(detail)}, ${quoteLiteral(hash)})`,
    );
  }
}

/**
 * Makes the guard triggers say what astm53b.freeze_state says, inside the caller's transaction.
 * A restore recreates the application's tables from a dump, with or without the triggers the
 * dump happened to carry: the freeze is the operator's state, not data, so it is put back as
 * it was before the restore (lifted only by `freeze off`).
 */
export async function reassertFreeze(tx: Queryable): Promise<{ frozen: boolean; tables: number }> {
  const row = await readFreezeRow(tx);
  if (row?.frozen && row.token) {
    await attachFreezeTriggers(tx, row);
    return { frozen: true, tables: (await guardedTables(tx)).length };
  }
  await detachFreezeTriggers(tx);
  return { frozen: false, tables: 0 };
}

/** Inside the caller's transaction, which holds the pipeline lock: freeze (recorded) unless already frozen. */
export async function freezeInTransaction(
  tx: Queryable,
  opts: { reason: string; run: RunContext; forced: boolean; activity?: unknown },
  log: Logger,
): Promise<void> {
  await ensureStateSchema(tx, log);
  const token = randomBytes(32).toString('hex');
  await tx.query(
    `INSERT INTO astm53b.freeze_state (frozen, since, by_whom, reason, run_id, bypass_token) VALUES (true, now(), $1, $2, $3, $4)
     ON CONFLICT (singleton) DO UPDATE SET frozen = true, since = now(), by_whom = EXCLUDED.by_whom, reason = EXCLUDED.reason,
            run_id = EXCLUDED.run_id, bypass_token = EXCLUDED.bypass_token`,
    [opts.run.actor, opts.reason, opts.run.runId, token],
  );
  await tx.query('INSERT INTO astm53b.freeze_log (action, by_whom, reason, run_id, forced, activity) VALUES ($1, $2, $3, $4, $5, $6)', [
    'on',
    opts.run.actor,
    opts.reason,
    opts.run.runId,
    opts.forced,
    opts.activity === undefined ? null : JSON.stringify(opts.activity),
  ]);
  await attachFreezeTriggers(tx, (await readFreezeRow(tx))!);
}

export async function freezeOn(db: Db, opts: FreezeOptions, log: Logger): Promise<FreezeResult> {
  const reason = validateReason(opts.reason, true);
  return db.withTransaction(async (tx) => {
    await lockPipeline(tx, 'change', opts.lockWaitMs ?? 10_000, 5_000, 'freeze on');
    const before = await readStatus(tx, db.label);
    if (before.frozen && before.consistent) {
      log.info(`freeze: already frozen since ${before.since} by ${before.by} (${before.reason}); nothing done`);
      return { ...before, action: 'on' as const, changed: false, forced: false, at: new Date().toISOString() };
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
    await freezeInTransaction(tx, { reason, run: opts.run, forced: opts.force && activity.writing, activity }, log);
    const after = await readStatus(tx, db.label);
    log.info(`freeze: ON (${after.guardedTables.length} tables refuse writes with SQLSTATE ${FREEZE_SQLSTATE})`);
    return {
      ...after,
      action: 'on' as const,
      changed: true,
      forced: opts.force && activity.writing,
      activity,
      at: new Date().toISOString(),
    };
  });
}

export async function freezeOff(db: Db, opts: Omit<FreezeOptions, 'force'>, log: Logger): Promise<FreezeResult> {
  const reason = validateReason(opts.reason, false) || 'migration window closed';
  return db.withTransaction(async (tx) => {
    await lockPipeline(tx, 'change', opts.lockWaitMs ?? 10_000, 5_000, 'freeze off');
    const before = await readStatus(tx, db.label);
    if (!before.frozen && before.consistent) {
      log.info('freeze: not frozen; nothing done');
      return { ...before, action: 'off' as const, changed: false, forced: false, at: new Date().toISOString() };
    }
    await detachFreezeTriggers(tx);
    await ensureStateSchema(tx, log);
    await tx.query(
      'UPDATE astm53b.freeze_state SET frozen = false, since = now(), by_whom = $1, reason = $2, run_id = $3, bypass_token = NULL',
      [opts.run.actor, reason, opts.run.runId],
    );
    await tx.query('INSERT INTO astm53b.freeze_log (action, by_whom, reason, run_id) VALUES ($1, $2, $3, $4)', [
      'off',
      opts.run.actor,
      reason,
      opts.run.runId,
    ]);
    const after = await readStatus(tx, db.label);
    log.info('freeze: OFF, entries accepted again');
    return { ...after, action: 'off' as const, changed: true, forced: false, at: new Date().toISOString() };
  });
}
