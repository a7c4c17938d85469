import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it, vi } from 'vitest';
import { loadGoldenFile } from '../golden/load.js';
import { silentLogger } from '../logger.js';
import { renderDeviationSvg } from '../report/evidence.js';
import { renderGoldenMarkdown, renderGoldenText } from '../report/golden.js';
import { verifyGolden } from './golden-verify.js';

/**
 * A golden file of 150 000 rows (130 000 overflowed the call stack in scoreProfile: a spread into
 * Math.max). The engine stays the real one, remembered per distinct input: the generated rows
 * repeat the demo's 8 receptions, and computing each of them again for every row and profile
 * would only make the test slow.
 */
vi.mock('../astm/index.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../astm/index.js')>();
  const remembered = <A, R>(fn: (a: A) => R) => {
    const seen = new Map<string, R>();
    return (a: A): R => {
      const key = Object.entries(a as object).join('|');
      let r = seen.get(key);
      if (r === undefined) seen.set(key, (r = fn(a)));
      return r;
    };
  };
  return { ...real, table53b: remembered(real.table53b), table54b: remembered(real.table54b) };
});

const dir = mkdtempSync(join(tmpdir(), 'astm53b-golden-scale-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ROWS = 150_000;
// the demo's 8 receptions (golden/demo-golden-cases.csv), without SEP's ρ15/VCF so each row costs one engine run at load
const MEASURES = [
  [37566, 28.6, 837.2, 37138],
  [33928, 28.4, 837.1, 33548],
  [33569, 20.8, 836.1, 33405],
  [37553, 27.2, 836.5, 37170],
  [33506, 19.5, 837.8, 33379],
  [35320, 21.3, 837.4, 35133],
  [39557, 20.3, 836.3, 39379],
  [33395, 24.6, 836.5, 33125],
];

it('verifies 150 000 generated rows and renders them, without overflowing the stack', { timeout: 120_000 }, async () => {
  const lines = [
    'reference,produit_code,date_mesure,volume_observe_l,temperature_c,densite_observee_kgm3,densite_a_15_kgm3_ref,vcf_ref,volume_15c_ref_l,source,note',
  ];
  for (let i = 0; i < ROWS; i++) {
    const [v, t, d, ref] = MEASURES[i % MEASURES.length]!;
    lines.push(`GEN-${i},GASOIL,2026-02-${String(1 + (i % 28)).padStart(2, '0')},${v},${t},${d},,,${ref},GENERATED,`);
  }
  const file = join(dir, 'big.csv');
  writeFileSync(file, `${lines.join('\n')}\n`);

  const set = await loadGoldenFile(file, 'big.csv');
  expect(set.cases).toHaveLength(ROWS);
  const r = await verifyGolden(set, {}, silentLogger);
  expect(r.counts.cases).toBe(ROWS);
  expect(r.profiles).toHaveLength(12);
  expect(r.profiles.every((p) => p.total === ROWS && p.max_abs_deviation_l !== null)).toBe(true);
  expect(r.max_deviation_l).toBe(Math.max(...r.profiles.filter((p) => p.profile === r.profile).map((p) => p.max_abs_deviation_l!)));

  expect(renderGoldenText(r).split('\n').length).toBeGreaterThan(ROWS);
  expect(renderGoldenMarkdown(r)).toContain('xychart-beta');
  const svg = renderDeviationSvg({
    file: 'big.csv',
    passed: r.passed,
    tolerance_l: r.tolerance_l,
    profile: r.profile,
    max_deviation_l: r.max_deviation_l,
    cases: r.cases.map((c) => ({
      reference: c.reference,
      sep_l: c.sep_volume_15c_l,
      engine_l: c.engine_volume_15c_l,
      mlpp_l: null,
      engine_deviation_l: c.deviation_l,
      mlpp_deviation_l: null,
      fault: null,
      explanation: null,
      verdict: c.verdict,
    })),
  });
  expect(svg).toMatch(/^<svg/);
});
