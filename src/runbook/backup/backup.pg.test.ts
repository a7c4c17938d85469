import { cp, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTableKeys, tableChecksum } from '../../db/checksum.js';
import { digestTableCsv } from '../../db/csv-export.js';
import { DUMP_APP_NAME, listArchive } from '../../db/dump.js';
import { readFingerprint } from '../../db/fingerprint.js';
import { PgDb } from '../../db/pg.js';
import { createScratchDatabase } from '../../db/scratch.js';
import { UserError } from '../../errors.js';
import { hashFile } from '../../hash.js';
import { parseCsv } from '../../csv.js';
import { memoryLogger, silentLogger } from '../../logger.js';
import { TEST_DATABASE_URL, describePg, holdOpenTransaction, useFreshDatabase } from '../../testing/pg.js';
import {
  ARCHIVE_FILE,
  MANIFEST_FILE,
  SNAPSHOT_TABLES,
  VERIFICATION_FILE,
  assertVerifiedBackup,
  readManifest,
  snapshotFileOf,
} from './manifest.js';
import { backup, verifyBackup, type BackupResult } from './index.js';
import { compareWithManifest } from './compare.js';
import { gateAuthUsers } from './scratch.js';
import { readFunctionExport } from './source-reads.js';
import { applyShimIfNeeded } from '../db-init.js';
import { rollback } from '../rollback.js';
import { expectFailure as rejection } from '../../testing/command.js';
import { applyP0AndMove } from '../../testing/movements.js';
import { backupFiles } from '../../testing/backup-files.js';
import { dataBlockOf, flip, flipByte, replaceOnce } from '../../testing/archive-damage.js';
import { expectGuardsStillBite, expectRlsBack } from '../../testing/rollback-checks.js';

/**
 * Runbook 3.1 / 4.2 / 6.2 on real PostgreSQL with the real pg_dump and pg_restore: the backup
 * proves itself by a restore, damaged or unverified folders are refused, a killed dump never
 * yields a verified folder, and a rollback after the P0 change and new movements brings back
 * exactly the backed-up state without touching any DB-STRICT guard. Tests run in order.
 */

