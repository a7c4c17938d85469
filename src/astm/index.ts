/**
 * ASTM D1250 / API MPMS Ch. 11.1, Tables 53B and 54B (generalized products, 15 °C), editions
 * 1980 and 2004. Pure: no I/O, no clock, no globals; every function is deterministic.
 *
 * Reproducing ML_PP's database: edition `1980`, rounding `table`, 53B with `hydrometer: true`,
 * then 54B on the reported ρ15 (what `table53b` does when given a volume):
 * 1000 L / 840 kg/m³ / 20 °C → ρ15 843.4, VCF 0.9958, 995.8 L.
 */
export { table54b, type Table54BInput, type Table54BResult } from './table54b.js';
export { table53b, volume15ByPair, type Table53BInput, type Table53BResult } from './table53b.js';
export type { CommonOptions } from './inputs.js';
export {
  DEFAULT_EDITION,
  DEFAULT_ROUNDING,
  EDITIONS,
  ROUNDING_PROFILES,
  parseEdition,
  parseRoundingProfile,
  type Edition,
  type ProductGroup,
  type RoundingProfile,
} from './editions.js';
export { AstmError, AstmRangeError, AstmUnitError, isAstmError, type AstmErrorCode, type AstmField, type LimitBound } from './errors.js';
export { LIMITS_1980, LIMITS_2004 } from './ranges.js';
export { roundingSpec, type RoundingSpec } from './profiles.js';
export { glassHydrometerCorrection } from './hydrometer.js';
