import { expect, it } from 'vitest';
import { PgDb } from './pg.js';
import { dbContract } from '../testing/db-contract.js';
import { describePg, useFreshDatabase, TEST_DATABASE_URL } from '../testing/pg.js';
import { runCli } from '../testing/cli.js';

describePg('database layer on real PostgreSQL', () => {
  const fx = useFreshDatabase('dblayer');

  dbContract(() => fx().db);

  it('gives a one-line error without the password for an unreachable server', async () => {
    const r = await runCli(['db', 'init', '--url', 'postgresql://postgres:Sup3rSecret@127.0.0.1:1/test']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^DB_CONNECT: cannot connect to postgresql:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/test: .*ECONNREFUSED/);
    expect(r.stderr).not.toContain('Sup3rSecret');
  });

  it('gives a one-line error without the password for bad credentials', async () => {
    const u = new URL(TEST_DATABASE_URL!);
    u.username = 'no_such_role_astm53b';
    u.password = 'Sup3rSecret';
    const r = await runCli(['db', 'init', '--url', u.toString()]);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/DB_CONNECT: .*no_such_role_astm53b/);
    expect(r.stderr).not.toContain('Sup3rSecret');
  });

  it('stops a statement at statement_timeout (57014) and rolls back', async () => {
    await expect(fx().db.withTransaction((tx) => tx.query('SELECT pg_sleep(2)'), { statementTimeoutMs: 100 })).rejects.toMatchObject({
      code: '57014',
    });
  });

  it('releases every connection: many sequential operations never exhaust the pool', async () => {
    const db = new PgDb(fx().scratch.url, { max: 1 });
    try {
      for (let i = 0; i < 20; i++) {
        await db.withTransaction((tx) => tx.query('SELECT 1')).catch(() => {});
        await db
          .withTransaction(async () => {
            throw new Error('x');
          })
          .catch(() => {});
      }
      expect((await db.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one).toBe(1);
    } finally {
      await db.close();
    }
  });
});