describePg('backup, verify and rollback (real PostgreSQL, real pg_dump/pg_restore)', () => {
  const fx = useFreshDatabase('backup', { fixture: true });
  let work: string;
  let good: BackupResult;
  const log = memoryLogger();

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'astm53b-backup-'));
    good = await backup(fx().db, { outDir: path.join(work, 'good') }, log);
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('writes the archive, both functions and the three table snapshots, each with bytes and SHA-256', async () => {
    const m = good.manifest;
    expect(m.files.map((f) => f.path).sort()).toEqual(backupFiles(ARCHIVE_FILE));
    for (const f of m.files) expect(await hashFile(path.join(good.dir, f.path))).toEqual({ bytes: f.bytes, sha256: f.sha256 });
    expect(m.written).toMatchObject({ dir: good.dir, sameHostAsDatabase: true });
    expect(path.isAbsolute(m.written.dir)).toBe(true);
    expect(good.warnings.join('\n')).toMatch(/off the PROD server/);
    expect(m.schemas.application).toEqual(['public']);
    expect(m.schemas.excluded).toContain('auth');
  });

  it('the function exports are the live definitions, runnable as they are', async () => {
    const db = fx().db;
    const text = await readFile(path.join(good.dir, 'functions/public.validate_sortie.sql'), 'utf8');
    const def = (await db.query<{ d: string }>("SELECT pg_get_functiondef('public.validate_sortie(uuid)'::regprocedure) AS d")).rows[0]!.d;
    expect(text).toBe(`${def.trimEnd()};\n`);
    expect(text).toMatch(/^CREATE OR REPLACE FUNCTION public\.validate_sortie\(p_id uuid\)/);
  });

  it('the CSV snapshots hold every row in primary-key order, and agree with the recorded counts', async () => {
    const db = fx().db;
    for (const table of ['receptions', 'sorties_produit', 'stocks_journaliers']) {
      const csv = parseCsv(await readFile(path.join(good.dir, `tables/public.${table}.csv`), 'utf8'));
      const ids = (await db.query<{ id: string }>(`SELECT id::text FROM public.${table} ORDER BY id`)).rows.map((r) => r.id);
      const col = csv.header.indexOf('id');
      expect(csv.records.map((r) => r.fields[col])).toEqual(ids);
      expect(good.manifest.tables.find((t) => t.table === `public.${table}`)!.rows).toBe(ids.length);
    }
    expect(ids(good.manifest.tables)).toContain('public.cours_de_route');
  });

  it('verification restored the archive into a scratch database and found every table, function, trigger and policy equal', async () => {
    const v = good.verification;
    expect(good.ok).toBe(true);
    expect(v.ok).toBe(true);
    expect(v.failures).toEqual([]);
    expect(v.archive.readable).toBe(true);
    expect(v.archive.entries).toBeGreaterThan(100);
    expect(v.restore!.into).toMatch(/created and dropped/);
    // restored from pg_dump's output as it was written, each table checked as soon as it was in
    expect(v.restore!.from).toBe('dump stream');
    expect(v.restore!.checkedAsLoaded).toEqual(good.manifest.tables.map((t) => t.table).sort());
    const c = v.comparison!;
    expect(c.tables.length).toBe(good.manifest.tables.length);
    expect(c.tables.every((t) => t.match && t.actual!.rows === t.expected!.rows)).toBe(true);
    expect(c.tables.find((t) => t.table === 'public.receptions')!.actual!.rows).toBe(9);
    expect(c.functions.map((f) => [f.name, f.match])).toEqual([
      ['public.validate_sortie', true],
      ['public.sorties_produit_block_update_delete', true],
    ]);
    const kinds = new Set(good.manifest.fingerprint.entries.map((e) => e.kind));
    for (const k of ['function', 'trigger', 'policy', 'rls', 'table_grant']) expect(kinds).toContain(k);
    expect(c.catalog).toMatchObject({ match: true, changes: [] });
    expect(v.notCompared.schemas).toContain('auth');
    expect(v.notCompared.note).toMatch(/Supabase-managed/);
    // the scratch database is gone
    const scratchName = /scratch database (astm53b_backup_verify_\w+)/.exec(v.restore!.into)![1];
    const left = await fx().db.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_database WHERE datname = $1', [scratchName]);
    expect(left.rows[0]!.n).toBe(0);
    const onDisk = JSON.parse(await readFile(path.join(good.dir, VERIFICATION_FILE), 'utf8'));
    expect(onDisk.ok).toBe(true);
    expect(onDisk.manifestSha256).toBe((await readManifest(good.dir)).sha256);
  });

  it('a password in the URL reaches no file of the folder and no log line (it goes to pg_dump through PGPASSWORD)', async () => {
    // the test server trusts local connections, so it accepts any password: the secret is only carried
    const secret = 'S3cret-pw-astm53b';
    const u = new URL(fx().scratch.url);
    u.password = secret;
    const db = new PgDb(u.toString());
    const out = path.join(work, 'with-password');
    const lines = memoryLogger();
    try {
      const r = await backup(db, { outDir: out }, lines);
      expect(r.ok).toBe(true);
      expect(r.manifest.source.label).toContain(':***@');
    } finally {
      await db.close();
    }
    for (const f of [MANIFEST_FILE, VERIFICATION_FILE, ...good.manifest.files.map((x) => x.path)]) {
      expect((await readFile(path.join(out, f))).includes(secret), f).toBe(false);
    }
    expect(lines.lines.join('\n')).not.toContain(secret);
  });

  it('backup verify re-checks hashes and restores afresh; a bit flip fails it, and the gate refuses the folder', async () => {
    const again = await verifyBackup(good.dir, { serverUrl: TEST_DATABASE_URL! }, silentLogger);
    expect(again.ok).toBe(true);
    expect(again.restore).toMatchObject({ from: 'archive file' });
    expect(again.comparison!.tables.map((t) => t.actual)).toEqual(good.verification.comparison!.tables.map((t) => t.actual));

    const bad = path.join(work, 'flipped');
    await cp(good.dir, bad, { recursive: true });
    const size = (await stat(path.join(bad, ARCHIVE_FILE))).size;
    await flipByte(path.join(bad, ARCHIVE_FILE), Math.floor(size / 2));
    expect((await rejection(assertVerifiedBackup(bad))) as UserError).toMatchObject({ code: 'BACKUP_TAMPERED' });
    const v = await verifyBackup(bad, { serverUrl: TEST_DATABASE_URL! }, silentLogger);
    expect(v.ok).toBe(false);
    expect(v.hashes.problems).toEqual([{ path: ARCHIVE_FILE, problem: expect.stringMatching(/^SHA-256/) }]);
    expect(v.restore).toBeNull();
    expect((await rejection(rollback(fx().db, { backupDir: bad }, silentLogger))) as UserError).toMatchObject({
      code: 'BACKUP_NOT_VERIFIED',
    });
  });

  it('a scratch restore that dies mid-stream leaves the archive whole but unverified; backup verify into a clean database proves it later', async () => {
    const conflicting = await createScratchDatabase(TEST_DATABASE_URL!, 'test_conflict');
    const clean = await createScratchDatabase(TEST_DATABASE_URL!, 'test_clean');
    try {
      // an object the archive creates early: pg_restore stops there while pg_dump has most of its bytes to write
      const sdb = new PgDb(conflicting.url);
      await sdb.query("CREATE FUNCTION public.validate_sortie(p_id uuid) RETURNS void LANGUAGE sql AS 'SELECT'");
      await sdb.close();
      const out = path.join(work, 'restore-died');
      const r = await backup(fx().db, { outDir: out, scratchUrl: conflicting.url }, silentLogger);
      expect(r.ok).toBe(false);
      expect(r.verification.restore).toMatchObject({
        from: 'dump stream',
        error: expect.stringMatching(/pg_restore .* failed .*already exists/),
      });
      expect(r.verification.hashes.ok).toBe(true);
      expect(r.verification.archive.readable).toBe(true);
      // the copy gave no CSV snapshot: all three were read from the source snapshot, still open then
      expect(r.manifest.dump.consistency).toMatch(
        /CSV snapshots: public\.stocks_journaliers from this transaction \(the source\), public\.sorties_produit from this transaction \(the source\), public\.receptions from this transaction \(the source\)$/,
      );
      expect(r.manifest.files.filter((f) => f.kind === 'table-snapshot').map((f) => f.path)).toEqual(
        good.manifest.files.filter((f) => f.kind === 'table-snapshot').map((f) => f.path),
      );
      expect((await rejection(assertVerifiedBackup(out))) as UserError).toMatchObject({ code: 'BACKUP_NOT_VERIFIED' });
      // the archive holds every table: restoring the file itself proves it equal to the source
      const v = await verifyBackup(out, { scratchUrl: clean.url }, silentLogger);
      expect(v.failures).toEqual([]);
      expect(v.restore).toMatchObject({ from: 'archive file' });
      expect(v.comparison!.tables.map((t) => t.actual)).toEqual(good.verification.comparison!.tables.map((t) => t.actual));
      expect((await assertVerifiedBackup(out)).files[0]!.path).toBe(ARCHIVE_FILE);
    } finally {
      await conflicting.drop();
      await clean.drop();
    }
  });

  it('the scratch copy creates its foreign keys to auth.users only once the referenced rows are in (the gate)', async () => {
    const scratch = await createScratchDatabase(TEST_DATABASE_URL!, 'test_gate');
    const sdb = new PgDb(scratch.url);
    const user = 'a53b0000-0000-4000-8000-0000000000ff';
    try {
      await sdb.withTransaction((tx) => applyShimIfNeeded(tx, silentLogger));
      await sdb.query('CREATE TABLE public.gate_probe (user_id uuid)');
      await sdb.query('INSERT INTO public.gate_probe VALUES ($1)', [user]);
      const gate = await gateAuthUsers(sdb);
      // what pg_restore does at the end of a restore
      const fk = sdb.query('ALTER TABLE public.gate_probe ADD FOREIGN KEY (user_id) REFERENCES auth.users(id)');
      let waiting = 0;
      for (let i = 0; i < 200 && waiting === 0; i++) {
        const r = await sdb.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'ALTER TABLE public.gate_probe%'",
        );
        waiting = r.rows[0]!.n;
        if (waiting === 0) await new Promise((r) => setTimeout(r, 25));
      }
      expect(waiting).toBe(1);
      gate.load({
        entry: { file: 'auth-users.json', rows: 1, columns: ['id', 'email'] },
        json: JSON.stringify([{ id: user, email: 'probe@example.com' }]),
        file: null,
      });
      await gate.done;
      await fk;
      const users = await sdb.query<{ email: string }>('SELECT email FROM auth.users WHERE id = $1', [user]);
      expect(users.rows).toEqual([{ email: 'probe@example.com' }]);
    } finally {
      await sdb.close();
      await scratch.drop();
    }
  });

  it('a damaged archive whose hashes were re-recorded still fails: the restore test, not only the hash, catches it', async () => {
    const damages: [string, (buf: Buffer) => Buffer, RegExp][] = [
      ['truncated', (b) => b.subarray(0, Math.floor(b.length * 0.6)), /pg_restore/],
      // the last bytes are compressed table data: zlib's checksum fails on the full read
      // the last bytes are compressed data of a restored table: the restore itself fails on zlib's checksum
      ['data bit flip', (b) => flip(b, b.length - 40), /restore into .* failed: .*could not uncompress data/],
      // auth is never restored: only reading its blocks apart catches the damage
      [
        'auth data bit flip',
        (b) => flip(b, dataBlockOf(b, authUsersDataId) + 20),
        /reading the blocks of auth failed: .*(uncompress|corrupt|invalid)/,
      ],
      // one digit of a CHECK constraint: restores without an error, only the comparison sees it
      [
        'ddl digit',
        (b) => replaceOnce(b, 'capacite_totale > (0)', 'capacite_totale > (1)'),
        /constraint public\.citernes\.citernes_capacite_totale_check: changed/,
      ],
    ];
    const toc = await listArchive({ file: path.join(good.dir, ARCHIVE_FILE), serverMajor: good.manifest.source.serverMajor });
    const authUsersDataId = toc.entries.find((e) => e.type === 'TABLE DATA' && e.schema === 'auth' && e.tag.startsWith('users '))!.id;
    for (const [name, damage, expected] of damages) {
      const bad = path.join(work, `rehashed-${name.replace(/ /g, '-')}`);
      await cp(good.dir, bad, { recursive: true });
      await rm(path.join(bad, VERIFICATION_FILE));
      const file = path.join(bad, ARCHIVE_FILE);
      await writeFile(file, damage(await readFile(file)));
      const { manifest } = await readManifest(bad);
      const d = await hashFile(file);
      manifest.files = manifest.files.map((f) => (f.path === ARCHIVE_FILE ? { ...f, ...d } : f));
      await writeFile(path.join(bad, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
      const v = await verifyBackup(bad, { serverUrl: TEST_DATABASE_URL! }, silentLogger);
      expect(v.hashes.ok, name).toBe(true);
      expect(v.ok, name).toBe(false);
      expect(v.failures.join('\n'), name).toMatch(expected);
      expect((await rejection(rollback(fx().db, { backupDir: bad }, silentLogger))) as UserError, name).toMatchObject({
        code: 'BACKUP_NOT_VERIFIED',
      });
    }
  });

  it('refuses a folder never verified, and a non-empty output folder, before touching anything', async () => {
    const bare = path.join(work, 'unverified');
    await cp(good.dir, bare, { recursive: true });
    await rm(path.join(bare, VERIFICATION_FILE));
    expect((await rejection(assertVerifiedBackup(bare))) as UserError).toMatchObject({ code: 'BACKUP_NOT_VERIFIED' });
    expect((await rejection(backup(fx().db, { outDir: good.dir }, silentLogger))) as UserError).toMatchObject({
      code: 'OUT_DIR_NOT_EMPTY',
    });
    const badCompress = path.join(work, 'bad-compress');
    expect((await rejection(backup(fx().db, { outDir: badCompress, compress: 'fast' }, silentLogger))) as UserError).toMatchObject({
      code: 'BAD_OPTION',
      where: { field: 'compress' },
    });
    expect(existsSync(badCompress)).toBe(false);
  });

  it('refuses a folder written by an earlier manifest format, naming the file and the field', async () => {
    const old = path.join(work, 'format-3');
    await cp(good.dir, old, { recursive: true });
    const file = path.join(old, MANIFEST_FILE);
    await writeFile(file, (await readFile(file, 'utf8')).replace('"format": "astm53b-backup/4"', '"format": "astm53b-backup/3"'));
    const err = (await rejection(rollback(fx().db, { backupDir: old }, silentLogger))) as UserError;
    expect(err).toMatchObject({ code: 'BACKUP_FORMAT', where: { file, field: 'format' } });
    expect(err.message).toMatch(/astm53b-backup\/3 backup; this astm53b reads astm53b-backup\/4/);
  });

  it('a connection killed during the dump fails the step, leaves no verified folder and drops the scratch database', async () => {
    const db = fx().db;
    const out = path.join(work, 'killed');
    const lines = memoryLogger();
    const locker = new PgDb(fx().scratch.url);
    // an exclusive lock makes pg_dump wait on its LOCK TABLE, so the kill lands mid-dump (the
    // scratch restore is already reading pg_dump's output); the table is one the step reads only
    // once pg_dump has started
    const lock = await holdOpenTransaction(locker, 'LOCK TABLE public.cours_de_route IN ACCESS EXCLUSIVE MODE');
    try {
      const step = rejection(backup(db, { outDir: out, lockTimeoutMs: 600_000 }, lines));
      let pid: number | undefined;
      for (let i = 0; i < 1200 && pid === undefined; i++) {
        const r = await locker.query<{ pid: number }>(
          "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database() AND wait_event_type = 'Lock'",
          [DUMP_APP_NAME],
        );
        pid = r.rows[0]?.pid;
        if (pid === undefined) await new Promise((r) => setTimeout(r, 50));
      }
      expect(pid).toBeDefined();
      await locker.query('SELECT pg_terminate_backend($1)', [pid]);
      const err = await step;
      expect(err).toBeInstanceOf(UserError);
      expect(err.message).toMatch(/pg_dump .* failed/);
    } finally {
      await lock.release();
      await locker.close();
    }
    expect(existsSync(path.join(out, VERIFICATION_FILE))).toBe(false);
    expect(existsSync(path.join(out, MANIFEST_FILE))).toBe(false);
    expect((await rejection(assertVerifiedBackup(out))) as UserError).toMatchObject({ code: 'BACKUP_INCOMPLETE' });
    const scratchName = /scratch database (astm53b_backup_verify_\w+)/.exec(lines.lines.join('\n'))?.[1];
    expect(scratchName).toBeDefined();
    const left = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_database WHERE datname = $1', [scratchName]);
    expect(left.rows[0]!.n).toBe(0);
  });

  it('a part that fails beside pg_dump stops it: the step ends at once and no pg_dump outlives it', async () => {
    const db = fx().db;
    const scratch = await createScratchDatabase(TEST_DATABASE_URL!, 'test_gate_fails');
    const locker = new PgDb(fx().scratch.url);
    // pg_dump waits on this lock for as long as the step allows (10 min)...
    const lock = await holdOpenTransaction(locker, 'LOCK TABLE public.cours_de_route IN ACCESS EXCLUSIVE MODE');
    try {
      // ...while the scratch's own auth.users refuses the referenced rows (a column the source lacks, NOT NULL)
      const sdb = new PgDb(scratch.url);
      await sdb.query('CREATE SCHEMA auth');
      await sdb.query('CREATE TABLE auth.users (id uuid PRIMARY KEY, email text, tenant text NOT NULL)');
      await sdb.query("CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS 'SELECT NULL::uuid'");
      await sdb.query("CREATE FUNCTION auth.role() RETURNS text LANGUAGE sql STABLE AS 'SELECT NULL::text'");
      await sdb.close();
      const t0 = Date.now();
      const err = await rejection(
        backup(db, { outDir: path.join(work, 'gate-fails'), scratchUrl: scratch.url, lockTimeoutMs: 600_000 }, silentLogger),
      );
      expect(err.message).toMatch(/tenant/);
      expect(Date.now() - t0).toBeLessThan(60_000);
      const dumps = await locker.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1', [
        DUMP_APP_NAME,
      ]);
      expect(dumps.rows[0]!.n).toBe(0);
    } finally {
      await lock.release();
      await locker.close();
      await scratch.drop();
    }
  });

  describe('rollback after the P0 change and new movements', () => {
    let before: { authUsers: Awaited<ReturnType<typeof tableChecksum>> };

    beforeAll(async () => {
      const db = fx().db;
      before = { authUsers: await tableChecksum(db, 'auth', 'users') };
      await applyP0AndMove(db);
    });

    it('the database really moved away from the backup (P0 functions, new rows)', async () => {
      const c = await compareWithManifest(fx().db, good.manifest);
      expect(c.ok).toBe(false);
      expect(c.functions.every((f) => !f.match)).toBe(true);
      const moved = c.tables.filter((t) => !t.match).map((t) => t.table);
      for (const t of [
        'public.receptions',
        'public.sorties_produit',
        'public.stocks_journaliers',
        'public.log_actions',
        'public.cours_de_route',
      ])
        expect(moved).toContain(t);
    });

    it('a rollback that fails midway leaves the target exactly as it was', async () => {
      const db = fx().db;
      // an object outside the application schemas that depends on a table: the no-CASCADE drop must fail
      await db.query('CREATE SCHEMA reporting');
      await db.query('CREATE VIEW reporting.recent AS SELECT id FROM public.receptions');
      try {
        const snap = await compareWithManifest(db, good.manifest);
        const fp = await readFingerprint(db);
        const err = await rejection(rollback(db, { backupDir: good.dir }, silentLogger));
        expect(err).toBeInstanceOf(UserError);
        expect(err.message).toMatch(/pg_restore script\) failed: \[2BP01\]/);
        expect(await compareWithManifest(db, good.manifest)).toEqual(snap);
        expect((await readFingerprint(db)).sha256).toBe(fp.sha256);
      } finally {
        await db.query('DROP SCHEMA reporting CASCADE');
      }
    });

    it('restores the backed-up state: legacy functions byte for byte, every table checksum, triggers and policies', async () => {
      const db = fx().db;
      const r = await rollback(db, { backupDir: good.dir }, silentLogger);
      expect(r.failures).toEqual([]);
      expect(r.ok).toBe(true);
      expect(r.restoredSchemas).toEqual(['public']);
      expect(r.notRestored).toContain('auth');
      expect(r.comparison!.tables.every((t) => t.match)).toBe(true);
      expect(r.comparison!.catalog.changes).toEqual([]);
      for (const f of good.manifest.functions) {
        expect((await readFunctionExport(db, f.name)).text).toBe(await readFile(path.join(good.dir, f.file), 'utf8'));
      }
      expect(r.todos.join('\n')).toMatch(/legacy app build/);
      expect(r.todos.join('\n')).toMatch(/inform the depot team/);
      expect(r.ms.restore).toBeGreaterThan(0);
      // auth was not touched
      expect(await tableChecksum(db, 'auth', 'users')).toEqual(before.authUsers);
    });

    it('restored without any write guard: triggers came after the data, no allow-write setting persists, and the guards still bite', async () => {
      const db = fx().db;
      const r = await rollback(db, { backupDir: good.dir }, silentLogger);
      expect(r.protections).toMatchObject({ triggersCreatedAfterData: true });
      expect(r.protections.tableDataEntries).toBeGreaterThan(10);
      expect(r.protections.triggerEntries).toBeGreaterThan(10);
      const persisted = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_db_role_setting WHERE array_to_string(setconfig, ',') ~ '(allow_write|session_replication_role)'",
      );
      expect(persisted.rows[0]!.n).toBe(0);
      await expectGuardsStillBite(db, good.manifest);
    });

    it('grants and RLS come back: anon still reads nothing, the gerant reads the stock', async () => {
      const db = fx().db;
      await expectRlsBack(db, ['receptions', 'sorties_produit', 'stocks_journaliers', 'stocks_snapshot']);
    });
  });
});

