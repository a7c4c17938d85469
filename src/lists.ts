/**
 * `Math.max(...xs)` and `out.push(...xs)` pass every element as an argument: past about 120 000
 * of them the call stack overflows (a golden file of 130 000 rows did, in scoreProfile). Lists
 * whose length comes from a file or a database go through these loops instead.
 */
export function maxOf(xs: Iterable<number>, start = -Infinity): number {
  let m = start;
  for (const x of xs) m = Math.max(m, x);
  return m;
}

export function minOf(xs: Iterable<number>, start = Infinity): number {
  let m = start;
  for (const x of xs) m = Math.min(m, x);
  return m;
}

export function pushAll<T>(out: T[], items: Iterable<T>): T[] {
  for (const x of items) out.push(x);
  return out;
}

/** A list as a workflow input carries it: separated by commas, spaces or newlines, blanks dropped. */
export const splitList = (text: string): string[] => text.split(/[\s,]+/).filter(Boolean);
