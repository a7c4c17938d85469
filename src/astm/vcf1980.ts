import type { ProductGroup } from './editions.js';
import { roundHalfUp, truncate } from './rounding.js';

/**
 * The 1980 Table 54B computation at 15 °C (API MPMS 11.1-1980 Vol. X, metric generalized
 * products): α = K0/ρ15² + K1/ρ15 (transition zone: α = A + B/ρ15²), then
 * VCF = exp(−α·Δt·(1 + 0.8·α·Δt)) with Δt = T − 15 °C.
 *
 * The metric constants are 1.8 × the 60 °F ones. They are the official ones, not the
 * "variant" set that circulates (transition zone 770–778 with A = −0.0033612, K1 0.48618): that
 * variant is off by up to 13 L on 40 000 L at 785 kg/m³, and a unit test guards against it.
 */
export const CONSTANTS_1980 = {
  gasoline: { K0: 346.4228, K1: 0.4388 },
  transition_zone: { A: -0.00336312, B: 2680.3206 },
  jet_fuel: { K0: 594.5418, K1: 0 },
  fuel_oil: { K0: 186.9696, K1: 0.4862 },
} as const;

/**
 * Group boundaries, in kg/m³ of ρ15. The printed tables are on a 0.5 kg/m³ grid, where the
 * groups are: gasoline up to 770.0, transition 770.5–787.5, jet 788.0–838.5, fuel oil from 839.0.
 * Off the grid, implementations differ. The cut chosen here (transition from 770.5 inclusive to
 * 787.5 inclusive, jet up to 838.5 inclusive) is the one that best reproduces the printed 53B,
 * whose iteration lands on off-grid ρ15 values (REFERENCE.md §4.3, variant "C"); on the grid it
 * gives exactly the printed 54B.
 */
export const BOUNDARIES_1980 = {
  transitionFrom: 770.5,
  transitionTo: 787.5,
  jetTo: 838.5,
} as const;

/** Group for a ρ15. Values outside 653–1075 get the nearest group; range checks are separate. */
export function productGroup1980(density15: number): ProductGroup {
  if (density15 < BOUNDARIES_1980.transitionFrom) return 'gasoline';
  if (density15 <= BOUNDARIES_1980.transitionTo) return 'transition_zone';
  if (density15 <= BOUNDARIES_1980.jetTo) return 'jet_fuel';
  return 'fuel_oil';
}

/**
 * How the intermediates are rounded.
 * - `printed`: the GB/T 1885-derived truncation scheme (α from truncated quotients, summed and
 *   rounded to 7 decimals; the exponent's products truncated to 9/8 decimals). It reproduces
 *   36 708 of the 36 715 cells of the printed 54B transcription; the 7 others are transcription
 *   slips (REFERENCE.md §4.2). Rounding α to 7 decimals alone would leave 12 mismatches, and full
 *   precision 185.
 * - `exact`: no intermediate rounding.
 */
export type Scheme1980 = 'printed' | 'exact';

export function alpha1980(density15: number, group: ProductGroup, scheme: Scheme1980): number {
  const r = density15;
  if (group === 'transition_zone') {
    const { A, B } = CONSTANTS_1980.transition_zone;
    if (scheme === 'exact') return A + B / (r * r);
    return roundHalfUp(A + roundHalfUp(truncate(B / r, 6) / r, 8), 7);
  }
  const { K0, K1 } = CONSTANTS_1980[group];
  if (scheme === 'exact') return K0 / (r * r) + K1 / r;
  return roundHalfUp(truncate(truncate(K0 / r, 8) / r, 10) + truncate(K1 / r, 10), 7);
}

/** exp(−α·Δt·(1 + 0.8·α·Δt)), with the printed scheme's truncations when asked. */
export function vcfFromAlpha1980(alpha: number, temperatureC: number, scheme: Scheme1980): number {
  const dt = temperatureC - 15;
  if (scheme === 'exact') return Math.exp(-alpha * dt * (1 + 0.8 * alpha * dt));
  const a1 = truncate(alpha * dt, 9);
  const a2 = truncate(0.8 * a1, 9);
  const a3 = roundHalfUp(a1 * a2, 9);
  return Math.exp(truncate(-a1 - a3, 8));
}

export interface Vcf1980 {
  group: ProductGroup;
  alpha: number;
  /** unrounded exp(); the profile decides how many decimals are reported */
  vcf: number;
}

export function vcf1980(density15: number, temperatureC: number, scheme: Scheme1980, group = productGroup1980(density15)): Vcf1980 {
  const alpha = alpha1980(density15, group, scheme);
  return { group, alpha, vcf: vcfFromAlpha1980(alpha, temperatureC, scheme) };
}
