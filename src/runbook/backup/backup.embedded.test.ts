import { cp, mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableChecksum } from '../../db/checksum.js';
import { readFingerprint } from '../../db/fingerprint.js';
import { PGLITE_DUMP_TOOL, readSqlDumpToc } from '../../db/pglite-dump.js';
import { PgliteDb } from '../../db/pglite.js';
import { splitSql } from '../../db/sql-split.js';
import { UserError } from '../../errors.js';
import { hashFile } from '../../hash.js';
import { memoryLogger, silentLogger } from '../../logger.js';
import { MANIFEST_FILE, SQL_DUMP_FILE, VERIFICATION_FILE, assertVerifiedBackup, readManifest } from './manifest.js';
import { backup, verifyBackup, type BackupResult } from './index.js';
import { compareWithManifest } from './compare.js';
import { readFunctionExport } from './source-reads.js';
import { initFixture } from '../db-init.js';
import { rollback, triggersAfterData } from '../rollback.js';
import { expectFailure as rejection } from '../../testing/command.js';
import { applyP0AndMove } from '../../testing/movements.js';
import { backupFiles } from '../../testing/backup-files.js';
import { expectGuardsStillBite, expectRlsBack } from '../../testing/rollback-checks.js';

/**
 * Runbook 3.1 / 4.2 / 6.2 on the embedded database: the PGlite dump tool's plain SQL, proven
 * by a restore into a fresh in-memory PGlite and compared exactly as the PostgreSQL path
 * compares; damaged folders refused; a rollback after P0 and new movements brings back the
 * backed-up state without touching any DB-STRICT guard. Tests run in order on one database.
 */

