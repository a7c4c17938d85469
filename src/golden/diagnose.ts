import { table53b, table54b } from '../astm/index.js';
import { profileName, usesHydrometer, type GoldenProfile } from './profile.js';
import type { GoldenCase } from './schema.js';
import { density15ForVcf, observedDensityForDensity15, temperatureForDensity15, temperatureForVcf } from './solve.js';
import type { Diagnosis, DiagnosisCheck, Fault, MlppReception } from '../results/golden.js';

export interface DiagnoseInput {
  case: GoldenCase;
  profile: GoldenProfile;
  toleranceL: number;
  engineVolume15L: number;
  engineDensity15: number;
  /** undefined when the case is not linked or no database was given */
  mlpp?: MlppReception;
  /** Σ of the reception's restatement adjustments (`astm53b restate`), when it has any */
  mlppRestatedL?: number;
}

const EPS = 1e-9;
const round1 = (x: number) => Math.round(x * 10) / 10;
const fmt = (x: number, dp = 1) => x.toFixed(dp);

/** Half a unit of the last decimal the value was written with (0.9958 → 0.00005). */
export function halfUnit(x: number): number {
  const s = String(x);
  const exp = /e-(\d+)$/.exec(s);
  if (exp) return 0.5 * 10 ** -Number(exp[1]);
  const dot = s.indexOf('.');
  return 0.5 * 10 ** -(dot < 0 ? 0 : s.length - dot - 1);
}

/**
 * A parsed number has lost its trailing zeros (0.9960 reads as 0.996), so a VCF is taken to carry
 * at least the 4 decimals every table prints.
 */
function vcfHalfUnit(vcf: number): number {
  return Math.min(halfUnit(vcf), 0.00005);
}

/** ML_PP's pre-migration app formula (FACTS §2.4). */
export function legacyVolume15(volumeL: number, temperatureC: number): number {
  return volumeL * (1 - 0.00065 * (temperatureC - 15));
}

