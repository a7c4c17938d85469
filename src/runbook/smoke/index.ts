import { withAppUser } from '../../db/as-user.js';
import { isConnectionLost } from '../../db/lost-connection.js';
import type { AppIdentity, Db, Queryable } from '../../db/types.js';
import { UserError } from '../../errors.js';
import { profileName } from '../../golden/profile.js';
import type { Logger } from '../../logger.js';
import type { RollbackProof, SmokeCheck, SmokeFinding, SmokeResult, SqlErrorSeen } from '../../results/smoke.js';
import { allowFrozenWrites } from '../freeze.js';
import { connectionCheck, initialStockCheck } from './access.js';
import { coherenceCheck, coherenceFindings, rollbackFinding } from './coherence.js';
import { readContext } from './context.js';
import { compareFigures, readTankFigures, summariseFigures } from './figures.js';
import { check, finding } from './findings.js';
import { validateSmokeOptions, type SmokeOptions } from './options.js';
import { OTHER_OWNER } from './movements.js';
import { ensureOtherOwnerRow } from './other-owner.js';
import { receptionCheck } from './reception.js';
import { sortieCheck } from './sortie.js';
import { inRolledBackTransaction, openRequests } from './transaction.js';

export { SMOKE_MARK, SMOKE_MOVEMENTS } from './movements.js';
export { buildSmokeOptions, resolveSmokeProfile, validateSmokeOptions, type SmokeOptions } from './options.js';

/**
 * `astm53b smoke` (runbook 4.5, 5.1–5.5): the controlled reception and sortie, as a real app user
 * (JWT claims, SET LOCAL ROLE authenticated, a profils row allowed to do it), through the app's
 * own paths: a reception INSERT with the February payload, a draft sortie validated by the RPC
 * validate_sortie. The tank preferably holds PARTENAIRE stock too, and PARTENAIRE gets a journal row
 * of the day first if it has none (other-owner.ts), so that a debit of another owner's row shows.
 * Every check is a named result with its figures; nothing is hidden: a journal/snapshot divergence
 * is reported with its numbers, whatever it means for GO.
 *
 * 5.1 and 5.2 only read, each request in a read-only transaction of its own. The movements and
 * every check on them (5.3, 5.4 with its DB-STRICT probes, 5.5) run in ONE transaction that is
 * rolled back: the depot's figures are never touched, even when the smoke is killed half-way.
 * Inside it each app request is a savepoint with PostgREST's boundaries restored between them
 * (transaction.ts). The before figures are read outside it, the same way as the proof after it.
 */
export async function runSmoke(db: Db, opts: SmokeOptions, log: Logger): Promise<SmokeResult> {
  validateSmokeOptions(opts);
  let stage = 'reading the target';
  try {
    return await smoke(db, opts, log, (s) => (stage = s));
  } catch (e) {
    if (!isConnectionLost(e)) throw e;
    const why = String((e as Error).message ?? e).split('\n')[0];
    throw new UserError(
      'DB_CONNECTION_LOST',
      `the smoke lost its connection to ${db.label} during ${stage} (${why}). Nothing it wrote was committed: its transaction ends in ROLLBACK, and PostgreSQL rolls back the open transaction of a lost session`,
      { hint: 'run the smoke again once the database is reachable', cause: e },
    );
  }
}

