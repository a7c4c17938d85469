import { z } from 'zod';
import { isAstmError } from '../astm/index.js';
import { UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Queryable } from '../db/types.js';
import { parseRows } from '../db/rows.js';
import { diagnose } from '../golden/diagnose.js';
import type { GoldenSet, LocatedCase } from '../golden/load.js';
import { CANDIDATE_PROFILES, computeCase, profileName, type GoldenProfile } from '../golden/profile.js';
import { halfUnit } from '../golden/diagnose.js';
import type { CaseResult, GoldenVerifyResult, ProfileScore, Verdict, MlppReception } from '../results/golden.js';
import { maxOf } from '../lists.js';
import { RESTATEMENT_REASON_PREFIX } from '../results/restate.js';

/**
 * Runbook 3.2 / 5.6: every golden case compared three ways: the engine's 15 °C volume, SEP's
 * (`volume_15c_ref_l`) and, when the case is linked to a reception and a database is given,
 * ML_PP's effective value: what it stored plus its restatement adjustments (`astm53b restate`),
 * since that is what its stock counts for the reception. Which profile SEP uses is found from
 * the cases, not assumed (unless the caller names one). Overall PASS only if every comparison
 * holds.
 */
export const DEFAULT_TOLERANCE_L = 5;

export interface VerifyGoldenOptions {
  /** use this profile instead of the best one found */
  profile?: GoldenProfile;
  /** ±litres; default 5 */
  toleranceL?: number;
  /** the target, to read the linked receptions' stored values */
  db?: Queryable;
}

const EPS = 1e-9;
const r3 = (x: number) => Math.round(x * 1000) / 1000;
const r6 = (x: number) => Math.round(x * 1e6) / 1e6;

export async function verifyGolden(set: GoldenSet, opts: VerifyGoldenOptions, log: Logger): Promise<GoldenVerifyResult> {
  const toleranceL = opts.toleranceL ?? DEFAULT_TOLERANCE_L;
  if (!(Number.isFinite(toleranceL) && toleranceL >= 0)) {
    throw new UserError('BAD_OPTION', `tolerance ${toleranceL} L must be a number ≥ 0`, { where: { field: '--tolerance-l' } });
  }
  // linked receptions are read (and a missing one refused) before anything is computed
  const mlpp = opts.db ? await readLinkedReceptions(opts.db, set) : new Map<string, Linked>();

  const scores = CANDIDATE_PROFILES.map((p) => scoreProfile(set.cases, p, toleranceL));
  const ranked = [...scores].sort(compareScores);
  const best = ranked[0]!;
  const chosen = opts.profile ?? CANDIDATE_PROFILES[scores.indexOf(best)]!;
  const chosenScore = scores[CANDIDATE_PROFILES.indexOf(chosen)]!;
  const indistinguishable = scores.filter((s) => s !== chosenScore && compareScores(s, chosenScore) === 0).map((s) => s.score.profile);
  log.info(
    `profile ${profileName(chosen)} (${opts.profile ? 'given' : 'found'}): reproduces ${chosenScore.score.reproduced}/${set.cases.length} case(s) within ±${toleranceL} L` +
      (indistinguishable.length ? `; the cases cannot tell it from ${indistinguishable.join(', ')}` : ''),
  );

  const cases = set.cases.map((c) => verifyCase(c, chosen, toleranceL, mlpp.get(c.case.reference)));
  const failed = cases.filter((c) => c.verdict === 'FAIL').length;
  const deviations = cases.flatMap((c) => [
    Math.abs(c.deviation_l),
    ...(c.mlpp_deviation_l === null ? [] : [Math.abs(c.mlpp_deviation_l)]),
  ]);
  for (const c of cases) if (c.verdict === 'FAIL') log.warn(`${c.reference}: FAIL: ${c.diagnosis.explanation}`);
  return {
    passed: failed === 0,
    profile: profileName(chosen),
    profile_chosen_by: opts.profile ? 'option' : 'discovery',
    indistinguishable_from: indistinguishable,
    profiles: scores.map((s) => s.score),
    tolerance_l: toleranceL,
    origin: set.origin,
    counts: {
      cases: cases.length,
      passed: cases.length - failed,
      failed,
      mlpp_compared: cases.filter((c) => c.mlpp_verdict !== 'NOT_COMPARED').length,
    },
    max_deviation_l: r3(maxOf(deviations, 0)),
    cases,
  };
}

