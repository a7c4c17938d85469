import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { UserError } from '../../errors.js';
import { silentLogger } from '../../logger.js';
import { expectUserError } from '../../testing/command.js';
import { editSnapshotRow } from '../../testing/backup-tamper.js';
import { TEST_DATABASE_URL, describePg, useFreshDatabase } from '../../testing/pg.js';
import { rollback } from '../rollback.js';
import { VERIFICATION_FILE, assertVerifiedBackup } from './manifest.js';
import { backup, verifyBackup, type BackupResult } from './index.js';

/**
 * A backup folder edited after it was verified: verification.json vouches for the very files
 * and hashes it checked, so a manifest re-written behind it is refused by the gate; and the CSV
 * snapshots are compared with the restored copy, so an edited CSV whose hash was re-recorded
 * (even with a forged verification.json) fails `backup verify`, naming the file.
 */

describePg('backup folders edited after verification (real PostgreSQL)', () => {
  const fx = useFreshDatabase('backup_tamper', { fixture: true });
  let work: string;
  let good: BackupResult;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'astm53b-backup-tamper-'));
    good = await backup(fx().db, { outDir: path.join(work, 'good') }, silentLogger);
    expect(good.ok).toBe(true);
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  const copy = async (name: string) => {
    const dir = path.join(work, name);
    await cp(good.dir, dir, { recursive: true });
    return dir;
  };

  it('verification.json lists every file of the manifest with the SHA-256 it found', () => {
    expect(good.verification.format).toBe('astm53b-backup-verification/2');
    expect(good.verification.files).toEqual(good.manifest.files.map((f) => ({ path: f.path, sha256: f.sha256 })));
  });

  it('each CSV snapshot equals the same rows exported from the restored copy (count and SHA-256)', () => {
    const snapshots = good.verification.snapshots!;
    expect(snapshots.map((s) => s.path).sort()).toEqual([
      'tables/public.receptions.csv',
      'tables/public.sorties_produit.csv',
      'tables/public.stocks_journaliers.csv',
    ]);
    for (const s of snapshots) {
      expect(s.match, s.path).toBe(true);
      expect(s.actual).toEqual({ rows: good.manifest.tables.find((t) => t.table === s.table)!.rows, sha256: s.expected.sha256 });
      expect(s.expected.sha256).toBe(good.manifest.files.find((f) => f.path === s.path)!.sha256);
    }
  });

  it('the gate refuses a manifest re-written after verification, naming the file whose hash changed', async () => {
    const dir = await copy('rebound-manifest');
    const { file } = await editSnapshotRow(dir);
    const err = await expectUserError(assertVerifiedBackup(dir));
    expect(err).toMatchObject({ code: 'BACKUP_TAMPERED', where: { file: path.join(dir, file) } });
    expect(err.message).toMatch(
      /^tables\/public\.receptions\.csv: manifest\.json records SHA-256 [0-9a-f]{12}…, verification\.json verified [0-9a-f]{12}…$/,
    );
    expect(await expectUserError(rollback(fx().db, { backupDir: dir }, silentLogger))).toMatchObject({ code: 'BACKUP_TAMPERED' });
  });

  it('the gate refuses a verification.json that leaves out a file of the manifest, or lists one it does not have', async () => {
    const dir = await copy('files-mismatch');
    const vFile = path.join(dir, VERIFICATION_FILE);
    const v = JSON.parse(await readFile(vFile, 'utf8'));
    await writeFile(vFile, JSON.stringify({ ...v, files: v.files.filter((f: { path: string }) => f.path !== 'auth-users.json') }));
    expect(await expectUserError(assertVerifiedBackup(dir))).toMatchObject({
      code: 'BACKUP_TAMPERED',
      where: { file: path.join(dir, 'auth-users.json') },
    });
    await writeFile(vFile, JSON.stringify({ ...v, files: [...v.files, { path: 'extra.sql', sha256: 'a'.repeat(64) }] }));
    expect(await expectUserError(assertVerifiedBackup(dir))).toMatchObject({
      code: 'BACKUP_TAMPERED',
      where: { file: path.join(dir, 'extra.sql') },
    });
    // a record of the format before files were listed vouches for nothing: verify again
    const { files: _files, snapshots: _snapshots, ...older } = v;
    await writeFile(vFile, JSON.stringify({ ...older, format: 'astm53b-backup-verification/1' }));
    const err = await expectUserError(assertVerifiedBackup(dir));
    expect(err).toMatchObject({ code: 'BACKUP_NOT_VERIFIED', where: { file: vFile, field: 'format' } });
    expect(err.describe()).toMatch(/run astm53b backup verify DIR/);
  });

  it('backup verify fails an edited CSV re-hashed into the manifest, naming it, even with a forged verification.json', async () => {
    const dir = await copy('edited-csv');
    const edit = await editSnapshotRow(dir, { rebindFiles: true });
    const v = await verifyBackup(dir, { serverUrl: TEST_DATABASE_URL! }, silentLogger);
    expect(v.hashes.ok).toBe(true);
    expect(v.comparison!.ok).toBe(true);
    expect(v.ok).toBe(false);
    const s = v.snapshots!.find((x) => x.path === edit.file)!;
    expect(s).toMatchObject({ match: false, table: 'public.receptions', expected: { rows: 9 }, actual: { rows: 9 } });
    expect(s.actual!.sha256).not.toBe(s.expected.sha256);
    expect(v.failures).toEqual([
      expect.stringMatching(
        /^tables\/public\.receptions\.csv: the file \(SHA-256 [0-9a-f]{12}…, 9 rows recorded\) is not the restored copy's public\.receptions/,
      ),
    ]);
    expect(v.snapshots!.filter((x) => x.match).length).toBe(2);
    const gate = await expectUserError(assertVerifiedBackup(dir));
    expect(gate).toBeInstanceOf(UserError);
    expect(gate.code).toBe('BACKUP_NOT_VERIFIED');
  });
});
