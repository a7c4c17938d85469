import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PIPELINE_PREFIX } from '../../db/fingerprint.js';
import { readTableKeys, tablesChecksums } from '../../db/checksum.js';
import type { Db } from '../../db/types.js';
import { silentLogger } from '../../logger.js';
import { UserError } from '../../errors.js';
import { openDecrypted } from '../../crypto/age.js';
import { restoreArchiveInSession } from '../../db/restore-script.js';
import { freezeOff, freezeStatus } from '../freeze.js';
import { rollback } from '../rollback.js';
import { backup, type BackupResult } from './index.js';
import { assertVerifiedBackup, readManifest } from './manifest.js';
import { expectNoPlaintextData, makeAgeKey, type TestAgeKey } from '../../testing/age-keys.js';
import { rerecordFile } from '../../testing/backup-tamper.js';
import { runCli } from '../../testing/cli.js';
import { expectUserError } from '../../testing/command.js';
import { applyP0AndMove } from '../../testing/movements.js';
import { describePg, useFreshDatabase } from '../../testing/pg.js';
import { expectGuardsStillBite } from '../../testing/rollback-checks.js';

/**
 * `backup --encrypt-to` on real PostgreSQL: pg_dump's archive is verified by the streamed
 * scratch restore as usual, from a private temporary folder, then only its age ciphertext (and
 * the CSV snapshots' and auth-users.json's) reaches --out. `backup verify --identity` and
 * `rollback --identity` decrypt the archive into pg_restore's stdin, never to disk; the
 * rollback checks the plaintext hash before COMMIT.
 */
const run = { runId: 'encrypted-pg', actor: 'ops' };

async function sums(db: Db): Promise<Record<string, string>> {
  const keys = await readTableKeys(db, ['public', 'astm'], PIPELINE_PREFIX);
  return Object.fromEntries((await tablesChecksums(db, keys)).map((t) => [t.table, `${t.rows}:${t.checksum}`]));
}

