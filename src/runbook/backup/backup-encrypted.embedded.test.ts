import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PIPELINE_PREFIX } from '../../db/fingerprint.js';
import { readTableKeys, tablesChecksums } from '../../db/checksum.js';
import { PgliteDb } from '../../db/pglite.js';
import type { Db } from '../../db/types.js';
import { decryptToBuffer } from '../../crypto/age.js';
import { hashFile } from '../../hash.js';
import { silentLogger } from '../../logger.js';
import { initFixture } from '../db-init.js';
import { freezeOff, freezeOn } from '../freeze.js';
import { rollback } from '../rollback.js';
import { backup, verifyBackup, type BackupResult } from './index.js';
import { assertVerifiedBackup } from './manifest.js';
import { expectNoPlaintextData, makeAgeKey, type TestAgeKey } from '../../testing/age-keys.js';
import { expectUserError } from '../../testing/command.js';
import { applyP0AndMove } from '../../testing/movements.js';
import { rerecordFile } from '../../testing/backup-tamper.js';

/**
 * The embedded database's backup with --encrypt-to: its plain SQL dumps (database.sql and,
 * once the pipeline schema exists, pipeline.sql: both are pg_dump output with rows), the CSV
 * snapshots and auth-users.json reach --out as age files only; verification, re-verification
 * and the rollback decrypt them in memory, each checked against its recorded plaintext hash.
 */
const run = { runId: 'encrypted-embedded', actor: 'ops' };

async function sums(db: Db): Promise<Record<string, string>> {
  const keys = await readTableKeys(db, ['public'], PIPELINE_PREFIX);
  return Object.fromEntries((await tablesChecksums(db, keys)).map((t) => [t.table, `${t.rows}:${t.checksum}`]));
}

