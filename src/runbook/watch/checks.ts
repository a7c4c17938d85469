import { z } from 'zod';
import { isAstmError, table54b } from '../../astm/index.js';
import { readFingerprint } from '../../db/fingerprint.js';
import { parseRows } from '../../db/rows.js';
import type { Queryable } from '../../db/types.js';
import type { GoldenProfile } from '../../golden/profile.js';
import type { SmokeFinding } from '../../results/smoke.js';
import type { Complaint, MovementCheck, WatchCheck } from '../../results/watch.js';
import { readReceptionDrifts } from '../golden-drift.js';
import { coherenceReadFindings } from '../smoke/coherence.js';
import { r3, readCoherence } from '../smoke/figures.js';
import { finding } from '../smoke/findings.js';
import type { GoFacts } from '../go-bundle.js';

/** The watch's read-only checks, in one read-only transaction (index.ts). */

const check = (id: WatchCheck['id'], title: string, findings: SmokeFinding[]): WatchCheck => ({
  id,
  title,
  passed: findings.every((f) => f.passed),
  findings,
});

/** Runbook 5.5 over the whole database, with the smoke's own findings. */
export async function coherenceCheck(q: Queryable): Promise<WatchCheck> {
  return check(
    'coherence',
    '5.5 Cohérence: aucun stock négatif, aucun doublon de clé, aucun dépassement de capacité',
    coherenceReadFindings(await readCoherence(q)),
  );
}

const SortieRow = z.object({
  id: z.string(),
  created_at: z.string(),
  citerne: z.string().nullable(),
  volume_ambiant: z.number().nullable(),
  temperature_ambiante_c: z.number().nullable(),
  densite_a_15: z.number().nullable(),
  stored: z.number().nullable(),
});

/** A validated sortie's 15 °C volume against Table 54B of its own ambient volume, temperature and density at 15 °C. */
function sortieAgainstAstm(row: z.infer<typeof SortieRow>, p: GoldenProfile): MovementCheck {
  const base = { kind: 'sortie' as const, id: row.id, date: row.created_at, citerne: row.citerne, stored_15c_l: row.stored };
  if (row.volume_ambiant === null || row.temperature_ambiante_c === null || row.densite_a_15 === null || row.stored === null)
    return { ...base, astm_15c_l: null, deviation_l: null, problem: 'no volume_ambiant, temperature, density or 15 °C volume' };
  try {
    const astm = table54b({
      density15: row.densite_a_15,
      temperatureC: row.temperature_ambiante_c,
      edition: p.edition,
      rounding: p.rounding,
      volumeL: row.volume_ambiant,
    }).volume15L!;
    return { ...base, astm_15c_l: r3(astm), deviation_l: r3(row.stored - astm), problem: null };
  } catch (e) {
    if (isAstmError(e)) return { ...base, astm_15c_l: null, deviation_l: null, problem: `${e.code}: ${e.message}` };
    throw e;
  }
}

/**
 * Every reception and validated sortie entered since the GO, its stored 15 °C volume against ASTM of
 * its own inputs (receptions: Table 53B of the observed density, as golden-drift recomputes them;
 * sorties: Table 54B of their density at 15 °C): the migration must have taken, so a value off by
 * more than the tolerance (a legacy-computed one, say) is a finding.
 */
export async function movementsSinceGo(
  q: Queryable,
  since: string,
  profile: GoldenProfile,
  toleranceL: number,
): Promise<{ movements: MovementCheck[]; check: WatchCheck }> {
  const receptions: MovementCheck[] = (await readReceptionDrifts(q, profile, since)).map(({ drift: d }) => ({
    kind: 'reception',
    id: d.reception_id,
    date: d.date_reception ?? '',
    citerne: d.citerne,
    stored_15c_l: d.stored_15c_l,
    astm_15c_l: d.astm_15c_l === null ? null : r3(d.astm_15c_l),
    deviation_l: d.drift_l,
    problem: d.problem,
  }));
  const sortieRows = parseRows(
    SortieRow,
    (
      await q.query(
        `SELECT s.id::text, s.created_at::text, c.nom AS citerne, s.volume_ambiant, s.temperature_ambiante_c, s.densite_a_15, s.volume_corrige_15c AS stored
           FROM public.sorties_produit s LEFT JOIN public.citernes c ON c.id = s.citerne_id
          WHERE s.statut = 'validee' AND (s.created_at >= $1::timestamptz OR s.date_sortie >= $1::timestamptz)
          ORDER BY s.created_at, s.id`,
        [since],
      )
    ).rows,
    'watch: sorties since the GO',
  );
  const movements = [...receptions, ...sortieRows.map((r) => sortieAgainstAstm(r, profile))];
  const off = movements.filter((m) => m.deviation_l === null || Math.abs(m.deviation_l) > toleranceL);
  const findings = [
    finding(
      'MOVEMENTS_ON_ASTM',
      off.length === 0,
      'GOLDEN_DEVIATION',
      off.length
        ? `${off.length} of ${movements.length} movement(s) since the GO not within ±${toleranceL} L of ASTM of their own inputs: ${off
            .slice(0, 5)
            .map(
              (m) =>
                `${m.kind} ${m.id} (${m.citerne ?? '?'}) stored ${m.stored_15c_l ?? '—'} L vs ASTM ${m.astm_15c_l ?? '—'} L${m.problem ? `: ${m.problem}` : ''}`,
            )
            .join('; ')}`
        : `${movements.length} movement(s) since the GO, each within ±${toleranceL} L of ASTM of its own inputs`,
      { movements: movements.length, off: off.length },
    ),
  ];
  return {
    movements,
    check: check('movements', 'Réceptions et sorties depuis le GO: volume à 15 °C selon ASTM 53B de leurs propres données', findings),
  };
}

/** validate_sortie as the GO applied it: the live catalog's canonical definition against sql-apply.json's after-state. */
export async function functionCheck(q: Queryable, go: GoFacts): Promise<WatchCheck> {
  const live = (await readFingerprint(q)).entries.filter((e) => e.kind === 'function' && e.name.startsWith('public.validate_sortie('));
  const drift = [
    ...go.validateSortie
      .filter((a) => live.find((l) => l.name === a.name)?.value !== a.value)
      .map((a) => `${a.name} differs from the body the GO applied`),
    ...live.filter((l) => !go.validateSortie.some((a) => a.name === l.name)).map((l) => `${l.name} was not there at the GO`),
  ];
  return check('function', 'validate_sortie toujours celle appliquée au GO (pas de dérive)', [
    finding(
      'VALIDATE_SORTIE_AS_APPLIED',
      drift.length === 0 && go.validateSortie.length > 0,
      'CHANGE_NOT_APPLIED',
      go.validateSortie.length === 0
        ? 'the GO bundle records no validate_sortie after-state'
        : drift.length
          ? drift.join('; ')
          : 'validate_sortie is the body the GO applied',
    ),
  ]);
}

export function complaintsCheck(complaints: readonly Complaint[]): WatchCheck {
  return check('complaints', 'Réclamations terrain depuis le GO', [
    finding(
      'NO_FIELD_COMPLAINT',
      complaints.length === 0,
      'FIELD_COMPLAINT',
      complaints.length
        ? complaints.map((c) => `${c.who} (${c.when}${c.issue ? `, issue #${c.issue.number}` : ''}): ${c.what}`).join('; ')
        : 'no field complaint since the GO',
      { complaints: complaints.length },
    ),
  ]);
}