describePg('encrypted backup, verify and rollback (real PostgreSQL, real pg_dump/pg_restore)', () => {
  const fx = useFreshDatabase('backup_encrypted', { fixture: true });
  let work = '';
  let temp = '';
  let key: TestAgeKey;
  let other: TestAgeKey;
  let good: BackupResult;
  let markers: string[] = [];

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'astm53b-encrypted-pg-'));
    temp = path.join(work, 'runner-temp');
    await mkdir(temp);
    key = await makeAgeKey(work);
    other = await makeAgeKey(work, 'other.key');
    const db = fx().db;
    const email = (await db.query<{ e: string }>('SELECT email AS e FROM auth.users WHERE email IS NOT NULL ORDER BY email LIMIT 1'))
      .rows[0]!.e;
    const reception = (await db.query<{ id: string }>('SELECT id::text FROM public.receptions ORDER BY id LIMIT 1')).rows[0]!.id;
    markers = [email, reception];
    good = await backup(
      db,
      { outDir: path.join(work, 'good'), encryptTo: [`# the depot's key\n${key.recipient}`], tempDir: temp },
      silentLogger,
    );
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('verifies from the dump stream, and --out holds no plaintext data file; the temporary plaintext is gone', async () => {
    expect(good.verification.failures).toEqual([]);
    expect(good.ok).toBe(true);
    expect(good.verification.restore!.from).toBe('dump stream');
    const files = await expectNoPlaintextData(good.dir, markers);
    expect(files.filter((f) => f.endsWith('.age'))).toEqual([
      'auth-users.json.age',
      'database.dump.age',
      'tables/public.receptions.csv.age',
      'tables/public.sorties_produit.csv.age',
      'tables/public.stocks_journaliers.csv.age',
    ]);
    expect(await readdir(temp)).toEqual([]);
    const { manifest } = await readManifest(good.dir);
    const dump = manifest.files.find((f) => f.kind === 'archive')!;
    expect(dump).toMatchObject({ path: 'database.dump.age', plaintext: { path: 'database.dump' } });
    expect(dump.sha256).not.toBe(dump.plaintext!.sha256);
    await assertVerifiedBackup(good.dir);
  });

  it('backup verify --identity restores the decrypted archive afresh; without it or with another key it refuses', async () => {
    const url = fx().scratch.url;
    const none = await runCli(['backup', 'verify', good.dir, '--url', url]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('IDENTITY_REQUIRED');
    const wrong = await runCli(['backup', 'verify', good.dir, '--url', url, '--identity', other.file]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('WRONG_IDENTITY');
    expect(wrong.stderr).toContain(other.file);
    const ok = await runCli(['backup', 'verify', good.dir, '--url', url, '--identity', key.file, '--json']);
    expect(ok.code).toBe(0);
    const v = JSON.parse(ok.stdout);
    expect(v).toMatchObject({ ok: true, failures: [], restore: { from: 'archive file' } });
    expect(v.snapshots.every((s: { match: boolean }) => s.match)).toBe(true);
    await assertVerifiedBackup(good.dir);
  });

  it('rollback: a wrong identity is refused before anything is touched; the right one restores, proves equal and keeps the guards', async () => {
    const db = fx().db;
    const before = await sums(db);
    await applyP0AndMove(db);
    const changed = await sums(db);
    expect(changed).not.toEqual(before);
    const e = await expectUserError(rollback(db, { backupDir: good.dir, run, identity: other.identity }, silentLogger));
    expect(e.code).toBe('WRONG_IDENTITY');
    expect(await sums(db)).toEqual(changed);
    // not even the freeze a rollback sets first
    expect((await freezeStatus(db)).frozen).toBe(false);

    const r = await runCli(['rollback', '--url', fx().scratch.url, '--backup', good.dir, '--identity', key.file, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, committed: true, failures: [] });
    expect(await sums(db)).toEqual(before);
    await expectGuardsStillBite(db, good.manifest);
    await freezeOff(db, { reason: 'test', run }, silentLogger);
  });

  it('a ciphertext swapped for another backup of the same key, re-recorded everywhere, decrypts but is refused: its plaintext hash is not the recorded one, nothing changes', async () => {
    const db = fx().db;
    await applyP0AndMove(db);
    const later = await backup(db, { outDir: path.join(work, 'later'), encryptTo: [key.recipient], tempDir: temp }, silentLogger);
    expect(later.ok).toBe(true);
    const swapped = path.join(work, 'swapped');
    await cp(good.dir, swapped, { recursive: true });
    await cp(path.join(later.dir, 'database.dump.age'), path.join(swapped, 'database.dump.age'));
    await rerecordFile(swapped, 'database.dump.age');
    await assertVerifiedBackup(swapped);
    const changed = await sums(db);
    const e = await expectUserError(rollback(db, { backupDir: swapped, run, identity: key.identity }, silentLogger));
    expect(e.code).toBe('BACKUP_TAMPERED');
    // caught where the decrypted stream first reaches its end: the table of contents read before the
    // transaction for an archive this small, the restore inside it otherwise (next test)
    expect(e.message).toMatch(/database\.dump\.age decrypts to \d+ bytes .* the manifest records \d+ bytes/);
    expect(await sums(db)).toEqual(changed);
    expect((await freezeStatus(db)).frozen).toBe(false);
  });

  it('inside the transaction, a stream that fails its end check after its statements ran still fails the restore; rolled back', async () => {
    const db = fx().db;
    const changed = await sums(db);
    const file = path.join(good.dir, 'database.dump.age');
    const { manifest } = await readManifest(good.dir);
    let statements = 0;
    // every byte of the real archive, then (once pg_restore has written its script) the failure a
    // swapped ciphertext's plaintext hash gives at the end of the stream
    const lateFailure = async function* () {
      for await (const c of await openDecrypted(file, key.identity)) yield c as Buffer;
      while (statements < 5) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, 300));
      throw new UserError('BACKUP_TAMPERED', `${file} decrypts to another plaintext`);
    };
    const e = await db
      .withClient(
        async (c) => {
          await c.query('BEGIN');
          // counts the statements the script ran on the session before the stream failed
          const counting = new Proxy(c, {
            get(t, p) {
              const v = Reflect.get(t, p) as unknown;
              if (p === 'query' || p === 'copyIn') statements++;
              return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
            },
          });
          try {
            await restoreArchiveInSession(counting, {
              file: { display: file, open: async () => Readable.from(lateFailure()) },
              serverMajor: 15,
              schemas: manifest.schemas.application,
            });
          } finally {
            await c.query('ROLLBACK');
          }
        },
        { discard: true },
      )
      .then(
        () => undefined,
        (x: unknown) => x,
      );
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).code).toBe('BACKUP_TAMPERED');
    expect(statements).toBeGreaterThan(5);
    expect(await sums(db)).toEqual(changed);
  });

  it('a damaged ciphertext: refused by the gate; re-recorded, its decryption fails mid-restore and nothing changes', async () => {
    const db = fx().db;
    const bad = path.join(work, 'damaged');
    await cp(good.dir, bad, { recursive: true });
    const file = path.join(bad, 'database.dump.age');
    const bytes = await readFile(file);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x40;
    await writeFile(file, bytes);
    const changed = await sums(db);
    const gate = await expectUserError(rollback(db, { backupDir: bad, run, identity: key.identity }, silentLogger));
    expect(gate.code).toBe('BACKUP_TAMPERED');
    await rerecordFile(bad, 'database.dump.age');
    const e = await expectUserError(rollback(db, { backupDir: bad, run, identity: key.identity }, silentLogger));
    expect(e.code).toBe('BACKUP_TAMPERED');
    expect(e.message).toMatch(/decryption failed/);
    expect(await sums(db)).toEqual(changed);
  });
});
