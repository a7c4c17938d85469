import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { decryptToBuffer } from '../../crypto/age.js';
import { runSqlFile } from '../../db/sql-file.js';
import type { Db } from '../../db/types.js';
import { legacyVolume15 } from '../../golden/diagnose.js';
import { hashFile } from '../../hash.js';
import { silentLogger } from '../../logger.js';
import { CHANGE_FILES, sqlPath } from '../../paths.js';
import { renderRollbackText } from '../../report/backup.js';
import { RollbackResult } from '../../results/rollback.js';
import { makeAgeKey } from '../../testing/age-keys.js';
import {
  AFTER_GO_DAY,
  AFTER_GO_FIGURES,
  DEMO_DRAFT,
  enterAdjustment,
  enterAfterGo,
  enterReception,
  validateDemoDraft,
} from '../../rehearsal/after-go.js';
import { userWithRole } from '../../testing/fixture-contract.js';
import { describePg, useFreshDatabase } from '../../testing/pg.js';
import { backup } from '../backup/index.js';
import { freezeStatus } from '../freeze.js';
import { rollback } from '../rollback.js';
import { stockLines } from './index.js';

/**
 * The late rollback on real PostgreSQL with real pg_dump/pg_restore (runbook 6.1 complaint within
 * 24 h, 6.2): a backup, ML_PP migrated (our P0.1), a day of operations entered as app users, then
 * the rollback. With --replay the stock must end where the legacy app would have put it for the
 * same field entries (a second demo database where they were entered on the legacy app); without,
 * every movement is exported (encrypted like the dump) and listed; and a movement the legacy app
 * cannot make stops the replay at that row with the database consistent.
 */
const run = { runId: 'late-rollback-1', actor: 'ops-lead' };
const migrate = (db: Db) => runSqlFile(db, sqlPath(CHANGE_FILES.p0_1), { displayName: CHANGE_FILES.p0_1 });

async function one<T>(db: Db, sql: string, params: unknown[] = []): Promise<T | undefined> {
  return (await db.query<T>(sql, params)).rows[0];
}

function usePrepared(purpose: string, encrypt = false) {
  const fx = useFreshDatabase(purpose, { fixture: true });
  const s = {
    tmp: '',
    backupDir: '',
    results: '',
    atBackup: [] as Awaited<ReturnType<typeof stockLines>>,
    key: undefined as Awaited<ReturnType<typeof makeAgeKey>> | undefined,
  };
  beforeAll(async () => {
    s.tmp = await mkdtemp(path.join(tmpdir(), 'astm53b-late-rollback-'));
    s.results = path.join(s.tmp, 'results');
    if (encrypt) s.key = await makeAgeKey(s.tmp);
    s.atBackup = await stockLines(fx().db);
    const b = await backup(
      fx().db,
      { outDir: path.join(s.tmp, 'backup'), ...(s.key ? { encryptTo: [s.key.recipient] } : {}) },
      silentLogger,
    );
    expect(b.ok).toBe(true);
    s.backupDir = b.dir;
    await migrate(fx().db);
  });
  afterAll(async () => {
    if (s.tmp) await rm(s.tmp, { recursive: true, force: true });
  });
  return { fx, s };
}

async function expectFilesAsRecorded(results: string, r: RollbackResult): Promise<void> {
  for (const f of r.lateRollback!.files) expect((await hashFile(path.join(results, f.path))).sha256).toBe(f.sha256);
}

