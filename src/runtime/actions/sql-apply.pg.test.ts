import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { readFingerprint } from '../../db/fingerprint.js';
import { PgDb } from '../../db/pg.js';
import { sqlPath, CHANGE_FILES } from '../../paths.js';
import { changeFileWriter, p0With } from '../../testing/change-files.js';
import { leaks, runActionWith } from '../../testing/action.js';
import { describePg, holdOpenTransaction, useFreshDatabase } from '../../testing/pg.js';
import { sqlApplyAction } from './sql-apply.js';

/** actions/sql-apply as the runner drives it: INPUT_* in, outputs/summary/result file out, the password masked. */
describePg('actions/sql-apply', () => {
  const fx = useFreshDatabase('action_sql_apply', { fixture: true });
  const saved = { ...process.env };
  const write = changeFileWriter();
  afterEach(() => {
    process.env = { ...saved };
    process.exitCode = undefined;
    vi.restoreAllMocks();
  });

  const runWith = (inputs: Record<string, string>) =>
    runActionWith(sqlApplyAction, { ...inputs, 'output-dir': '$DIR/results' }, { GITHUB_RUN_ID: '777', GITHUB_ACTOR: 'ops-lead' });

  it('dry run: passes, writes the result and summary, leaves the catalog as it was, never prints the password', async () => {
    const u = new URL(fx().scratch.url);
    u.password = 'Apply5ecret';
    const before = await readFingerprint(fx().db);
    const r = await runWith({ 'database-url': u.toString(), file: sqlPath(CHANGE_FILES.p0), 'dry-run': 'true' });
    expect(process.exitCode).toBeUndefined();
    expect(r.output).toMatch(/status<<.*\ndry-run\n/s);
    expect(r.summary).toContain('✅ DRY RUN passed');
    const json = await readFile(path.join(r.dir, 'results', 'sql-apply.json'), 'utf8');
    expect(JSON.parse(json).run).toEqual({ runId: 'github#777.1', actor: 'ops-lead' });
    expect(json).not.toContain('Apply5ecret');
    expect(leaks(r.stdout, 'Apply5ecret')).toEqual([]);
    expect((await readFingerprint(fx().db)).sha256).toBe(before.sha256);
  });

  it('a file that also changes a trigger fails the step, naming it', async () => {
    const file = write('bad.sql', p0With('ALTER TABLE public.receptions DISABLE TRIGGER trg_receptions_log_created;'));
    const r = await runWith({ 'database-url': fx().scratch.url, file });
    expect(process.exitCode).toBe(1);
    expect(r.stdout).toMatch(
      /::error::sql-apply: bad\.sql rejected and rolled back: changed trigger public\.receptions\.trg_receptions_log_created/,
    );
    expect(r.summary).toContain('- changed trigger `public.receptions.trg_receptions_log_created`');
  });

  it('a lock held by another session fails the step with one line and what to do, not "internal error"', async () => {
    const before = await readFingerprint(fx().db);
    const locker = new PgDb(fx().scratch.url);
    // the catalog fingerprint taken before the file runs reads pg_policy
    const lock = await holdOpenTransaction(locker, 'LOCK TABLE pg_catalog.pg_policy IN ACCESS EXCLUSIVE MODE');
    let r;
    try {
      r = await runWith({ 'database-url': fx().scratch.url, file: sqlPath(CHANGE_FILES.p0), 'lock-timeout-ms': '300' });
    } finally {
      await lock.release();
      await locker.close();
    }
    expect(process.exitCode).toBe(1);
    const errors = r.stdout.split('\n').filter((l) => l.startsWith('::error::'));
    expect(errors).toEqual([
      expect.stringMatching(
        /^::error::sql-apply: DB_LOCK_TIMEOUT: lock timeout after 300 ms waiting for a lock \(statement on pg_\w+(, pg_\w+)*\) in postgresql:\/\/\S+: another session holds it \(see pg_stat_activity for who holds it, then re-run the step, or raise input lock-timeout-ms; its transaction was rolled back\)$/,
      ),
    ]);
    expect(r.stdout).not.toContain('internal error');
    expect((await readFingerprint(fx().db)).sha256).toBe(before.sha256);
  });
});
