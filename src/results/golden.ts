import { z } from 'zod';

/** golden.json (runbook 3.2, 5.6): every golden case, engine vs SEP vs ML_PP, and the drift of stored receptions. */
export const VERDICTS = ['PASS', 'FAIL'] as const;
export type Verdict = (typeof VERDICTS)[number];

export const CaseOrigin = z.strictObject({
  file: z.string(),
  line: z.number().int().optional(),
  /** 1-based data row (CSV header excluded; JSON array index + 1; database row) */
  row: z.number().int(),
});
export type CaseOrigin = z.infer<typeof CaseOrigin>;

export const FAULTS = ['none', 'sep', 'data_entry', 'profile', 'mlpp', 'unknown'] as const;
export type Fault = (typeof FAULTS)[number];

export const DiagnosisCheck = z.strictObject({
  name: z.enum([
    'sep_volume_equals_volume_times_vcf',
    'sep_vcf_matches_density15_and_temperature',
    'sep_density15_matches_observed_density',
  ]),
  /** null when SEP's record lacks a figure the check needs */
  holds: z.boolean().nullable(),
  detail: z.string(),
});
export type DiagnosisCheck = z.infer<typeof DiagnosisCheck>;

export const Diagnosis = z.strictObject({
  fault: z.enum(FAULTS),
  explanation: z.string(),
  /** the temperature that would make SEP's VCF hold (null when the case passes or no temperature does) */
  implied_temperature_c: z.number().nullable(),
  /** the density at 15 °C that would make SEP's VCF hold at the record's temperature */
  implied_density15_kgm3: z.number().nullable(),
  /** the reading at the record's temperature that would give SEP's ρ15 */
  implied_observed_density_kgm3: z.number().nullable(),
  checks: z.array(DiagnosisCheck),
});
export type Diagnosis = z.infer<typeof Diagnosis>;

export const STORED_COLUMNS = ['volume_15c', 'volume_corrige_15c'] as const;

export const MlppReception = z.strictObject({
  reception_id: z.string(),
  citerne: z.string().nullable(),
  volume_ambiant: z.number().nullable(),
  temperature_ambiante_c: z.number().nullable(),
  densite_a_15: z.number().nullable(),
  /** COALESCE(volume_15c, volume_corrige_15c) */
  stored_15c_l: z.number().nullable(),
  stored_column: z.enum(STORED_COLUMNS).nullable(),
});
export type MlppReception = z.infer<typeof MlppReception>;

export const CaseResult = z.strictObject({
  reference: z.string(),
  verdict: z.enum(VERDICTS),
  engine_volume_15c_l: z.number(),
  sep_volume_15c_l: z.number(),
  /** the reception's stored value; null when the case is not linked, no database was given, or the reception stores no 15 °C volume */
  mlpp_volume_15c_l: z.number().nullable(),
  /** Σ delta_15c of the reception's restatement adjustments (`astm53b restate`); null when it has none */
  mlpp_restated_15c_l: z.number().nullable(),
  /** what ML_PP's stock counts for the reception: stored + restated; null when nothing is stored */
  mlpp_effective_15c_l: z.number().nullable(),
  /** engine − SEP */
  deviation_l: z.number(),
  /** ML_PP effective − SEP */
  mlpp_deviation_l: z.number().nullable(),
  engine_verdict: z.enum(VERDICTS),
  mlpp_verdict: z.enum([...VERDICTS, 'NOT_COMPARED']),
  engine_density15_kgm3: z.number(),
  engine_vcf: z.number(),
  sep_density15_kgm3: z.number().nullable(),
  sep_vcf: z.number().nullable(),
  volume_observe_l: z.number(),
  temperature_c: z.number(),
  densite_observee_kgm3: z.number(),
  reception_id: z.string().nullable(),
  mlpp: MlppReception.nullable(),
  where: CaseOrigin,
  diagnosis: Diagnosis,
});
export type CaseResult = z.infer<typeof CaseResult>;

export const ProfileScore = z.strictObject({
  profile: z.string(),
  /** cases whose 15 °C volume the profile reproduces within the tolerance */
  reproduced: z.number(),
  total: z.number(),
  /** cases where SEP printed a ρ15 / VCF and the profile gives the same figure to its decimals */
  density15_matches: z.number(),
  vcf_matches: z.number(),
  max_abs_deviation_l: z.number().nullable(),
  mean_abs_deviation_l: z.number().nullable(),
  /** cases the profile cannot compute (outside its table) */
  errors: z.number(),
});
export type ProfileScore = z.infer<typeof ProfileScore>;

export const DriftReception = z.strictObject({
  reception_id: z.string(),
  date_reception: z.string().nullable(),
  citerne: z.string(),
  proprietaire_type: z.string(),
  volume_ambiant_l: z.number().nullable(),
  temperature_c: z.number().nullable(),
  densite_kgm3: z.number().nullable(),
  stored_15c_l: z.number().nullable(),
  stored_column: z.enum(STORED_COLUMNS).nullable(),
  astm_15c_l: z.number().nullable(),
  drift_l: z.number().nullable(),
  /** why the reception could not be recomputed (null when it was) */
  problem: z.string().nullable(),
});
export type DriftReception = z.infer<typeof DriftReception>;

export const DriftTank = z.strictObject({
  citerne: z.string(),
  receptions: z.number(),
  stored_15c_l: z.number(),
  astm_15c_l: z.number(),
  drift_l: z.number(),
});
export type DriftTank = z.infer<typeof DriftTank>;

export const DriftReport = z.strictObject({
  profile: z.string(),
  receptions: z.array(DriftReception),
  tanks: z.array(DriftTank),
  total: z.strictObject({
    receptions: z.number(),
    recomputed: z.number(),
    stored_15c_l: z.number(),
    astm_15c_l: z.number(),
    drift_l: z.number(),
  }),
});
export type DriftReport = z.infer<typeof DriftReport>;

export const GoldenVerifyResult = z.strictObject({
  passed: z.boolean(),
  profile: z.string(),
  profile_chosen_by: z.enum(['discovery', 'option']),
  /** profiles scoring exactly as the chosen one on every criterion: the cases cannot tell them apart */
  indistinguishable_from: z.array(z.string()),
  profiles: z.array(ProfileScore),
  tolerance_l: z.number(),
  origin: z.string(),
  counts: z.strictObject({ cases: z.number(), passed: z.number(), failed: z.number(), mlpp_compared: z.number() }),
  /** largest |deviation| over every comparison made (engine and ML_PP against SEP) */
  max_deviation_l: z.number(),
  cases: z.array(CaseResult),
});
export type GoldenVerifyResult = z.infer<typeof GoldenVerifyResult>;

/** What golden.json holds: the verification, and with a database the drift of every stored reception. */
export const GoldenReport = GoldenVerifyResult.extend({
  drift: DriftReport.optional(),
  /** when the verification ended (ISO); absent from results written before it was recorded */
  at: z.string().optional(),
});
export type GoldenReport = z.infer<typeof GoldenReport>;
