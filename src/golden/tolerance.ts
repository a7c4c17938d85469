import { parseDecimal } from '../csv.js';
import { UserError } from '../errors.js';

/** Runbook 5.6: "écart toléré maximum ±5 litres". */
export const DEFAULT_TOLERANCE_L = 5;

/**
 * A tolerance in litres as the CLI and the actions take it (`--tolerance-l`, input
 * `tolerance-l`): a decimal number ≥ 0 with a dot; absent means the runbook's 5 L. Wider than the
 * runbook's is allowed (a depot may decide so) but never negative.
 */
export function parseToleranceL(v: string | undefined, field = 'tolerance-l'): number {
  if (v === undefined || v.trim() === '') return DEFAULT_TOLERANCE_L;
  const n = parseDecimal(v, false);
  if (n === undefined || n < 0) {
    throw new UserError('BAD_OPTION', `--${field} must be a number of litres ≥ 0 (dot decimal), got "${v.slice(0, 30)}"`, {
      where: { field },
    });
  }
  return n;
}
