import type { RollbackProof, SmokeCheck, SmokeFinding, SqlErrorSeen } from '../../results/smoke.js';
import type { AsUser, Context } from './context.js';
import { r3, readCoherence, type Coherence } from './figures.js';
import { attempt, check, finding, type Seen } from './findings.js';

/**
 * Read inside the smoke's transaction, on what its movements left, before the rollback.
 * `errors`: every SQL error the smoke has seen so far, this check's own included (NO_P0001 reads them all).
 */
export async function coherenceFindings(
  ctx: Context,
  asUser: AsUser,
  errors: readonly SqlErrorSeen[],
  seen: Seen,
): Promise<SmokeFinding[]> {
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
    f.push(...coherenceReadFindings(r.value));
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
  return f;
}

/**
 * Runbook 5.5 on what the database holds: no journal row below 0, no duplicated journal key, no
 * tank above its useful capacity. The smoke reads it inside its transaction; the 24-hour watch
 * after a GO reads it over the live database (src/runbook/watch).
 */
export function coherenceReadFindings(c: Coherence): SmokeFinding[] {
  return [
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
  ];
}

/** After the rollback: the tank as the app shows it, read afresh, is what it was before the smoke. */
export function rollbackFinding(ctx: Context, proof: RollbackProof): SmokeFinding {
  const off = proof.figures.filter((x) => !x.returned);
  return finding(
    'STOCK_UNCHANGED_AFTER_ROLLBACK',
    proof.unchanged,
    'SMOKE_FAILED',
    proof.unchanged
      ? `the smoke's transaction was rolled back: ${ctx.tank.nom} read afresh shows journal, snapshot and v_stock_actuel of every owner as before the smoke`
      : `${ctx.tank.nom} read afresh after the rollback differs from before the smoke (the rollback leaves nothing, so something else wrote to the tank meanwhile and the smoke's deltas are unreliable): ${proof.summary.filter((l) => l.includes('DIFFERS')).join('; ')}`,
    { figures_compared: proof.figures.length, figures_differing: off.length },
  );
}

export const coherenceCheck = (findings: SmokeFinding[]): SmokeCheck =>
  check(
    '5.5',
    'Cohérence post-opération: aucun stock négatif, aucun doublon de clé, aucune P0001, aucun dépassement de capacité; stock inchangé après ROLLBACK',
    '5.5',
    findings,
  );
