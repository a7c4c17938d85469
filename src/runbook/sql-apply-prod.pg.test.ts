import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { tableChecksum } from '../db/checksum.js';
import { readFingerprint } from '../db/fingerprint.js';
import { PgDb } from '../db/pg.js';
import { createScratchDatabase, type ScratchDatabase } from '../db/scratch.js';
import { memoryLogger, silentLogger } from '../logger.js';
import { sqlPath, CHANGE_FILES } from '../paths.js';
import { realRefFile } from '../testing/change-files.js';
import { TEST_DATABASE_URL, describePg } from '../testing/pg.js';
import { loadChangeFile } from './change-file.js';
import { setEnvironment } from './environment.js';
import { loadSchemaDump } from './schema-dump.js';
import { applyChangeFile, parseExpectedFunctions } from './sql-apply.js';
import { stagingReset } from './staging-reset.js';
import { STEP_TIMEOUT_DEFAULTS } from './timeouts.js';

/**
 * Runbook 4.3 and 3.5 on the real PROD schema of ML_PP (snapshot 2026-02-11), with our
 * change files (the P0's reproduction and our P0.1) and with ML_PP's own ones.
 */
const DUMP = process.env.ML_PP_SCHEMA_DUMP;
const REAL_P0 = realRefFile('docs/DB_CHANGES/2026-02-25_staging_validate_sortie_p0.sql');
const REAL_RESET = realRefFile('docs/DB_CHANGES/2026-02-25_staging_reset_cdr_only.sql');
if (!DUMP && process.env.CI) throw new Error('ML_PP_SCHEMA_DUMP is not set: in CI the apply on the real PROD snapshot must run');
const describeSnapshot = DUMP ? describePg : describePg.skip;
const run = { runId: 'prod-snapshot-run', actor: 'tester' };

describeSnapshot('astm53b apply and staging-reset on the real PROD snapshot', () => {
  let prod: { scratch: ScratchDatabase; db: PgDb };
  beforeAll(async () => {
    const scratch = await createScratchDatabase(TEST_DATABASE_URL!, 'apply_prod_snapshot');
    prod = { scratch, db: new PgDb(scratch.url) };
    await loadSchemaDump(prod.db, DUMP!, path.basename(DUMP!), silentLogger);
  });
  afterAll(async () => {
    await prod?.db.close().catch(() => {});
    await prod?.scratch.drop();
  });
  const apply = async (file: string) =>
    applyChangeFile(
      prod.db,
      {
        file: await loadChangeFile(file),
        expectFunctions: parseExpectedFunctions(undefined),
        dryRun: false,
        ...STEP_TIMEOUT_DEFAULTS,
        run,
      },
      memoryLogger(),
    );

  it('our P0 file passes the 4.3 checks: exactly the two functions replaced, SECURITY DEFINER, search_path=public; twice is a no-op', async () => {
    const r = await apply(sqlPath(CHANGE_FILES.p0));
    expect(r.status).toBe('applied');
    expect(r.violations).toEqual([]);
    expect(r.diff.map((d) => `${d.change} ${d.kind} ${d.name}`)).toEqual([
      'changed function public.sorties_produit_block_update_delete()',
      'changed function public.validate_sortie(p_id uuid)',
    ]);
    expect(r.functions.map((f) => [f.signature, f.replaced, f.securityDefiner, f.searchPath])).toEqual([
      ['public.validate_sortie(p_id uuid)', true, true, 'public'],
      ['public.sorties_produit_block_update_delete()', true, true, 'public'],
    ]);
    const again = await apply(sqlPath(CHANGE_FILES.p0));
    expect(again.status).toBe('already-applied');
    expect(again.fingerprintBefore.sha256).toBe(r.fingerprintAfter.sha256);
  });

  it("ML_PP's own P0 file (no BEGIN/COMMIT of its own) passes the same checks; twice is a no-op", async () => {
    const before = await readFingerprint(prod.db);
    const r = await apply(REAL_P0!);
    expect(r.status).toBe('applied');
    expect(r.file.droppedTransactionControl).toEqual([]);
    expect(r.fingerprintBefore.sha256).toBe(before.sha256);
    expect(r.diff.map((d) => d.name)).toEqual(['public.sorties_produit_block_update_delete()', 'public.validate_sortie(p_id uuid)']);
    expect((await apply(REAL_P0!)).status).toBe('already-applied');
    expect((await readFingerprint(prod.db)).sha256).toBe(r.fingerprintAfter.sha256);
  });

  it("our P0.1 over ML_PP's P0 (STAGING's state since 2026-02-25): both functions replaced again, nothing else, no row changed", async () => {
    const r = await apply(sqlPath(CHANGE_FILES.p0_1));
    expect(r.status).toBe('applied');
    expect(r.violations).toEqual([]);
    expect(r.diff.map((d) => d.name)).toEqual(['public.sorties_produit_block_update_delete()', 'public.validate_sortie(p_id uuid)']);
    expect(r.dataChanges).toEqual([]);
  });

  it("ML_PP's own reset file on a staging-marked copy: invariant holds, cours_de_route untouched", async () => {
    const { db } = prod;
    await db.query(
      `INSERT INTO public.cours_de_route (plaque_camion, date_chargement, statut, volume) VALUES ('AAA 0001', '2026-02-20', 'ARRIVE', 36000), ('AAA 0002', '2026-02-21', 'DECHARGE', 38000)`,
    );
    const cdr = await tableChecksum(db, 'public', 'cours_de_route');
    await setEnvironment(db, { env: 'staging', run }, silentLogger);
    const r = await stagingReset(db, { file: await loadChangeFile(REAL_RESET!), run, ...STEP_TIMEOUT_DEFAULTS }, memoryLogger());
    expect(r.ok).toBe(true);
    expect(r.after).toMatchObject({ receptions: 0, sorties_produit: 0, stocks_journaliers: 0, log_actions_scoped: 0, cours_de_route: 2 });
    expect(r.cdrAfter).toEqual(cdr);
    expect(r.leftovers.cdrDecharge.map((c) => c.plaque_camion)).toEqual(['AAA 0002']);
    expect(await tableChecksum(db, 'public', 'cours_de_route')).toEqual(cdr);
  });
});

