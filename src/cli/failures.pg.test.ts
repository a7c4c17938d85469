import { expect, it } from 'vitest';
import { pipelineLockHolders } from '../db/advisory-lock.js';
import { readFingerprint } from '../db/fingerprint.js';
import { PgDb } from '../db/pg.js';
import { sqlPath, CHANGE_FILES } from '../paths.js';
import { runCli } from '../testing/cli.js';
import { describePg, holdOpenTransaction, useFreshDatabase } from '../testing/pg.js';

/**
 * The CLI's one catch on failures of a real server under a command: a lock held by another
 * session, a backend terminated by an administrator. One line naming command, target and what to
 * do; exit 2; no stack; nothing changed.
 */
// pg_policy is read by the catalog fingerprint sql-apply takes before running the file, and by
// nothing the command does earlier: a session locking it stalls the apply exactly there
const LOCK_POLICIES = 'LOCK TABLE pg_catalog.pg_policy IN ACCESS EXCLUSIVE MODE';

const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l !== '' && !l.startsWith('· ') && !l.startsWith('! '));

describePg('astm53b: server failures under a command are the user\u2019s to fix, not bugs', () => {
  const fx = useFreshDatabase('cli_failures', { fixture: true });

  it('sql-apply hits lock_timeout in its fingerprint read while another session holds a lock: exit 2, one line, nothing applied', async () => {
    const { db, scratch } = fx();
    const before = await readFingerprint(db);
    const locker = new PgDb(scratch.url);
    const lock = await holdOpenTransaction(locker, LOCK_POLICIES);
    let r;
    try {
      r = await runCli(['apply', sqlPath(CHANGE_FILES.p0), '--url', scratch.url, '--lock-timeout-ms', '300']);
    } finally {
      await lock.release();
      await locker.close();
    }
    expect(r.code).toBe(2);
    expect(errorLines(r.stderr)).toEqual([
      expect.stringMatching(
        /^DB_LOCK_TIMEOUT: sql-apply: lock timeout after 300 ms waiting for a lock \(statement on pg_\w+(, pg_\w+)*\) in postgresql:\/\/\S+: another session holds it \(see pg_stat_activity for who holds it, then re-run the step, or raise --lock-timeout-ms; its transaction was rolled back\)$/,
      ),
    ]);
    expect(r.stderr).not.toMatch(/internal error|^\s+at /m);
    expect((await readFingerprint(db)).sha256).toBe(before.sha256);
    expect(await pipelineLockHolders(db, 'change')).toEqual([]);
  });

  it('a backend terminated (pg_terminate_backend) while sql-apply runs: exit 2, one line naming the target and what happened', async () => {
    const { db, scratch } = fx();
    const before = await readFingerprint(db);
    const locker = new PgDb(scratch.url);
    const lock = await holdOpenTransaction(locker, LOCK_POLICIES);
    let r;
    try {
      const pending = runCli(['apply', sqlPath(CHANGE_FILES.p0), '--url', scratch.url, '--lock-timeout-ms', '60000']);
      let pid: number | undefined;
      for (let i = 0; i < 400 && pid === undefined; i++) {
        const w = await locker.query<{ pid: number }>(
          "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'astm53b-pipeline' AND wait_event_type = 'Lock'",
        );
        pid = w.rows[0]?.pid;
        if (pid === undefined) await new Promise((res) => setTimeout(res, 25));
      }
      expect(pid).toBeDefined();
      await locker.query('SELECT pg_terminate_backend($1)', [pid]);
      r = await pending;
    } finally {
      await lock.release();
      await locker.close();
    }
    expect(r.code).toBe(2);
    expect(errorLines(r.stderr)).toEqual([
      expect.stringMatching(
        /^DB_CONNECTION_LOST: sql-apply: lost the connection to postgresql:\/\/\S+: 57P01 terminating connection due to administrator command \(the server rolled back the open transaction; .*re-run the step\)$/,
      ),
    ]);
    expect(r.stderr).not.toMatch(/internal error|^\s+at /m);
    expect((await readFingerprint(db)).sha256).toBe(before.sha256);
    expect(await pipelineLockHolders(db, 'change')).toEqual([]);
  });
});
