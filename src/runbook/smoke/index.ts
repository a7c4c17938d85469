import { readFile } from 'node:fs/promises';
import { table53b } from '../../astm/index.js';
import { UserError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { impersonate, withAppUser } from '../../db/as-user.js';
import { functionSource } from '../../db/catalog.js';
import type { AppIdentity, Db, Queryable } from '../../db/types.js';
import { ML_PP_PROFILE, parseGoldenProfile, profileName, type GoldenProfile } from '../../golden/profile.js';
import { P0_FLAG_PATTERN } from '../compat.js';
import { allowFrozenWrites, FREEZE_TRIGGER } from '../freeze.js';
import type { GoCondition } from '../../results/go-conditions.js';
import { readEnvironment } from '../environment.js';
import { compareFigures, compensate, summariseReturns, type MovementEffect } from './compensate.js';
import { delta, fmtBalance, r3, readCoherence, readTankFigures, sameBalance } from './figures.js';
import type { RunContext } from '../../results/run-context.js';
import {
  type SmokeCheck,
  type SmokeCheckId,
  type SmokeFinding,
  type SmokeResult,
  type SqlErrorSeen,
  type Compensation,
  OWNERS,
  type Balance,
  type Owner,
  type TankFigures,
} from '../../results/smoke.js';

/**
 * `astm53b smoke` (runbook 4.5, 5.1–5.5): the controlled reception and sortie, as a real app user
 * (JWT claims, SET LOCAL ROLE authenticated, a profils row allowed to do it), through the app's
 * own paths: a reception INSERT with the February payload, a draft sortie validated by the RPC
 * validate_sortie. One transaction per app request, as PostgREST does (the DB-STRICT flags that
 * SECURITY DEFINER code sets last until the end of the caller's transaction, so batching requests
 * would change what is proven). Every check is a named result with its figures; nothing is
 * hidden: a journal/snapshot divergence is reported with its numbers, whatever it means for GO.
 */
export const SMOKE_MARK = 'ASTM53B-SMOKE';
const WRITER_ROLES = ['admin', 'directeur', 'gerant'] as const;
const ID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const GASOIL = `(upper(coalesce(p.code, '')) IN ('G.O', 'GO', 'GASOIL', 'AGO') OR p.nom ILIKE '%gasoil%')`;
/** tables anon must not read a row of (5.1) */
const MOVEMENT_TABLES = [
  'receptions',
  'sorties_produit',
  'stocks_journaliers',
  'stocks_snapshot',
  'stocks_adjustments',
  'log_actions',
] as const;

/** The controlled movements: known meter indices, temperature and observed density (runbook 5.3). */
export const SMOKE_MOVEMENTS = {
  reception: { index_avant: 100000, index_apres: 101000, temperature_c: 25.5, densite_observee_kgm3: 836.5 },
  sortie: { index_avant: 200000, index_apres: 200400, temperature_c: 24.5, densite_observee_kgm3: 836.5 },
} as const;

export interface SmokeOptions {
  /** profils.user_id to act as; default: the first admin/directeur/gerant profile */
  asUser?: string;
  profile: GoldenProfile;
  /** where the profile came from, for the report */
  profileSource: string;
  toleranceL: number;
  /** default: on unless the database is marked staging */
  compensate?: boolean;
  /** force the tank (tests, or the depot's choice); default: chosen, preferring a single-owner tank */
  citerneId?: string;
  run: RunContext;
}

// --------------------------------------------------------------------------- options

export async function resolveSmokeProfile(o: {
  profile?: string | undefined;
  goldenResult?: { path: string; display: string } | undefined;
}): Promise<{ profile: GoldenProfile; source: string }> {
  if (o.profile) return { profile: parseGoldenProfile(o.profile), source: '--profile' };
  if (!o.goldenResult) return { profile: ML_PP_PROFILE, source: "ML_PP's own (no golden result given)" };
  const { path: file, display } = o.goldenResult;
  let value: unknown;
  try {
    value = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserError(
      code ? 'MISSING_INPUT' : 'BAD_INPUT',
      code ? `cannot read ${display}: ${code}` : `${display} is not JSON: ${(e as Error).message}`,
      { where: { file: display } },
    );
  }
  const p = (value as { profile?: unknown } | null)?.profile;
  if (typeof p !== 'string')
    throw new UserError('BAD_INPUT', `${display} has no "profile" (is it a golden.json of golden-verify?)`, {
      where: { file: display, field: 'profile' },
    });
  return { profile: parseGoldenProfile(p, `${display}: profile`), source: `${display} (golden verification)` };
}

export function validateSmokeOptions(o: SmokeOptions): void {
  for (const [field, v] of [
    ['as-user', o.asUser],
    ['citerne', o.citerneId],
  ] as const) {
    if (v !== undefined && !ID.test(v))
      throw new UserError('BAD_OPTION', `--${field} "${v.slice(0, 50)}" is not an ML_PP id (8-4-4-4-12 hex)`, { where: { field } });
  }
  if (!(Number.isFinite(o.toleranceL) && o.toleranceL >= 0))
    throw new UserError('BAD_OPTION', `--tolerance-l ${o.toleranceL} must be a number of litres ≥ 0`, { where: { field: 'tolerance-l' } });
}

// --------------------------------------------------------------------------- helpers

const isSqlError = (e: unknown): e is { code: string; message: string } =>
  typeof e === 'object' &&
  e !== null &&
  typeof (e as { code?: unknown }).code === 'string' &&
  /^[0-9A-Z]{5}$/.test((e as { code: string }).code);

/** A SQL refusal becomes data; anything else (a lost connection, a bug) still throws. */
async function attempt<T>(fn: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: { code: string; message: string } }> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    if (isSqlError(e)) return { ok: false, error: { code: e.code, message: e.message } };
    throw e;
  }
}

