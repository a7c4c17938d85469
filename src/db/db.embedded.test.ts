import { afterAll, beforeAll, describe } from 'vitest';
import { PgliteDb } from './pglite.js';
import { dbContract } from '../testing/db-contract.js';

describe('database layer on embedded PGlite', () => {
  let db: PgliteDb;
  beforeAll(async () => {
    db = await PgliteDb.open(undefined);
  });
  afterAll(async () => {
    await db?.close();
  });
  dbContract(() => db);
});
