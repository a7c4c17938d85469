import { describe, expect, it } from 'vitest';
import { table53b, table54b } from '../astm/index.js';
import { memoryLogger, silentLogger } from '../logger.js';
import { legacyVolume15 } from '../golden/diagnose.js';
import type { GoldenSet } from '../golden/load.js';
import { CANDIDATE_PROFILES, ML_PP_PROFILE, parseGoldenProfile, profileName } from '../golden/profile.js';
import type { GoldenCase } from '../golden/schema.js';
import { syntheticCases } from '../testing/golden-cases.js';
import { verifyGolden } from './golden-verify.js';

function withCase(set: GoldenSet, i: number, patch: Partial<GoldenCase>): GoldenSet {
  return { ...set, cases: set.cases.map((c, j) => (j === i ? { ...c, case: { ...c.case, ...patch } } : c)) };
}

describe('verifyGolden: profile discovery', () => {
  it("finds the profile SEP's figures were computed with, for every candidate", async () => {
    let exact = 0;
    for (const p of CANDIDATE_PROFILES) {
      const r = await verifyGolden(syntheticCases(p), {}, silentLogger);
      expect(r.passed).toBe(true);
      expect(r.profile_chosen_by).toBe('discovery');
      // the known profile is the one chosen, or scores exactly like it (then the result says so)
      expect([r.profile, ...r.indistinguishable_from]).toContain(profileName(p));
      if (r.profile === profileName(p)) exact++;
      const own = r.profiles.find((s) => s.profile === profileName(p))!;
      expect(own.reproduced).toBe(12);
      expect(own.density15_matches).toBe(12);
      expect(own.vcf_matches).toBe(12);
    }
    // only 1980/table/digital and 2004/table/digital print identical figures on these cases
    expect(exact).toBeGreaterThanOrEqual(CANDIDATE_PROFILES.length - 1);
  });

  it('reports, per profile, how many cases it reproduces', async () => {
    const r = await verifyGolden(syntheticCases(parseGoldenProfile('2004/full/digital')), {}, silentLogger);
    expect(r.profile).toBe('2004/full/digital');
    expect(r.profiles).toHaveLength(CANDIDATE_PROFILES.length);
    const mlpp = r.profiles.find((s) => s.profile === profileName(ML_PP_PROFILE))!;
    // the glass correction moves ρ15 by tenths of kg/m³: visible in SEP's printed ρ15
    expect(mlpp.density15_matches).toBeLessThan(12);
    expect(mlpp.max_abs_deviation_l).toBeGreaterThan(0);
  });

  it('uses --profile when given, even when another fits better', async () => {
    const set = syntheticCases(parseGoldenProfile('2004/computed/digital'));
    const r = await verifyGolden(set, { profile: ML_PP_PROFILE }, silentLogger);
    expect(r.profile).toBe('1980/table/hydrometer');
    expect(r.profile_chosen_by).toBe('option');
    expect(r.cases[0]!.engine_volume_15c_l).toBe(
      table53b({
        observedDensity: set.cases[0]!.case.densite_observee_kgm3,
        temperatureC: set.cases[0]!.case.temperature_c,
        hydrometer: true,
        volumeL: set.cases[0]!.case.volume_observe_l,
      }).volume15L,
    );
  });

  it("a case's density_method overrides the profile's", async () => {
    const set = syntheticCases(ML_PP_PROFILE, 4, { density_method: 'hydrometer' });
    const r = await verifyGolden(set, { profile: parseGoldenProfile('1980/table/digital') }, silentLogger);
    expect(r.cases.every((c) => c.deviation_l === Math.round((c.engine_volume_15c_l - c.sep_volume_15c_l) * 1000) / 1000)).toBe(true);
    expect(r.cases.map((c) => c.engine_density15_kgm3)).toEqual(set.cases.map((c) => c.case.densite_a_15_kgm3_ref));
  });
});