describePg('late rollback with --replay: every movement since the GO back, on the legacy computation', () => {
  const { fx, s } = usePrepared('late_rb_replay');
  const ref = useFreshDatabase('late_rb_reference', { fixture: true });

  it('replays reception, sortie and adjustment as their users, tied to their originals; the stock equals the legacy app’s', async () => {
    const db = fx().db;
    const ids = await enterAfterGo(db, 'astm');
    const before = await stockLines(db);
    const r = await rollback(db, { backupDir: s.backupDir, run, resultsDir: s.results, replay: true }, silentLogger);
    expect(r.failures).toEqual([]);
    expect(r.ok).toBe(true);
    RollbackResult.parse(r);
    const late = r.lateRollback!;
    expect(late.counts).toEqual({ sinceBackup: 3, replayed: 3, skipped: 0, remaining: 0 });
    expect(late.movements.map((m) => [m.kind, m.id, m.plan])).toEqual([
      ['reception', ids.reception, 'insert-reception'],
      ['sortie', ids.sortie, 'insert-validated-sortie'],
      ['adjustment', ids.adjustment, 'insert-adjustment'],
    ]);
    expect(late.replay!.stoppedAt).toBeNull();
    expect(late.toReenter).toEqual([]);

    const [rec, sor, adj] = late.replay!.replayed;
    const gerant = await userWithRole(db, 'gerant');
    const directeur = await userWithRole(db, 'directeur');
    const m = AFTER_GO_FIGURES;
    const legacyRec = legacyVolume15(m.reception.index_apres - m.reception.index_avant, m.reception.temperature_c);
    const legacySor = legacyVolume15(m.sortie.index_apres - m.sortie.index_avant, m.sortie.temperature_c);
    expect(rec).toMatchObject({ originalId: ids.reception, as: [gerant], legacy15c: legacyRec });
    expect(rec!.replayedId).not.toBe(ids.reception);
    expect(rec!.original15c).not.toBeCloseTo(legacyRec, 0);
    // the rows the app shows again, entered as their authors, with legacy 15 °C values
    expect(
      await one(db, 'SELECT created_by::text AS by, volume_corrige_15c AS v, date_reception AS d FROM receptions WHERE id = $1', [
        rec!.replayedId,
      ]),
    ).toEqual({
      by: gerant,
      v: legacyRec,
      d: AFTER_GO_DAY,
    });
    expect(
      await one(db, 'SELECT created_by::text AS by, statut, volume_corrige_15c AS v FROM sorties_produit WHERE id = $1', [sor!.replayedId]),
    ).toEqual({
      by: gerant,
      statut: 'validee',
      v: legacySor,
    });
    expect(
      await one(db, 'SELECT created_by::text AS by, mouvement_id::text AS mid, delta_15c FROM stocks_adjustments WHERE id = $1', [
        adj!.replayedId,
      ]),
    ).toEqual({
      by: directeur,
      mid: rec!.replayedId,
      delta_15c: m.adjustment.delta_15c,
    });
    expect(
      await one(
        db,
        "SELECT count(*)::int8 AS n FROM log_actions WHERE action = 'RECEPTION_CREEE' AND details->>'reception_id' = $1 AND user_id = $2",
        [rec!.replayedId, gerant],
      ),
    ).toEqual({ n: 1 });
    // the originals are not back: the restore removed them and the replay wrote new rows
    expect(await one(db, 'SELECT count(*)::int8 AS n FROM receptions WHERE id = $1', [ids.reception])).toEqual({ n: 0 });

    // stock per tank and owner at the three moments; after the replay, what the legacy app shows for the same entries
    expect(late.stock.beforeRollback).toEqual(before);
    expect(late.stock.afterRestore).toEqual(s.atBackup);
    await enterAfterGo(ref().db, 'legacy');
    expect(late.stock.afterReplay).toEqual(await stockLines(ref().db));
    expect(late.stock.afterReplay).not.toEqual(before);

    // entries stay frozen for the app (runbook 6.2 step 1) and the export is on disk as recorded
    expect(await freezeStatus(db)).toMatchObject({ frozen: true, consistent: true });
    expect(late.files.map((f) => f.path)).toEqual(
      expect.arrayContaining([
        'late-rollback/public.receptions.csv',
        'late-rollback/public.sorties_produit.csv',
        'late-rollback/public.stocks_adjustments.csv',
        'late-rollback/movements.json',
      ]),
    );
    await expectFilesAsRecorded(s.results, r);
    const text = renderRollbackText(r);
    expect(text).toContain('3 movement(s) since the backup; 3 replayed');
  });
});

