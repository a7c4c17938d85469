import type { ProductGroup } from './editions.js';

/**
 * API MPMS 11.1-2004 (§11.1.5–11.1.7) for generalized refined products, in the 60 °F frame the
 * standard computes in: its metric 15 °C results are defined as identical to the 60 °F
 * computation. Everything here is unrounded; profiles round the results.
 *
 * Reproduces the standard's worked examples 11.1.7.1 ex. 4 and 6 and 11.1.7.2 ex. 1, 4 and 5 (as
 * encoded in the API reference implementation's tests) to better than 1e-9 — see the public
 * vectors P54-04-* and P53-04-*.
 */

interface Group2004 {
  group: ProductGroup;
  /** lowest ρ60 of the group, inclusive; groups are tried from the heaviest down */
  from: number;
  K0: number;
  K1: number;
  K2: number;
  /** Dα, the slope factor of the 11.1.6.2 Newton step */
  dAlpha: number;
}

// checked heaviest first, so a ρ60 exactly on a boundary takes the heavier group, as in the
// reference implementation (the α curves meet there to within 1.8e-8 /°F anyway)
const GROUPS_2004: readonly Group2004[] = [
  { group: 'fuel_oil', from: 838.3127, K0: 103.872, K1: 0.2701, K2: 0, dAlpha: 1.3 },
  { group: 'jet_fuel', from: 787.5195, K0: 330.301, K1: 0, K2: 0, dAlpha: 2.0 },
  { group: 'transition_zone', from: 770.352, K0: 1489.067, K1: 0, K2: -0.0018684, dAlpha: 8.5 },
  { group: 'gasoline', from: 610.6, K0: 192.4571, K1: 0.2438, K2: 0, dAlpha: 1.5 },
];

/** ρ60 limits for refined products (kg/m³), `constants.h` of the API reference code. */
export const DENSITY60_LIMITS_2004 = { min: 610.6, max: 1163.5 } as const;

/** The 60 °F base on the IPTS-68 scale, and the shift δ60 between the two scales' 60 °F. */
const BASE_F68 = 60.0068749;
const DELTA60 = 0.01374979547;

/** psi per kPa as the standard converts it (1 psi = 6.894757 kPa). */
const KPA_PER_PSI = 6.894757;

/** The 11.1.6.2 iteration's stop: |ρobs − ρ60·CTL·CPL| below this (kg/m³), at most 15 steps. */
const CONVERGENCE_KGM3 = 1e-6;
const MAX_ITERATIONS = 15;

function group2004(density60: number): Group2004 {
  for (const g of GROUPS_2004) if (density60 >= g.from) return g;
  return GROUPS_2004[GROUPS_2004.length - 1]!;
}

export function productGroup2004(density60: number): ProductGroup {
  return group2004(density60).group;
}

// §11.1.5.3: ITS-90 → IPTS-68, t68 = t90 − Δ with Δ = Σ aᵢ·(t90/630)^i
const ITS90_TO_IPTS68 = [-0.148759, -0.267408, 1.08076, 1.269056, -4.089591, -1.871251, 7.438081, -3.536296];

/** An ITS-90 °C reading expressed in IPTS-68 °F, the scale the 2004 constants were fitted on. */
export function fahrenheit68(celsius90: number): number {
  const tau = celsius90 / 630;
  let delta = 0;
  let p = 1;
  for (const a of ITS90_TO_IPTS68) {
    p *= tau;
    delta += a * p;
  }
  return 1.8 * (celsius90 - delta) + 32;
}

export interface Ctl2004 {
  group: ProductGroup;
  /** α60 in 1/°F, computed on the shifted density ρ* */
  alpha60: number;
  rhoStar: number;
  ctl: number;
}

/** §11.1.6.1: CTL from ρ60 to temperature tF68 (IPTS-68 °F). */
export function ctl2004(density60: number, tF68: number): Ctl2004 {
  const g = group2004(density60);
  const { K0, K1, K2 } = g;
  const r = density60;
  // the density shift accounts for the 1980 data having been referred to the IPTS-68 60 °F
  const A = (DELTA60 / 2) * ((K0 / r + K1) / r + K2);
  const B = (2 * K0 + K1 * r) / (K0 + (K1 + K2 * r) * r);
  const rhoStar = r * (1 + (Math.exp(A * (1 + 0.8 * A)) - 1) / (1 + A * (1 + 1.6 * A) * B));
  const alpha60 = (K0 / rhoStar + K1) / rhoStar + K2;
  const dt = tF68 - BASE_F68;
  const ctl = Math.exp(-alpha60 * dt * (1 + 0.8 * alpha60 * (dt + DELTA60)));
  return { group: g.group, alpha60, rhoStar, ctl };
}

/** Compressibility factor Fp (per 1e5 psi) and CPL at gauge pressure `psi`. */
function cpl2004(rhoStar: number, tF68: number, psi: number): { fp: number; cpl: number } {
  const fp = Math.exp(-1.9947 + 0.00013427 * tF68 + (793920 + 2326 * tF68) / (rhoStar * rhoStar));
  return { fp, cpl: 1 / (1 - 1e-5 * fp * psi) };
}

export interface Density60Solution {
  density60: number;
  group: ProductGroup;
  /** CTL and CPL at the observed conditions, for the final ρ60 */
  ctl: number;
  cpl: number;
  alpha60: number;
  iterations: number;
  /** false when the 15 steps ran out; the standard then accepts the last value */
  converged: boolean;
  /** the iteration was held at a ρ60 limit: the true ρ60 lies outside the table */
  atLimit: 'min' | 'max' | undefined;
}

/**
 * §11.1.6.2: ρ60 from a density observed at (T, P), by the standard's Newton iteration with
 * its stop rule, so results match the worked examples to their last digit (a tighter stop moves
 * them by up to 2e-7 kg/m³).
 */
export function density60From(observed: number, celsius90: number, pressureKpa: number): Density60Solution {
  const tF = fahrenheit68(celsius90);
  const psi = pressureKpa / KPA_PER_PSI;
  const { min, max } = DENSITY60_LIMITS_2004;
  const clamp = (x: number) => Math.min(Math.max(x, min), max);
  let r = clamp(observed);
  for (let i = 0; ; i++) {
    const g = group2004(r);
    const c = ctl2004(r, tF);
    const p = cpl2004(c.rhoStar, tF, psi);
    const ctpl = c.ctl * p.cpl;
    if (Math.abs(observed - r * ctpl) < CONVERGENCE_KGM3 || i === MAX_ITERATIONS) {
      const converged = Math.abs(observed - r * ctpl) < CONVERGENCE_KGM3;
      const atLimit = !converged && r === min ? 'min' : !converged && r === max ? 'max' : undefined;
      return { density60: r, group: g.group, ctl: c.ctl, cpl: p.cpl, alpha60: c.alpha60, iterations: i, converged, atLimit };
    }
    const e = observed / ctpl - r;
    const dT = tF - 60;
    const dt = g.dAlpha * c.alpha60 * dT * (1 + 1.6 * c.alpha60 * dT);
    const dp = (-2 * p.cpl * psi * p.fp * (7.9392 + 0.02326 * tF)) / (r * r);
    r = clamp(r + e / (1 + dt + dp));
  }
}

/** tF68 of the 15 °C base, computed once. */
export const BASE15_F68 = fahrenheit68(15);
