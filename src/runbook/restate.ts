import { z } from 'zod';
import { lockPipeline } from '../db/advisory-lock.js';
import { isConnectionLost } from '../db/lost-connection.js';
import { parseRows } from '../db/rows.js';
import type { AppIdentity, Db, Queryable } from '../db/types.js';
import { UserError } from '../errors.js';
import { profileName, type GoldenProfile } from '../golden/profile.js';
import type { Logger } from '../logger.js';
import {
  RESTATEMENT_REASON_PREFIX,
  type EarlierRestatement,
  type RestatedReception,
  type RestateResult,
  type RestateStatus,
} from '../results/restate.js';
import type { RunContext } from '../results/run-context.js';
import { allowFrozenWrites, FREEZE_TRIGGER } from './freeze.js';
import { readReceptionDrifts, type ReceptionDrift } from './golden-drift.js';
import { prove, readBooked, readStock } from './restate-proof.js';
import { openRequests } from './smoke/transaction.js';
import { resolveSmokeProfile } from './smoke/options.js';
import { diffRowActivity, rowActivity } from './sql-apply.js';
import type { StepTimeouts } from './timeouts.js';

/**
 * `astm53b restate` (runbook §2 "Impact sur 8 réceptions déjà en PROD"): the receptions stored
 * with the legacy 15 °C formula are restated the way DB-STRICT allows. ML_PP's team purged and
 * replayed them with the protection triggers disabled (FACTS 4.1); here each one gets ONE
 * stocks_adjustments row, booked through the app's own insert path as an app admin (JWT claims,
 * SET LOCAL ROLE, RLS and the table's triggers), with delta_15c = ASTM 53B of the reception's own
 * inputs − its stored value. The receptions, the journal and the snapshot stay as they are; the
 * stock the app shows (v_stock_actuel) moves by exactly the drift, which is proven in the
 * transaction before COMMIT. Under the pipeline lock, passing the freeze, idempotent: a reception
 * an earlier run restated (same mouvement_id, reason starting with RESTATEMENT_REASON_PREFIX) is
 * never booked again.
 */

/**
 * ML_PP stores receptions' 15 °C volumes to 0.1 L (FACTS 2.2): a difference up to half of that
 * is the stored value's rounding, not a drift worth an adjustment.
 */
export const RESTATE_THRESHOLD_L = 0.05;

const ID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const round6 = (x: number) => Math.round(x * 1e6) / 1e6;
const litres = (x: number) => String(round6(x));
/** for people: a true minus sign, as the reports print it */
const signedLitres = (x: number) => (round6(x) < 0 ? `−${litres(-x)}` : litres(x));

export interface RestateOptions extends StepTimeouts {
  profile: GoldenProfile;
  /** where the profile came from, for the report */
  profileSource: string;
  /** profils.user_id to book as; default the first profils row with role admin */
  asUser?: string;
  dryRun: boolean;
  run: RunContext;
}

/** The CLI's and the action's inputs, validated the same way, before anything connects. */
export async function buildRestateOptions(raw: {
  asUser?: string | undefined;
  profile?: string | undefined;
  goldenResult?: { path: string; display: string } | undefined;
  dryRun: boolean;
  timeouts: StepTimeouts;
  run: RunContext;
}): Promise<RestateOptions> {
  const asUser = raw.asUser?.trim();
  if (asUser !== undefined && asUser !== '' && !ID.test(asUser))
    throw new UserError('BAD_OPTION', `--as-user "${asUser.slice(0, 50)}" is not an ML_PP id (8-4-4-4-12 hex)`, {
      where: { field: 'as-user' },
    });
  const { profile, source } = await resolveSmokeProfile({ profile: raw.profile, goldenResult: raw.goldenResult });
  return {
    profile,
    profileSource: source,
    ...(asUser ? { asUser } : {}),
    dryRun: raw.dryRun,
    ...raw.timeouts,
    run: raw.run,
  };
}