describeSnapshot('our P0.1 change file on the real PROD snapshot (legacy functions, as PROD before the runbook)', () => {
  let prod: { scratch: ScratchDatabase; db: PgDb };
  beforeAll(async () => {
    const scratch = await createScratchDatabase(TEST_DATABASE_URL!, 'apply_prod_p0_1');
    prod = { scratch, db: new PgDb(scratch.url) };
    await loadSchemaDump(prod.db, DUMP!, path.basename(DUMP!), silentLogger);
  });
  afterAll(async () => {
    await prod?.db.close().catch(() => {});
    await prod?.scratch.drop();
  });

  it('passes the 4.3 checks: exactly the two functions replaced, SECURITY DEFINER, search_path=public, no row changed; twice is a no-op', async () => {
    const apply = async () =>
      applyChangeFile(
        prod.db,
        {
          file: await loadChangeFile(sqlPath(CHANGE_FILES.p0_1)),
          expectFunctions: parseExpectedFunctions(undefined),
          dryRun: false,
          ...STEP_TIMEOUT_DEFAULTS,
          run,
        },
        memoryLogger(),
      );
    const r = await apply();
    expect(r.status).toBe('applied');
    expect(r.violations).toEqual([]);
    expect(r.diff.map((d) => `${d.change} ${d.kind} ${d.name}`)).toEqual([
      'changed function public.sorties_produit_block_update_delete()',
      'changed function public.validate_sortie(p_id uuid)',
    ]);
    expect(r.functions.map((f) => [f.signature, f.replaced, f.securityDefiner, f.searchPath])).toEqual([
      ['public.validate_sortie(p_id uuid)', true, true, 'public'],
      ['public.sorties_produit_block_update_delete()', true, true, 'public'],
    ]);
    expect(r.dataChanges).toEqual([]);
    const again = await apply();
    expect(again.status).toBe('already-applied');
    expect(again.fingerprintBefore.sha256).toBe(r.fingerprintAfter.sha256);
  });
});
