import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { withAppUser } from '../db/as-user.js';
import { PIPELINE_PREFIX, readFingerprint } from '../db/fingerprint.js';
import { readTableKeys, tablesChecksums } from '../db/checksum.js';
import type { Db } from '../db/types.js';
import { memoryLogger, silentLogger } from '../logger.js';
import { CHANGE_FILES, sqlPath } from '../paths.js';
import { userWithRole } from '../testing/fixture-contract.js';
import { appReception } from '../testing/movements.js';
import { describePg, useFreshDatabase } from '../testing/pg.js';
import { backup } from './backup/index.js';
import { SNAPSHOT_TABLES, snapshotFileOf } from './backup/manifest.js';
import { digestTableCsv } from '../db/csv-export.js';
import { loadChangeFile } from './change-file.js';
import { allowFrozenWrites, FREEZE_SQLSTATE, freezeOff, freezeOn, freezeStatus } from './freeze.js';
import { rollback } from './rollback.js';
import { runSmoke } from './smoke/index.js';
import { ML_PP_PROFILE } from '../golden/profile.js';
import { applyChangeFile, parseExpectedFunctions } from './sql-apply.js';
import { STEP_TIMEOUT_DEFAULTS } from './timeouts.js';

/**
 * The seams between steps, in the PROD workflow's order on real PostgreSQL: freeze → backup →
 * sql-apply → smoke → rollback → sql-apply again → freeze off. After every step: is the freeze
 * what it must be (an app user's reception refused, or accepted once lifted), does the ledger
 * agree with the live catalog, and does every application table hold exactly what it must.
 */
const run = { runId: 'seams-1', actor: 'ops-lead' };

type Sums = Record<string, string>;

async function checksums(db: Db): Promise<Sums> {
  const keys = await readTableKeys(db, ['public', 'astm'], PIPELINE_PREFIX);
  return Object.fromEntries((await tablesChecksums(db, keys)).map((t) => [t.table, `${t.rows}:${t.checksum}`]));
}

/** What the ledger says of the P0 file, and whether the live catalog is its after-state. */
async function ledger(db: Db): Promise<{ state: string | null; liveIsAfterState: boolean | null }> {
  const has = (await db.query<{ ok: boolean }>("SELECT to_regclass('astm53b.apply_ledger') IS NOT NULL AS ok")).rows[0]!.ok;
  if (!has) return { state: null, liveIsAfterState: null };
  const row = (
    await db.query<{ state: string; after: string }>(
      'SELECT state, fingerprint_after AS after FROM astm53b.apply_ledger WHERE file_name = $1',
      [path.basename(CHANGE_FILES.p0)],
    )
  ).rows[0];
  if (!row) return { state: null, liveIsAfterState: null };
  return { state: row.state, liveIsAfterState: (await readFingerprint(db)).sha256 === row.after };
}

/** An app user's reception: refused by the freeze (A53F0), or accepted (rolled back here, never kept). */
async function appEntry(db: Db, gerant: string): Promise<'refused by the freeze' | 'accepted' | string> {
  class Undo extends Error {}
  try {
    await withAppUser(db, { role: 'authenticated', userId: gerant }, async (tx) => {
      await appReception(tx, '2026-02-27');
      throw new Undo();
    });
  } catch (e) {
    if (e instanceof Undo) return 'accepted';
    const code = (e as { code?: string }).code;
    return code === FREEZE_SQLSTATE ? 'refused by the freeze' : `refused: ${code} ${(e as Error).message}`;
  }
  return 'accepted';
}

