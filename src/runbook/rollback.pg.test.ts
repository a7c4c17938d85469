import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PIPELINE_PREFIX } from '../db/fingerprint.js';
import { readTableKeys, tablesChecksums } from '../db/checksum.js';
import { PgDb } from '../db/pg.js';
import { createScratchDatabase, type ScratchDatabase } from '../db/scratch.js';
import type { Db } from '../db/types.js';
import { silentLogger } from '../logger.js';
import { initFixture } from './db-init.js';
import { userWithRole } from '../testing/fixture-contract.js';
import { appReception } from '../testing/movements.js';
import { describePg, holdOpenTransaction, TEST_DATABASE_URL, useFreshDatabase } from '../testing/pg.js';
import { expectUserError } from '../testing/command.js';
import { withAppUser } from '../db/as-user.js';
import { backup } from './backup/index.js';
import { FREEZE_SQLSTATE, freezeOff, freezeOn, freezeStatus } from './freeze.js';
import { rollback } from './rollback.js';

/**
 * The rollback's own guarantees on real PostgreSQL: only this database's backup, bounded waits
 * and the pipeline lock, nothing changed when it cannot finish, the freeze kept (or set: runbook
 * 6.2 step 1), and what it discards said per table.
 */
const run = { runId: 'rollback-1', actor: 'ops-lead' };

async function sums(db: Db): Promise<Record<string, string>> {
  const keys = await readTableKeys(db, ['public', 'astm'], PIPELINE_PREFIX);
  return Object.fromEntries((await tablesChecksums(db, keys)).map((t) => [t.table, `${t.rows}:${t.checksum}`]));
}

async function frozenForApp(db: Db): Promise<boolean> {
  const gerant = await userWithRole(db, 'gerant');
  return withAppUser(db, { role: 'authenticated', userId: gerant }, (tx) => appReception(tx, '2026-02-27')).then(
    () => {
      throw new Error('the app reception went through; this test expected the freeze');
    },
    (e: { code?: string }) => e.code === FREEZE_SQLSTATE,
  );
}

