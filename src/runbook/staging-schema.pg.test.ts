import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PgDb } from '../db/pg.js';
import { createScratchDatabase, type ScratchDatabase } from '../db/scratch.js';
import { memoryLogger, silentLogger } from '../logger.js';
import { PACKAGE_ROOT, sqlPath, CHANGE_FILES } from '../paths.js';
import { STAGING_SCHEMA } from '../testing/prod-snapshot.js';
import { TEST_DATABASE_URL, describePg } from '../testing/pg.js';
import { checkCompat } from './compat.js';
import { loadPreflightInputs, preflight } from './preflight.js';
import { loadSchemaDump } from './schema-dump.js';

/**
 * ML_PP's staging/sql/000_prod_schema_public.safe.sql, the schema STAGING and PROD were created
 * from, loaded as `astm53b db load-schema` does. Its stocks_snapshot has row level security off:
 * a security finding for the depot, not something the pipeline relies on, so compat and
 * preflight must accept the target and say so.
 */
const describeStaging = STAGING_SCHEMA && existsSync(STAGING_SCHEMA) ? describePg : describePg.skip;

describeStaging("ML_PP's staging schema (staging_sql_000_prod_schema_public.safe.sql)", () => {
  let staging: { scratch: ScratchDatabase; db: PgDb };

  beforeAll(async () => {
    const scratch = await createScratchDatabase(TEST_DATABASE_URL!, 'staging_schema');
    staging = { scratch, db: new PgDb(scratch.url) };
    await loadSchemaDump(staging.db, STAGING_SCHEMA!, path.basename(STAGING_SCHEMA!), silentLogger);
  });
  afterAll(async () => {
    await staging?.db.close().catch(() => {});
    await staging?.scratch.drop();
  });

  it('compat: compatible, with stocks_snapshot\u2019s RLS listed as a security finding', async () => {
    const r = await checkCompat(staging.db, silentLogger);
    expect(r.items.filter((i) => i.status !== 'ok' && !i.optional)).toEqual([]);
    expect(r.compatible).toBe(true);
    expect(r.security).toEqual([
      { kind: 'rls', name: 'public.stocks_snapshot', finding: expect.stringMatching(/^row level security is off/) },
    ]);
  });

  it('preflight passes (its compat part included) and carries the finding as a warning', async () => {
    const inputs = await loadPreflightInputs({
      golden: { path: path.join(PACKAGE_ROOT, 'golden/demo-golden-cases.csv'), display: 'golden/demo-golden-cases.csv' },
      changeFiles: [{ path: sqlPath(CHANGE_FILES.p0), display: `sql/${CHANGE_FILES.p0}` }],
    });
    const r = await preflight(staging.db, inputs, memoryLogger());
    expect(r.failures).toEqual([]);
    expect(r.passed).toBe(true);
    expect(r.compat.compatible).toBe(true);
    expect(r.warnings).toContainEqual(expect.stringMatching(/^security: public\.stocks_snapshot: row level security is off/));
  });
});