async function smoke(db: Db, opts: SmokeOptions, log: Logger, stage: (s: string) => void): Promise<SmokeResult> {
  const at = new Date().toISOString();
  const ctx = await db.withTransaction((q) => readContext(q, opts), { readOnly: true });
  const who: AppIdentity = { role: 'authenticated', userId: ctx.user.id };
  const asUser = <T>(fn: (q: Queryable) => Promise<T>) => withAppUser(db, who, fn, { readOnly: true });
  const errors: SqlErrorSeen[] = [];
  const seen = (step: string, e: { code: string; message: string }) => {
    errors.push({ step, ...e });
    log.warn(`smoke: ${step}: ${e.code} ${e.message}`);
  };
  const { tank, day } = ctx;
  log.info(
    `smoke on ${db.label} (${ctx.environment}${ctx.frozen ? ', frozen' : ''}) as ${ctx.user.role} ${ctx.user.id}; tank ${tank.nom} on ${day}; profile ${profileName(opts.profile)}; movements and their checks in one transaction, rolled back at the end`,
  );

  const checks: SmokeCheck[] = [];
  const movements: SmokeResult['movements'] = {};
  stage('5.1 (connection)');
  checks.push(await connectionCheck(db, ctx, asUser, seen));
  stage('5.2 (initial stock)');
  const initial = await initialStockCheck(db, ctx, asUser, seen);
  const before = initial.before;
  checks.push(initial.check);
  const figures: NonNullable<SmokeResult['figures']> = { before };

  let coherence: SmokeFinding[] = [];
  await inRolledBackTransaction(db, async (tx) => {
    // once, before the requests: the baseline every request starts from includes the bypass
    await allowFrozenWrites(tx);
    const req = await openRequests(tx);
    if (!ctx.p0Applied) {
      const why =
        'validate_sortie has the LEGACY body (it does not set app.stocks_journaliers_allow_write): it fails with P0001 "Ecriture directe interdite sur stocks_journaliers" until the P0 change (runbook 4.3) is applied';
      checks.push(check('5.3', 'Réception contrôlée', '4.5, 5.3', [], false, 'nothing written: the sortie of 5.4 could not be validated'));
      checks.push(check('5.4', 'Sortie contrôlée via RPC validate_sortie', '5.4', [finding('P0_NOT_APPLIED', false, 'P0001_OR_RLS', why)]));
      log.warn(`smoke: ${why}; no movement written`);
    } else {
      stage("the other owner's journal row of the day (for 5.3, 5.4)");
      const other = await ensureOtherOwnerRow(req, opts, ctx, who, seen, log);
      if (other.reception) movements.otherOwnerReception = other.reception;
      if (other.after) figures.afterOtherOwnerReception = other.after;
      // the smoke's owner is still measured from 5.2's read, so that a write by anyone else since shows
      // in 5.3; the other owner from after the smoke's own reception for it
      const baseline = other.after ? { ...before, [OTHER_OWNER]: other.after[OTHER_OWNER] } : before;
      stage('5.3 (the controlled reception)');
      const rec = await receptionCheck(req, opts, ctx, who, baseline, seen, log);
      movements.cdr = rec.cdr;
      if (rec.reception) movements.reception = rec.reception;
      figures.afterReception = rec.after;
      checks.push(rec.check);
      stage('5.4 (the controlled sortie)');
      const so = await sortieCheck(req, opts, ctx, who, seen, log, other.finding);
      if (so.sortie) movements.sortie = so.sortie;
      if (so.after) figures.afterSortie = so.after;
      checks.push(so.check);
    }
    stage('5.5 (coherence)');
    coherence = await coherenceFindings(ctx, (fn) => req.as(who, fn), errors, seen);
  });
  log.info("smoke: the smoke's transaction was rolled back");

  stage('the read after the rollback');
  const afterRollback = await db.withTransaction((q) => readTankFigures(q, tank.id, tank.produitId, day), { readOnly: true });
  const compared = compareFigures(before, afterRollback);
  const rollback: RollbackProof = {
    rolledBack: true,
    afterRollback,
    figures: compared,
    unchanged: compared.every((f) => f.returned),
    summary: summariseFigures(compared),
  };
  checks.push(coherenceCheck([...coherence, rollbackFinding(ctx, rollback)]));

  const passed = checks.every((c) => c.passed);
  log.info(
    `smoke: ${passed ? 'PASS' : 'FAIL'} (${checks.map((c) => `${c.id} ${c.passed ? 'ok' : c.ran ? 'FAIL' : 'not run'}`).join(', ')})`,
  );
  return {
    step: 'smoke',
    passed,
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
    movements,
    figures,
    rollback,
    checks,
    errors,
  };
}