export function diagnose(d: DiagnoseInput): Diagnosis {
  const c = d.case;
  const sepDeviation = d.engineVolume15L - c.volume_15c_ref_l;
  const engineFails = Math.abs(sepDeviation) > d.toleranceL + EPS;
  const checks = sepChecks(c, d.profile);
  const parts: string[] = [];
  let fault: Fault = 'none';
  let impliedT: number | null = null;
  let impliedRho15: number | null = null;
  let impliedObserved: number | null = null;

  if (engineFails) {
    const [volume, vcf, rho15] = checks as [DiagnosisCheck, DiagnosisCheck, DiagnosisCheck];
    const hydrometer = usesHydrometer(c, d.profile);
    // SEP's VCF: the printed one, else what its own volumes say
    const sepVcf = c.vcf_ref ?? c.volume_15c_ref_l / c.volume_observe_l;
    const rho15ForVcf = c.densite_a_15_kgm3_ref ?? d.engineDensity15;
    impliedT = round(temperatureForVcf(rho15ForVcf, sepVcf, d.profile.edition));
    if (volume.holds === false) {
      fault = 'sep';
      parts.push(`${volume.detail}: SEP's slip, or its copy in the golden file, is wrong; re-read the slip.`);
    } else if (vcf.holds === false) {
      fault = 'data_entry';
      impliedRho15 = round(density15ForVcf(c.temperature_c, sepVcf, d.profile.edition));
      parts.push(
        impliedT === null
          ? `SEP's VCF ${c.vcf_ref} cannot come from ρ15 ${c.densite_a_15_kgm3_ref} kg/m³ at any temperature of the table: check the field sheet.`
          : `SEP's VCF implies ${fmt(impliedT)} °C; the record says ${fmt(c.temperature_c)} °C: check the field sheet.`,
      );
    } else if (rho15.holds === false) {
      fault = 'data_entry';
      const tRead = round(temperatureForDensity15(c.densite_observee_kgm3, c.densite_a_15_kgm3_ref!, hydrometer, d.profile.edition));
      impliedObserved = round(observedDensityForDensity15(c.temperature_c, c.densite_a_15_kgm3_ref!, hydrometer, d.profile.edition));
      impliedT = tRead;
      parts.push(
        `SEP's ρ15 ${c.densite_a_15_kgm3_ref} kg/m³ does not follow from ${c.densite_observee_kgm3} kg/m³ at ${fmt(c.temperature_c)} °C under ${profileName(d.profile)}: ` +
          `it implies a reading of ${impliedObserved === null ? '?' : fmt(impliedObserved)} kg/m³ at ${fmt(c.temperature_c)} °C` +
          `${tRead === null ? '' : `, or ${c.densite_observee_kgm3} kg/m³ read at ${fmt(tRead)} °C`}: check the density and sample temperature on the field sheet.`,
      );
    } else if (volume.holds === null && vcf.holds === null) {
      fault = 'unknown';
      parts.push(
        `SEP's slip gives no VCF or ρ15 to check; its volumes imply a VCF of ${sepVcf.toFixed(5)}` +
          (impliedT === null
            ? ', which no temperature of the table gives.'
            : `, which the engine's ρ15 gives at ${fmt(impliedT)} °C; the record says ${fmt(c.temperature_c)} °C: check the field sheet.`),
      );
    } else {
      fault = 'profile';
      impliedT = null;
      parts.push(
        `SEP's record holds together but the engine under ${profileName(d.profile)} gives ${fmt(d.engineVolume15L)} L against SEP's ${fmt(c.volume_15c_ref_l)} L ` +
          `(ρ15 ${fmt(d.engineDensity15)} against ${c.densite_a_15_kgm3_ref ?? '?'} kg/m³): SEP computes differently; see which profile reproduces SEP best.`,
      );
    }
  }

  const restated = d.mlppRestatedL;
  if (d.mlpp && d.mlpp.stored_15c_l !== null) {
    const mlppDeviation = d.mlpp.stored_15c_l + (restated ?? 0) - c.volume_15c_ref_l;
    if (Math.abs(mlppDeviation) > d.toleranceL + EPS) {
      if (fault === 'none') fault = 'mlpp';
      parts.push(explainMlpp(c, d.mlpp, mlppDeviation, d.profile, restated));
    }
  }

  const mlppAgrees =
    d.mlpp?.stored_15c_l == null
      ? ' and SEP agree'
      : restated === undefined
        ? ', SEP and ML_PP agree'
        : `, SEP and ML_PP agree (ML_PP's effective ${fmt(d.mlpp.stored_15c_l + restated)} L: stored ${fmt(d.mlpp.stored_15c_l)} L ${restated >= 0 ? '+' : '−'} ${fmt(Math.abs(restated))} L restated)`;
  return {
    fault,
    explanation: parts.length ? parts.join(' ') : `engine${mlppAgrees} within ±${d.toleranceL} L.`,
    implied_temperature_c: impliedT,
    implied_density15_kgm3: impliedRho15,
    implied_observed_density_kgm3: impliedObserved,
    checks,
  };
}

function round(x: number | null): number | null {
  return x === null ? null : round1(x);
}

/** The three self-consistency checks of SEP's record under a profile. */
export function sepChecks(c: GoldenCase, p: GoldenProfile): DiagnosisCheck[] {
  const out: DiagnosisCheck[] = [];
  if (c.vcf_ref === null) {
    out.push({ name: 'sep_volume_equals_volume_times_vcf', holds: null, detail: 'no vcf_ref on the record' });
  } else {
    const product = c.volume_observe_l * c.vcf_ref;
    // SEP prints its VCF rounded and its volume to the litre
    const allowed = c.volume_observe_l * vcfHalfUnit(c.vcf_ref) + 0.5;
    const gap = c.volume_15c_ref_l - product;
    out.push({
      name: 'sep_volume_equals_volume_times_vcf',
      holds: Math.abs(gap) <= allowed + EPS,
      detail: `SEP's ${fmt(c.volume_15c_ref_l)} L against ${fmt(c.volume_observe_l)} L × ${c.vcf_ref} = ${fmt(product)} L (${gap >= 0 ? '+' : ''}${fmt(gap)} L, allowed ±${fmt(allowed)} L)`,
    });
  }
  if (c.vcf_ref === null || c.densite_a_15_kgm3_ref === null) {
    out.push({
      name: 'sep_vcf_matches_density15_and_temperature',
      holds: null,
      detail: 'no vcf_ref or densite_a_15_kgm3_ref on the record',
    });
  } else {
    const r = table54b({ density15: c.densite_a_15_kgm3_ref, temperatureC: c.temperature_c, edition: p.edition, rounding: p.rounding });
    // SEP's VCF is its unrounded VCF rounded as printed: compare before our own final rounding
    const allowed = vcfHalfUnit(c.vcf_ref) + 1e-6;
    out.push({
      name: 'sep_vcf_matches_density15_and_temperature',
      holds: Math.abs(r.vcfUnrounded - c.vcf_ref) <= allowed + EPS,
      detail: `Table 54B (${p.edition}/${p.rounding}) at ρ15 ${c.densite_a_15_kgm3_ref} kg/m³ and ${fmt(c.temperature_c)} °C gives VCF ${r.vcf}; SEP's is ${c.vcf_ref}`,
    });
  }
  if (c.densite_a_15_kgm3_ref === null) {
    out.push({ name: 'sep_density15_matches_observed_density', holds: null, detail: 'no densite_a_15_kgm3_ref on the record' });
  } else {
    const r = table53b({
      observedDensity: c.densite_observee_kgm3,
      temperatureC: c.temperature_c,
      hydrometer: usesHydrometer(c, p),
      edition: p.edition,
      rounding: p.rounding,
    });
    const allowed = Math.min(halfUnit(c.densite_a_15_kgm3_ref), 0.05) + 1e-6;
    out.push({
      name: 'sep_density15_matches_observed_density',
      holds: Math.abs(r.density15Unrounded - c.densite_a_15_kgm3_ref) <= allowed + EPS,
      detail: `Table 53B (${profileName(p)}) from ${c.densite_observee_kgm3} kg/m³ at ${fmt(c.temperature_c)} °C gives ρ15 ${fmt(r.density15, 2)} kg/m³; SEP's is ${c.densite_a_15_kgm3_ref}`,
    });
  }
  return out;
}

