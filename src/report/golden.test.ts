import { describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.js';
import { diagnose } from '../golden/diagnose.js';
import { ML_PP_PROFILE } from '../golden/profile.js';
import { syntheticCases } from '../testing/golden-cases.js';
import { verifyGolden } from '../runbook/golden-verify.js';
import { renderDriftText, renderGoldenMarkdown, renderGoldenText } from './golden.js';
import { jsonText } from '../results/io.js';
import type { DriftReport, GoldenReport } from '../results/golden.js';
import { expectGolden } from '../testing/golden.js';

/** Renderers are pure: compared byte for byte with golden files (UPDATE_GOLDEN=1 rewrites them). */
const golden = (name: string, actual: string) => expectGolden(import.meta.url, name, actual);

const drift: DriftReport = {
  profile: '1980/table/hydrometer',
  receptions: [
    {
      reception_id: '0f95d0d7-8642-7823-4246-5e4f6ada880c',
      date_reception: '2026-02-06',
      citerne: 'TANK4',
      proprietaire_type: 'MONALUXE',
      volume_ambiant_l: 37566,
      temperature_c: 28.6,
      densite_kgm3: 837.2,
      stored_15c_l: 37233.91656,
      stored_column: 'volume_corrige_15c',
      astm_15c_l: 37137.7,
      drift_l: 96.217,
      problem: null,
    },
    {
      reception_id: 'ca845d35-3b25-7669-71b6-19a42fc2a23b',
      date_reception: '2026-02-07',
      citerne: 'TANK1',
      proprietaire_type: 'MONALUXE',
      volume_ambiant_l: 33928,
      temperature_c: 28.4,
      densite_kgm3: 837.1,
      stored_15c_l: 33632.48712,
      stored_column: 'volume_corrige_15c',
      astm_15c_l: 33548,
      drift_l: 84.487,
      problem: null,
    },
    {
      reception_id: '65401152-34a2-4581-db74-fb00f67adcfb',
      date_reception: '2026-02-11',
      citerne: 'TANK1',
      proprietaire_type: 'PARTENAIRE',
      volume_ambiant_l: 37854,
      temperature_c: null,
      densite_kgm3: 837.9,
      stored_15c_l: 37516.91013,
      stored_column: 'volume_corrige_15c',
      astm_15c_l: null,
      drift_l: null,
      problem: 'no temperature_ambiante_c',
    },
  ],
  tanks: [
    { citerne: 'TANK1', receptions: 1, stored_15c_l: 33632.487, astm_15c_l: 33548, drift_l: 84.487 },
    { citerne: 'TANK4', receptions: 1, stored_15c_l: 37233.917, astm_15c_l: 37137.7, drift_l: 96.217 },
  ],
  total: { receptions: 3, recomputed: 2, stored_15c_l: 70866.404, astm_15c_l: 70685.7, drift_l: 180.704 },
};

async function report(): Promise<GoldenReport> {
  const set = syntheticCases(ML_PP_PROFILE, 4);
  set.cases[2] = { ...set.cases[2]!, case: { ...set.cases[2]!.case, temperature_c: set.cases[2]!.case.temperature_c + 4 } };
  const r = await verifyGolden(set, {}, silentLogger);
  // as if case 1 were linked to a reception whose stored value is the legacy one
  const c = r.cases[0]!;
  c.mlpp = {
    reception_id: '0f95d0d7-8642-7823-4246-5e4f6ada880c',
    citerne: 'TANK4',
    volume_ambiant: c.volume_observe_l,
    temperature_ambiante_c: c.temperature_c,
    densite_a_15: c.densite_observee_kgm3,
    stored_15c_l: 33060.5,
    stored_column: 'volume_corrige_15c',
  };
  c.mlpp_volume_15c_l = 33060.5;
  c.mlpp_effective_15c_l = 33060.5;
  c.mlpp_deviation_l = Math.round((33060.5 - c.sep_volume_15c_l) * 1000) / 1000;
  c.mlpp_verdict = 'FAIL';
  c.verdict = 'FAIL';
  c.reception_id = c.mlpp.reception_id;
  c.diagnosis = diagnose({
    case: set.cases[0]!.case,
    profile: ML_PP_PROFILE,
    toleranceL: 5,
    engineVolume15L: c.engine_volume_15c_l,
    engineDensity15: c.engine_density15_kgm3,
    mlpp: c.mlpp,
  });
  // case 2 linked to a legacy reception that `astm53b restate` restated: its effective value passes
  const d = r.cases[1]!;
  const legacy = Math.round(d.volume_observe_l * (1 - 0.00065 * (d.temperature_c - 15)) * 100000) / 100000;
  d.mlpp = {
    reception_id: 'ca845d35-3b25-7669-71b6-19a42fc2a23b',
    citerne: 'TANK1',
    volume_ambiant: d.volume_observe_l,
    temperature_ambiante_c: d.temperature_c,
    densite_a_15: d.densite_observee_kgm3,
    stored_15c_l: legacy,
    stored_column: 'volume_corrige_15c',
  };
  d.reception_id = d.mlpp.reception_id;
  d.mlpp_volume_15c_l = legacy;
  d.mlpp_restated_15c_l = Math.round((d.engine_volume_15c_l - legacy) * 1e6) / 1e6;
  d.mlpp_effective_15c_l = d.engine_volume_15c_l;
  d.mlpp_deviation_l = Math.round((d.engine_volume_15c_l - d.sep_volume_15c_l) * 1000) / 1000;
  d.mlpp_verdict = 'PASS';
  d.diagnosis = diagnose({
    case: set.cases[1]!.case,
    profile: ML_PP_PROFILE,
    toleranceL: 5,
    engineVolume15L: d.engine_volume_15c_l,
    engineDensity15: d.engine_density15_kgm3,
    mlpp: d.mlpp,
    mlppRestatedL: d.mlpp_restated_15c_l,
  });
  return { ...r, passed: false, counts: { ...r.counts, passed: 2, failed: 2, mlpp_compared: 2 }, drift };
}

describe('golden renderers', () => {
  it('renders text', async () => golden('golden.txt', renderGoldenText(await report())));
  it('renders the markdown job summary with a mermaid chart', async () => {
    const md = renderGoldenMarkdown(await report());
    golden('golden.md', md);
    expect(md).toContain('```mermaid\nxychart-beta');
    // one table per case
    expect(md.match(/^\| \| engine \| SEP \| ML_PP \|$/gm)).toHaveLength(4);
  });
  it('renders drift alone', () => golden('golden-drift.txt', renderDriftText(drift)));
  it('JSON has the documented shape', async () => {
    const j = JSON.parse(jsonText(await report()));
    expect(Object.keys(j).slice(0, 2)).toEqual(['passed', 'profile']);
    expect(j.passed).toBe(false);
    expect(j.profile).toBe('1980/table/hydrometer');
    for (const c of j.cases) {
      for (const k of ['reference', 'verdict', 'engine_volume_15c_l', 'sep_volume_15c_l', 'mlpp_volume_15c_l', 'deviation_l'])
        expect(c).toHaveProperty(k);
      expect(c.diagnosis).toHaveProperty('explanation');
      expect(c.diagnosis).toHaveProperty('implied_temperature_c');
      expect(['PASS', 'FAIL']).toContain(c.verdict);
    }
    expect(j.cases[2].diagnosis.implied_temperature_c).toBeTypeOf('number');
    expect(j.drift.total.drift_l).toBe(180.704);
  });
});
