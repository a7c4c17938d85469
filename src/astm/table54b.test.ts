import { describe, expect, it } from 'vitest';
import { AstmError, AstmRangeError, AstmUnitError, table54b, type Edition, type RoundingProfile } from './index.js';

const EDITIONS: Edition[] = ['1980', '2004'];
const PROFILES: RoundingProfile[] = ['table', 'computed', 'full'];

function thrown(fn: () => unknown): AstmError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(AstmError);
    return e as AstmError;
  }
  throw new Error('expected an AstmError, nothing was thrown');
}

describe('Table 54B: shape of the function', () => {
  it('gives exactly 1 at 15 °C in every group, edition and profile', () => {
    for (const edition of EDITIONS)
      for (const rounding of PROFILES)
        for (const density15 of [700, 780, 800, 845, 1000]) {
          const r = table54b({ density15, temperatureC: 15, edition, rounding });
          // 2004 divides CTL(T) by CTL(15 °C): equal to 1 to the last bit or two
          expect(Math.abs(r.vcf - 1), `${edition}/${rounding}/${density15}`).toBeLessThan(1e-12);
        }
  });

  it('falls as the temperature rises, more steeply for lighter products', () => {
    for (const edition of EDITIONS) {
      let prev = Infinity;
      for (let t = -10; t <= 55; t += 0.5) {
        const v = table54b({ density15: 840, temperatureC: t, edition, rounding: 'full' }).vcf;
        expect(v).toBeLessThan(prev);
        prev = v;
      }
      const light = table54b({ density15: 700, temperatureC: 40, edition, rounding: 'full' }).vcf;
      const heavy = table54b({ density15: 950, temperatureC: 40, edition, rounding: 'full' }).vcf;
      expect(light).toBeLessThan(heavy);
    }
  });
});

describe('Table 54B 1980: constants and groups', () => {
  it('puts the printed-grid densities in the printed groups (REFERENCE.md §2.1)', () => {
    const group = (d: number) => table54b({ density15: d, temperatureC: 30, edition: '1980' }).productGroup;
    expect(group(770.0)).toBe('gasoline');
    expect(group(770.5)).toBe('transition_zone');
    expect(group(787.5)).toBe('transition_zone');
    expect(group(788.0)).toBe('jet_fuel');
    expect(group(838.5)).toBe('jet_fuel');
    expect(group(839.0)).toBe('fuel_oil');
    // off the grid the cut is a choice: fuel oil above 838.5, which best reproduces the printed
    // 53B, whose iteration lands between grid points (REFERENCE.md §4.3, variant C)
    expect(group(838.51)).toBe('fuel_oil');
    expect(group(787.51)).toBe('jet_fuel');
    expect(group(770.49)).toBe('gasoline');
  });

  it('uses the official transition zone, not the circulating variant (13 L on 40 000 L at 785 kg/m³)', () => {
    // REFERENCE.md §2.1: official 0.98514, variant 0.98547
    const v = table54b({ density15: 785, temperatureC: 30, rounding: 'full' }).vcf;
    expect(Math.round(v * 1e5) / 1e5).toBe(0.98514);
    // maritime toolkit test file, an independent implementation: 777.5 kg/m³ at 9 °C → 1.006412
    const w = table54b({ density15: 777.5, temperatureC: 9, rounding: 'full' }).vcf;
    expect(Math.abs(w - 1.006412)).toBeLessThanOrEqual(5e-7);
  });

  it('is Table 54B, not the crude-oil 54A (16 L apart on 40 000 L at 840 kg/m³, 30 °C)', () => {
    // REFERENCE.md §6: 54B 0.98730, 54A 0.98690
    const v = table54b({ density15: 840, temperatureC: 30, rounding: 'full' }).vcf;
    expect(Math.abs(v - 0.9873)).toBeLessThan(5e-6);
  });
});

describe('Table 54B 2004', () => {
  it('chooses the group on ρ60, not ρ15 (REFERENCE.md §3.1)', () => {
    const r = table54b({ density15: 838.5, temperatureC: 30, edition: '2004', rounding: 'full' });
    expect(r.productGroup).toBe('jet_fuel');
    expect(r.density60).toBeLessThan(838.3127);
    expect(table54b({ density15: 838.9, temperatureC: 30, edition: '2004', rounding: 'full' }).productGroup).toBe('fuel_oil');
  });

  it('stays within 1.64e-5 of 1980 over the gasoil domain (REFERENCE.md §5)', () => {
    let worst = 0;
    for (let d = 820; d <= 860; d += 0.5)
      for (let t = 10; t <= 45; t += 0.5) {
        const a = table54b({ density15: d, temperatureC: t, edition: '1980', rounding: 'full' }).vcf;
        const b = table54b({ density15: d, temperatureC: t, edition: '2004', rounding: 'full' }).vcf;
        worst = Math.max(worst, Math.abs(a - b));
      }
    expect(worst).toBeLessThanOrEqual(1.65e-5);
    expect(worst).toBeGreaterThan(1e-5); // the jet/fuel-oil boundary case is in the grid
    // and the tabulated differences: 840/30 −1.4e-6, 800/45 −1.42e-5
    const diff = (d: number, t: number) =>
      table54b({ density15: d, temperatureC: t, edition: '2004', rounding: 'full' }).vcf -
      table54b({ density15: d, temperatureC: t, edition: '1980', rounding: 'full' }).vcf;
    expect(diff(840, 30)).toBeCloseTo(-1.4e-6, 7);
    expect(diff(800, 45)).toBeCloseTo(-1.42e-5, 7);
  });
});

