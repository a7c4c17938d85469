import { BASE15_F68, ctl2004, density60From } from './ctl2004.js';
import type { Edition, ProductGroup, RoundingProfile } from './editions.js';
import { AstmError } from './errors.js';
import { glassHydrometerCorrection } from './hydrometer.js';
import { resolveCommon, volumeAt15, type CommonOptions } from './inputs.js';
import type { RoundingSpec } from './profiles.js';
import {
  checkDensity15_1980,
  checkObservedDensity2004,
  checkPressure,
  checkTemperature1980,
  checkTemperature2004,
  density60OutOfRange,
  rejectDensityInWrongUnit,
  requireFinite,
} from './ranges.js';
import { roundHalfUp, truncate } from './rounding.js';
import { vcfCore } from './table54b.js';
import { productGroup1980, vcf1980 } from './vcf1980.js';

export interface Table53BInput extends CommonOptions {
  /** density read at the observed temperature, kg/m³ */
  observedDensity: number;
  /** temperature of the sample when read, °C (ITS-90, as read) */
  temperatureC: number;
  /**
   * Required, so no caller gets the glass correction by accident or misses it: `true` for a glass
   * hydrometer reading (the soda-lime glass correction is applied, as the printed 1980 53B does),
   * `false` for a digital density meter reading (no correction).
   */
  hydrometer: boolean;
  /** gauge pressure of the sample, kPa; edition 2004 only (CPL), default 0 */
  pressureKpa?: number;
}

export interface Table53BResult {
  table: '53B';
  edition: Edition;
  rounding: RoundingProfile;
  /** the inputs as computed with (after the profile's input rounding) */
  observedDensity: number;
  temperatureC: number;
  hydrometer: boolean;
  pressureKpa: number;
  /** the reading after the glass-hydrometer correction (equal to observedDensity without it) */
  correctedDensity: number;
  /** density at 15 °C, rounded as the profile says */
  density15: number;
  density15Unrounded: number;
  /** group of the reported ρ15 (1980) or of ρ60 (2004) */
  productGroup: ProductGroup;
  /** Table 54B VCF at the observed temperature for the reported ρ15 */
  vcf: number;
  vcfUnrounded: number;
  /** 2004: ρ60 of the 11.1.6.2 iteration */
  density60?: number;
  /** steps of the iteration (1980: fixed point; 2004: Newton) */
  iterations: number;
  volumeL?: number;
  volume15L?: number;
}

const HEAVIER: readonly ProductGroup[] = ['gasoline', 'transition_zone', 'jet_fuel', 'fuel_oil'];
const MAX_STEPS_PER_GROUP = 50;

/**
 * 1980 §2.3: start at ρ15 = ρ_T, repeat ρ15 ← ρ_T / VCF(ρ15, T) within the group of the current
 * ρ15 until it moves less than the threshold; if the result lies in another group, continue
 * there ("restart on range change", as razor_win `API_PT_ST` does).
 *
 * The 1980 α curves jump at the group boundaries, so in a sliver of ρ15 (0.004 kg/m³ wide at
 * 838.5 and 30 °C, 0.008 at 45 °C) neither group's solution lies in its own group. There the
 * heavier group's solution is taken: the two differ by the sliver's width, far below the
 * 0.1 kg/m³ the result is reported to.
 */
function solve1980(rhoT: number, temperatureC: number, spec: RoundingSpec): { density15: number; iterations: number; settled: boolean } {
  const loop = spec.loop1980;
  const step = (r: number, g: ProductGroup): number => {
    let v = vcf1980(r, temperatureC, spec.scheme1980, g).vcf;
    if (loop.vcfDecimals !== undefined) v = roundHalfUp(v, loop.vcfDecimals);
    const next = rhoT / v;
    return loop.densityTruncate !== undefined ? truncate(next, loop.densityTruncate) : next;
  };
  const solutions = new Map<ProductGroup, number>();
  let group = productGroup1980(rhoT);
  let r = rhoT;
  let iterations = 0;
  for (;;) {
    const tolerance = group === 'transition_zone' ? loop.transitionTolerance : loop.tolerance;
    let settled = false;
    for (let i = 0; i < MAX_STEPS_PER_GROUP; i++) {
      const next = step(r, group);
      iterations++;
      if (!Number.isFinite(next)) break;
      const moved = Math.abs(next - r);
      r = next;
      if (moved < tolerance) {
        settled = true;
        break;
      }
    }
    if (!settled) return { density15: Number.NaN, iterations, settled: false };
    solutions.set(group, r);
    const landed = productGroup1980(r);
    if (landed === group) return { density15: r, iterations, settled: true };
    const back = solutions.get(landed);
    if (back !== undefined) {
      const heavier = HEAVIER.indexOf(landed) > HEAVIER.indexOf(group) ? back : r;
      return { density15: heavier, iterations, settled: true };
    }
    group = landed;
  }
}

/**
 * ρ15 with ρ15·VCF(ρ15, T) = ρ_T, by bisection at full precision: ρ·VCF grows with ρ, so the
 * root is bracketed (at a group boundary's jump, the jump itself is returned). Used only where
 * the standard's fixed point does not settle, which never happens on the printed tables' range.
 */