/** The reason written with each adjustment: it names the run, and its prefix is what a later run recognises. */
export const restatementReason = (runId: string, astm: number, stored: number, profile: string, column: string | null): string =>
  `${RESTATEMENT_REASON_PREFIX}, run ${runId}: ASTM 53B ${litres(astm)} L − stored ${litres(stored)} L (${profile}${column ? `, ${column}` : ''})`;

const runOfReason = (reason: string): string | undefined => /^ASTM53B restatement, run (\S+?):/.exec(reason)?.[1];

export async function restate(db: Db, opts: RestateOptions, log: Logger): Promise<RestateResult> {
  const started = Date.now();
  const profile = profileName(opts.profile);
  log.info(`restate ${db.label} under ${profile} (${opts.profileSource})${opts.dryRun ? ', dry run' : ''}`);
  return db.withClient(
    async (c) => {
      await c.query('BEGIN');
      let open = true;
      const end = async (how: 'COMMIT' | 'ROLLBACK') => {
        open = false;
        await c.query(how);
      };
      try {
        await c.query(`SET LOCAL statement_timeout = ${opts.statementTimeoutMs}`);
        await lockPipeline(c, 'change', opts.lockWaitMs, opts.lockTimeoutMs, 'restate');
        await assertRestatable(c);
        const frozen =
          (await c.query<{ n: number }>('SELECT count(*)::int8 AS n FROM pg_trigger WHERE tgname = $1', [FREEZE_TRIGGER])).rows[0]!.n > 0;
        if (!frozen) log.warn('restate: the freeze is off: the depot may enter movements meanwhile (runbook 3.4: freeze first)');
        await allowFrozenWrites(c);
        const earlier = await readEarlierRestatements(c);
        const receptions = (await readReceptionDrifts(c, opts.profile)).map((d) => plan(d, earlier.get(d.drift.reception_id) ?? []));
        const toBook = receptions.filter((r) => r.action === 'booked');
        const base = { db, opts, receptions, frozen, started };
        if (!toBook.length) {
          await end('ROLLBACK');
          return finish(base, 'nothing-to-restate', null, [], emptyProof(), log);
        }
        const user = await resolveUser(c, opts.asUser);
        log.info(
          `restate: booking ${toBook.length} adjustment(s) as ${user.id} (${user.email ?? 'no email'}, ${user.role}; ${user.chosen_by})`,
        );
        const who: AppIdentity = { role: 'authenticated', userId: user.id, ...(user.email ? { email: user.email } : {}) };
        const before = await readStock(c);
        const writesBefore = await rowActivity(c);
        const req = await openRequests(c);
        for (const r of toBook) r.reason = restatementReason(opts.run.runId, r.astm_15c_l!, r.stored_15c_l!, profile, r.stored_column);
        for (let i = 0; i < toBook.length; i += BOOKING_BATCH) await bookBatch(req, who, toBook.slice(i, i + BOOKING_BATCH), user);
        const after = await readStock(c);
        const writes = diffRowActivity(writesBefore, await rowActivity(c));
        const rows = await readBooked(
          c,
          toBook.map((r) => r.adjustment_id!),
        );
        const { totals, proof } = prove({ booked: toBook, userId: user.id, before, after, rows, writes });
        if (!proof.holds) {
          await end('ROLLBACK');
          for (const p of proof.problems) log.warn(`restate: ${p}`);
          return finish(base, 'rejected', user, totals, proof, log);
        }
        if (opts.dryRun) {
          await end('ROLLBACK');
          return finish(base, 'dry-run', user, totals, proof, log);
        }
        await end('COMMIT');
        return finish(base, 'restated', user, totals, proof, log);
      } catch (e) {
        if (open) await c.query('ROLLBACK').catch(() => {});
        throw e;
      }
    },
    // the requests leave custom-setting placeholders in the session: never reuse it
    { discard: true },
  );
}