describe('Table 54B rounding profiles', () => {
  const decimals = (x: number) => (String(x).split('.')[1] ?? '').length;

  it('table: VCF to 4 decimals in both editions', () => {
    for (const edition of EDITIONS)
      for (let t = 5; t <= 45; t += 1.25)
        expect(decimals(table54b({ density15: 833.3, temperatureC: t, edition }).vcf)).toBeLessThanOrEqual(4);
  });

  it('computed 1980: 4 decimals at or above 1, 5 below', () => {
    const cold = table54b({ density15: 820, temperatureC: 10, rounding: 'computed' });
    const warm = table54b({ density15: 820, temperatureC: 30, rounding: 'computed' });
    expect(cold.vcf).toBe(Math.round(cold.vcfUnrounded * 1e4) / 1e4);
    expect(warm.vcf).toBe(Math.round(warm.vcfUnrounded * 1e5) / 1e5);
    expect(decimals(warm.vcf)).toBe(5);
  });

  it('computed: inputs on their increments, halves up in 1980 and to even in 2004', () => {
    expect(table54b({ density15: 840.04, temperatureC: 28.375, rounding: 'computed' })).toMatchObject({
      density15: 840,
      temperatureC: 28.4,
    });
    expect(table54b({ density15: 840.05, temperatureC: 28.325, rounding: 'computed' })).toMatchObject({
      density15: 840.1,
      temperatureC: 28.35,
    });
    expect(table54b({ density15: 840.05, temperatureC: 28.325, edition: '2004', rounding: 'computed' })).toMatchObject({
      density15: 840,
      temperatureC: 28.3,
    });
    expect(table54b({ density15: 840.15, temperatureC: 28.375, edition: '2004', rounding: 'computed' })).toMatchObject({
      density15: 840.2,
      temperatureC: 28.4,
    });
  });

  it('computed 2004: CTL to 5 decimals', () => {
    const r = table54b({ density15: 840, temperatureC: 30, edition: '2004', rounding: 'computed' });
    expect(r.vcf).toBe(Math.round(r.vcfUnrounded * 1e5) / 1e5);
  });

  it('full: nothing rounded', () => {
    for (const edition of EDITIONS) {
      const r = table54b({ density15: 840.123, temperatureC: 28.377, edition, rounding: 'full', volumeL: 39291.7 });
      expect(r.vcf).toBe(r.vcfUnrounded);
      expect(r.temperatureC).toBe(28.377);
      expect(r.volume15L).toBe(39291.7 * r.vcf);
    }
  });

  it('table: the printed 54B needs α rounded to 7 decimals', () => {
    const r = table54b({ density15: 840, temperatureC: 30 });
    expect(r.alpha15).toBe(Math.round(r.alpha15! * 1e7) / 1e7);
    // full precision keeps α as computed: 186.9696/840² + 0.4862/840
    expect(table54b({ density15: 840, temperatureC: 30, rounding: 'full' }).alpha15).toBeCloseTo(186.9696 / 840 ** 2 + 0.4862 / 840, 15);
  });
});

describe('Table 54B volume at 15 °C', () => {
  it('is the ambient volume times the reported VCF, to 0.1 L', () => {
    const r = table54b({ density15: 840, temperatureC: 30, volumeL: 40000 });
    expect(r.vcf).toBe(0.9873);
    expect(r.volume15L).toBe(39492);
    const s = table54b({ density15: 843.4, temperatureC: 22.4, volumeL: 39291 });
    expect(s.volume15L).toBe(Math.round(39291 * s.vcf * 10) / 10);
  });

  it('2004: rounded CTL by default, unrounded with the 2019 addendum', () => {
    const base = { density15: 840, temperatureC: 30, edition: '2004' as const, rounding: 'computed' as const, volumeL: 40000 };
    const text2004 = table54b(base);
    const add2019 = table54b({ ...base, addendum2019: true });
    expect(text2004.vcf).toBe(add2019.vcf);
    expect(text2004.volume15L).toBe(Math.round(40000 * text2004.vcf * 10) / 10);
    expect(add2019.volume15L).toBe(Math.round(40000 * add2019.vcfUnrounded * 10) / 10);
    expect(add2019.volume15L).not.toBe(text2004.volume15L);
  });

  it('refuses the addendum with 1980 and a negative volume', () => {
    expect(thrown(() => table54b({ density15: 840, temperatureC: 30, addendum2019: true })).code).toBe('UNSUPPORTED_OPTION');
    expect(thrown(() => table54b({ density15: 840, temperatureC: 30, volumeL: -1 })).code).toBe('INVALID_VOLUME');
  });
});