function verifyCase(lc: LocatedCase, p: GoldenProfile, toleranceL: number, linked: Linked | undefined): CaseResult {
  const c = lc.case;
  const e = computeCase(c, p);
  const m = linked?.reception;
  const engineVolume = e.volume15L!;
  const deviation = r3(engineVolume - c.volume_15c_ref_l);
  const engineVerdict: Verdict = Math.abs(deviation) <= toleranceL + EPS ? 'PASS' : 'FAIL';
  const stored = m?.stored_15c_l ?? null;
  const restated = linked?.restatedL ?? null;
  const effective = stored === null ? null : stored + (restated ?? 0);
  const mlppDeviation = effective === null ? null : r3(effective - c.volume_15c_ref_l);
  const mlppVerdict = mlppDeviation === null ? 'NOT_COMPARED' : Math.abs(mlppDeviation) <= toleranceL + EPS ? 'PASS' : 'FAIL';
  return {
    reference: c.reference,
    verdict: engineVerdict === 'PASS' && mlppVerdict !== 'FAIL' ? 'PASS' : 'FAIL',
    engine_volume_15c_l: engineVolume,
    sep_volume_15c_l: c.volume_15c_ref_l,
    mlpp_volume_15c_l: stored,
    mlpp_restated_15c_l: restated,
    mlpp_effective_15c_l: effective === null ? null : r6(effective),
    deviation_l: deviation,
    mlpp_deviation_l: mlppDeviation,
    engine_verdict: engineVerdict,
    mlpp_verdict: mlppVerdict,
    engine_density15_kgm3: e.density15,
    engine_vcf: e.vcf,
    sep_density15_kgm3: c.densite_a_15_kgm3_ref,
    sep_vcf: c.vcf_ref,
    volume_observe_l: c.volume_observe_l,
    temperature_c: c.temperature_c,
    densite_observee_kgm3: c.densite_observee_kgm3,
    reception_id: c.reception_id ?? null,
    mlpp: m ?? null,
    where: lc.where,
    diagnosis: diagnose({
      case: c,
      profile: p,
      toleranceL,
      engineVolume15L: engineVolume,
      engineDensity15: e.density15,
      ...(m ? { mlpp: m } : {}),
      ...(restated !== null ? { mlppRestatedL: restated } : {}),
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// profile discovery

interface Scored {
  score: ProfileScore;
  sumAbs: number;
}

function scoreProfile(cases: readonly LocatedCase[], p: GoldenProfile, toleranceL: number): Scored {
  let reproduced = 0;
  let d15 = 0;
  let vcf = 0;
  let errors = 0;
  const abs: number[] = [];
  for (const { case: c } of cases) {
    let r;
    try {
      r = computeCase(c, p);
    } catch (e) {
      if (!isAstmError(e)) throw e;
      errors++;
      continue;
    }
    const dev = Math.abs(r.volume15L! - c.volume_15c_ref_l);
    abs.push(dev);
    if (dev <= toleranceL + EPS) reproduced++;
    // the profile's figure, written to SEP's decimals, is SEP's figure
    if (
      c.densite_a_15_kgm3_ref !== null &&
      Math.abs(r.density15 - c.densite_a_15_kgm3_ref) <= Math.min(halfUnit(c.densite_a_15_kgm3_ref), 0.05) + EPS
    )
      d15++;
    if (c.vcf_ref !== null && Math.abs(r.vcf - c.vcf_ref) <= Math.min(halfUnit(c.vcf_ref), 0.00005) + EPS) vcf++;
  }
  const sumAbs = abs.reduce((s, x) => s + x, 0);
  return {
    sumAbs: r3(sumAbs),
    score: {
      profile: profileName(p),
      reproduced,
      total: cases.length,
      density15_matches: d15,
      vcf_matches: vcf,
      max_abs_deviation_l: abs.length ? r3(maxOf(abs)) : null,
      mean_abs_deviation_l: abs.length ? r3(sumAbs / abs.length) : null,
      errors,
    },
  };
}

/**
 * Best first: most volumes reproduced within the tolerance (what the runbook asks), then most of
 * SEP's printed ρ15 and VCF reproduced (they tell apart profiles whose volumes all fall within
 * ±5 L), then the smallest total deviation. A full tie keeps the candidate order, where ML_PP's
 * own profile comes first.
 */
function compareScores(a: Scored, b: Scored): number {
  return (
    b.score.reproduced - a.score.reproduced ||
    b.score.density15_matches + b.score.vcf_matches - (a.score.density15_matches + a.score.vcf_matches) ||
    a.sumAbs - b.sumAbs
  );
}

// ---------------------------------------------------------------------------------------------
// ML_PP linkage

const LinkedRow = z.object({
  id: z.string(),
  citerne: z.string().nullable(),
  volume_ambiant: z.number().nullable(),
  temperature_ambiante_c: z.number().nullable(),
  densite_a_15: z.number().nullable(),
  volume_15c: z.number().nullable(),
  volume_corrige_15c: z.number().nullable(),
});

interface Linked {
  reception: MlppReception;
  /** Σ delta_15c of its restatement adjustments; null when it has none */
  restatedL: number | null;
}

/** Stored values of the receptions the cases name, with their restatements, by case reference; a missing reception is the file's fault. */
async function readLinkedReceptions(q: Queryable, set: GoldenSet): Promise<Map<string, Linked>> {
  const linked = set.cases.filter((c) => c.case.reception_id);
  const out = new Map<string, Linked>();
  if (linked.length === 0) return out;
  const ids = [...new Set(linked.map((c) => c.case.reception_id!.toLowerCase()))];
  const res = await q.query(
    `SELECT r.id::text AS id, c.nom AS citerne, r.volume_ambiant, r.temperature_ambiante_c, r.densite_a_15, r.volume_15c, r.volume_corrige_15c
       FROM public.receptions r LEFT JOIN public.citernes c ON c.id = r.citerne_id
      WHERE r.id = ANY($1::uuid[])`,
    [ids],
  );
  const byId = new Map(parseRows(LinkedRow, res.rows, 'golden: linked receptions').map((r) => [r.id.toLowerCase(), r]));
  const restated = await readRestatements(q, ids);
  for (const c of linked) {
    const row = byId.get(c.case.reception_id!.toLowerCase());
    if (!row) {
      throw new UserError(
        'GOLDEN_RECEPTION_NOT_FOUND',
        `reception ${c.case.reception_id} of case "${c.case.reference}" is not in the target database`,
        {
          where: {
            file: c.where.file,
            ...(c.where.line !== undefined ? { line: c.where.line } : {}),
            row: c.where.row,
            field: 'reception_id',
          },
        },
      );
    }
    out.set(c.case.reference, {
      reception: {
        reception_id: row.id,
        citerne: row.citerne,
        volume_ambiant: row.volume_ambiant,
        temperature_ambiante_c: row.temperature_ambiante_c,
        densite_a_15: row.densite_a_15,
        stored_15c_l: row.volume_15c ?? row.volume_corrige_15c,
        stored_column: row.volume_15c !== null ? 'volume_15c' : row.volume_corrige_15c !== null ? 'volume_corrige_15c' : null,
      },
      restatedL: restated.get(row.id.toLowerCase()) ?? null,
    });
  }
  return out;
}

/**
 * Σ delta_15c of the restatement adjustments (`astm53b restate`) of these receptions. Only
 * those: another adjustment on a reception (a manual correction) is not a 15 °C recomputation.
 * Read as the pipeline, so RLS hides none.
 */
async function readRestatements(q: Queryable, ids: readonly string[]): Promise<Map<string, number>> {
  const has = (await q.query<{ t: string | null }>(`SELECT to_regclass('public.stocks_adjustments')::text AS t`)).rows[0]?.t;
  if (!has) return new Map();
  const r = await q.query(
    `SELECT mouvement_id::text AS id, sum(delta_15c) AS delta
       FROM public.stocks_adjustments
      WHERE mouvement_type = 'RECEPTION' AND mouvement_id = ANY($1::uuid[]) AND starts_with(reason, $2)
      GROUP BY mouvement_id`,
    [ids, RESTATEMENT_REASON_PREFIX],
  );
  return new Map(parseRows(RestatedRow, r.rows, 'golden: restatements').map((x) => [x.id.toLowerCase(), x.delta]));
}

const RestatedRow = z.object({ id: z.string(), delta: z.number() });
