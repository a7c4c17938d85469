import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PgDb } from '../../db/pg.js';
import { createScratchDatabase, type ScratchDatabase } from '../../db/scratch.js';
import { runSqlFile } from '../../db/sql-file.js';
import { silentLogger } from '../../logger.js';
import { sqlPath, CHANGE_FILES } from '../../paths.js';
import { TEST_DATABASE_URL, describePg } from '../../testing/pg.js';
import { backup, verifyBackup, type BackupResult } from './index.js';
import { compareWithManifest } from './compare.js';
import { readFunctionExport } from './source-reads.js';
import { rollback } from '../rollback.js';
import { loadSchemaDump } from '../schema-dump.js';

/**
 * The same backup, verify and rollback on the real PROD schema of ML_PP (snapshot 2026-02-11,
 * loaded as the compatibility test loads it: schema only, empty tables).
 */
const DUMP = process.env.ML_PP_SCHEMA_DUMP;
if (!DUMP && process.env.CI) throw new Error('ML_PP_SCHEMA_DUMP is not set: in CI the backup test against the real PROD snapshot must run');
const describeSnapshot = DUMP ? describePg : describePg.skip;

describeSnapshot('backup and rollback on the real PROD schema snapshot', () => {
  let prod: { scratch: ScratchDatabase; db: PgDb };
  let work: string;
  let b: BackupResult;

  beforeAll(async () => {
    const scratch = await createScratchDatabase(TEST_DATABASE_URL!, 'backup_prod');
    prod = { scratch, db: new PgDb(scratch.url) };
    await loadSchemaDump(prod.db, DUMP!, path.basename(DUMP!), silentLogger);
    work = await mkdtemp(path.join(tmpdir(), 'astm53b-backup-prod-'));
    b = await backup(prod.db, { outDir: path.join(work, 'b') }, silentLogger);
  });
  afterAll(async () => {
    await prod?.db.close().catch(() => {});
    await prod?.scratch.drop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('backs up and proves the restore: 16 tables, 38 functions, 19 triggers, 48 policies compared', () => {
    expect(b.verification.failures).toEqual([]);
    expect(b.ok).toBe(true);
    const kinds = (k: string) => b.manifest.fingerprint.entries.filter((e) => e.kind === k).length;
    expect(b.manifest.tables).toHaveLength(16);
    expect(kinds('function')).toBe(38);
    expect(kinds('trigger')).toBe(19);
    expect(kinds('policy')).toBe(48);
    expect(b.verification.comparison!.structure.match).toBe(true);
    expect(b.manifest.functions.map((f) => f.signatures)).toEqual([
      ['public.validate_sortie(p_id uuid)'],
      ['public.sorties_produit_block_update_delete()'],
    ]);
  });

  it('backup verify passes afresh', async () => {
    expect((await verifyBackup(b.dir, { serverUrl: TEST_DATABASE_URL! }, silentLogger)).ok).toBe(true);
  });

  it('after the P0 change, rollback brings back the legacy functions byte for byte and the whole catalog', async () => {
    await runSqlFile(prod.db, sqlPath(CHANGE_FILES.p0), { displayName: CHANGE_FILES.p0 });
    const moved = await compareWithManifest(prod.db, b.manifest);
    expect(moved.functions.map((f) => f.match)).toEqual([false, false]);
    const r = await rollback(prod.db, { backupDir: b.dir }, silentLogger);
    expect(r.failures).toEqual([]);
    expect(r.ok).toBe(true);
    for (const f of b.manifest.functions) {
      expect((await readFunctionExport(prod.db, f.name)).text).toBe(await readFile(path.join(b.dir, f.file), 'utf8'));
    }
  });
});