describe('Table 54B refuses what it cannot compute', () => {
  function range(fn: () => unknown): AstmRangeError {
    const e = thrown(fn);
    expect(e).toBeInstanceOf(AstmRangeError);
    return e as AstmRangeError;
  }

  it('1980 density limits 653–1075 kg/m³', () => {
    expect(range(() => table54b({ density15: 652.9, temperatureC: 20 }))).toMatchObject({
      code: 'DENSITY_OUT_OF_RANGE',
      limit: 653,
      bound: 'min',
      value: 652.9,
    });
    expect(range(() => table54b({ density15: 1075.1, temperatureC: 20 }))).toMatchObject({
      code: 'DENSITY_OUT_OF_RANGE',
      limit: 1075,
      bound: 'max',
    });
    // the edges themselves are in the table
    expect(table54b({ density15: 653, temperatureC: 20 }).vcf).toBeGreaterThan(0.99);
    expect(table54b({ density15: 1075, temperatureC: 20 }).vcf).toBeGreaterThan(0.99);
  });

  it('1980 temperature limits per density band, with the limit in the message', () => {
    expect(range(() => table54b({ density15: 840, temperatureC: -18.1 }))).toMatchObject({
      code: 'TEMPERATURE_OUT_OF_RANGE',
      limit: -18,
      bound: 'min',
    });
    expect(range(() => table54b({ density15: 700, temperatureC: 60.1 }))).toMatchObject({ limit: 60, bound: 'max' });
    expect(range(() => table54b({ density15: 800, temperatureC: 90.1 }))).toMatchObject({ limit: 90 });
    const e = range(() => table54b({ density15: 840, temperatureC: 120.5 }));
    expect(e).toMatchObject({ limit: 120, value: 120.5 });
    expect(e.message).toContain('120 °C');
    expect(table54b({ density15: 700, temperatureC: 60 }).vcf).toBeLessThan(1);
  });

  it('2004 limits: −50…150 °C and ρ60 610.6–1163.5 kg/m³', () => {
    expect(range(() => table54b({ density15: 840, temperatureC: 150.5, edition: '2004' }))).toMatchObject({
      code: 'TEMPERATURE_OUT_OF_RANGE',
      limit: 150,
    });
    expect(range(() => table54b({ density15: 840, temperatureC: -50.5, edition: '2004' }))).toMatchObject({ limit: -50 });
    const low = range(() => table54b({ density15: 600, temperatureC: 20, edition: '2004' }));
    expect(low).toMatchObject({ code: 'DENSITY_OUT_OF_RANGE', quantity: 'density60', limit: 610.6, bound: 'min' });
    expect(low.value).toBeLessThan(610.6);
    expect(range(() => table54b({ density15: 1180, temperatureC: 20, edition: '2004' }))).toMatchObject({
      quantity: 'density60',
      limit: 1163.5,
      bound: 'max',
    });
    // 1980's gap below 653 is inside the 2004 table
    expect(table54b({ density15: 640, temperatureC: 20, edition: '2004' }).productGroup).toBe('gasoline');
  });

  it('refuses a density in kg/L or g/cm³ and suggests the kg/m³ value', () => {
    const e = thrown(() => table54b({ density15: 0.8375, temperatureC: 20 }));
    expect(e).toBeInstanceOf(AstmUnitError);
    expect(e).toMatchObject({ code: 'DENSITY_UNIT_SUSPECT', suggested: 837.5, field: 'density15' });
    expect(e.message).toContain('837.5 kg/m³');
    expect(thrown(() => table54b({ density15: 0.84, temperatureC: 20, edition: '2004' })).code).toBe('DENSITY_UNIT_SUSPECT');
  });

  it('refuses non-numbers and unknown editions or profiles', () => {
    expect(thrown(() => table54b({ density15: Number.NaN, temperatureC: 20 })).code).toBe('INVALID_NUMBER');
    expect(thrown(() => table54b({ density15: 840, temperatureC: Infinity })).code).toBe('INVALID_NUMBER');
    expect(thrown(() => table54b({ density15: 840, temperatureC: 20, edition: '1999' as Edition })).code).toBe('UNKNOWN_EDITION');
    expect(thrown(() => table54b({ density15: 840, temperatureC: 20, rounding: 'bankers' as RoundingProfile })).code).toBe(
      'UNKNOWN_ROUNDING',
    );
  });
});
