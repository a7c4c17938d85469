import { AstmError } from './errors.js';

/**
 * The two editions of ASTM D1250 / API MPMS Ch. 11.1 the engine implements.
 *
 * - `1980`: API Std 2540 / MPMS 11.1-1980 Vol. X / ASTM D1250-80 / IP 200 (ISO 91-1:1992 is
 *   based on it). Computed directly at 15 °C with the metric constants. Its printed tables are
 *   still what most field software reproduces.
 * - `2004`: API MPMS 11.1-2004 / ASTM D1250-04 (with Addendum 1 and Addendum 2 (2019), i.e.
 *   ASTM D1250-19e1). Computed in the 60 °F / IPTS-68 frame: ITS-90 temperatures are converted to
 *   IPTS-68, ρ15 is turned into ρ60, and VCF15(T) = CTL60(T) / CTL60(15 °C).
 */
export type Edition = '1980' | '2004';
export const EDITIONS: readonly Edition[] = ['1980', '2004'];

/**
 * Named rounding profiles (see `profiles.ts` for exactly what each one rounds):
 *
 * - `table`: reproduces the printed 1980 tables (α rounded as the printed 54B needs, VCF to
 *   4 decimals, ρ15 to 0.1 kg/m³). With edition 1980, a glass-hydrometer 53B reading and this
 *   profile reproduce ML_PP's database outputs (1000 L / 840 kg/m³ / 20 °C → ρ15 843.4,
 *   VCF 0.9958, 995.8 L).
 * - `computed`: each edition's implementation-procedure rounding (inputs rounded to their
 *   increments, 1980 VCF to 4 decimals at or above 1 and 5 below, 2004 CTL to 5 decimals).
 * - `full`: no rounding at all, for comparisons and diagnosis.
 */
export type RoundingProfile = 'table' | 'computed' | 'full';
export const ROUNDING_PROFILES: readonly RoundingProfile[] = ['table', 'computed', 'full'];

/** What the CLI uses when no --edition / --rounding is given. */
export const DEFAULT_EDITION: Edition = '1980';
export const DEFAULT_ROUNDING: RoundingProfile = 'table';

/**
 * Product groups of the generalized-products tables (B). The names are those of the published
 * vectors (`product_range_1980` / `product_range_2004`). In 1980 the group is chosen on ρ15, in
 * 2004 on ρ60, so a density near a boundary can fall in different groups per edition.
 */
export type ProductGroup = 'gasoline' | 'transition_zone' | 'jet_fuel' | 'fuel_oil';

export function parseEdition(text: string): Edition {
  const t = text.trim();
  if ((EDITIONS as readonly string[]).includes(t)) return t as Edition;
  throw new AstmError('UNKNOWN_EDITION', 'edition', `edition "${text}" is not known; use ${EDITIONS.join(' or ')}`);
}

export function parseRoundingProfile(text: string): RoundingProfile {
  const t = text.trim().toLowerCase();
  if ((ROUNDING_PROFILES as readonly string[]).includes(t)) return t as RoundingProfile;
  throw new AstmError('UNKNOWN_ROUNDING', 'rounding', `rounding profile "${text}" is not known; use ${ROUNDING_PROFILES.join(', ')}`);
}