async function assertRestatable(q: Queryable): Promise<void> {
  const r = await q.query<{ name: string; present: boolean }>(
    `SELECT n AS name, to_regclass(n) IS NOT NULL AS present
       FROM unnest(ARRAY['public.receptions', 'public.citernes', 'public.profils', 'public.stocks_adjustments', 'public.v_stock_actuel']) AS n`,
  );
  const missing = r.rows.filter((x) => !x.present).map((x) => x.name);
  if (missing.length)
    throw new UserError('INCOMPATIBLE_TARGET', `restate needs ${missing.join(', ')}, which the target lacks`, {
      hint: 'run astm53b compat against it',
    });
}

const EarlierRow = z.object({
  reception_id: z.string(),
  adjustment_id: z.string(),
  delta_15c: z.number(),
  reason: z.string(),
  created_at: z.string(),
});

/** Restatements already booked, by reception; read as the pipeline, so RLS hides none of them. */
async function readEarlierRestatements(q: Queryable): Promise<Map<string, EarlierRestatement[]>> {
  const r = await q.query(
    `SELECT mouvement_id::text AS reception_id, id::text AS adjustment_id, delta_15c, reason, created_at::text AS created_at
       FROM public.stocks_adjustments
      WHERE mouvement_type = 'RECEPTION' AND starts_with(reason, $1)
      ORDER BY created_at, id`,
    [RESTATEMENT_REASON_PREFIX],
  );
  const out = new Map<string, EarlierRestatement[]>();
  for (const x of parseRows(EarlierRow, r.rows, 'restate: earlier restatements')) {
    const list = out.get(x.reception_id) ?? [];
    list.push({ adjustment_id: x.adjustment_id, delta_15c_l: x.delta_15c, reason: x.reason, created_at: x.created_at });
    out.set(x.reception_id, list);
  }
  return out;
}

function plan(d: ReceptionDrift, earlier: EarlierRestatement[]): RestatedReception {
  const x = d.drift;
  const delta = x.astm_15c_l === null || x.stored_15c_l === null ? null : round6(x.astm_15c_l - x.stored_15c_l);
  const base = {
    reception_id: x.reception_id,
    date_reception: x.date_reception,
    citerne: x.citerne,
    citerne_id: d.citerneId,
    produit_id: d.produitId,
    proprietaire_type: x.proprietaire_type,
    depot_id: d.depotId,
    volume_ambiant_l: x.volume_ambiant_l,
    temperature_c: x.temperature_c,
    densite_kgm3: x.densite_kgm3,
    stored_15c_l: x.stored_15c_l,
    stored_column: x.stored_column,
    astm_15c_l: x.astm_15c_l,
    delta_15c_l: delta,
    adjustment_id: null,
    reason: null,
    earlier,
  };
  if (earlier.length) {
    const sum = round6(earlier.reduce((s, e) => s + e.delta_15c_l, 0));
    const runs = [...new Set(earlier.map((e) => runOfReason(e.reason) ?? '?'))].join(', ');
    const effective = x.stored_15c_l === null ? null : round6(x.stored_15c_l + sum);
    const residual = effective === null || x.astm_15c_l === null ? null : round6(x.astm_15c_l - effective);
    return {
      ...base,
      action: 'already_restated',
      why:
        `restated by run ${runs} (${earlier.length} adjustment(s), Σ ${signedLitres(sum)} L${effective === null ? '' : `, effective ${litres(effective)} L`})` +
        (residual !== null && Math.abs(residual) > RESTATE_THRESHOLD_L
          ? `; ASTM 53B under this profile differs from it by ${signedLitres(residual)} L, not booked again (a reception is restated once)`
          : ''),
    };
  }
  if (delta === null) return { ...base, action: 'not_recomputed', why: x.problem ?? 'not recomputed' };
  if (Math.abs(delta) <= RESTATE_THRESHOLD_L)
    return { ...base, action: 'no_drift', why: `stored equals ASTM 53B within ±${RESTATE_THRESHOLD_L} L (${signedLitres(delta)} L)` };
  return {
    ...base,
    action: 'booked',
    why: `ASTM 53B ${litres(x.astm_15c_l!)} L − stored ${litres(x.stored_15c_l!)} L = ${signedLitres(delta)} L`,
  };
}

