import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgliteDb } from '../db/pglite.js';
import { silentLogger } from '../logger.js';
import { PROD_SNAPSHOT } from '../testing/prod-snapshot.js';
import { checkCompat } from './compat.js';
import { loadSchemaDump, type DumpLoadResult } from './schema-dump.js';

/** The real PROD schema on the embedded engine (PostgreSQL 18): the local rehearsal can use it too. */
(PROD_SNAPSHOT ? describe : describe.skip)('the real PROD schema snapshot on embedded PGlite', () => {
  let db: PgliteDb;
  let load: DumpLoadResult;
  beforeAll(async () => {
    db = await PgliteDb.open(undefined);
    load = await loadSchemaDump(db, PROD_SNAPSHOT!, path.basename(PROD_SNAPSHOT!), silentLogger);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('loads with only CREATE SCHEMA public skipped (PostgreSQL 18 knows transaction_timeout)', () => {
    expect(load.dropped.map((d) => d.sql)).toEqual(['CREATE SCHEMA public']);
    expect(load.shimApplied).toBe(true);
  });

  it('is compatible: nothing required missing or different', async () => {
    const r = await checkCompat(db, silentLogger);
    expect(r.items.filter((i) => i.status !== 'ok' && !i.optional)).toEqual([]);
    expect(r.compatible).toBe(true);
  });
});
