import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgliteDb } from '../db/pglite.js';
import { silentLogger } from '../logger.js';
import { fixtureContract } from '../testing/fixture-contract.js';
import { checkCompat } from './compat.js';
import { initFixture } from './db-init.js';

describe('ML_PP stock module fixture on embedded PGlite', () => {
  let db: PgliteDb;
  beforeAll(async () => {
    db = await PgliteDb.open(undefined);
    await initFixture(db, { scale: 1, seed: 1 }, silentLogger);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('is compatible: compat finds nothing missing', async () => {
    const r = await checkCompat(db, silentLogger);
    expect(r.items.filter((i) => i.status !== 'ok' && !i.optional)).toEqual([]);
    expect(r.compatible).toBe(true);
    expect(r.server.engine).toBe('pglite');
  });

  fixtureContract(() => db);
});