type RestateUser = NonNullable<RestateResult['user']>;

/** As _current_role() resolves a user: its latest profils row. */
async function resolveUser(q: Queryable, asUser: string | undefined): Promise<RestateUser> {
  if (asUser) {
    const r = await q.query<{ role: string; email: string | null }>(
      'SELECT role, email FROM public.profils WHERE user_id = $1 ORDER BY created_at DESC NULLS LAST LIMIT 1',
      [asUser],
    );
    const row = r.rows[0];
    if (!row) throw new UserError('NO_APP_USER', `--as-user ${asUser}: no profils row for that user`, { where: { field: 'as-user' } });
    return { id: asUser, email: row.email, role: row.role, chosen_by: '--as-user' };
  }
  const r = await q.query<{ user_id: string; role: string; email: string | null }>(
    `SELECT p.user_id::text AS user_id, p.role, p.email FROM public.profils p WHERE p.user_id IS NOT NULL AND p.role = 'admin'
        AND p.created_at IS NOT DISTINCT FROM (SELECT max(p2.created_at) FROM public.profils p2 WHERE p2.user_id = p.user_id)
      ORDER BY p.created_at NULLS LAST, p.user_id LIMIT 1`,
  );
  const u = r.rows[0];
  if (!u)
    throw new UserError('NO_APP_USER', 'no profils row with role admin: restate has no app admin to book the adjustments as', {
      hint: 'pass --as-user UUID (a profils.user_id allowed to insert into stocks_adjustments)',
    });
  return { id: u.user_id, email: u.email, role: u.role, chosen_by: 'the first profils row (by created_at) with role admin' };
}

/**
 * Adjustments booked per request: each request is one INSERT of that many rows, as the app user,
 * in its own savepoint. One request a row cost some seven round trips a reception (savepoint,
 * claims, role, insert, release, settings put back): at 100 000 receptions, most of the freeze.
 */
export const BOOKING_BATCH = 500;

type Requests = Awaited<ReturnType<typeof openRequests>>;

/**
 * One request books the batch; the database refusing it (RLS, a trigger, a constraint) rolls the
 * request back, and the batch is booked again one row a request, so that the refusal names its
 * reception exactly as a single insert would. A lost connection is not retried.
 */
async function bookBatch(req: Requests, who: AppIdentity, batch: RestatedReception[], user: RestateUser): Promise<void> {
  let ids: Map<string, string>;
  try {
    ids = await req.as(who, (q) => bookAdjustments(q, batch, user.id));
  } catch (e) {
    if (batch.length === 1 || isConnectionLost(e)) return refused(e, batch[0]!, user);
    for (const r of batch) await bookBatch(req, who, [r], user);
    return;
  }
  for (const r of batch) {
    const id = ids.get(r.reception_id);
    if (!id) throw new Error(`restate: the insert returned no adjustment for reception ${r.reception_id}`);
    r.adjustment_id = id;
  }
}

/**
 * What the app sends to POST /rest/v1/stocks_adjustments (created_by explicit, as its service
 * does), for several receptions in one statement (PostgREST inserts a JSON array the same way);
 * the row triggers set each row's context. The values are typed by the table's own row type.
 */
async function bookAdjustments(q: Queryable, batch: RestatedReception[], userId: string): Promise<Map<string, string>> {
  const rows = batch.map((r) => ({
    mouvement_type: 'RECEPTION',
    mouvement_id: r.reception_id,
    delta_ambiant: 0,
    delta_15c: r.delta_15c_l,
    reason: r.reason,
    created_by: userId,
  }));
  const res = await q.query<{ id: string; mouvement_id: string }>(
    `INSERT INTO public.stocks_adjustments (mouvement_type, mouvement_id, delta_ambiant, delta_15c, reason, created_by)
     SELECT mouvement_type, mouvement_id, delta_ambiant, delta_15c, reason, created_by
       FROM json_populate_recordset(NULL::public.stocks_adjustments, $1::json)
     RETURNING id::text AS id, mouvement_id::text AS mouvement_id`,
    [JSON.stringify(rows)],
  );
  if (res.rows.length !== batch.length) throw new Error(`restate: ${batch.length} adjustment(s) inserted, ${res.rows.length} returned`);
  return new Map(res.rows.map((x) => [x.mouvement_id, x.id]));
}