/** A damaged copy of the backup whose manifest was re-hashed, so only the restore test can catch it. */
async function rehashedCopy(from: string, to: string, damage: (text: string) => string): Promise<void> {
  await cp(from, to, { recursive: true });
  await rm(path.join(to, VERIFICATION_FILE));
  const file = path.join(to, SQL_DUMP_FILE);
  await writeFile(file, damage(await readFile(file, 'utf8')));
  const { manifest } = await readManifest(to);
  const d = await hashFile(file);
  manifest.files = manifest.files.map((f) => (f.path === SQL_DUMP_FILE ? { ...f, ...d } : f));
  await writeFile(path.join(to, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}

/** The first `from` after `after` (e.g. in the data, not in a function body), replaced. */
function replaceOnce(text: string, from: string, to: string, after = ''): string {
  const at = text.indexOf(from, text.indexOf(after));
  if (at < 0) throw new Error(`"${from}" is not in the dump`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}

describe('backup, verify and rollback on the embedded database (PGlite dump tool)', () => {
  let db: PgliteDb;
  let work: string;
  let good: BackupResult;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'astm53b-backup-embedded-'));
    db = await PgliteDb.open(undefined);
    await initFixture(db, { scale: 1, seed: 1 }, silentLogger);
    good = await backup(db, { outDir: path.join(work, 'good') }, silentLogger);
  });
  afterAll(async () => {
    await db?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('writes a plain SQL dump, both functions and the three snapshots, hashed; the manifest names engine and format', async () => {
    const m = good.manifest;
    expect(m.dump).toMatchObject({ engine: 'pglite', format: 'plain', file: SQL_DUMP_FILE, schemas: ['public'], pipelineFile: null });
    expect(m.tools.pg_dump.path).toBe(PGLITE_DUMP_TOOL);
    expect(m.tools.pg_dump.version).toMatch(/^1[89]\.\d+$/);
    expect(m.files.map((f) => f.path).sort()).toEqual(backupFiles(SQL_DUMP_FILE));
    for (const f of m.files) expect(await hashFile(path.join(good.dir, f.path))).toEqual({ bytes: f.bytes, sha256: f.sha256 });
    expect(m.schemas.excluded).toContain('auth');
    // a laptop rehearsal has no PROD server to keep the dump off
    expect(good.warnings).toEqual([]);
    expect(m.tables.find((t) => t.table === 'public.receptions')!.rows).toBe(9);
  });

  it('the dump loads with a plain driver and creates every trigger after the last row is loaded', async () => {
    const file = path.join(good.dir, SQL_DUMP_FILE);
    const toc = await readSqlDumpToc(file);
    expect(toc.complete).toBe(true);
    const order = triggersAfterData(toc.entries);
    expect(order).toMatchObject({ ok: true });
    expect(order.tableData).toBe(14);
    expect(order.triggers).toBe(19);
    const split = splitSql(await readFile(file, 'utf8'));
    expect(split.metaCommands).toEqual([]);
    expect(split.statements.some((s) => /^COPY /i.test(s.sql))).toBe(false);
  });

  it('verification ran the dump into a fresh PGlite and found every table, function, trigger and policy equal', () => {
    const v = good.verification;
    expect(v.failures).toEqual([]);
    expect(v.ok).toBe(true);
    expect(good.ok).toBe(true);
    expect(v.archive).toMatchObject({ readable: true, dumpedBy: good.manifest.tools.pg_dump.version });
    expect(v.archive.entries).toBeGreaterThan(200);
    expect(v.restore!.into).toMatch(/scratch PGlite in memory/);
    const c = v.comparison!;
    expect(c.tables.length).toBe(good.manifest.tables.length);
    expect(c.tables.every((t) => t.match)).toBe(true);
    expect(c.functions.map((f) => [f.name, f.match])).toEqual([
      ['public.validate_sortie', true],
      ['public.sorties_produit_block_update_delete', true],
    ]);
    const kinds = new Set(good.manifest.fingerprint.entries.map((e) => e.kind));
    for (const k of ['function', 'trigger', 'policy', 'rls', 'table_grant']) expect(kinds).toContain(k);
    expect(c.catalog).toMatchObject({ match: true, changes: [] });
    expect(c.structure).toMatchObject({ match: true, changes: [] });
    expect(v.notCompared.note).toMatch(/embedded dump holds the application schemas/);
  });

  it('writers during the backup wait for it: reads and dump describe one instant, and the proof still holds', async () => {
    const before = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM public.log_actions')).rows[0]!.n;
    let done = false;
    let writes = 0;
    const writer = (async () => {
      while (!done) {
        await db.query("INSERT INTO public.log_actions (action, module, details) VALUES ('TEST_WRITER', 'test', '{}')");
        writes++;
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    const r = await backup(db, { outDir: path.join(work, 'under-writes') }, silentLogger).finally(() => {
      done = true;
    });
    await writer;
    expect(r.ok).toBe(true);
    expect(writes).toBeGreaterThan(0);
    const after = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM public.log_actions')).rows[0]!.n;
    const recorded = r.manifest.tables.find((t) => t.table === 'public.log_actions')!.rows;
    expect(after).toBe(before + writes);
    expect(recorded).toBeGreaterThanOrEqual(before);
    expect(recorded).toBeLessThanOrEqual(after);
    await db.query("DELETE FROM public.log_actions WHERE action = 'TEST_WRITER'");
  });

  it('backup verify needs no server for an embedded backup; a bit flip fails it and the gate refuses the folder', async () => {
    const again = await verifyBackup(good.dir, {}, silentLogger);
    expect(again.ok).toBe(true);

    const bad = path.join(work, 'flipped');
    await cp(good.dir, bad, { recursive: true });
    const file = path.join(bad, SQL_DUMP_FILE);
    const h = await open(file, 'r+');
    const at = Math.floor((await stat(file)).size / 2);
    const b = Buffer.alloc(1);
    await h.read(b, 0, 1, at);
    b[0] = b[0]! ^ 0x01;
    await h.write(b, 0, 1, at);
    await h.close();
    expect((await rejection(assertVerifiedBackup(bad))) as UserError).toMatchObject({ code: 'BACKUP_TAMPERED' });
    const v = await verifyBackup(bad, {}, silentLogger);
    expect(v.ok).toBe(false);
    expect(v.hashes.problems).toEqual([{ path: SQL_DUMP_FILE, problem: expect.stringMatching(/^SHA-256/) }]);
    expect(v.restore).toBeNull();
    expect((await rejection(rollback(db, { backupDir: bad }, silentLogger))) as UserError).toMatchObject({ code: 'BACKUP_NOT_VERIFIED' });
  });

  it('a damaged dump whose hashes were re-recorded still fails: the restore test, not only the hash, catches it', async () => {
    const damages: [string, (t: string) => string, RegExp][] = [
      ['truncated', (t) => t.slice(0, Math.floor(t.length * 0.6)), /database\.sql: pg_dump's opening or closing line is missing/],
      [
        'ddl digit',
        (t) => replaceOnce(t, 'capacite_totale > (0)', 'capacite_totale > (1)'),
        /constraint public\.citernes\.citernes_capacite_totale_check: changed/,
      ],
      [
        'data',
        (t) => replaceOnce(t, "'RECEPTION_CREEE'", "'RECEPTION_CREEX'", 'Type: TABLE DATA; Schema: public'),
        /^public\.log_actions: \d+ rows checksum/m,
      ],
      [
        'broken statement',
        (t) => replaceOnce(t, 'CREATE TABLE public.receptions', 'CREATE TABLE public.receptions receptions'),
        /restore into scratch PGlite .* failed: SQL_FAILED: database\.sql:\d+: .*syntax error/,
      ],
    ];
    for (const [name, damage, expected] of damages) {
      const bad = path.join(work, `rehashed-${name.replace(/ /g, '-')}`);
      await rehashedCopy(good.dir, bad, damage);
      const v = await verifyBackup(bad, {}, silentLogger);
      expect(v.hashes.ok, name).toBe(true);
      expect(v.ok, name).toBe(false);
      expect(v.failures.join('\n'), name).toMatch(expected);
      expect((await rejection(rollback(db, { backupDir: bad }, silentLogger))) as UserError, name).toMatchObject({
        code: 'BACKUP_NOT_VERIFIED',
      });
    }
  });

  it('refuses a backup made by the other engine before touching anything', async () => {
    const other = path.join(work, 'other-engine');
    await cp(good.dir, other, { recursive: true });
    const { manifest } = await readManifest(other);
    manifest.dump = { ...manifest.dump, engine: 'postgresql', format: 'custom' };
    await writeFile(path.join(other, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    const v = JSON.parse(await readFile(path.join(other, VERIFICATION_FILE), 'utf8'));
    v.manifestSha256 = (await readManifest(other)).sha256;
    await writeFile(path.join(other, VERIFICATION_FILE), JSON.stringify(v));
    const fp = await readFingerprint(db);
    expect((await rejection(rollback(db, { backupDir: other }, silentLogger))) as UserError).toMatchObject({ code: 'ENGINE_MISMATCH' });
    expect((await readFingerprint(db)).sha256).toBe(fp.sha256);
  });

  describe('rollback after the P0 change and new movements', () => {
    let authUsers: Awaited<ReturnType<typeof tableChecksum>>;

    beforeAll(async () => {
      authUsers = await tableChecksum(db, 'auth', 'users');
      await applyP0AndMove(db);
    });

    it('the database really moved away from the backup (P0 functions, new rows)', async () => {
      const c = await compareWithManifest(db, good.manifest);
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
      // an object outside the application schemas that depends on a table: the drop without CASCADE must fail
      await db.query('CREATE SCHEMA reporting');
      await db.query('CREATE VIEW reporting.recent AS SELECT id FROM public.receptions');
      try {
        const snap = await compareWithManifest(db, good.manifest);
        const fp = await readFingerprint(db);
        const err = await rejection(rollback(db, { backupDir: good.dir }, silentLogger));
        expect(err).toBeInstanceOf(UserError);
        expect(err.message).toMatch(/depend/);
        expect((err as UserError).where?.file).toBe(SQL_DUMP_FILE);
        expect(await compareWithManifest(db, good.manifest)).toEqual(snap);
        expect((await readFingerprint(db)).sha256).toBe(fp.sha256);
      } finally {
        await db.query('DROP SCHEMA reporting CASCADE');
      }
    });

    it('restores the backed-up state: legacy functions byte for byte, every table checksum, triggers and policies', async () => {
      const log = memoryLogger();
      const r = await rollback(db, { backupDir: good.dir }, log);
      expect(r.failures).toEqual([]);
      expect(r.ok).toBe(true);
      expect(r.restoredSchemas).toEqual(['public']);
      expect(r.notRestored).toContain('auth');
      expect(r.comparison!.tables.length).toBe(good.manifest.tables.length);
      expect(r.comparison!.tables.every((t) => t.match && t.actual!.checksum === t.expected!.checksum)).toBe(true);
      expect(r.comparison!.catalog.changes).toEqual([]);
      expect(r.comparison!.structure.changes).toEqual([]);
      for (const f of good.manifest.functions) {
        expect((await readFunctionExport(db, f.name)).text).toBe(await readFile(path.join(good.dir, f.file), 'utf8'));
      }
      expect(await tableChecksum(db, 'auth', 'users')).toEqual(authUsers);
      expect(r.todos.join('\n')).toMatch(/legacy app build/);
      // the same Db keeps working normally after the dump's session settings (search_path '')
      expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM receptions')).rows[0]!.n).toBe(9);
    });

    it('restored without any write guard: triggers after the data, no allow-write setting left, and the guards still bite', async () => {
      const r = await rollback(db, { backupDir: good.dir }, silentLogger);
      expect(r.protections).toMatchObject({ triggersCreatedAfterData: true, tableDataEntries: 14, triggerEntries: 19 });
      expect(r.protections.note).toMatch(/plain SQL dump/);
      const settings = await db.query<{ v: string }>(
        "SELECT coalesce(current_setting('app.sorties_produit_allow_write', true), '') || coalesce(current_setting('app.receptions_allow_write', true), '') || coalesce(current_setting('app.stocks_journaliers_allow_write', true), '') AS v",
      );
      expect(settings.rows[0]!.v).toBe('');
      await expectGuardsStillBite(db, good.manifest);
    });

    it('grants and RLS come back: anon reads nothing, the gerant reads the stock', async () => {
      await expectRlsBack(db, ['receptions', 'sorties_produit', 'stocks_journaliers', 'stocks_snapshot', 'log_actions', 'profils']);
    });
  });
});
