import { impersonate } from '../../db/as-user.js';
import type { AppIdentity, Db } from '../../db/types.js';
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
import { allowFrozenWrites } from '../freeze.js';
import { delta, fmtBalance, r3, sameBalance } from './figures.js';

const isSqlError = (e: unknown): e is { code: string; message: string } =>
  typeof e === 'object' &&
  e !== null &&
  typeof (e as { code?: unknown }).code === 'string' &&
  /^[0-9A-Z]{5}$/.test((e as { code: string }).code);

/** A SQL refusal becomes data; anything else (a lost connection, a bug) still throws. */
export async function attempt<T>(
  fn: () => Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: { code: string; message: string } }> {
  try {
    return { ok: true, value: await fn() };
  } catch (e) {
    if (isSqlError(e)) return { ok: false, error: { code: e.code, message: e.message } };
    throw e;
  }
}

class ProbeRollback extends Error {}

/**
 * A statement that must be refused, run in a transaction that is always rolled back: if the
 * database wrongly accepted it, nothing of it survives. `who` undefined: as the pipeline (RLS
 * bypassed, so the guard trigger itself is what refuses).
 */
export async function probeRefusal(
  db: Db,
  who: AppIdentity | undefined,
  sql: string,
  params: unknown[],
): Promise<{ code: string; message: string } | null> {
  try {
    await db.withTransaction(async (tx) => {
      await allowFrozenWrites(tx);
      if (who) await impersonate(tx, who);
      await tx.query(sql, params);
      throw new ProbeRollback();
    });
  } catch (e) {
    if (e instanceof ProbeRollback) return null;
    if (isSqlError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  return null;
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
