/**
 * Decimal rounding on binary doubles. The standards round decimal quantities ("to 4 decimals",
 * "to the nearest 0.05 °C"), so a value such as 28.375 must be treated as the exact half it is
 * written as, although the double closest to 28.375 / 0.05 is 567.4999999999999. `denoise`
 * drops the last digit of binary noise before the integer decision; a genuine value that close
 * to a half (within 1e-15 relative) does not occur in these computations.
 */
function denoise(x: number): number {
  return Number(x.toPrecision(15));
}

function pow10(decimals: number): number {
  return 10 ** decimals;
}

/** Round half away from zero, as the 1980 procedure and its printed tables do. */
export function roundHalfUp(x: number, decimals: number): number {
  const f = pow10(decimals);
  const s = denoise(x * f);
  // an integer divided by a power of ten is the double nearest the decimal result
  return (Math.sign(s) * Math.round(Math.abs(s))) / f;
}

/** Cut toward zero, as the GB/T 1885-derived 1980 implementation does for some intermediates. */
export function truncate(x: number, decimals: number): number {
  const f = pow10(decimals);
  return Math.trunc(denoise(x * f)) / f;
}

function decimalsOf(increment: number): number {
  const s = String(increment);
  const e = /e-(\d+)$/.exec(s);
  if (e) return Number(e[1]);
  const dot = s.indexOf('.');
  return dot < 0 ? 0 : s.length - dot - 1;
}

/**
 * Nearest multiple of `increment`, exact halves to the even multiple: API MPMS 11.1-2004
 * §11.1.5.4 ("Rounding of Values").
 */
export function roundToIncrementHalfEven(x: number, increment: number): number {
  const q = denoise(x / increment);
  const n = Math.floor(q);
  const frac = denoise(q - n);
  let k: number;
  if (frac > 0.5) k = n + 1;
  else if (frac < 0.5) k = n;
  else k = n % 2 === 0 ? n : n + 1;
  const d = decimalsOf(increment);
  return Math.round(k * increment * pow10(d)) / pow10(d);
}

/** Nearest multiple of `increment`, halves away from zero (1980 input rounding). */
export function roundToIncrementHalfUp(x: number, increment: number): number {
  const q = denoise(x / increment);
  const k = Math.sign(q) * Math.round(Math.abs(q));
  const d = decimalsOf(increment);
  return Math.round(k * increment * pow10(d)) / pow10(d);
}
