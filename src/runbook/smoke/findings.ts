import { isConnectionLost } from '../../db/lost-connection.js';
import type { GoCondition } from '../../results/go-conditions.js';
import {
  OWNERS,
  type Balance,
  type Owner,
  type SmokeCheck,
  type SmokeCheckId,
  type SmokeFinding,
  type TankFigures,
} from '../../results/smoke.js';
import { delta, fmtBalance, r3, sameBalance } from './figures.js';

export type Refusal = { code: string; message: string };

/** The database refusing a statement (it has a SQLSTATE), as opposed to the session being gone or a bug. */
export function asRefusal(e: unknown): Refusal | undefined {
  if (typeof e !== 'object' || e === null || isConnectionLost(e)) return undefined;
  const { code, message } = e as { code?: unknown; message?: unknown };
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? { code, message: String(message) } : undefined;
}

/** A SQL refusal becomes data; anything else (a lost connection, a bug) still throws. */
export async function attempt<T>(fn: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: Refusal }> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    const error = asRefusal(e);
    if (error) return { ok: false, error };
    throw e;
  }
}

export function check(id: SmokeCheckId, title: string, runbook: string, findings: SmokeFinding[], ran = true, notRun = ''): SmokeCheck {
  const failed = findings.filter((f) => !f.passed);
  const passed = ran && failed.length === 0;
  const message = !ran ? `not run: ${notRun}` : passed ? `ok (${findings.length} finding(s))` : failed.map((f) => f.message).join('; ');
  return { id, title, runbook, ran, passed, message, findings };
}

export const finding = (
  code: string,
  passed: boolean,
  condition: GoCondition | null,
  message: string,
  figures?: SmokeFinding['figures'],
): SmokeFinding => ({
  code,
  passed,
  condition: passed ? null : condition,
  message,
  ...(figures ? { figures } : {}),
});

export const bal = (prefix: string, b: Balance) => ({ [`${prefix}_amb`]: r3(b.amb), [`${prefix}_15c`]: r3(b.v15) });

export type Seen = (step: string, e: { code: string; message: string }) => void;

export function otherOwners(before: TankFigures, after: TankFigures, own: Owner, what: string): SmokeFinding {
  const moved = OWNERS.filter((o) => o !== own).flatMap((o) => {
    const out: string[] = [];
    const dj = delta(after[o].journal, before[o].journal);
    const ds = delta(after[o].snapshot, before[o].snapshot);
    if (!sameBalance(dj, { amb: 0, v15: 0 })) out.push(`${o} journal moved by ${fmtBalance(dj)}`);
    if (!sameBalance(ds, { amb: 0, v15: 0 })) out.push(`${o} snapshot moved by ${fmtBalance(ds)}`);
    return out;
  });
  return finding(
    'OTHER_OWNERS_UNTOUCHED',
    moved.length === 0,
    'STOCK_INCOHERENCE',
    moved.length ? `${what} moved another owner's stock: ${moved.join('; ')}` : `${what} moved no other owner's row`,
  );
}
