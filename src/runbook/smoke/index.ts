import { withAppUser } from '../../db/as-user.js';
import type { AppIdentity, Db, Queryable } from '../../db/types.js';
import { profileName } from '../../golden/profile.js';
import type { Logger } from '../../logger.js';
import type { SmokeResult, SqlErrorSeen } from '../../results/smoke.js';
import { connectionCheck, initialStockCheck } from './access.js';
import { coherenceCheck } from './coherence.js';
import { compareFigures, compensate, summariseReturns, type MovementEffect } from './compensate.js';
import { readContext } from './context.js';
import { readTankFigures } from './figures.js';
import { attempt, check, finding } from './findings.js';
import { SMOKE_MARK } from './movements.js';
import { validateSmokeOptions, type SmokeOptions } from './options.js';
import { receptionCheck } from './reception.js';
import { sortieCheck } from './sortie.js';

export { SMOKE_MARK, SMOKE_MOVEMENTS } from './movements.js';
export { buildSmokeOptions, resolveSmokeProfile, validateSmokeOptions, type SmokeOptions } from './options.js';

/**
 * `astm53b smoke` (runbook 4.5, 5.1–5.5): the controlled reception and sortie, as a real app user
 * (JWT claims, SET LOCAL ROLE authenticated, a profils row allowed to do it), through the app's
 * own paths: a reception INSERT with the February payload, a draft sortie validated by the RPC
 * validate_sortie. One transaction per app request, as PostgREST does (the DB-STRICT flags that
 * SECURITY DEFINER code sets last until the end of the caller's transaction, so batching requests
 * would change what is proven). Every check is a named result with its figures; nothing is
 * hidden: a journal/snapshot divergence is reported with its numbers, whatever it means for GO.
 */
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

  result.checks.push(await connectionCheck(db, ctx, asUser, seen));

  const initial = await initialStockCheck(db, ctx, asUser, seen);
  const before = initial.before;
  result.checks.push(initial.check);
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

  result.checks.push(await coherenceCheck(ctx, asUser, errors, seen));

  result.passed = result.checks.every((c) => c.passed);
  log.info(
    `smoke: ${result.passed ? 'PASS' : 'FAIL'} (${result.checks.map((c) => `${c.id} ${c.passed ? 'ok' : c.ran ? 'FAIL' : 'not run'}`).join(', ')})`,
  );
  return result;
}
