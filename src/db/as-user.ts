import type { AppIdentity, Db, Queryable, TxOptions } from './types.js';

/** The transaction-local settings `impersonate` gives a request; a request boundary must put them back. */
export const JWT_SETTINGS = ['request.jwt.claims', 'request.jwt.claim.sub', 'request.jwt.claim.role'] as const;

/**
 * Acting as the app does through PostgREST: the JWT claims as transaction-local settings,
 * then SET LOCAL ROLE, so that RLS, `auth.uid()` and `_current_role()` really apply. Without
 * the role switch the owner would bypass RLS and the check would prove nothing.
 */
export async function impersonate(tx: Queryable, who: AppIdentity): Promise<void> {
  if (who.role === 'anon') {
    await tx.query("SELECT set_config('request.jwt.claims', $1, true), set_config('request.jwt.claim.role', 'anon', true)", [
      JSON.stringify({ role: 'anon' }),
    ]);
    await tx.query('SET LOCAL ROLE anon');
    return;
  }
  const claims = JSON.stringify({ sub: who.userId, role: 'authenticated', ...(who.email ? { email: who.email } : {}) });
  await tx.query(
    "SELECT set_config('request.jwt.claim.sub', $1, true), set_config('request.jwt.claim.role', 'authenticated', true), set_config('request.jwt.claims', $2, true)",
    [who.userId, claims],
  );
  await tx.query('SET LOCAL ROLE authenticated');
}

/** One transaction as an app user; rolled back on any throw like every other transaction. */
export function withAppUser<T>(db: Db, who: AppIdentity, fn: (tx: Queryable) => Promise<T>, opts?: TxOptions): Promise<T> {
  return db.withTransaction(async (tx) => {
    await impersonate(tx, who);
    return fn(tx);
  }, opts);
}
