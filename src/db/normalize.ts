/**
 * Type normalisation shared by both drivers: they disagree by default (pg returns int8 as a
 * string and dates as local-midnight Date objects; PGlite returns int8 as a number and dates
 * as UTC Date objects).
 */
export const OID = { int8: 20, numeric: 1700, date: 1082 } as const;

export function parseInt8(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) {
    // a count past 2^53 would be silently wrong as a number; fail loudly instead
    throw new RangeError(`int8 value ${value} is beyond Number.MAX_SAFE_INTEGER`);
  }
  return n;
}

export const identity = (value: string): string => value;