/** The database refusing the app's insert is the operator's to act on (exit 2), never a bug; anything else goes on. */
function refused(e: unknown, r: RestatedReception, user: RestateUser): never {
  const code = (e as { code?: unknown }).code;
  const who = `app user ${user.id} (${user.email ?? 'no email'}, role ${user.role}, ${user.chosen_by})`;
  if (code === '42501')
    throw new UserError(
      'RLS_REFUSED',
      `row level security refused ${who} the insert into stocks_adjustments for reception ${r.reception_id} (${(e as Error).message}); nothing was booked`,
      { hint: 'book as an admin: leave --as-user out (the first profils row with role admin) or name one', cause: e },
    );
  if (typeof code === 'string' && /^(P0|23|A5)/.test(code))
    throw new UserError(
      'ADJUSTMENT_REFUSED',
      `the database refused ${who} the adjustment of reception ${r.reception_id}: ${(e as Error).message} (SQLSTATE ${code}); nothing was booked`,
      { cause: e },
    );
  throw e;
}

function emptyProof(): RestateResult['proof'] {
  return { holds: true, expected_15c_l: 0, moved_15c_l: 0, tolerance_l: 0, others_moved: [], writes: [], problems: [] };
}

function finish(
  b: { db: Db; opts: RestateOptions; receptions: RestatedReception[]; frozen: boolean; started: number },
  status: RestateStatus,
  user: RestateUser | null,
  totals: RestateResult['totals'],
  proof: RestateResult['proof'],
  log: Logger,
): RestateResult {
  const count = (a: RestatedReception['action']) => b.receptions.filter((r) => r.action === a).length;
  const counts = {
    receptions: b.receptions.length,
    booked: count('booked'),
    already_restated: count('already_restated'),
    no_drift: count('no_drift'),
    not_recomputed: count('not_recomputed'),
  };
  const sum = `${counts.booked} adjustment(s), Σ ${signedLitres(proof.expected_15c_l)} L at 15 °C on ${totals.length} tank/owner(s)`;
  const message = {
    restated: `booked ${sum}; v_stock_actuel moved by exactly that; committed`,
    'dry-run': `would book ${sum}; v_stock_actuel moved by exactly that; rolled back (dry run)`,
    rejected: `proof failed (${proof.problems.length} problem(s)): rolled back, nothing booked`,
    'nothing-to-restate':
      `nothing to restate: ${counts.receptions} validated reception(s), ${counts.already_restated} already restated, ` +
      `${counts.no_drift} equal to ASTM 53B within ±${RESTATE_THRESHOLD_L} L, ${counts.not_recomputed} not recomputed; nothing booked`,
  }[status];
  if (status === 'rejected') log.warn(`restate: ${message}`);
  else log.info(`restate: ${message}`);
  return {
    target: b.db.label,
    run: b.opts.run,
    status,
    ok: status !== 'rejected',
    dry_run: b.opts.dryRun,
    committed: status === 'restated',
    message,
    profile: profileName(b.opts.profile),
    profile_source: b.opts.profileSource,
    threshold_l: RESTATE_THRESHOLD_L,
    frozen: b.frozen,
    user,
    counts,
    receptions: b.receptions,
    totals,
    proof,
    settings: { lockTimeoutMs: b.opts.lockTimeoutMs, statementTimeoutMs: b.opts.statementTimeoutMs, lockWaitMs: b.opts.lockWaitMs },
    at: new Date().toISOString(),
    ms: Date.now() - b.started,
  };
}