function bracketedRoot1980(rhoT: number, temperatureC: number): number {
  const f = (r: number) => r * vcf1980(r, temperatureC, 'exact').vcf - rhoT;
  let lo = 1;
  let hi = 1e4;
  if (!(f(lo) < 0)) return lo;
  if (!(f(hi) > 0)) return hi;
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2;
    if (f(mid) < 0) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * Table 53B: density observed at temperature T → density at 15 °C; then the Table 54B VCF at T
 * for that ρ15, and the volume at 15 °C when an ambient volume is given.
 */
export function table53b(input: Table53BInput): Table53BResult {
  const { spec, volumeL, addendum2019 } = resolveCommon(input);
  if (typeof input.hydrometer !== 'boolean') {
    throw new AstmError(
      'UNSUPPORTED_OPTION',
      'options',
      'say whether the density is a glass hydrometer reading (hydrometer: true) or a digital meter reading (hydrometer: false)',
    );
  }
  requireFinite(input.observedDensity, 'observedDensity', 'observed density');
  requireFinite(input.temperatureC, 'temperatureC', 'temperature');
  const pressureIn = input.pressureKpa ?? 0;
  requireFinite(pressureIn, 'pressureKpa', 'pressure');
  rejectDensityInWrongUnit(input.observedDensity, 'observedDensity');
  checkPressure(pressureIn, spec.edition);
  if (pressureIn !== 0 && volumeL !== undefined) {
    // the VCF reported is CTL only; a pressurised ambient volume would also need CPL
    throw new AstmError('UNSUPPORTED_OPTION', 'volumeL', 'a volume at 15 °C is only computed at atmospheric pressure (pressure 0)');
  }

  const observedDensity = spec.density(input.observedDensity);
  const temperatureC = spec.temperature(input.temperatureC);
  const pressureKpa = spec.pressure(pressureIn);
  const correctedDensity = input.hydrometer ? glassHydrometerCorrection(observedDensity, temperatureC, spec.hydrometer) : observedDensity;
  const context = ` (from ${observedDensity} kg/m³ observed at ${temperatureC} °C)`;

  let density15Unrounded: number;
  let iterations: number;
  let density60: number | undefined;
  let group2004: ProductGroup | undefined;
  if (spec.edition === '1980') {
    checkTemperature1980(temperatureC, undefined);
    if (observedDensity <= 0) checkDensity15_1980(observedDensity, 'observedDensity', context);
    const s = solve1980(correctedDensity, temperatureC, spec);
    density15Unrounded = s.density15;
    iterations = s.iterations;
    if (!s.settled) {
      // the fixed point converges slowly or not at all where ρ15 hardly changes VCF any more
      // than it changes ρ15 (transition zone near 90 °C, light products near 120 °C): the root
      // is then found by bisection at full precision, and the range checks below still apply
      density15Unrounded = bracketedRoot1980(correctedDensity, temperatureC);
    }
    checkDensity15_1980(density15Unrounded, 'observedDensity', context);
    checkTemperature1980(temperatureC, density15Unrounded);
  } else {
    checkTemperature2004(temperatureC);
    checkObservedDensity2004(correctedDensity, 'observedDensity');
    const sol = density60From(correctedDensity, temperatureC, pressureKpa);
    if (sol.atLimit) {
      throw density60OutOfRange(correctedDensity / (sol.ctl * sol.cpl), sol.atLimit, 'observedDensity', context);
    }
    density60 = sol.density60;
    group2004 = sol.group;
    iterations = sol.iterations;
    density15Unrounded = sol.density60 * ctl2004(sol.density60, BASE15_F68).ctl;
  }

  const density15 = spec.density15(density15Unrounded);
  const core = vcfCore(density15, temperatureC, spec, 'observedDensity', context);
  const result: Table53BResult = {
    table: '53B',
    edition: spec.edition,
    rounding: spec.profile,
    observedDensity,
    temperatureC,
    hydrometer: input.hydrometer,
    pressureKpa,
    correctedDensity,
    density15,
    density15Unrounded,
    productGroup: group2004 ?? core.productGroup,
    vcf: core.vcf,
    vcfUnrounded: core.vcfUnrounded,
    iterations,
  };
  if (density60 !== undefined) result.density60 = density60;
  if (volumeL !== undefined) {
    result.volumeL = volumeL;
    result.volume15L = volumeAt15(volumeL, core.vcf, core.vcfUnrounded, spec, addendum2019);
  }
  return result;
}

/**
 * The volume at 15 °C alone, for many rows under one set of options (the drift report of every
 * stored reception): what `table53b({ ...opts, observedDensity: d, temperatureC: t, volumeL: v }).volume15L`
 * gives, errors included and in the same order (options, volume, then the pair), with each distinct
 * (density, temperature) pair solved once, since ρ15 and the VCF depend on it alone, and no result
 * object built per row (at 100 000 receptions that allocation and its garbage collection were most
 * of the cost).
 */
export function volume15ByPair(
  opts: Omit<Table53BInput, 'observedDensity' | 'temperatureC' | 'volumeL'>,
): (observedDensity: number, temperatureC: number, volumeL: number) => number {
  if ((opts.pressureKpa ?? 0) !== 0)
    return (observedDensity, temperatureC, volumeL) => table53b({ ...opts, observedDensity, temperatureC, volumeL }).volume15L!;
  const solved = new Map<string, { vcf: number; vcfUnrounded: number } | { error: unknown }>();
  return (observedDensity, temperatureC, volumeL) => {
    const { spec, addendum2019 } = resolveCommon({ ...opts, volumeL });
    const key = `${observedDensity}|${temperatureC}`;
    let pair = solved.get(key);
    if (!pair) {
      try {
        const r = table53b({ ...opts, observedDensity, temperatureC });
        pair = { vcf: r.vcf, vcfUnrounded: r.vcfUnrounded };
      } catch (error) {
        pair = { error };
      }
      solved.set(key, pair);
    }
    if ('error' in pair) throw pair.error;
    return volumeAt15(volumeL, pair.vcf, pair.vcfUnrounded, spec, addendum2019)!;
  };
}
