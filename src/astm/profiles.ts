import type { Edition, RoundingProfile } from './editions.js';
import { roundHalfUp, roundToIncrementHalfEven, roundToIncrementHalfUp } from './rounding.js';
import type { Scheme1980 } from './vcf1980.js';

/**
 * What each (edition, rounding profile) pair rounds, in one place.
 *
 * | | 1980 `table` | 1980 `computed` | 2004 `table` | 2004 `computed` | `full` |
 * |---|---|---|---|---|---|
 * | inputs T / ρ / P | as given | 0.05 °C / 0.1 kg/m³ (half up) | as given | 0.05 °C / 0.1 kg/m³ / 5 kPa (half even) | as given |
 * | α, exponent | printed scheme | printed scheme | – | – | exact |
 * | 53B glass correction | printed scheme | printed scheme | exact | exact | exact |
 * | VCF (CTL) | 4 dp | 4 dp if ≥ 1, else 5 dp | 4 dp | 5 dp (half even) | unrounded |
 * | ρ15 | 0.1 kg/m³ | 0.1 kg/m³ | 0.1 kg/m³ | 0.1 kg/m³ (half even) | unrounded |
 * | volume at 15 °C | 0.1 L | 0.1 L | 0.1 L | 0.1 L (half even) | unrounded |
 *
 * Sources: printed tables (VCF 4 dp, ρ15 0.1 kg/m³); 1980 implementation procedure as reported by
 * the Flow-X manual and QuantityWare (VCF 4 dp at or above 1, 5 dp below; T to 0.05 °C, ρ to
 * 0.1 kg/m³); API MPMS 11.1-2004 §11.1.5.4 (increments, halves to even). `table` with 2004 is
 * the 2004 computation presented as a 4-decimal table would print it: there is no printed 2004
 * table to match, but it lets a 2004 run be compared cell for cell with 1980 figures.
 *
 * The 1980 input increments come from secondary sources (the 1980 text itself was not available):
 * the GB/T-derived code rounds an observed hydrometer density to 0.5 kg/m³ rather than 0.1; on
 * 40 000 L of gasoil the difference stays below 0.3 L (REFERENCE.md §10).
 *
 * Neither edition of Ch. 11.1 prescribes a volume increment (that belongs to Ch. 12.2); 0.1 L is
 * the resolution ML_PP's database shows for its 15 °C volumes (995.8 L), 1/50 of the ±5 L field
 * tolerance, and finer than any truck meter, so it never decides a verdict.
 *
 * The 2004 text computes the volume with the rounded CTL; Addendum 2 (2019) with the unrounded
 * one. That choice is the `addendum2019` input option, not a profile.
 */
export interface RoundingSpec {
  edition: Edition;
  profile: RoundingProfile;
  /** input rounding, applied before anything is computed */
  temperature(t: number): number;
  density(rho: number): number;
  pressure(kpa: number): number;
  /** 1980 α and exponent intermediates */
  scheme1980: Scheme1980;
  /** 53B glass-hydrometer correction rounding */
  hydrometer: 'printed' | 'exact';
  vcf(v: number): number;
  density15(rho: number): number;
  volume(litres: number): number;
  /** 1980 53B iteration: in-loop VCF decimals, ρ15 truncation, stop thresholds (kg/m³) */
  loop1980: { vcfDecimals: number | undefined; densityTruncate: number | undefined; tolerance: number; transitionTolerance: number };
}

const identity = (x: number) => x;

const PRINTED_LOOP = { vcfDecimals: 6, densityTruncate: 3, tolerance: 0.05, transitionTolerance: 0.07 };
// full precision: iterate far below anything printed; the 1980 fixed point converges in a few
// steps because VCF barely depends on ρ15
const EXACT_LOOP = { vcfDecimals: undefined, densityTruncate: undefined, tolerance: 1e-9, transitionTolerance: 1e-9 };

const cache = new Map<string, RoundingSpec>();

/** The spec for a pair; specs are immutable and shared, since batch runs call this per row. */
export function roundingSpec(edition: Edition, profile: RoundingProfile): RoundingSpec {
  const key = `${edition}/${profile}`;
  let spec = cache.get(key);
  if (!spec) {
    spec = Object.freeze(buildSpec(edition, profile));
    cache.set(key, spec);
  }
  return spec;
}

function buildSpec(edition: Edition, profile: RoundingProfile): RoundingSpec {
  if (profile === 'full') {
    return {
      edition,
      profile,
      temperature: identity,
      density: identity,
      pressure: identity,
      scheme1980: 'exact',
      hydrometer: 'exact',
      vcf: identity,
      density15: identity,
      volume: identity,
      loop1980: EXACT_LOOP,
    };
  }
  if (edition === '1980') {
    const computed = profile === 'computed';
    return {
      edition,
      profile,
      temperature: computed ? (t) => roundToIncrementHalfUp(t, 0.05) : identity,
      density: computed ? (r) => roundToIncrementHalfUp(r, 0.1) : identity,
      pressure: identity,
      scheme1980: 'printed',
      hydrometer: 'printed',
      vcf: computed ? (v) => roundHalfUp(v, v >= 1 ? 4 : 5) : (v) => roundHalfUp(v, 4),
      density15: (r) => roundHalfUp(r, 1),
      volume: (l) => roundHalfUp(l, 1),
      loop1980: PRINTED_LOOP,
    };
  }
  if (profile === 'table') {
    return {
      edition,
      profile,
      temperature: identity,
      density: identity,
      pressure: identity,
      scheme1980: 'exact',
      hydrometer: 'exact',
      vcf: (v) => roundHalfUp(v, 4),
      density15: (r) => roundHalfUp(r, 1),
      volume: (l) => roundHalfUp(l, 1),
      loop1980: EXACT_LOOP,
    };
  }
  return {
    edition,
    profile,
    temperature: (t) => roundToIncrementHalfEven(t, 0.05),
    density: (r) => roundToIncrementHalfEven(r, 0.1),
    pressure: (p) => roundToIncrementHalfEven(p, 5),
    scheme1980: 'exact',
    hydrometer: 'exact',
    vcf: (v) => roundToIncrementHalfEven(v, 0.00001),
    density15: (r) => roundToIncrementHalfEven(r, 0.1),
    volume: (l) => roundToIncrementHalfEven(l, 0.1),
    loop1980: EXACT_LOOP,
  };
}
