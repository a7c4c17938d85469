import { AstmError } from './errors.js';
import {
  DEFAULT_EDITION,
  DEFAULT_ROUNDING,
  EDITIONS,
  ROUNDING_PROFILES,
  type Edition,
  type RoundingProfile,
  parseEdition,
  parseRoundingProfile,
} from './editions.js';
import { roundingSpec, type RoundingSpec } from './profiles.js';
import { checkVolume } from './ranges.js';

/** Options shared by Table 53B and 54B. */
export interface CommonOptions {
  /** default `1980` */
  edition?: Edition;
  /** default `table` */
  rounding?: RoundingProfile;
  /** ambient (observed) volume in litres; when given, the result carries the volume at 15 °C */
  volumeL?: number;
  /**
   * Edition 2004 only: compute the volume at 15 °C with the unrounded CTL, as Addendum 2 (2019)
   * to MPMS 11.1-2004 (ASTM D1250-19e1) prescribes; without it the 2004 text's rounded CTL is used.
   * The reported VCF stays rounded as the profile says either way.
   */
  addendum2019?: boolean;
}

/** Edition and profile validated at run time too: batch rows and JS callers pass raw strings. */
export function resolveCommon(o: CommonOptions): { spec: RoundingSpec; volumeL: number | undefined; addendum2019: boolean } {
  const edition = o.edition === undefined ? DEFAULT_EDITION : EDITIONS.includes(o.edition) ? o.edition : parseEdition(String(o.edition));
  const rounding =
    o.rounding === undefined
      ? DEFAULT_ROUNDING
      : ROUNDING_PROFILES.includes(o.rounding)
        ? o.rounding
        : parseRoundingProfile(String(o.rounding));
  if (o.volumeL !== undefined) checkVolume(o.volumeL);
  const addendum2019 = o.addendum2019 === true;
  if (addendum2019 && edition !== '2004') {
    throw new AstmError('UNSUPPORTED_OPTION', 'options', 'the 2019 addendum (unrounded CTL for volumes) belongs to edition 2004');
  }
  return { spec: roundingSpec(edition, rounding), volumeL: o.volumeL, addendum2019 };
}

/** Volume at 15 °C = ambient volume × VCF, rounded as the profile says. */
export function volumeAt15(
  volumeL: number | undefined,
  vcf: number,
  vcfUnrounded: number,
  spec: RoundingSpec,
  addendum2019: boolean,
): number | undefined {
  if (volumeL === undefined) return undefined;
  return spec.volume(volumeL * (addendum2019 ? vcfUnrounded : vcf));
}
