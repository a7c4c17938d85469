import { isAstmError, table53b, table54b, type Edition } from '../astm/index.js';

/**
 * Inverse questions the diagnosis asks of the tables: which temperature (or density) would make
 * a given VCF or ρ15 come out. Each quantity is monotonic in the unknown (VCF falls as T rises;
 * ρ15 rises with the reading and with its temperature), so bisection at full precision finds the
 * one root (where the 1980 α curves jump between product groups, the jump), or says there is
 * none in the searched domain. Field temperatures of a fuel depot
 * never leave −18…90 °C, which every density of the 1980 table allows.
 */
const T_MIN = -18;
const T_MAX = 90;

function bisect(f: (x: number) => number | undefined, lo: number, hi: number, target: number): number | null {
  // a coarse scan first: part of the interval may be outside the table (f undefined there), and the
  // root is bracketed by the first pair of neighbouring points on either side of the target
  const STEPS = 64;
  let prev: { x: number; y: number } | undefined;
  for (let i = 0; i <= STEPS; i++) {
    const x = lo + ((hi - lo) * i) / STEPS;
    const y = f(x);
    if (y === undefined) {
      prev = undefined;
      continue;
    }
    if (prev && (prev.y - target) * (y - target) <= 0) return refine(f, prev, { x, y }, target);
    prev = { x, y };
  }
  return null;
}

function refine(
  f: (x: number) => number | undefined,
  p: { x: number; y: number },
  q: { x: number; y: number },
  target: number,
): number | null {
  let a = p;
  let b = q;
  for (let i = 0; i < 100 && Math.abs(b.x - a.x) > 1e-9; i++) {
    const x = (a.x + b.x) / 2;
    const y = f(x);
    if (y === undefined) return null;
    if ((a.y - target) * (y - target) <= 0) b = { x, y };
    else a = { x, y };
  }
  return (a.x + b.x) / 2;
}

function quiet(fn: () => number): number | undefined {
  try {
    return fn();
  } catch (e) {
    if (isAstmError(e)) return undefined;
    throw e;
  }
}

/** T at which Table 54B gives `vcf` for this ρ15. */
export function temperatureForVcf(density15: number, vcf: number, edition: Edition): number | null {
  return bisect((t) => quiet(() => table54b({ density15, temperatureC: t, edition, rounding: 'full' }).vcf), T_MIN, T_MAX, vcf);
}

/** ρ15 for which Table 54B gives `vcf` at this temperature (meaningless near 15 °C, where every VCF is 1). */
export function density15ForVcf(temperatureC: number, vcf: number, edition: Edition): number | null {
  if (Math.abs(temperatureC - 15) < 2) return null;
  return bisect((r) => quiet(() => table54b({ density15: r, temperatureC, edition, rounding: 'full' }).vcf), 660, 1070, vcf);
}

/** Temperature at which a reading of `observedDensity` gives `density15` by Table 53B. */
export function temperatureForDensity15(observedDensity: number, density15: number, hydrometer: boolean, edition: Edition): number | null {
  return bisect(
    (t) => quiet(() => table53b({ observedDensity, temperatureC: t, hydrometer, edition, rounding: 'full' }).density15),
    T_MIN,
    T_MAX,
    density15,
  );
}

/** Reading at `temperatureC` that gives `density15` by Table 53B. */
export function observedDensityForDensity15(temperatureC: number, density15: number, hydrometer: boolean, edition: Edition): number | null {
  return bisect(
    (r) => quiet(() => table53b({ observedDensity: r, temperatureC, hydrometer, edition, rounding: 'full' }).density15),
    600,
    1100,
    density15,
  );
}