function explainMlpp(c: GoldenCase, m: MlppReception, deviation: number, p: GoldenProfile, restated: number | undefined): string {
  const value =
    restated === undefined
      ? `ML_PP stored ${fmt(m.stored_15c_l!)} L (${m.stored_column})`
      : `ML_PP's effective ${fmt(m.stored_15c_l! + restated)} L (stored ${fmt(m.stored_15c_l!)} L in ${m.stored_column}, ${restated >= 0 ? '+' : '−'} ${fmt(Math.abs(restated))} L restated)`;
  const head = `${value}, ${deviation >= 0 ? '+' : ''}${fmt(deviation)} L from SEP:`;
  const reasons: string[] = [];
  if (m.volume_ambiant !== null && Math.abs(m.volume_ambiant - c.volume_observe_l) > 0.5) {
    reasons.push(`its reception has ${fmt(m.volume_ambiant)} L ambient where SEP's record says ${fmt(c.volume_observe_l)} L`);
  }
  if (m.temperature_ambiante_c !== null && Math.abs(m.temperature_ambiante_c - c.temperature_c) > 0.05) {
    reasons.push(`its reception has ${fmt(m.temperature_ambiante_c)} °C where SEP's record says ${fmt(c.temperature_c)} °C`);
  }
  if (m.volume_ambiant !== null && m.temperature_ambiante_c !== null) {
    const legacy = legacyVolume15(m.volume_ambiant, m.temperature_ambiante_c);
    const effective = m.stored_15c_l! + (restated ?? 0);
    if (restated === undefined && Math.abs(legacy - m.stored_15c_l!) <= 0.5) {
      reasons.push(
        `the value is the legacy linear correction V·(1 − 0.00065·ΔT) = ${fmt(legacy)} L, not ASTM 53B: the drift the migration removes (\`astm53b restate\` books its restatement)`,
      );
    } else if (m.densite_a_15 !== null) {
      const own = table53b({
        observedDensity: m.densite_a_15,
        temperatureC: m.temperature_ambiante_c,
        hydrometer: usesHydrometer(c, p),
        edition: p.edition,
        rounding: p.rounding,
        volumeL: m.volume_ambiant,
      }).volume15L!;
      reasons.push(
        Math.abs(own - effective) <= 1
          ? `the value is ASTM 53B of ML_PP's own inputs (${fmt(own)} L): the inputs differ from SEP's`
          : restated === undefined
            ? `the value is neither the legacy formula (${fmt(legacy)} L) nor ASTM 53B of its own inputs (${fmt(own)} L)`
            : `the restated value is not ASTM 53B of its own inputs under ${profileName(p)} (${fmt(own)} L): restated under another profile?`,
      );
    }
  }
  return `${head} ${reasons.length ? reasons.join('; ') : 'its reception lacks the ambient volume or temperature to tell why'}.`;
}
