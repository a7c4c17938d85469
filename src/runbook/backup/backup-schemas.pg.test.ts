import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PgDb } from '../../db/pg.js';
import { createScratchDatabase, databaseUrl } from '../../db/scratch.js';
import { memoryLogger, silentLogger } from '../../logger.js';
import { TEST_DATABASE_URL, describePg, useFreshDatabase } from '../../testing/pg.js';
import { freezeOn } from '../freeze.js';
import { assertVerifiedBackup } from './manifest.js';
import { backup, verifyBackup, type BackupResult } from './index.js';
import { readSourceIdentity } from './source-reads.js';

/**
 * The backup in the PROD workflow's order (db init → freeze on → backup), on a database that
 * has, besides public, the pipeline's own schema (created by `freeze on`) and the application
 * schema `astm` that ML_PP's PROD has: every schema the scratch restores must exist there first,
 * because `pg_restore -n` leaves out the CREATE SCHEMA of a schema it restores. And the manifest
 * records which database the backup came from.
 */

describePg('backup after freeze on, with an application schema besides public (real PostgreSQL)', () => {
  const fx = useFreshDatabase('backup_schemas', { fixture: true });
  let work: string;
  let b: BackupResult;

  beforeAll(async () => {
    const db = fx().db;
    await db.query('CREATE SCHEMA astm');
    await db.query('CREATE TABLE astm.table54b_ref (density15 numeric PRIMARY KEY, vcf_30c numeric NOT NULL, note text)');
    await db.query("INSERT INTO astm.table54b_ref VALUES (820, 0.98735, 'jet'), (840, 0.98811, 'gasoil'), (860, 0.98880, NULL)");
    const frozen = await freezeOn(
      db,
      { reason: 'backup test', force: true, run: { runId: 'backup-schemas', actor: 'test' } },
      silentLogger,
    );
    expect(frozen.frozen).toBe(true);
    work = await mkdtemp(path.join(tmpdir(), 'astm53b-backup-schemas-'));
    b = await backup(db, { outDir: path.join(work, 'b') }, memoryLogger());
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('db init → freeze on → backup: verified, with astm and astm53b restored into the scratch copy', () => {
    expect(b.verification.failures).toEqual([]);
    expect(b.ok).toBe(true);
    expect(b.manifest.schemas.application).toEqual(['public', 'astm']);
    expect(b.manifest.schemas.pipeline).toEqual(['astm53b']);
    expect(b.verification.restore).toMatchObject({ from: 'dump stream', schemas: ['public', 'astm', 'astm53b'] });
    const astm = b.verification.comparison!.tables.find((t) => t.table === 'astm.table54b_ref');
    expect(astm).toMatchObject({ match: true, actual: { rows: 3 } });
  });

  it('backup verify of the folder restores the archive file afresh and verifies it too', async () => {
    const v = await verifyBackup(b.dir, { serverUrl: TEST_DATABASE_URL! }, silentLogger);
    expect(v.failures).toEqual([]);
    expect(v.ok).toBe(true);
    expect(v.restore).toMatchObject({ from: 'archive file', schemas: ['public', 'astm', 'astm53b'] });
    expect((await assertVerifiedBackup(b.dir)).schemas.application).toEqual(['public', 'astm']);
  });

  it('the manifest says which database the backup came from: system identifier, database OID, no Supabase project', async () => {
    const db = fx().db;
    const sys = await db.query<{ id: string }>('SELECT system_identifier::text AS id FROM pg_control_system()');
    const oid = await db.query<{ oid: string }>('SELECT oid::text AS oid FROM pg_database WHERE datname = current_database()');
    expect(b.manifest.source).toMatchObject({
      database: fx().scratch.name,
      systemIdentifier: sys.rows[0]!.id,
      databaseOid: Number(oid.rows[0]!.oid),
      projectRef: null,
    });
  });

  it('a role that may not call pg_control_system(): no system identifier, and the snapshot transaction goes on', async () => {
    await fx().db.withClient(
      async (c) => {
        await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
        try {
          // function ACLs live in each database's pg_proc: this REVOKE touches this database only, and is rolled back
          await c.query('REVOKE EXECUTE ON FUNCTION pg_control_system() FROM PUBLIC');
          await c.query('CREATE ROLE astm53b_test_no_control NOLOGIN');
          await c.query('SET LOCAL ROLE astm53b_test_no_control');
          const id = await readSourceIdentity(c);
          expect(id.systemIdentifier).toBeNull();
          expect(id.databaseOid).toBeGreaterThan(0);
          expect((await c.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
        } finally {
          await c.query('ROLLBACK');
        }
      },
      { discard: true },
    );
  });
});

describePg('backup as a Supabase-style role that may not read pg_control_system() (real PostgreSQL)', () => {
  const fx = useFreshDatabase('backup_identity', { fixture: true });
  // a Supabase pooler user is "postgres.<project ref>" (projectRefOf reads the ref from it); like
  // Supabase's postgres role it is no superuser, but reads everything, bypasses RLS and sees the
  // grants the owner made (a member of the owner)
  const ref = `a53b${Date.now().toString(36)}`;
  const role = `postgres.${ref}`;
  let work: string;

  beforeAll(async () => {
    const db = fx().db;
    await db.query(`CREATE ROLE "${role}" LOGIN BYPASSRLS IN ROLE pg_read_all_data, postgres`);
    // from the owner too, whose privileges its members inherit (the superuser still may: it bypasses ACLs)
    await db.query('REVOKE EXECUTE ON FUNCTION pg_control_system() FROM PUBLIC, postgres');
    work = await mkdtemp(path.join(tmpdir(), 'astm53b-backup-identity-'));
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
    await fx()
      .db.query(`DROP ROLE IF EXISTS "${role}"`)
      .catch(() => {});
  });

  it('records the project ref of the connection and a null system identifier, and still verifies', async () => {
    const u = new URL(databaseUrl(TEST_DATABASE_URL!, fx().scratch.name));
    u.username = encodeURIComponent(role);
    const db = new PgDb(u.toString());
    // the role may not create databases: the proof restores into one made for it
    const scratch = await createScratchDatabase(TEST_DATABASE_URL!, 'test_identity');
    try {
      const r = await backup(db, { outDir: path.join(work, 'b'), scratchUrl: scratch.url }, silentLogger);
      expect(r.verification.failures).toEqual([]);
      expect(r.ok).toBe(true);
      expect(r.manifest.source).toMatchObject({ systemIdentifier: null, projectRef: ref });
      expect(r.manifest.source.databaseOid).toBeGreaterThan(0);
    } finally {
      await db.close();
      await scratch.drop();
    }
  });
});
