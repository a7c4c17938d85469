import type { GoldenSet } from '../golden/load.js';
import { computeCase, profileName, type GoldenProfile } from '../golden/profile.js';
import type { GoldenCase } from '../golden/schema.js';

/**
 * Golden cases made by the engine under a known profile, as SEP would print them (ρ15 and VCF as
 * the profile rounds them, the 15 °C volume to 0.1 L): what the discovery and diagnosis tests
 * start from. Test support only.
 */
export function syntheticCases(p: GoldenProfile, n = 12, overrides: Partial<GoldenCase> = {}): GoldenSet {
  const cases = Array.from({ length: n }, (_, i) => {
    const base: GoldenCase = {
      reference: `SYN-${String(i + 1).padStart(2, '0')}`,
      produit_code: 'GASOIL',
      date_mesure: `2026-03-${String(1 + i).padStart(2, '0')}`,
      volume_observe_l: 33000 + ((i * 733) % 7000),
      temperature_c: Math.round((19 + ((i * 3.7) % 14)) * 10) / 10,
      densite_observee_kgm3: Math.round((826 + ((i * 2.9) % 30)) * 10) / 10,
      densite_a_15_kgm3_ref: null,
      vcf_ref: null,
      volume_15c_ref_l: 0,
      source: 'SYNTHETIC',
      note: `computed under ${profileName(p)}`,
      ...overrides,
    };
    const r = computeCase(base, p);
    return {
      case: { ...base, densite_a_15_kgm3_ref: r.density15, vcf_ref: r.vcf, volume_15c_ref_l: Math.round(r.volume15L! * 10) / 10 },
      where: { file: 'synthetic.csv', line: i + 2, row: i + 1 },
    };
  });
  return { origin: 'synthetic.csv', cases };
}
