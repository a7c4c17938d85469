import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { table53b, table54b, type Edition, type RoundingProfile } from './index.js';

/**
 * Every published reference value in golden/reference/vectors-public.json, within the tolerance
 * the vector states. The profile each vector is checked under follows from what the vector says
 * its value is (a printed-table cell, an implementation's unrounded output, an API worked
 * example), never from its id; a vector whose kind is not recognised fails instead of being
 * skipped.
 */
interface Vector {
  id: string;
  edition: Edition;
  table: '53B' | '54B';
  inputs: {
    density15_kgm3?: number;
    observed_density_kgm3?: number;
    temperature_c: number;
    pressure_kpa_gauge?: number;
    hydrometer_glass_correction?: boolean;
  };
  expected: { vcf?: number; vcf_rounded_5dp?: number; density15_kgm3?: number; density15_rounded_0_1?: number; rounding: string };
  tolerance: { abs: number; abs_if_rounded_to_5dp?: number; abs_for_full_precision_implementations?: number };
  source: { type: string; ref: string };
  verification: Record<string, number | boolean>;
}

const file = new URL('../../golden/reference/vectors-public.json', import.meta.url);
const vectors = (JSON.parse(readFileSync(file, 'utf8')) as { vectors: Vector[] }).vectors;

/** |actual − expected| ≤ tol, with the vector id and both values in the failure message. */
function within(id: string, what: string, actual: number | undefined, expected: number, tol: number): void {
  expect(actual, `${id}: ${what} is undefined`).toBeTypeOf('number');
  const diff = Math.abs(actual! - expected);
  // 1e-12 relative absorbs the last binary digit of a decimal value, nothing more
  expect(diff, `${id}: ${what} = ${actual}, expected ${expected} ± ${tol}`).toBeLessThanOrEqual(tol + 1e-12 * Math.abs(expected));
}

/** The profile under which a vector's value is the engine's output. */
function profileFor(v: Vector): RoundingProfile {
  if (v.expected.rounding.startsWith('table value')) return 'table';
  if (v.expected.rounding.startsWith('as published') || v.expected.rounding.startsWith('unrounded')) return 'full';
  throw new Error(`${v.id}: unknown kind of expected value "${v.expected.rounding}"; say how to check it`);
}

function run(v: Vector, rounding: RoundingProfile) {
  const i = v.inputs;
  if (v.table === '54B') {
    return table54b({ density15: i.density15_kgm3!, temperatureC: i.temperature_c, edition: v.edition, rounding });
  }
  return table53b({
    observedDensity: i.observed_density_kgm3!,
    temperatureC: i.temperature_c,
    hydrometer: i.hydrometer_glass_correction ?? false,
    pressureKpa: i.pressure_kpa_gauge ?? 0,
    edition: v.edition,
    rounding,
  });
}

describe('golden/reference/vectors-public.json', () => {
  it('holds the 63 published vectors, each with a source', () => {
    expect(vectors).toHaveLength(63);
    for (const v of vectors) {
      expect(v.source?.ref, `${v.id} has no source`).toBeTruthy();
      expect(v.source?.type, `${v.id} has no source type`).toBeTruthy();
    }
    expect(new Set(vectors.map((v) => v.id)).size).toBe(vectors.length);
  });

  for (const v of vectors) {
    it(`${v.id} (${v.edition} ${v.table}, ${v.source.type})`, () => {
      const rounding = profileFor(v);
      const r = run(v, rounding);
      if (v.table === '54B') within(v.id, 'vcf', r.vcf, v.expected.vcf!, v.tolerance.abs);
      else within(v.id, 'density15', r.density15, v.expected.density15_kgm3!, v.tolerance.abs);
    });
  }
});

describe('vectors under the other profiles', () => {
  // 2004 values are also given as the edition reports them (CTL 5 dp, ρ 0.1 kg/m³): the
  // `computed` profile must land on them when the example's inputs are already on the 2004
  // increments, and the `table` profile (no input rounding) must round ρ15 the same way
  for (const v of vectors.filter((x) => x.edition === '2004')) {
    it(`${v.id}: 2004 reported precision`, () => {
      if (v.table === '54B') {
        const r = table54b({
          density15: v.inputs.density15_kgm3!,
          temperatureC: v.inputs.temperature_c,
          edition: '2004',
          rounding: 'computed',
        });
        const onIncrements =
          Number.isInteger(Math.round(v.inputs.temperature_c * 1e6) / 5e4) &&
          Number.isInteger(Math.round(v.inputs.density15_kgm3! * 1e6) / 1e5);
        if (onIncrements) within(v.id, 'vcf (computed)', r.vcf, v.expected.vcf_rounded_5dp!, v.tolerance.abs_if_rounded_to_5dp!);
        const t = table54b({
          density15: v.inputs.density15_kgm3!,
          temperatureC: v.inputs.temperature_c,
          edition: '2004',
          rounding: 'full',
        });
        within(
          v.id,
          'vcf (full, rounded to 5 dp)',
          Math.round(t.vcf * 1e5) / 1e5,
          v.expected.vcf_rounded_5dp!,
          v.tolerance.abs_if_rounded_to_5dp!,
        );
      } else {
        const r = run(v, 'table');
        within(v.id, 'density15 (table)', r.density15, v.expected.density15_rounded_0_1!, 1e-9);
      }
    });
  }

  // the computed values REFERENCE.md lists beside each 1980 vector: not independent sources, but
  // they pin down the `computed` and `full` profiles and the 53B glass correction
  for (const v of vectors.filter((x) => x.edition === '1980' && x.table === '54B')) {
    it(`${v.id}: 1980 computed and full profiles`, () => {
      const args = { density15: v.inputs.density15_kgm3!, temperatureC: v.inputs.temperature_c, edition: '1980' as const };
      within(v.id, 'vcf (full)', table54b({ ...args, rounding: 'full' }).vcf, v.verification.computed_full_precision as number, 1e-9);
      within(
        v.id,
        'vcf (computed)',
        table54b({ ...args, rounding: 'computed' }).vcf,
        v.verification.computed_1980_computational_rounding as number,
        1e-12,
      );
      within(
        v.id,
        'vcf (table)',
        table54b({ ...args, rounding: 'table' }).vcf,
        v.verification.computed_1980_table_rounding as number,
        1e-12,
      );
    });
  }

  for (const v of vectors.filter((x) => x.edition === '1980' && x.table === '53B')) {
    it(`${v.id}: 1980 53B full precision, with and without the glass correction`, () => {
      const base = {
        observedDensity: v.inputs.observed_density_kgm3!,
        temperatureC: v.inputs.temperature_c,
        edition: '1980' as const,
        rounding: 'full' as const,
      };
      // the listed values have 4 decimals
      within(
        v.id,
        'density15 (full, hydrometer)',
        table53b({ ...base, hydrometer: true }).density15,
        v.verification.computed_full_precision as number,
        5e-5,
      );
      within(
        v.id,
        'density15 (full, digital)',
        table53b({ ...base, hydrometer: false }).density15,
        v.verification.computed_without_hydrometer_correction as number,
        5e-5,
      );
      // a full-precision implementation is allowed 0.1 kg/m³ against the printed cell
      within(
        v.id,
        'density15 (full, rounded to 0.1)',
        Math.round(table53b({ ...base, hydrometer: true }).density15 * 10) / 10,
        v.expected.density15_kgm3!,
        v.tolerance.abs_for_full_precision_implementations!,
      );
    });
  }
});
