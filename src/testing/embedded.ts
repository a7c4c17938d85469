import { afterAll, beforeAll } from 'vitest';
import { PgliteDb } from '../db/pglite.js';
import { silentLogger } from '../logger.js';
import { initFixture } from '../runbook/db-init.js';

/** For `*.embedded.test.ts`: an in-memory PGlite with the demo fixture, for the whole file (the embedded twin of useFreshDatabase). */
export function useEmbeddedFixture(): () => PgliteDb {
  let db: PgliteDb | undefined;
  beforeAll(async () => {
    db = await PgliteDb.open(undefined);
    await initFixture(db, { scale: 1, seed: 1 }, silentLogger);
  });
  afterAll(async () => {
    await db?.close();
  });
  return () => {
    if (!db) throw new Error('the embedded fixture is not ready (beforeAll failed?)');
    return db;
  };
}