describePg('the PROD workflow order on real PostgreSQL: the state after every step', () => {
  const fx = useFreshDatabase('seams', { fixture: true });
  let tmp = '';
  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('freeze → backup → apply → smoke → rollback → apply again → freeze off', async () => {
    const db = fx().db;
    tmp = await mkdtemp(path.join(tmpdir(), 'astm53b-seams-'));
    const gerant = await userWithRole(db, 'gerant');
    const p0 = await loadChangeFile(sqlPath(CHANGE_FILES.p0), `sql/${CHANGE_FILES.p0}`);
    const apply = () =>
      applyChangeFile(
        db,
        { file: p0, expectFunctions: parseExpectedFunctions(undefined), dryRun: false, ...STEP_TIMEOUT_DEFAULTS, run },
        silentLogger,
      );
    const original = await checksums(db);
    const legacy = (await readFingerprint(db)).sha256;
    expect(await appEntry(db, gerant)).toBe('accepted');

    // freeze (3.4, 4.1)
    await freezeOn(db, { reason: 'seams', force: true, run }, silentLogger);
    expect((await freezeStatus(db)).consistent).toBe(true);
    expect(await appEntry(db, gerant)).toBe('refused by the freeze');
    expect(await checksums(db)).toEqual(original);
    expect(await ledger(db)).toEqual({ state: null, liveIsAfterState: null });

    // verified backup (3.1, 4.2), taken while frozen: the pipeline's schema is there
    const b = await backup(db, { outDir: path.join(tmp, 'backup') }, silentLogger);
    expect(b.verification.failures).toEqual([]);
    expect(b.ok).toBe(true);
    expect(await appEntry(db, gerant)).toBe('refused by the freeze');
    expect(await checksums(db)).toEqual(original);
    // its CSV snapshots were written from the verified scratch copy, not read from the source a
    // second time: byte for byte what the same query gives on the (frozen, unchanged) source
    expect(b.manifest.dump.consistency).toMatch(
      /CSV snapshots: public.stocks_journaliers from the scratch restore of this dump, public.sorties_produit from the scratch restore of this dump, public.receptions from the scratch restore of this dump; those from the scratch restore are the source rows once verification.json shows/,
    );
    expect(b.verification.snapshots!.map((x) => x.match)).toEqual([true, true, true]);
    for (const qualified of SNAPSHOT_TABLES) {
      const [schema, table] = qualified.split('.') as [string, string];
      const key = (await readTableKeys(db, [schema])).find((k) => k.table === table)!.key;
      const file = b.manifest.files.find((f) => f.path === snapshotFileOf(qualified))!;
      expect({ qualified, ...(await digestTableCsv(db, schema, table, key)) }).toMatchObject({
        qualified,
        bytes: file.bytes,
        sha256: file.sha256,
      });
    }

    // the change (4.3): functions only
    const applied = await apply();
    expect(applied.status).toBe('applied');
    expect(await appEntry(db, gerant)).toBe('refused by the freeze');
    expect(await ledger(db)).toEqual({ state: 'applied', liveIsAfterState: true });
    expect(await checksums(db)).toEqual(original);
    const migrated = (await readFingerprint(db)).sha256;
    expect(migrated).not.toBe(legacy);

    // the smoke (4.5, 5.1–5.5) writes through the real RPC and leaves nothing behind
    const smoke = await runSmoke(db, { profile: ML_PP_PROFILE, profileSource: 'test', toleranceL: 5, run }, silentLogger);
    expect(smoke.rollback.unchanged).toBe(true);
    expect(await appEntry(db, gerant)).toBe('refused by the freeze');
    expect(await checksums(db)).toEqual(original);
    expect(await ledger(db)).toEqual({ state: 'applied', liveIsAfterState: true });

    // an operator's write past the freeze after the backup: the rollback must say it discards it
    await db.withTransaction(async (tx) => {
      await allowFrozenWrites(tx);
      await tx.query(
        "UPDATE public.citernes SET localisation = coalesce(localisation, '') || ' (moved)' WHERE nom = (SELECT min(nom) FROM public.citernes)",
      );
    });
    expect(await checksums(db)).not.toEqual(original);

    // rollback (6.2): equal to the dump, still frozen, the change marked undone, the write reported
    const log = memoryLogger();
    const rb = await rollback(db, { backupDir: b.dir, run }, log);
    expect(rb.failures).toEqual([]);
    expect(rb.ok).toBe(true);
    expect(rb.freeze).toMatchObject({ frozenBefore: true, frozenAfter: true, frozenByRollback: false });
    expect(rb.discarded).toEqual([
      expect.objectContaining({ table: 'public.citernes', writtenSince: 0, changedSince: 1, deletedSince: 0 }),
    ]);
    expect(rb.undone.map((u) => u.fileName)).toEqual([path.basename(CHANGE_FILES.p0)]);
    expect(await appEntry(db, gerant)).toBe('refused by the freeze');
    expect((await freezeStatus(db)).consistent).toBe(true);
    expect(await checksums(db)).toEqual(original);
    expect((await readFingerprint(db)).sha256).toBe(legacy);
    expect(await ledger(db)).toEqual({ state: 'undone', liveIsAfterState: false });

    // the same change again: applied for real, not "already applied"
    const again = await apply();
    expect(again.status).toBe('applied');
    expect(await ledger(db)).toEqual({ state: 'applied', liveIsAfterState: true });
    expect((await readFingerprint(db)).sha256).toBe(migrated);
    expect(await checksums(db)).toEqual(original);
    expect(await appEntry(db, gerant)).toBe('refused by the freeze');

    // GO: the freeze lifted, the app enters again
    await freezeOff(db, { reason: 'GO', run }, silentLogger);
    expect(await appEntry(db, gerant)).toBe('accepted');
    expect(await checksums(db)).toEqual(original);
  });
});