describePg('late rollback without --replay, backup encrypted: the export is ciphertext, every movement listed per tank and day', () => {
  const { fx, s } = usePrepared('late_rb_list', true);

  it('exports and lists the three movements with their figures; the database is the backup again; nothing re-entered', async () => {
    const db = fx().db;
    const ids = await enterAfterGo(db, 'astm');
    const r = await rollback(db, { backupDir: s.backupDir, run, resultsDir: s.results, identity: s.key!.identity }, silentLogger);
    expect(r.ok).toBe(true);
    const late = r.lateRollback!;
    expect(late.replay).toBeNull();
    expect(late.counts).toEqual({ sinceBackup: 3, replayed: 0, skipped: 0, remaining: 3 });
    expect(late.toReenter).toEqual([{ citerne: 'TANK4', day: AFTER_GO_DAY, movements: [1, 2, 3] }]);
    expect(late.movements[0]!.figures).toMatchObject({
      index_avant: 500000,
      index_apres: 501500,
      volume_ambiant: 1500,
      temperature_c: 27.5,
    });
    expect(late.stock.afterReplay).toBeNull();
    expect(late.stock.afterRestore).toEqual(s.atBackup);
    expect(await stockLines(db)).toEqual(s.atBackup);
    expect(await one(db, 'SELECT count(*)::int8 AS n FROM receptions WHERE id = $1', [ids.reception])).toEqual({ n: 0 });

    // like the dump: only age files in the folder, each decrypting to the plaintext rollback.json names
    expect(late.encryption).toEqual({ method: 'age', recipients: [s.key!.recipient] });
    const onDisk = (await readdir(path.join(s.results, 'late-rollback'))).sort();
    expect(onDisk.every((f) => f.endsWith('.age'))).toBe(true);
    expect(onDisk).toHaveLength(late.files.length);
    await expectFilesAsRecorded(s.results, r);
    const json = late.files.find((f) => f.format === 'json')!;
    const plain = await decryptToBuffer(path.join(s.results, json.path), s.key!.identity, { expect: json.plaintext! });
    const exported = JSON.parse(plain.toString('utf8')) as { movements: { id: string }[]; tables: { table: string; written: unknown[] }[] };
    expect(exported.movements.map((m) => m.id)).toEqual([ids.reception, ids.sortie, ids.adjustment]);
    // the log and journal rows the movements wrote are in the export too
    expect(exported.tables.find((t) => t.table === 'public.log_actions')!.written.length).toBeGreaterThanOrEqual(3);
    expect(exported.tables.map((t) => t.table)).toEqual(expect.arrayContaining(['public.stocks_journaliers', 'public.stocks_snapshot']));
    const csv = late.files.find((f) => f.table === 'public.receptions')!;
    const csvText = (await decryptToBuffer(path.join(s.results, csv.path), s.key!.identity, { expect: csv.plaintext! })).toString('utf8');
    expect(csvText.split('\n')[0]).toMatch(/^astm53b_since,id,/);
    expect(csvText).toContain(`written,${ids.reception},`);

    const text = renderRollbackText(r);
    expect(text).toContain('3 left to enter by hand');
    expect(text).toContain(`TANK4 ${AFTER_GO_DAY}:`);
    expect(await readFile(path.join(s.results, csv.path)).then((b) => b.toString('latin1').startsWith('age-encryption.org/v1'))).toBe(true);
  });
});

describePg('late rollback with --replay: a movement the legacy app cannot make stops the replay there', () => {
  const { fx, s } = usePrepared('late_rb_stop');

  it('the draft validated after the GO is refused by the legacy validate_sortie: #1 stays replayed, #2 and #3 listed, database consistent', async () => {
    const db = fx().db;
    const reception = await enterReception(db, 'astm');
    await validateDemoDraft(db);
    await enterAdjustment(db, reception);
    const r = await rollback(db, { backupDir: s.backupDir, run, resultsDir: s.results, replay: true }, silentLogger);
    expect(r.ok).toBe(true);
    const late = r.lateRollback!;
    expect(late.movements.map((m) => [m.seq, m.kind, m.change, m.plan])).toEqual([
      [1, 'reception', 'written', 'insert-reception'],
      [2, 'sortie', 'changed', 'validate-sortie'],
      [3, 'adjustment', 'written', 'insert-adjustment'],
    ]);
    expect(late.replay!.stoppedAt).toMatchObject({ seq: 2, id: DEMO_DRAFT, kind: 'sortie', code: 'P0001' });
    expect(late.replay!.remaining).toEqual([2, 3]);
    expect(late.counts).toEqual({ sinceBackup: 3, replayed: 1, skipped: 0, remaining: 2 });
    expect(late.toReenter).toEqual([
      { citerne: 'TANK4', day: '2026-02-25', movements: [2] },
      { citerne: 'TANK4', day: AFTER_GO_DAY, movements: [3] },
    ]);

    // consistent: the replayed reception is there, the draft is still a draft, no adjustment was booked, entries frozen
    const replayedId = late.replay!.replayed[0]!.replayedId!;
    expect(await one(db, 'SELECT count(*)::int8 AS n FROM receptions WHERE id = $1', [replayedId])).toEqual({ n: 1 });
    expect(await one(db, 'SELECT statut FROM sorties_produit WHERE id = $1', [DEMO_DRAFT])).toEqual({ statut: 'brouillon' });
    expect(
      await one(db, 'SELECT count(*)::int8 AS n FROM stocks_adjustments WHERE reason = $1', [AFTER_GO_FIGURES.adjustment.reason]),
    ).toEqual({ n: 0 });
    expect(await freezeStatus(db)).toMatchObject({ frozen: true, consistent: true });
    const tank4 = (lines: typeof s.atBackup) => lines.find((l) => l.citerne === 'TANK4' && l.proprietaire_type === 'MONALUXE')!;
    const m = AFTER_GO_FIGURES.reception;
    expect(tank4(late.stock.afterReplay!).snapshot_15c).toBeCloseTo(
      tank4(late.stock.afterRestore).snapshot_15c! + legacyVolume15(m.index_apres - m.index_avant, m.temperature_c),
      6,
    );
    expect(await stockLines(db)).toEqual(late.stock.afterReplay);
    expect(renderRollbackText(r)).toMatch(/replay stopped at #2 \(sortie/);
  });
});
