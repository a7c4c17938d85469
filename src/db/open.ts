import type { Target } from './target.js';
import type { Db } from './types.js';
import { PgDb } from './pg.js';
import { PgliteDb } from './pglite.js';

export async function openDb(target: Target): Promise<Db> {
  if (target.kind === 'pg') {
    const db = new PgDb(target.url, target.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: target.connectTimeoutMs });
    try {
      await db.server(); // fail here, with the one-line connect error, not deep inside a step
    } catch (e) {
      await db.close().catch(() => {});
      throw e;
    }
    return db;
  }
  return PgliteDb.open(target.dataDir, target.label);
}

/** Opens, runs, and always closes: the shape every command and step uses. */
export async function withDb<T>(target: Target, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = await openDb(target);
  try {
    return await fn(db);
  } finally {
    await db.close().catch(() => {});
  }
}