describe('encrypted backup on the embedded database', () => {
  let db: PgliteDb;
  let work: string;
  let key: TestAgeKey;
  let other: TestAgeKey;
  let good: BackupResult;
  let markers: string[];
  let temp: string;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'astm53b-encrypted-embedded-'));
    temp = path.join(work, 'runner-temp');
    await mkdir(temp);
    key = await makeAgeKey(work);
    other = await makeAgeKey(work, 'other.key');
    db = await PgliteDb.open(undefined);
    await initFixture(db, { scale: 1, seed: 1 }, silentLogger);
    // the pipeline schema exists once frozen: its dump (pipeline.sql) is encrypted too
    await freezeOn(db, { reason: 'test', force: true, run }, silentLogger);
    const email = (await db.query<{ e: string }>('SELECT email AS e FROM auth.users WHERE email IS NOT NULL ORDER BY email LIMIT 1'))
      .rows[0]!.e;
    const reception = (await db.query<{ id: string }>('SELECT id::text FROM public.receptions ORDER BY id LIMIT 1')).rows[0]!.id;
    markers = [email, reception];
    good = await backup(db, { outDir: path.join(work, 'good'), encryptTo: [key.recipient], tempDir: temp }, silentLogger);
    await freezeOff(db, { reason: 'test', run }, silentLogger);
  });
  afterAll(async () => {
    await db?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('verifies, and leaves only ciphertext of every data file in --out; the temporary plaintext is gone', async () => {
    expect(good.verification.failures).toEqual([]);
    expect(good.ok).toBe(true);
    const files = await expectNoPlaintextData(good.dir, markers);
    expect(files).toEqual(
      [
        'auth-users.json.age',
        'database.sql.age',
        'functions/public.sorties_produit_block_update_delete.sql',
        'functions/public.validate_sortie.sql',
        'manifest.json',
        'pipeline.sql.age',
        'tables/public.receptions.csv.age',
        'tables/public.sorties_produit.csv.age',
        'tables/public.stocks_journaliers.csv.age',
        'verification.json',
      ].sort(),
    );
    expect(await readdir(temp)).toEqual([]);
    expect(good.manifest.dump).toMatchObject({ file: 'database.sql.age', pipelineFile: 'pipeline.sql.age' });
    expect(good.manifest.encryption).toMatchObject({ method: 'age', recipients: [key.recipient] });
  });

  it('the manifest binds each ciphertext on disk to the plaintext the verification proved', async () => {
    for (const f of good.manifest.files) {
      expect(await hashFile(path.join(good.dir, f.path))).toEqual({ bytes: f.bytes, sha256: f.sha256 });
      if (!f.plaintext) continue;
      const plain = await decryptToBuffer(path.join(good.dir, f.path), key.identity);
      expect({ bytes: plain.length, sha256: createHash('sha256').update(plain).digest('hex') }).toEqual({
        bytes: f.plaintext.bytes,
        sha256: f.plaintext.sha256,
      });
    }
    // the snapshots were compared by their plaintext
    expect(good.verification.snapshots!.every((s) => s.match)).toBe(true);
    // the gate of decide and rollback re-hashes the ciphertext only: no key needed to know the folder is intact
    await expect(assertVerifiedBackup(good.dir)).resolves.toMatchObject({ encryption: { method: 'age' } });
  });

  it('backup verify needs the identity, refuses a wrong one, and verifies with the right one', async () => {
    expect((await expectUserError(verifyBackup(good.dir, {}, silentLogger))).code).toBe('IDENTITY_REQUIRED');
    const wrong = await expectUserError(verifyBackup(good.dir, { identity: other.identity }, silentLogger));
    expect(wrong.code).toBe('WRONG_IDENTITY');
    expect(wrong.where?.file).toBe(other.file);
    const v = await verifyBackup(good.dir, { identity: key.identity }, silentLogger);
    expect(v.failures).toEqual([]);
    expect(v.ok).toBe(true);
    expect(v.restore!.from).toBe('archive file');
  });

  it('rollback: a wrong identity is refused before anything is touched; the right one restores and proves equal', async () => {
    const before = await sums(db);
    await applyP0AndMove(db);
    const changed = await sums(db);
    expect(changed).not.toEqual(before);
    const e = await expectUserError(rollback(db, { backupDir: good.dir, run, identity: other.identity }, silentLogger));
    expect(e.code).toBe('WRONG_IDENTITY');
    expect(await sums(db)).toEqual(changed);
    expect((await expectUserError(rollback(db, { backupDir: good.dir, run }, silentLogger))).code).toBe('IDENTITY_REQUIRED');
    const r = await rollback(db, { backupDir: good.dir, run, identity: key.identity }, silentLogger);
    expect(r.failures).toEqual([]);
    expect(r.ok).toBe(true);
    expect(await sums(db)).toEqual(before);
  });

  it('an altered ciphertext is refused by the gate; one re-recorded in the manifest fails its decryption, and nothing changes', async () => {
    const bad = path.join(work, 'altered');
    await cp(good.dir, bad, { recursive: true });
    const file = path.join(bad, 'database.sql.age');
    const bytes = await readFile(file);
    bytes[bytes.length - 200]! ^= 0x01;
    await writeFile(file, bytes);
    await freezeOff(db, { reason: 'test', run }, silentLogger);
    await applyP0AndMove(db);
    const changed = await sums(db);
    const gate = await expectUserError(rollback(db, { backupDir: bad, run, identity: key.identity }, silentLogger));
    expect(gate.code).toBe('BACKUP_TAMPERED');
    expect(gate.message).toContain('database.sql.age');
    expect(await sums(db)).toEqual(changed);

    await rerecordFile(bad, 'database.sql.age');
    await assertVerifiedBackup(bad);
    const e = await expectUserError(rollback(db, { backupDir: bad, run, identity: key.identity }, silentLogger));
    expect(e.code).toBe('BACKUP_TAMPERED');
    expect(e.message).toMatch(/database\.sql\.age: decryption failed/);
    expect(await sums(db)).toEqual(changed);
  });
});
