import { BASE15_F68, ctl2004, density60From, fahrenheit68 } from './ctl2004.js';
import type { Edition, ProductGroup, RoundingProfile } from './editions.js';
import type { AstmField } from './errors.js';
import { resolveCommon, volumeAt15, type CommonOptions } from './inputs.js';
import type { RoundingSpec } from './profiles.js';
import {
  checkDensity15_1980,
  checkObservedDensity2004,
  checkTemperature1980,
  checkTemperature2004,
  density60OutOfRange,
  rejectDensityInWrongUnit,
  requireFinite,
} from './ranges.js';
import { vcf1980 } from './vcf1980.js';

export interface Table54BInput extends CommonOptions {
  /** density at 15 °C, kg/m³ */
  density15: number;
  /** temperature of the ambient volume, °C (ITS-90, as read) */
  temperatureC: number;
}

export interface Table54BResult {
  table: '54B';
  edition: Edition;
  rounding: RoundingProfile;
  /** the inputs as computed with (after the profile's input rounding) */
  density15: number;
  temperatureC: number;
  productGroup: ProductGroup;
  /** VCF = V15 / V_T, rounded as the profile says */
  vcf: number;
  /** the same before its final rounding (1980 printed scheme: with its rounded α) */
  vcfUnrounded: number;
  /** 1980: thermal expansion coefficient α15 used, 1/°C */
  alpha15?: number;
  /** 2004: ρ60 (kg/m³) and α60 (1/°F) of the 60 °F-frame computation */
  density60?: number;
  alpha60?: number;
  volumeL?: number;
  /** ambient volume × VCF, rounded as the profile says */
  volume15L?: number;
}

type VcfCore = Pick<Table54BResult, 'productGroup' | 'vcf' | 'vcfUnrounded' | 'alpha15' | 'density60' | 'alpha60'>;

/**
 * VCF for inputs already rounded by the profile. Shared with Table 53B, which feeds it the ρ15 it
 * reports (so a 53B result's VCF is exactly what 54B gives for that ρ15, as when the two printed
 * tables are used one after the other).
 */
export function vcfCore(density15: number, temperatureC: number, spec: RoundingSpec, field: AstmField, context = ''): VcfCore {
  if (spec.edition === '1980') {
    checkDensity15_1980(density15, field, context);
    checkTemperature1980(temperatureC, density15);
    const r = vcf1980(density15, temperatureC, spec.scheme1980);
    return { productGroup: r.group, alpha15: r.alpha, vcfUnrounded: r.vcf, vcf: spec.vcf(r.vcf) };
  }
  checkTemperature2004(temperatureC);
  // ρ15 plays the observed density at 15 °C in the 11.1.6.2 iteration (no glass correction: it
  // is not a hydrometer reading)
  checkObservedDensity2004(density15, field);
  const sol = density60From(density15, 15, 0);
  if (sol.atLimit) {
    throw density60OutOfRange(density15 / (sol.ctl * sol.cpl), sol.atLimit, field, ` for ρ15 ${density15} kg/m³${context}`);
  }
  const atT = ctl2004(sol.density60, fahrenheit68(temperatureC));
  const at15 = ctl2004(sol.density60, BASE15_F68);
  const vcfUnrounded = atT.ctl / at15.ctl;
  return { productGroup: atT.group, density60: sol.density60, alpha60: atT.alpha60, vcfUnrounded, vcf: spec.vcf(vcfUnrounded) };
}

/** Table 54B: density at 15 °C and temperature → volume correction factor (and volume at 15 °C). */
export function table54b(input: Table54BInput): Table54BResult {
  const { spec, volumeL, addendum2019 } = resolveCommon(input);
  requireFinite(input.density15, 'density15', 'density at 15 °C');
  requireFinite(input.temperatureC, 'temperatureC', 'temperature');
  rejectDensityInWrongUnit(input.density15, 'density15');
  const density15 = spec.density(input.density15);
  const temperatureC = spec.temperature(input.temperatureC);
  const core = vcfCore(density15, temperatureC, spec, 'density15');
  const result: Table54BResult = { table: '54B', edition: spec.edition, rounding: spec.profile, density15, temperatureC, ...core };
  if (volumeL !== undefined) {
    result.volumeL = volumeL;
    result.volume15L = volumeAt15(volumeL, core.vcf, core.vcfUnrounded, spec, addendum2019);
  }
  return result;
}