class ProbeRollback extends Error {}

/**
 * A statement that must be refused, run in a transaction that is always rolled back: if the
 * database wrongly accepted it, nothing of it survives. `who` undefined: as the pipeline (RLS
 * bypassed, so the guard trigger itself is what refuses).
 */
async function probeRefusal(
  db: Db,
  who: AppIdentity | undefined,
  sql: string,
  params: unknown[],
): Promise<{ code: string; message: string } | null> {
  try {
    await db.withTransaction(async (tx) => {
      await allowFrozenWrites(tx);
      if (who) await impersonate(tx, who);
      await tx.query(sql, params);
      throw new ProbeRollback();
    });
  } catch (e) {
    if (e instanceof ProbeRollback) return null;
    if (isSqlError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  return null;
}

function check(id: SmokeCheckId, title: string, runbook: string, findings: SmokeFinding[], ran = true, notRun = ''): SmokeCheck {
  const failed = findings.filter((f) => !f.passed);
  const passed = ran && failed.length === 0;
  const message = !ran ? `not run: ${notRun}` : passed ? `ok (${findings.length} finding(s))` : failed.map((f) => f.message).join('; ');
  return { id, title, runbook, ran, passed, message, findings };
}

const finding = (
  code: string,
  passed: boolean,
  condition: GoCondition | null,
  message: string,
  figures?: SmokeFinding['figures'],
): SmokeFinding => ({
  code,
  passed,
  condition: passed ? null : condition,
  message,
  ...(figures ? { figures } : {}),
});

const bal = (prefix: string, b: Balance) => ({ [`${prefix}_amb`]: r3(b.amb), [`${prefix}_15c`]: r3(b.v15) });

// --------------------------------------------------------------------------- context

interface Context {
  environment: string;
  frozen: boolean;
  p0Applied: boolean;
  user: SmokeResult['user'];
  lectureUser: string | null;
  tank: NonNullable<SmokeResult['tank']> & { depotId: string | null };
  clientId: string;
  day: string;
  hasObservedDensityColumn: boolean;
  sortieHasVolume15c: boolean;
}

async function readContext(q: Queryable, opts: SmokeOptions): Promise<Context> {
  const env = await readEnvironment(q);
  const frozen =
    (await q.query<{ n: number }>('SELECT count(*)::int8 AS n FROM pg_trigger WHERE tgname = $1', [FREEZE_TRIGGER])).rows[0]!.n > 0;
  const src = await functionSource(q, 'public', 'validate_sortie');
  const day = (await q.query<{ d: string }>('SELECT current_date::text AS d')).rows[0]!.d;

  let user: Context['user'];
  if (opts.asUser) {
    // as _current_role() resolves it: the latest profils row of that user
    const r = await q.query<{ role: string }>('SELECT role FROM public.profils WHERE user_id = $1 ORDER BY created_at DESC LIMIT 1', [
      opts.asUser,
    ]);
    const role = r.rows[0]?.role;
    if (!role)
      throw new UserError('NO_APP_USER', `--as-user ${opts.asUser}: no profils row for that user`, { where: { field: 'as-user' } });
    if (!(WRITER_ROLES as readonly string[]).includes(role)) {
      throw new UserError(
        'NO_APP_USER',
        `--as-user ${opts.asUser} has role ${role}; the smoke needs admin, directeur or gerant (validate_sortie refuses the others)`,
        { where: { field: 'as-user' } },
      );
    }
    user = { id: opts.asUser, role, chosenBy: '--as-user' };
  } else {
    const r = await q.query<{ user_id: string; role: string }>(
      `SELECT p.user_id::text, p.role FROM public.profils p WHERE p.user_id IS NOT NULL AND p.role = ANY($1::text[])
          AND p.created_at IS NOT DISTINCT FROM (SELECT max(p2.created_at) FROM public.profils p2 WHERE p2.user_id = p.user_id)
        ORDER BY p.created_at NULLS LAST, p.user_id LIMIT 1`,
      [WRITER_ROLES],
    );
    const u = r.rows[0];
    if (!u)
      throw new UserError('NO_APP_USER', 'no profils row with role admin, directeur or gerant: the smoke has no app user to act as', {
        hint: 'pass --as-user UUID',
      });
    user = { id: u.user_id, role: u.role, chosenBy: 'the first profils row (by created_at) with role admin, directeur or gerant' };
  }
  const lecture = (
    await q.query<{ user_id: string }>(
      "SELECT user_id::text FROM public.profils WHERE role = 'lecture' AND user_id IS NOT NULL ORDER BY created_at NULLS LAST, user_id LIMIT 1",
    )
  ).rows[0];

  // a tank where the P0 debit cannot reach another owner: no PARTENAIRE stock, no PARTENAIRE row on the day
  const tanks = await q.query<{
    id: string;
    nom: string;
    produit_id: string;
    depot_id: string | null;
    utile: number;
    stock: number;
    others: number;
    statut: string;
    gasoil: boolean;
  }>(
    `SELECT c.id::text, c.nom, c.produit_id::text, c.depot_id::text, (c.capacite_totale - c.capacite_securite) AS utile, c.statut, ${GASOIL} AS gasoil,
            coalesce((SELECT sum(s.stock_ambiant) FROM public.stocks_snapshot s WHERE s.citerne_id = c.id AND s.produit_id = c.produit_id), 0) AS stock,
            (SELECT count(*) FROM (SELECT proprietaire_type FROM public.stocks_snapshot s WHERE s.citerne_id = c.id AND s.produit_id = c.produit_id AND s.proprietaire_type <> 'MONALUXE' AND (s.stock_ambiant <> 0 OR s.stock_15c <> 0)
                                   UNION SELECT proprietaire_type FROM public.stocks_journaliers j WHERE j.citerne_id = c.id AND j.produit_id = c.produit_id AND j.proprietaire_type <> 'MONALUXE' AND j.date_jour = $1::date) o)::int8 AS others
       FROM public.citernes c JOIN public.produits p ON p.id = c.produit_id
      WHERE ($2::uuid IS NULL AND c.statut = 'active' AND ${GASOIL}) OR c.id = $2::uuid
      ORDER BY (CASE WHEN (SELECT count(*) FROM public.stocks_snapshot s WHERE s.citerne_id = c.id AND s.proprietaire_type <> 'MONALUXE' AND (s.stock_ambiant <> 0 OR s.stock_15c <> 0)) > 0 THEN 1 ELSE 0 END),
               (CASE WHEN coalesce((SELECT sum(s.stock_ambiant) FROM public.stocks_snapshot s WHERE s.citerne_id = c.id), 0) + $3 <= c.capacite_totale - c.capacite_securite THEN 0 ELSE 1 END),
               (CASE WHEN coalesce((SELECT sum(s.stock_ambiant) FROM public.stocks_snapshot s WHERE s.citerne_id = c.id), 0) > 0 THEN 0 ELSE 1 END),
               c.nom`,
    [day, opts.citerneId ?? null, SMOKE_MOVEMENTS.reception.index_apres - SMOKE_MOVEMENTS.reception.index_avant],
  );
  const t = tanks.rows[0];
  if (!t) {
    throw new UserError(
      'NO_TANK',
      opts.citerneId ? `--citerne ${opts.citerneId}: no such tank` : 'no active GASOIL tank: runbook 5.2 needs one',
      { where: { field: 'citerne' } },
    );
  }
  if (opts.citerneId && (t.statut !== 'active' || !t.gasoil)) {
    throw new UserError(
      'NO_TANK',
      `--citerne ${opts.citerneId} (${t.nom}) is ${t.statut}${t.gasoil ? '' : ', not GASOIL'}: runbook 5.2 needs an active GASOIL tank`,
      { where: { field: 'citerne' } },
    );
  }
  const chosenBy = opts.citerneId
    ? `--citerne${Number(t.others) > 0 ? ' (it holds another owner’s stock: the P0 debit can reach it)' : ''}`
    : Number(t.others) > 0
      ? 'every active GASOIL tank holds another owner’s stock; took the first (the P0 debit can reach that owner)'
      : 'active GASOIL tank with MONALUXE stock only (the P0 debit of every owner’s row of the day cannot reach another owner), room for the reception, most useful first by name';
  const client = (await q.query<{ id: string }>('SELECT id::text FROM public.clients ORDER BY nom, id LIMIT 1')).rows[0];
  if (!client)
    throw new UserError('NO_CLIENT', 'no client: a MONALUXE sortie needs a beneficiary (validate_sortie refuses BENEFICIAIRE_REQUIRED)');
  const cols = await q.query<{ t: string; c: string }>(
    `SELECT table_name AS t, column_name AS c FROM information_schema.columns
      WHERE table_schema = 'public' AND ((table_name = 'receptions' AND column_name = 'densite_observee_kgm3') OR (table_name = 'sorties_produit' AND column_name = 'volume_15c'))`,
  );
  return {
    environment: env.env,
    frozen,
    p0Applied: src !== undefined && P0_FLAG_PATTERN.test(src),
    user,
    lectureUser: lecture?.user_id ?? null,
    tank: { id: t.id, nom: t.nom, produitId: t.produit_id, depotId: t.depot_id, capacite_utile: Number(t.utile), chosenBy },
    clientId: client.id,
    day,
    hasObservedDensityColumn: cols.rows.some((r) => r.t === 'receptions'),
    sortieHasVolume15c: cols.rows.some((r) => r.t === 'sorties_produit'),
  };
}

// --------------------------------------------------------------------------- the run

export async function runSmoke(db: Db, opts: SmokeOptions, log: Logger): Promise<SmokeResult> {
  validateSmokeOptions(opts);
  const at = new Date().toISOString();
  const ctx = await db.withTransaction((q) => readContext(q, opts), { readOnly: true });
  const compensateOn = opts.compensate ?? ctx.environment !== 'staging';
  const who: AppIdentity = { role: 'authenticated', userId: ctx.user.id };
  const asUser = <T>(fn: (q: Queryable) => Promise<T>) => withAppUser(db, who, fn, { readOnly: true });
  const errors: SqlErrorSeen[] = [];
  const seen = (step: string, e: { code: string; message: string }) => {
    errors.push({ step, ...e });
    log.warn(`smoke: ${step}: ${e.code} ${e.message}`);
  };
  const { tank, day } = ctx;
  log.info(
    `smoke on ${db.label} (${ctx.environment}${ctx.frozen ? ', frozen' : ''}) as ${ctx.user.role} ${ctx.user.id}; tank ${tank.nom} on ${day}; profile ${profileName(opts.profile)}; compensate ${compensateOn ? 'on' : 'off'}`,
  );

  const result: SmokeResult = {
    step: 'smoke',
    passed: false,
    target: db.label,
    at,
    run: opts.run,
    environment: ctx.environment,
    frozen: ctx.frozen,
    p0Applied: ctx.p0Applied,
    user: ctx.user,
    lectureUser: ctx.lectureUser,
    profile: profileName(opts.profile),
    profileSource: opts.profileSource,
    toleranceL: opts.toleranceL,
    tank: { id: tank.id, nom: tank.nom, produitId: tank.produitId, capacite_utile: tank.capacite_utile, chosenBy: tank.chosenBy },
    day,
    movements: {},
    figures: null,
    compensate: compensateOn,
    compensation: null,
    checks: [],
    errors,
  };

  // 5.1 ---------------------------------------------------------------------------------------
  {
    const f: SmokeFinding[] = [];
    const ownerCount = (await db.query<{ n: number }>('SELECT count(*)::int8 AS n FROM public.depots')).rows[0]!.n;
    const r = await attempt(() =>
      asUser(async (q) => (await q.query<{ n: number }>('SELECT count(*)::int8 AS n FROM public.depots')).rows[0]!.n),
    );
    if (!r.ok) seen('5.1 read depots', r.error);
    f.push(
      finding(
        'DEPOTS_READ',
        r.ok && r.value > 0 && r.value === ownerCount,
        'P0001_OR_RLS',
        r.ok
          ? `the ${ctx.user.role} reads ${r.value} of the ${ownerCount} depot(s)`
          : `reading depots as the ${ctx.user.role} failed: ${r.error.code} ${r.error.message}`,
        { seen_by_user: r.ok ? r.value : null, in_table: ownerCount },
      ),
    );
    const leaks: string[] = [];
    for (const t of MOVEMENT_TABLES) {
      const a = await attempt(() =>
        withAppUser(
          db,
          { role: 'anon' },
          async (q) => (await q.query<{ n: number }>(`SELECT count(*)::int8 AS n FROM public.${t}`)).rows[0]!.n,
          { readOnly: true },
        ),
      );
      const n = a.ok ? a.value : a.error.code === '42501' ? 0 : -1;
      if (n !== 0) leaks.push(a.ok ? `${t}: ${n} row(s)` : `${t}: ${a.error.code} ${a.error.message}`);
    }
    f.push(
      finding(
        'ANON_READS_NO_MOVEMENT',
        leaks.length === 0,
        'SMOKE_FAILED',
        leaks.length ? `anon reads movement rows: ${leaks.join('; ')}` : `anon reads no row of ${MOVEMENT_TABLES.join(', ')}`,
      ),
    );
    result.checks.push(check('5.1', 'Connexion DB: lecture simple de depots sans erreur RLS; anon ne lit aucun mouvement', '5.1', f));
  }

  // 5.2 ---------------------------------------------------------------------------------------
  const before = await db.withTransaction((q) => readTankFigures(q, tank.id, tank.produitId, day), { readOnly: true });
  {
    const r = await attempt(() => asUser((q) => readTankFigures(q, tank.id, tank.produitId, day)));
    if (!r.ok) seen('5.2 read stock', r.error);
    const same =
      r.ok &&
      OWNERS.every((o) => sameBalance(r.value[o].journal, before[o].journal) && sameBalance(r.value[o].snapshot, before[o].snapshot));
    const figures: Record<string, number | string | null> = {};
    for (const o of OWNERS)
      Object.assign(figures, bal(`${o}_journal`, before[o].journal), bal(`${o}_snapshot`, before[o].snapshot), {
        [`${o}_journal_date`]: before[o].journalDate,
      });
    result.checks.push(
      check('5.2', `Lecture stock initial: stocks_journaliers (par propriétaire) et stocks_snapshot de ${tank.nom}`, '5.2', [
        finding(
          'STOCK_READ',
          same,
          'P0001_OR_RLS',
          r.ok
            ? same
              ? `${tank.nom}: ${OWNERS.map((o) => `${o} journal ${fmtBalance(before[o].journal)}, snapshot ${fmtBalance(before[o].snapshot)}`).join('; ')}`
              : `the ${ctx.user.role} does not see the stock the table holds (RLS hides rows)`
            : `reading stock as the ${ctx.user.role} failed: ${r.error.code} ${r.error.message}`,
          figures,
        ),
      ]),
    );
  }
  result.figures = { before };

  // 5.3 / 5.4 ---------------------------------------------------------------------------------
  const effects: MovementEffect[] = [];
  if (!ctx.p0Applied) {
    const why =
      'validate_sortie has the LEGACY body (it does not set app.stocks_journaliers_allow_write): it fails with P0001 "Ecriture directe interdite sur stocks_journaliers" until the P0 change (runbook 4.3) is applied';
    result.checks.push(
      check('5.3', 'Réception contrôlée', '4.5, 5.3', [], false, 'nothing written: the sortie of 5.4 could not be validated'),
    );
    result.checks.push(
      check('5.4', 'Sortie contrôlée via RPC validate_sortie', '5.4', [finding('P0_NOT_APPLIED', false, 'P0001_OR_RLS', why)]),
    );
    log.warn(`smoke: ${why}; no movement written`);
  } else {
    const rec = await receptionCheck(db, opts, ctx, who, before, seen, log);
    result.movements.cdr = rec.cdr;
    if (rec.reception) result.movements.reception = rec.reception;
    result.figures.afterReception = rec.after;
    result.checks.push(rec.check);
    if (rec.effect) effects.push(rec.effect);
    const so = await sortieCheck(db, opts, ctx, who, seen, log);
    if (so.sortie) result.movements.sortie = so.sortie;
    if (so.after) result.figures.afterSortie = so.after;
    result.checks.push(so.check);
    if (so.effect) effects.push(so.effect);
  }

  // compensation (before 5.5: the coherence is read on what is left behind) ---------------
  if (compensateOn && effects.length) {
    const c = await attempt(() => compensate(db, ctx.user.id, effects, opts.run.runId, log, SMOKE_MARK));
    const final = await db.withTransaction((q) => readTankFigures(q, tank.id, tank.produitId, day), { readOnly: true });
    result.figures.final = final;
    const figures = compareFigures(before, final);
    result.compensation = {
      adjustments: c.ok ? c.value.adjustments : [],
      notAdjusted: c.ok ? c.value.notAdjusted : [],
      figures,
      summary: summariseReturns(figures),
      ...(c.ok ? {} : { error: c.error }),
    };
    if (!c.ok) seen('compensation', c.error);
  } else if (effects.length) {
    result.figures.final = await db.withTransaction((q) => readTankFigures(q, tank.id, tank.produitId, day), { readOnly: true });
    log.info(`smoke: compensation off (${ctx.environment}): the controlled movements stay, marked ${SMOKE_MARK}`);
  }

  // 5.5 ---------------------------------------------------------------------------------------
  {
    const r = await attempt(() => asUser((q) => readCoherence(q)));
    const f: SmokeFinding[] = [];
    if (!r.ok) {
      seen('5.5 coherence', r.error);
      f.push(
        finding(
          'COHERENCE_READ',
          false,
          'P0001_OR_RLS',
          `reading the coherence as the ${ctx.user.role} failed: ${r.error.code} ${r.error.message}`,
        ),
      );
    } else {
      const c = r.value;
      f.push(
        finding(
          'NO_NEGATIVE_STOCK',
          c.negative.length === 0,
          'STOCK_INCOHERENCE',
          c.negative.length
            ? `${c.negative.length} journal row(s) below 0: ${c.negative
                .slice(0, 5)
                .map((x) => `${x.citerne_id} ${x.proprietaire_type} ${x.date_jour} ${r3(x.stock_ambiant)} L / ${r3(x.stock_15c)} L @15 °C`)
                .join('; ')}`
            : 'no journal row below 0',
          { negative_rows: c.negative.length },
        ),
        finding(
          'NO_DUPLICATE_JOURNAL_KEY',
          c.duplicates.length === 0,
          'STOCK_INCOHERENCE',
          c.duplicates.length
            ? `${c.duplicates.length} duplicated key(s) (tank, product, day, owner): ${c.duplicates
                .slice(0, 5)
                .map((x) => `${x.citerne_id} ${x.date_jour} ${x.proprietaire_type} ×${x.rows}`)
                .join('; ')}`
            : 'no duplicated (tank, product, day, owner) in stocks_journaliers',
          { duplicated_keys: c.duplicates.length },
        ),
        finding(
          'NO_STOCK_OVER_CAPACITY',
          c.overCapacity.length === 0,
          'STOCK_INCOHERENCE',
          c.overCapacity.length
            ? `above capacity: ${c.overCapacity.map((x) => `${x.nom} ${r3(x.stock_ambiant)} L > ${r3(x.capacite_utile)} L (${x.source})`).join('; ')}`
            : 'no tank above its useful capacity (journal and v_stock_actuel)',
          { tanks_over_capacity: c.overCapacity.length },
        ),
      );
    }
    const p0001 = errors.filter((e) => e.code === 'P0001');
    f.push(
      finding(
        'NO_P0001',
        p0001.length === 0,
        'P0001_OR_RLS',
        p0001.length
          ? `P0001 raised during the smoke: ${p0001.map((e) => `${e.step}: ${e.message}`).join('; ')}`
          : 'no P0001 raised during the smoke run',
        { p0001: p0001.length },
      ),
    );
    result.checks.push(
      check(
        '5.5',
        'Cohérence post-opération: aucun stock négatif, aucun doublon de clé, aucune P0001, aucun dépassement de capacité',
        '5.5',
        f,
      ),
    );
  }

  result.passed = result.checks.every((c) => c.passed);
  log.info(
    `smoke: ${result.passed ? 'PASS' : 'FAIL'} (${result.checks.map((c) => `${c.id} ${c.passed ? 'ok' : c.ran ? 'FAIL' : 'not run'}`).join(', ')})`,
  );
  return result;
}

// --------------------------------------------------------------------------- 5.3

type Seen = (step: string, e: { code: string; message: string }) => void;

async function receptionCheck(db: Db, opts: SmokeOptions, ctx: Context, who: AppIdentity, before: TankFigures, seen: Seen, log: Logger) {
  const m = SMOKE_MOVEMENTS.reception;
  const amb = m.index_apres - m.index_avant;
  const engine = table53b({
    observedDensity: m.densite_observee_kgm3,
    temperatureC: m.temperature_c,
    hydrometer: opts.profile.hydrometer,
    edition: opts.profile.edition,
    rounding: opts.profile.rounding,
    volumeL: amb,
  });
  const engine15 = engine.volume15L!;
  const plaque = `${SMOKE_MARK} ${opts.run.runId}`.slice(0, 60);
  const note = `${SMOKE_MARK}: pipeline test reception, run ${opts.run.runId}`;
  const f: SmokeFinding[] = [];
  const r = await attempt(() =>
    db.withTransaction(async (tx) => {
      await allowFrozenWrites(tx);
      // the test truck, by the pipeline: under RLS only admin/directeur may insert one
      const cdr = await tx.query<{ id: string }>(
        `INSERT INTO public.cours_de_route (depot_destination_id, produit_id, plaque_camion, date_chargement, volume, statut, note)
         VALUES ($1, $2, $3, $4::date, $5, 'ARRIVE', $6) RETURNING id::text`,
        [ctx.tank.depotId, ctx.tank.produitId, plaque, ctx.day, amb, `${SMOKE_MARK}: pipeline test truck, run ${opts.run.runId}`],
      );
      const cdrId = cdr.rows[0]!.id;
      await impersonate(tx, who);
      // the February app's payload: densite_a_15 = the observed density, volume_corrige_15c computed client-side
      const cols = [
        'cours_de_route_id',
        'citerne_id',
        'produit_id',
        'index_avant',
        'index_apres',
        'temperature_ambiante_c',
        'densite_a_15',
        'volume_corrige_15c',
        'proprietaire_type',
        'date_reception',
        'note',
      ];
      const vals: unknown[] = [
        cdrId,
        ctx.tank.id,
        ctx.tank.produitId,
        m.index_avant,
        m.index_apres,
        m.temperature_c,
        m.densite_observee_kgm3,
        engine15,
        'MONALUXE',
        ctx.day,
        note,
      ];
      if (ctx.hasObservedDensityColumn) {
        cols.push('densite_observee_kgm3');
        vals.push(m.densite_observee_kgm3);
      }
      const ins = await tx.query<{ id: string; volume_ambiant: number; volume_corrige_15c: number | null; volume_15c: number | null }>(
        `INSERT INTO public.receptions (${cols.join(', ')}) VALUES (${vals.map((_, i) => `$${i + 1}${i === 9 ? '::date' : ''}`).join(', ')})
         RETURNING id::text, volume_ambiant, volume_corrige_15c, volume_15c`,
        vals,
      );
      return { cdrId, row: ins.rows[0]! };
    }),
  );
  if (!r.ok) {
    seen('5.3 reception', r.error);
    f.push(
      finding(
        'RECEPTION_INSERTED',
        false,
        r.error.code === 'P0001' || r.error.code === '42501' ? 'P0001_OR_RLS' : 'SMOKE_FAILED',
        `the reception was refused: ${r.error.code} ${r.error.message}`,
      ),
    );
    return {
      check: check('5.3', 'Réception contrôlée', '4.5, 5.3', f),
      cdr: undefined,
      reception: undefined,
      after: undefined,
      effect: undefined,
    };
  }
  const { cdrId, row } = r.value;
  log.info(`smoke: reception ${row.id} (${amb} L) on ${ctx.tank.nom}, truck ${cdrId}`);
  const stored = row.volume_15c ?? row.volume_corrige_15c;
  const storedIn: 'volume_15c' | 'volume_corrige_15c' | null =
    row.volume_15c !== null ? 'volume_15c' : row.volume_corrige_15c !== null ? 'volume_corrige_15c' : null;
  const after = await withAppUser(db, who, (q) => readTankFigures(q, ctx.tank.id, ctx.tank.produitId, ctx.day), { readOnly: true });
  const expected: Balance = { amb: row.volume_ambiant, v15: stored ?? 0 };
  const own = 'MONALUXE' as Owner;
  const dj = delta(after[own].journal, before[own].journal);
  const ds = delta(after[own].snapshot, before[own].snapshot);
  const dev = stored === null ? null : r3(stored - engine15);
  f.push(
    finding(
      'RECEPTION_15C_MATCHES_ENGINE',
      dev !== null && Math.abs(dev) <= opts.toleranceL,
      'GOLDEN_DEVIATION',
      dev === null
        ? 'the reception stores no 15 °C volume'
        : `${storedIn} ${r3(stored!)} L vs engine ${r3(engine15)} L (${profileName(opts.profile)}): ${dev >= 0 ? '+' : ''}${dev} L, tolerance ±${opts.toleranceL} L${storedIn === 'volume_corrige_15c' ? ' (the database stores what the app sent)' : ' (computed by the database)'}`,
      { stored_15c: stored === null ? null : r3(stored), engine_15c: r3(engine15), deviation_l: dev },
    ),
    finding(
      'JOURNAL_CREDIT',
      sameBalance(dj, expected),
      'STOCK_INCOHERENCE',
      `journal ${own} rose by ${fmtBalance(dj)}; expected ${fmtBalance(expected)}`,
      { ...bal('journal_delta', dj), ...bal('expected', expected) },
    ),
    finding(
      'SNAPSHOT_CREDIT',
      sameBalance(ds, expected),
      'STOCK_INCOHERENCE',
      `snapshot ${own} rose by ${fmtBalance(ds)}; expected ${fmtBalance(expected)}`,
      { ...bal('snapshot_delta', ds), ...bal('expected', expected) },
    ),
  );
  f.push(otherOwners(before, after, own, 'the reception'));
  const probe = await withAppUser(
    db,
    who,
    async (q) => {
      const logs = await q.query<{ n: number }>(
        "SELECT count(*)::int8 AS n FROM public.log_actions WHERE action = 'RECEPTION_CREEE' AND details->>'reception_id' = $1",
        [row.id],
      );
      const cdr = await q.query<{ statut: string }>('SELECT statut FROM public.cours_de_route WHERE id = $1', [cdrId]);
      return { logs: logs.rows[0]!.n, statut: cdr.rows[0]?.statut ?? null };
    },
    { readOnly: true },
  );
  f.push(
    finding(
      'LOG_RECEPTION_CREEE',
      probe.logs === 1,
      'SMOKE_FAILED',
      `log_actions has ${probe.logs} RECEPTION_CREEE row(s) for the reception`,
      { rows: probe.logs },
    ),
    finding(
      'CDR_CLOSED',
      probe.statut === 'DECHARGE',
      'SMOKE_FAILED',
      `the test truck is ${probe.statut ?? 'invisible to the user'} after its reception (expected DECHARGE)`,
    ),
  );
  return {
    check: check(
      '5.3',
      'Réception contrôlée: volume à 15 °C cohérent, crédit journal et snapshot, RECEPTION_CREEE, CDR clôturé',
      '4.5, 5.3',
      f,
    ),
    cdr: { id: cdrId, plaque_camion: plaque, statut_after: probe.statut },
    reception: {
      id: row.id,
      ...m,
      volume_ambiant: row.volume_ambiant,
      engine_15c: r3(engine15),
      engine_density15: engine.density15,
      stored_15c: stored === null ? null : r3(stored),
      stored_in: storedIn,
      sent_volume_corrige_15c: r3(engine15),
    },
    after,
    effect: {
      mouvement_type: 'RECEPTION' as const,
      mouvement_id: row.id,
      owner: own,
      actuel: delta(after[own].actuel, before[own].actuel),
    },
  };
}

function otherOwners(before: TankFigures, after: TankFigures, own: Owner, what: string): SmokeFinding {
  const moved = OWNERS.filter((o) => o !== own).flatMap((o) => {
    const out: string[] = [];
    const dj = delta(after[o].journal, before[o].journal);
    const ds = delta(after[o].snapshot, before[o].snapshot);
    if (!sameBalance(dj, { amb: 0, v15: 0 })) out.push(`${o} journal moved by ${fmtBalance(dj)}`);
    if (!sameBalance(ds, { amb: 0, v15: 0 })) out.push(`${o} snapshot moved by ${fmtBalance(ds)}`);
    return out;
  });
  return finding(
    'OTHER_OWNERS_UNTOUCHED',
    moved.length === 0,
    'STOCK_INCOHERENCE',
    moved.length ? `${what} moved another owner's stock: ${moved.join('; ')}` : `${what} moved no other owner's row`,
  );
}

// --------------------------------------------------------------------------- 5.4

async function sortieCheck(db: Db, opts: SmokeOptions, ctx: Context, who: AppIdentity, seen: Seen, log: Logger) {
  const m = SMOKE_MOVEMENTS.sortie;
  const amb = m.index_apres - m.index_avant;
  const engine = table53b({
    observedDensity: m.densite_observee_kgm3,
    temperatureC: m.temperature_c,
    hydrometer: opts.profile.hydrometer,
    edition: opts.profile.edition,
    rounding: opts.profile.rounding,
    volumeL: amb,
  });
  const engine15 = engine.volume15L!;
  const own = 'MONALUXE' as Owner;
  const f: SmokeFinding[] = [];
  const title =
    'Sortie contrôlée: brouillon validé par validate_sortie; débit stock_15c du bon propriétaire; validee; SORTIE_VALIDEE; DB-STRICT';
  const draft = await attempt(() =>
    withAppUser(db, who, async (tx) => {
      await allowFrozenWrites(tx);
      const r = await tx.query<{ id: string }>(
        `INSERT INTO public.sorties_produit (citerne_id, produit_id, client_id, index_avant, index_apres, temperature_ambiante_c, densite_a_15, volume_corrige_15c, proprietaire_type, statut, date_sortie, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'MONALUXE', 'brouillon', ($9::date + time '12:00')::timestamptz, $10) RETURNING id::text`,
        [
          ctx.tank.id,
          ctx.tank.produitId,
          ctx.clientId,
          m.index_avant,
          m.index_apres,
          m.temperature_c,
          engine.density15,
          engine15,
          ctx.day,
          `${SMOKE_MARK}: pipeline test sortie, run ${opts.run.runId}`,
        ],
      );
      return r.rows[0]!.id;
    }),
  );
  if (!draft.ok) {
    seen('5.4 draft sortie', draft.error);
    f.push(
      finding(
        'DRAFT_INSERTED',
        false,
        draft.error.code === 'P0001' || draft.error.code === '42501' ? 'P0001_OR_RLS' : 'SMOKE_FAILED',
        `the draft sortie was refused: ${draft.error.code} ${draft.error.message}`,
      ),
    );
    return { check: check('5.4', title, '5.4', f), sortie: undefined, after: undefined, effect: undefined };
  }
  const id = draft.value;
  const before = await withAppUser(db, who, (q) => readTankFigures(q, ctx.tank.id, ctx.tank.produitId, ctx.day), { readOnly: true });
  const rpc = await attempt(() =>
    withAppUser(db, who, async (tx) => {
      await allowFrozenWrites(tx);
      await tx.query('SELECT public.validate_sortie($1)', [id]);
    }),
  );
  const row = (
    await withAppUser(
      db,
      who,
      (q) =>
        q.query<{ statut: string | null; validated_by: string | null; volume_ambiant: number | null; v15: number | null }>(
          `SELECT statut, validated_by::text, volume_ambiant, ${ctx.sortieHasVolume15c ? 'coalesce(volume_15c, volume_corrige_15c)' : 'volume_corrige_15c'} AS v15 FROM public.sorties_produit WHERE id = $1`,
          [id],
        ),
      { readOnly: true },
    )
  ).rows[0];
  const sortie = {
    id,
    ...m,
    volume_ambiant: row?.volume_ambiant ?? null,
    engine_15c: r3(engine15),
    volume_15c_debited: row?.v15 ?? null,
    statut: row?.statut ?? null,
    validated_by: row?.validated_by ?? null,
  };
  if (!rpc.ok) {
    seen('5.4 validate_sortie', rpc.error);
    f.push(
      finding(
        'RPC_VALIDATED',
        false,
        rpc.error.code === 'P0001' || rpc.error.code === '42501' ? 'P0001_OR_RLS' : 'SMOKE_FAILED',
        `validate_sortie failed as the ${ctx.user.role}: ${rpc.error.code} ${rpc.error.message}`,
      ),
    );
    log.warn(`smoke: the draft sortie ${id} stays a draft (no stock effect), marked ${SMOKE_MARK}`);
    return { check: check('5.4', title, '5.4', f), sortie, after: undefined, effect: undefined };
  }
  log.info(`smoke: sortie ${id} (${amb} L) validated through validate_sortie`);
  const after = await withAppUser(db, who, (q) => readTankFigures(q, ctx.tank.id, ctx.tank.produitId, ctx.day), { readOnly: true });
  const expected: Balance = { amb: -(row?.volume_ambiant ?? amb), v15: -(row?.v15 ?? amb) };
  const dj = delta(after[own].journal, before[own].journal);
  const ds = delta(after[own].snapshot, before[own].snapshot);
  f.push(
    finding('RPC_VALIDATED', true, null, `validate_sortie succeeded as the ${ctx.user.role}`),
    finding(
      'JOURNAL_DEBIT',
      sameBalance(dj, expected),
      'STOCK_INCOHERENCE',
      `journal ${own} moved by ${fmtBalance(dj)}; expected ${fmtBalance(expected)}`,
      { ...bal('journal_delta', dj), ...bal('expected', expected) },
    ),
    otherOwners(before, after, own, 'validate_sortie'),
    finding(
      'JOURNAL_SNAPSHOT_AGREE',
      sameBalance(dj, ds),
      'STOCK_INCOHERENCE',
      sameBalance(dj, ds)
        ? `journal and snapshot of ${own} moved alike (${fmtBalance(dj)})`
        : `journal and snapshot disagree after the sortie: journal ${own} moved by ${fmtBalance(dj)}, snapshot by ${fmtBalance(ds)} (validate_sortie does not write stocks_snapshot, so v_stock_actuel does not show the sortie)`,
      {
        ...bal('journal_delta', dj),
        ...bal('snapshot_delta', ds),
        ...bal('v_stock_actuel_delta', delta(after[own].actuel, before[own].actuel)),
      },
    ),
    finding(
      'STATUT_VALIDEE',
      row?.statut === 'validee' && row.validated_by === ctx.user.id,
      'SMOKE_FAILED',
      `statut ${row?.statut ?? '?'}, validated_by ${row?.validated_by ?? 'NULL'}`,
    ),
  );
  const logs = await withAppUser(
    db,
    who,
    (q) =>
      q.query<{ n: number }>(
        "SELECT count(*)::int8 AS n FROM public.log_actions WHERE action = 'SORTIE_VALIDEE' AND details->>'sortie_id' = $1",
        [id],
      ),
    { readOnly: true },
  );
  f.push(
    finding(
      'LOG_SORTIE_VALIDEE',
      logs.rows[0]!.n === 1,
      'SMOKE_FAILED',
      `log_actions has ${logs.rows[0]!.n} SORTIE_VALIDEE row(s) for the sortie`,
    ),
  );
  // DB-STRICT: the guard trigger itself must refuse, so as the pipeline (RLS would merely filter a gerant's UPDATE)
  for (const [code, sql] of [
    ['IMMUTABLE_UPDATE', "UPDATE public.sorties_produit SET note = note || ' (astm53b probe)' WHERE id = $1"],
    ['IMMUTABLE_DELETE', 'DELETE FROM public.sorties_produit WHERE id = $1'],
  ] as const) {
    const e = await probeRefusal(db, undefined, sql, [id]);
    f.push(
      finding(
        code,
        e?.code === 'P0001',
        'SMOKE_FAILED',
        e
          ? `${code === 'IMMUTABLE_UPDATE' ? 'UPDATE' : 'DELETE'} of the validated sortie refused: ${e.code} ${e.message}`
          : `the validated sortie could be ${code === 'IMMUTABLE_UPDATE' ? 'updated' : 'deleted'} (rolled back): DB-STRICT does not hold`,
      ),
    );
  }
  if (ctx.lectureUser) {
    const e = await probeRefusal(db, { role: 'authenticated', userId: ctx.lectureUser }, 'SELECT public.validate_sortie($1)', [id]);
    f.push(
      finding(
        'LECTURE_ROLE_FORBIDDEN',
        e !== null && /ROLE_FORBIDDEN/.test(e.message),
        'SMOKE_FAILED',
        e ? `a lecture user calling validate_sortie: ${e.code} ${e.message}` : 'a lecture user could call validate_sortie (rolled back)',
      ),
    );
  } else {
    f.push(
      finding('LECTURE_ROLE_FORBIDDEN', false, 'SMOKE_FAILED', 'not proven: no profils row with role lecture to try validate_sortie with'),
    );
  }
  return {
    check: check('5.4', title, '5.4', f),
    sortie: { ...sortie, statut: row?.statut ?? null },
    after,
    effect: { mouvement_type: 'SORTIE' as const, mouvement_id: id, owner: own, actuel: delta(after[own].actuel, before[own].actuel) },
  };
}

/** The CLI's and the action's inputs, validated the same way, before anything connects. */
export async function buildSmokeOptions(raw: {
  asUser?: string | undefined;
  profile?: string | undefined;
  goldenResult?: { path: string; display: string } | undefined;
  toleranceL?: string | undefined;
  compensate?: boolean | undefined;
  citerne?: string | undefined;
  run: RunContext;
}): Promise<SmokeOptions> {
  const tol =
    raw.toleranceL === undefined || raw.toleranceL === '' ? 5 : /^\d+(\.\d+)?$/.test(raw.toleranceL) ? Number(raw.toleranceL) : NaN;
  const { profile, source } = await resolveSmokeProfile({ profile: raw.profile, goldenResult: raw.goldenResult });
  const o: SmokeOptions = {
    profile,
    profileSource: source,
    toleranceL: tol,
    run: raw.run,
    ...(raw.asUser ? { asUser: raw.asUser.trim() } : {}),
    ...(raw.citerne ? { citerneId: raw.citerne.trim() } : {}),
    ...(raw.compensate !== undefined ? { compensate: raw.compensate } : {}),
  };
  validateSmokeOptions(o);
  return o;
}