function ids(tables: { table: string }[]): string[] {
  return tables.map((t) => t.table);
}

/**
 * A database (or role) may set its own TimeZone or DateStyle, which a scratch copy made from
 * template0 does not inherit: the CSV snapshots are written in one text form (UTC, ISO), so the
 * file is the rows' own, whichever session wrote it, and the same query on the source gives the
 * same bytes.
 */
describePg('CSV snapshots of a database that sets its own TimeZone and DateStyle', () => {
  const fx = useFreshDatabase('backup_csv_text', { fixture: true });
  let work = '';
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('writes them in UTC and ISO dates, equal byte for byte to the source read the same way', async () => {
    work = await mkdtemp(path.join(tmpdir(), 'astm53b-backup-csv-text-'));
    const name = new URL(fx().scratch.url).pathname.slice(1);
    await fx().db.query(`ALTER DATABASE "${name}" SET timezone = 'Africa/Kinshasa'`);
    await fx().db.query(`ALTER DATABASE "${name}" SET datestyle = 'SQL, DMY'`);
    const db = new PgDb(fx().scratch.url);
    try {
      // new sessions of this database take its settings
      expect(
        (
          await db.query<{ tz: string; ds: string }>('SELECT current_setting($1) AS tz, current_setting($2) AS ds', [
            'TimeZone',
            'DateStyle',
          ])
        ).rows[0],
      ).toEqual({ tz: 'Africa/Kinshasa', ds: 'SQL, DMY' });
      const b = await backup(db, { outDir: path.join(work, 'b') }, silentLogger);
      expect(b.ok, b.verification.failures.join('\n')).toBe(true);
      expect(b.verification.snapshots!.map((x) => x.match)).toEqual([true, true, true]);
      const receptions = b.manifest.files.find((f) => f.path === snapshotFileOf('public.receptions'))!;
      const text = await readFile(path.join(b.dir, receptions.path), 'utf8');
      expect(text).toMatch(/\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d+)?\+00/);
      expect(text).not.toMatch(/\+01\b|\d{2}\/\d{2}\/\d{4}/);
      for (const qualified of SNAPSHOT_TABLES) {
        const [schema, table] = qualified.split('.') as [string, string];
        const f = b.manifest.files.find((x) => x.path === snapshotFileOf(qualified))!;
        const key = (await readTableKeys(db, [schema])).find((k) => k.table === table)!.key;
        expect({ qualified, ...(await digestTableCsv(db, schema, table, key)) }).toMatchObject({
          qualified,
          bytes: f.bytes,
          sha256: f.sha256,
        });
      }
      // the session that exported them is left as it was
      expect((await db.query<{ tz: string }>('SELECT current_setting($1) AS tz', ['TimeZone'])).rows[0]!.tz).toBe('Africa/Kinshasa');
    } finally {
      await db.close();
    }
  });
});