describePg('rollback: its own guarantees (real PostgreSQL, real pg_restore)', () => {
  const fx = useFreshDatabase('rollback', { fixture: true });
  let tmp = '';
  let dir = '';
  let other: ScratchDatabase | undefined;
  let otherDb: PgDb | undefined;
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), 'astm53b-rollback-'));
    const b = await backup(fx().db, { outDir: path.join(tmp, 'backup') }, silentLogger);
    expect(b.ok).toBe(true);
    dir = b.dir;
  });
  afterAll(async () => {
    await otherDb?.close().catch(() => {});
    await other?.drop().catch(() => {});
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('a backup of another database is refused before anything is touched; --allow-other-source restores it and records why', async () => {
    other = await createScratchDatabase(TEST_DATABASE_URL!, 'rollback_other');
    otherDb = new PgDb(other.url);
    await initFixture(otherDb, { scale: 1, seed: 2 }, silentLogger);
    const before = await sums(otherDb);
    const e = await expectUserError(rollback(otherDb, { backupDir: dir, run }, silentLogger));
    expect(e.code).toBe('BACKUP_OF_ANOTHER_DATABASE');
    expect(await sums(otherDb)).toEqual(before);
    expect((await otherDb.query("SELECT to_regclass('astm53b.freeze_state') AS t")).rows[0]).toEqual({ t: null });

    const r = await rollback(otherDb, { backupDir: dir, run, allowOtherSource: 'rehearsal on a copy' }, silentLogger);
    expect(r.ok).toBe(true);
    expect(r.source.override).toBe('rehearsal on a copy');
    expect(r.warnings.join(' ')).toContain('rehearsal on a copy');
    expect(await sums(otherDb)).toEqual(await sums(fx().db));
  });

  it('a session holding a lock on receptions: the rollback gives up within its lock_timeout and changes nothing', async () => {
    const db = fx().db;
    await db.query("UPDATE public.depots SET adresse = coalesce(adresse, '') || ' *'");
    const before = await sums(db);
    const held = await holdOpenTransaction(db, 'LOCK TABLE public.receptions IN ACCESS SHARE MODE');
    try {
      const t0 = Date.now();
      const e = await expectUserError(rollback(db, { backupDir: dir, run, lockTimeoutMs: 500 }, silentLogger));
      expect(Date.now() - t0).toBeLessThan(30_000);
      expect(e.code).toBe('RESTORE_FAILED');
      expect(e.message).toMatch(/\[55P03\]/);
      expect(e.message).toContain('the database is exactly as it was');
    } finally {
      await held.release();
    }
    expect(await sums(db)).toEqual(before);
    // rolled back with the rest: the freeze it would have set is not there
    expect((await freezeStatus(db)).frozen).toBe(false);
  });

  it('another pipeline step holding the pipeline lock: PIPELINE_BUSY, nothing changed', async () => {
    const db = fx().db;
    const before = await sums(db);
    const held = await holdOpenTransaction(db, 'SELECT pg_advisory_xact_lock(53053, 1)');
    try {
      const e = await expectUserError(rollback(db, { backupDir: dir, run, lockWaitMs: 300 }, silentLogger));
      expect(e.code).toBe('PIPELINE_BUSY');
    } finally {
      await held.release();
    }
    expect(await sums(db)).toEqual(before);
  });

  it('its backend killed mid-restore: nothing changed, no pg_restore left running', async () => {
    const db = fx().db;
    const before = await sums(db);
    // the restore waits on this lock; then its backend is terminated, as a cancelled runner's would die
    const held = await holdOpenTransaction(db, 'LOCK TABLE public.receptions IN ACCESS SHARE MODE');
    const pending = rollback(db, { backupDir: dir, run, lockTimeoutMs: 60_000 }, silentLogger).then(
      () => undefined,
      (e: unknown) => e,
    );
    try {
      let pid: number | undefined;
      for (let i = 0; i < 100 && !pid; i++) {
        await new Promise((r) => setTimeout(r, 100));
        pid = (
          await db.query<{ pid: number }>(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid() LIMIT 1",
          )
        ).rows[0]?.pid;
      }
      expect(pid).toBeDefined();
      await db.query('SELECT pg_terminate_backend($1)', [pid]);
      const e = await pending;
      expect(e).toBeInstanceOf(Error);
    } finally {
      await held.release();
    }
    expect(await sums(db)).toEqual(before);
    const left = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes('pg_restore') && l.includes(dir));
    expect(left).toEqual([]);
  });

  it('an unfrozen database is frozen by the rollback (runbook 6.2 step 1) and stays frozen; rows written since are reported', async () => {
    const db = fx().db;
    const r = await rollback(db, { backupDir: dir, run }, silentLogger);
    expect(r.failures).toEqual([]);
    expect(r.freeze).toMatchObject({ frozenBefore: false, frozenAfter: true, frozenByRollback: true });
    expect(r.discarded).toEqual([expect.objectContaining({ table: 'public.depots', writtenSince: 0, changedSince: 1, deletedSince: 0 })]);
    expect(await frozenForApp(db)).toBe(true);
    expect((await freezeStatus(db)).consistent).toBe(true);
  });

  it('frozen after the backup was taken: the rollback keeps the freeze (the dump has no guard triggers)', async () => {
    const db = fx().db;
    await freezeOff(db, { reason: 'test', run }, silentLogger);
    await freezeOn(db, { reason: 'again', force: true, run }, silentLogger);
    const r = await rollback(db, { backupDir: dir, run }, silentLogger);
    expect(r.ok).toBe(true);
    expect(r.freeze).toMatchObject({ frozenBefore: true, frozenAfter: true, frozenByRollback: false });
    expect(r.discarded).toEqual([]);
    const s = await freezeStatus(db);
    expect(s).toMatchObject({ frozen: true, consistent: true, reason: 'again' });
    expect(await frozenForApp(db)).toBe(true);
  });
});
