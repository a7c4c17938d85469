/**
 * The date patterns of the inputs (`\d{4}-\d{2}-\d{2}`) let 2026-02-31 or 2026-13-01 through, and
 * JavaScript's Date quietly rolls them over into March or the next year. A date a person typed
 * must name a real day, so every check of a YYYY-MM-DD also asks this.
 */
export function isRealDate(year: number, month: number, day: number): boolean {
  if (!Number.isInteger(year) || !Number.isInteger(month) || !Number.isInteger(day) || month < 1 || month > 12 || day < 1) return false;
  // day 0 of the next month is the last day of this one (leap years included)
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-](\d{2})(?::?(\d{2}))?)?)?$/;

/** `YYYY-MM-DD`, optionally with a time and offset as a timestamptz export writes it, naming a real day and time. */
export function isRealDateTime(text: string): boolean {
  const m = DATE_TIME.exec(text);
  if (!m) return false;
  const [, y, mo, d, h, mi, s, oh, om] = m;
  if (!isRealDate(Number(y), Number(mo), Number(d))) return false;
  const within = (v: string | undefined, max: number) => v === undefined || Number(v) <= max;
  return within(h, 23) && within(mi, 59) && within(s, 59) && within(oh, 23) && within(om, 59);
}

/** A plain YYYY-MM-DD naming a real day. */
export function isIsoDate(text: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(text) && isRealDateTime(text);
}