describe('verifyGolden: verdicts and diagnosis', () => {
  const profile = ML_PP_PROFILE;
  const clean = syntheticCases(profile);

  it("a mistyped temperature: FAIL, and SEP's VCF names the temperature it was computed at", async () => {
    const truth = clean.cases[3]!.case;
    const typo = truth.temperature_c + 5.7;
    const log = memoryLogger();
    const r = await verifyGolden(withCase(clean, 3, { temperature_c: typo }), {}, log);
    expect(r.passed).toBe(false);
    expect(r.profile).toBe(profileName(profile));
    const c = r.cases[3]!;
    expect(c.verdict).toBe('FAIL');
    expect(Math.abs(c.deviation_l)).toBeGreaterThan(5);
    expect(c.diagnosis.fault).toBe('data_entry');
    // a VCF printed to 4 decimals pins the temperature to about ±0.1 °C
    expect(Math.abs(c.diagnosis.implied_temperature_c! - truth.temperature_c)).toBeLessThanOrEqual(0.15);
    expect(c.diagnosis.explanation).toBe(
      `SEP's VCF implies ${c.diagnosis.implied_temperature_c!.toFixed(1)} °C; the record says ${typo.toFixed(1)} °C: check the field sheet.`,
    );
    expect(c.diagnosis.checks.find((k) => k.name === 'sep_vcf_matches_density15_and_temperature')!.holds).toBe(false);
    expect(c.diagnosis.checks.find((k) => k.name === 'sep_volume_equals_volume_times_vcf')!.holds).toBe(true);
    expect(log.lines.some((l) => l.startsWith('warn: SYN-04: FAIL'))).toBe(true);
    // the other cases are untouched
    expect(r.cases.filter((x) => x.verdict === 'FAIL')).toHaveLength(1);
    expect(r.max_deviation_l).toBe(Math.abs(c.deviation_l));
  });

  it("a SEP volume that is not its volume × its VCF: SEP's slip is at fault", async () => {
    const v = clean.cases[0]!.case.volume_15c_ref_l;
    const r = await verifyGolden(withCase(clean, 0, { volume_15c_ref_l: v + 60 }), { profile }, silentLogger);
    const c = r.cases[0]!;
    expect(c.verdict).toBe('FAIL');
    expect(c.deviation_l).toBeCloseTo(-60, 0);
    expect(c.diagnosis.fault).toBe('sep');
    expect(c.diagnosis.explanation).toMatch(/SEP's .* L against .* L × 0\.\d+/);
  });

  it("a mistyped density: the reading SEP's ρ15 implies", async () => {
    const truth = clean.cases[5]!.case;
    const r = await verifyGolden(
      withCase(clean, 5, { densite_observee_kgm3: truth.densite_observee_kgm3 - 12 }),
      { profile, toleranceL: 5 },
      silentLogger,
    );
    const c = r.cases[5]!;
    expect(c.verdict).toBe('FAIL');
    expect(c.diagnosis.fault).toBe('data_entry');
    expect(Math.abs(c.diagnosis.implied_observed_density_kgm3! - truth.densite_observee_kgm3)).toBeLessThanOrEqual(0.1);
    expect(c.diagnosis.explanation).toContain(`implies a reading of ${c.diagnosis.implied_observed_density_kgm3!.toFixed(1)} kg/m³`);
  });

  it('a slip without VCF or ρ15: the temperature its own volumes imply', async () => {
    const truth = clean.cases[2]!.case;
    const r = await verifyGolden(
      withCase(clean, 2, { vcf_ref: null, densite_a_15_kgm3_ref: null, temperature_c: truth.temperature_c - 8 }),
      { profile },
      silentLogger,
    );
    const c = r.cases[2]!;
    expect(c.verdict).toBe('FAIL');
    expect(c.diagnosis.fault).toBe('unknown');
    expect(c.diagnosis.checks.every((k) => k.holds === null)).toBe(true);
    // the engine's ρ15 at the wrong temperature differs a little from SEP's: within a few tenths of a degree
    expect(Math.abs(c.diagnosis.implied_temperature_c! - truth.temperature_c)).toBeLessThan(0.6);
  });

  it('the tolerance decides: a case 3 L off passes at ±5 L and fails at ±2 L', async () => {
    const set = withCase(clean, 0, { volume_15c_ref_l: clean.cases[0]!.case.volume_15c_ref_l + 3 });
    expect((await verifyGolden(set, { profile }, silentLogger)).passed).toBe(true);
    const strict = await verifyGolden(set, { profile, toleranceL: 2 }, silentLogger);
    expect(strict.passed).toBe(false);
    expect(strict.cases.filter((c) => c.verdict === 'FAIL').map((c) => c.reference)).toEqual(['SYN-01']);
  });

  it("the figures are the engine's: VCF from Table 54B on the reported ρ15", async () => {
    const r = await verifyGolden(clean, { profile }, silentLogger);
    for (const c of r.cases) {
      expect(c.engine_vcf).toBe(table54b({ density15: c.engine_density15_kgm3, temperatureC: c.temperature_c }).vcf);
      expect(c.mlpp_verdict).toBe('NOT_COMPARED');
      expect(c.diagnosis.implied_temperature_c).toBeNull();
    }
  });

  it("the legacy formula is ML_PP's February computation", () => {
    expect(legacyVolume15(37566, 28.6)).toBeCloseTo(37233.91656, 5);
  });
});
