import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PgDb } from '../db/pg.js';
import { readFingerprint } from '../db/fingerprint.js';
import { createScratchDatabase, type ScratchDatabase } from '../db/scratch.js';
import { silentLogger } from '../logger.js';
import { CHANGE_FILES, sqlPath } from '../paths.js';
import { PROD_SNAPSHOT } from '../testing/prod-snapshot.js';
import { describePg, TEST_DATABASE_URL } from '../testing/pg.js';
import { backup } from './backup/index.js';
import { loadChangeFile } from './change-file.js';
import { applicationTables, FREEZE_SQLSTATE, freezeOn, freezeStatus } from './freeze.js';
import { rollback } from './rollback.js';
import { loadSchemaDump } from './schema-dump.js';
import { applyChangeFile, parseExpectedFunctions } from './sql-apply.js';
import { STEP_TIMEOUT_DEFAULTS } from './timeouts.js';

/**
 * The seams of the PROD workflow on ML_PP's real PROD schema (snapshot 2026-02-11, empty tables):
 * frozen on every one of its tables, a backup taken while frozen verifies, the change applied,
 * the rollback keeps the freeze and marks the change undone, the change applies again.
 */
const describeSnapshot = PROD_SNAPSHOT ? describePg : describePg.skip;
const run = { runId: 'seams-prod', actor: 'ops-lead' };

describeSnapshot('the PROD workflow order on the real PROD schema snapshot', () => {
  let scratch: ScratchDatabase;
  let db: PgDb;
  let work = '';
  beforeAll(async () => {
    scratch = await createScratchDatabase(TEST_DATABASE_URL!, 'seams_prod');
    db = new PgDb(scratch.url);
    await loadSchemaDump(db, PROD_SNAPSHOT!, path.basename(PROD_SNAPSHOT!), silentLogger);
    work = await mkdtemp(path.join(tmpdir(), 'astm53b-seams-prod-'));
  });
  afterAll(async () => {
    await db?.close().catch(() => {});
    await scratch?.drop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('freeze (every table, the app refused) → backup verified → apply → rollback (still frozen, change undone) → apply again', async () => {
    await freezeOn(db, { reason: 'seams on the PROD schema', force: true, run }, silentLogger);
    const tables = await applicationTables(db);
    expect(tables.length).toBe(16);
    expect((await freezeStatus(db)).guardedTables).toHaveLength(16);
    for (const t of tables) {
      const refused = await db
        .withTransaction(async (tx) => {
          await tx.query('SET LOCAL ROLE service_role');
          await tx.query("SELECT set_config('astm53b.freeze_bypass', 'on', true)");
          await tx.query(`DELETE FROM ${t} WHERE false`);
        })
        .then(
          () => 'passed',
          (e: { code?: string }) => e.code,
        );
      expect([t, refused]).toEqual([t, FREEZE_SQLSTATE]);
    }

    const b = await backup(db, { outDir: path.join(work, 'b') }, silentLogger);
    expect(b.verification.failures).toEqual([]);
    const legacy = (await readFingerprint(db)).sha256;
    const p0 = await loadChangeFile(sqlPath(CHANGE_FILES.p0), `sql/${CHANGE_FILES.p0}`);
    const apply = () =>
      applyChangeFile(
        db,
        { file: p0, expectFunctions: parseExpectedFunctions(undefined), dryRun: false, ...STEP_TIMEOUT_DEFAULTS, run },
        silentLogger,
      );
    expect((await apply()).status).toBe('applied');

    const r = await rollback(db, { backupDir: b.dir, run }, silentLogger);
    expect(r.failures).toEqual([]);
    expect(r.freeze).toMatchObject({ frozenBefore: true, frozenAfter: true, guardedTables: 16 });
    expect(r.undone.map((u) => u.fileName)).toEqual([path.basename(CHANGE_FILES.p0)]);
    expect((await readFingerprint(db)).sha256).toBe(legacy);
    expect((await freezeStatus(db)).consistent).toBe(true);

    expect((await apply()).status).toBe('applied');
  });
});
