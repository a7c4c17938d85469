import { EDITIONS, ROUNDING_PROFILES, table53b, type Edition, type RoundingProfile, type Table53BResult } from '../astm/index.js';
import { UserError } from '../errors.js';
import type { GoldenCase } from './schema.js';

/**
 * A way of computing SEP's figures: edition × rounding × how the density is taken (a glass
 * hydrometer reading gets the 1980 glass correction, a digital meter reading does not). Written
 * `1980/table/hydrometer`. A case's own `density_method`, when given, says how its density was
 * read and overrides the profile's default for that case.
 */
export interface GoldenProfile {
  edition: Edition;
  rounding: RoundingProfile;
  hydrometer: boolean;
}

/** What reproduces ML_PP's database outputs (FACTS §2.4): the first candidate, so it wins ties. */
export const ML_PP_PROFILE: GoldenProfile = { edition: '1980', rounding: 'table', hydrometer: true };

export const CANDIDATE_PROFILES: readonly GoldenProfile[] = (() => {
  const all: GoldenProfile[] = [ML_PP_PROFILE];
  for (const edition of EDITIONS)
    for (const rounding of ROUNDING_PROFILES)
      for (const hydrometer of [true, false]) {
        if (edition === ML_PP_PROFILE.edition && rounding === ML_PP_PROFILE.rounding && hydrometer === ML_PP_PROFILE.hydrometer) continue;
        all.push({ edition, rounding, hydrometer });
      }
  return all;
})();

export function profileName(p: GoldenProfile): string {
  return `${p.edition}/${p.rounding}/${p.hydrometer ? 'hydrometer' : 'digital'}`;
}

export function parseGoldenProfile(text: string, field = '--profile'): GoldenProfile {
  const found = CANDIDATE_PROFILES.find((p) => profileName(p) === text.trim().toLowerCase());
  if (!found) {
    throw new UserError('BAD_PROFILE', `profile "${text}" is not known`, {
      where: { field },
      hint: `EDITION/ROUNDING/DENSITY with EDITION ${EDITIONS.join('|')}, ROUNDING ${ROUNDING_PROFILES.join('|')}, DENSITY hydrometer|digital; e.g. ${profileName(ML_PP_PROFILE)}`,
    });
  }
  return found;
}

export function usesHydrometer(c: GoldenCase, p: GoldenProfile): boolean {
  return c.density_method ? c.density_method === 'hydrometer' : p.hydrometer;
}

/** The engine on one case: Table 53B on the observed density, then 54B at the case's temperature. */
export function computeCase(c: GoldenCase, p: GoldenProfile): Table53BResult {
  return table53b({
    observedDensity: c.densite_observee_kgm3,
    temperatureC: c.temperature_c,
    hydrometer: usesHydrometer(c, p),
    edition: p.edition,
    rounding: p.rounding,
    volumeL: c.volume_observe_l,
  });
}
