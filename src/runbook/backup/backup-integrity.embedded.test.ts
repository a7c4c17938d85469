import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgliteDb } from '../../db/pglite.js';
import { silentLogger } from '../../logger.js';
import { editSnapshotRow } from '../../testing/backup-tamper.js';
import { expectUserError } from '../../testing/command.js';
import { initFixture } from '../db-init.js';
import { MANIFEST_FILE, SQL_DUMP_FILE, assertVerifiedBackup } from './manifest.js';
import { backup, verifyBackup, type BackupResult } from './index.js';

/**
 * The embedded database's backup records which database it came from, checks its CSV snapshots
 * against the restored in-memory copy exactly as the PostgreSQL path does, and stops on a file it
 * cannot write (here /dev/full, whose every write fails with ENOSPC) without a manifest and
 * without leaving PGlite's single backend inside the snapshot transaction.
 */

if (!existsSync('/dev/full') && process.env.CI) throw new Error('CI: there is no /dev/full: the full-disk test must run here');
const itDevFull = existsSync('/dev/full') ? it : it.skip;

describe('backup integrity on the embedded database (PGlite)', () => {
  let db: PgliteDb;
  let work: string;
  let good: BackupResult;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'astm53b-backup-integrity-embedded-'));
    db = await PgliteDb.open(undefined);
    await initFixture(db, { scale: 1, seed: 1 }, silentLogger);
    good = await backup(db, { outDir: path.join(work, 'good') }, silentLogger);
    expect(good.ok).toBe(true);
  });
  afterAll(async () => {
    await db?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('the manifest says which database it came from: system identifier and OID read in the snapshot, no project ref', async () => {
    const sys = await db.query<{ id: string }>('SELECT system_identifier::text AS id FROM pg_control_system()');
    const oid = await db.query<{ oid: string }>('SELECT oid::text AS oid FROM pg_database WHERE datname = current_database()');
    expect(good.manifest.source).toMatchObject({
      systemIdentifier: sys.rows[0]!.id,
      databaseOid: Number(oid.rows[0]!.oid),
      projectRef: null,
    });
  });

  it('each CSV snapshot equals the same rows exported from the restored in-memory copy', () => {
    expect(good.verification.snapshots!.map((s) => [s.path, s.match])).toEqual([
      ['tables/public.stocks_journaliers.csv', true],
      ['tables/public.sorties_produit.csv', true],
      ['tables/public.receptions.csv', true],
    ]);
    expect(good.verification.files).toEqual(good.manifest.files.map((f) => ({ path: f.path, sha256: f.sha256 })));
  });

  it('backup verify fails an edited CSV re-hashed into the manifest, naming it; the gate refuses the folder', async () => {
    const dir = path.join(work, 'edited-csv');
    await cp(good.dir, dir, { recursive: true });
    const edit = await editSnapshotRow(dir, { rebindFiles: true });
    const v = await verifyBackup(dir, {}, silentLogger);
    expect(v.hashes.ok).toBe(true);
    expect(v.comparison!.ok).toBe(true);
    expect(v.ok).toBe(false);
    expect(v.failures).toEqual([
      expect.stringMatching(/^tables\/public\.receptions\.csv: the file .* is not the restored copy's public\.receptions/),
    ]);
    expect(v.snapshots!.find((s) => s.path === edit.file)).toMatchObject({ match: false, expected: { rows: 9 }, actual: { rows: 9 } });
    expect(await expectUserError(assertVerifiedBackup(dir))).toMatchObject({ code: 'BACKUP_NOT_VERIFIED' });
  });

  itDevFull('a dump that cannot be written: WRITE_FAILED naming it, no manifest.json, and the database keeps working', async () => {
    const outDir = path.join(work, 'full');
    const err = await expectUserError(
      backup(db, { outDir, onOutDir: (dir) => symlink('/dev/full', path.join(dir, SQL_DUMP_FILE)) }, silentLogger),
    );
    expect(err).toMatchObject({ code: 'WRITE_FAILED', where: { file: path.join(outDir, SQL_DUMP_FILE) } });
    expect(err.message).toMatch(/^no space left on device \(ENOSPC\) while writing .*database\.sql: free space or choose another --out$/);
    expect(await readdir(outDir)).not.toContain(MANIFEST_FILE);
    // the snapshot transaction is over: the single backend takes writes again
    await db.query("INSERT INTO public.log_actions (action, module, details) VALUES ('TEST_AFTER_FULL_DISK', 'test', '{}')");
    await db.query("DELETE FROM public.log_actions WHERE action = 'TEST_AFTER_FULL_DISK'");
  });
});
