import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { withAppUser } from '../db/as-user.js';
import { runSqlText } from '../db/sql-file.js';
import type { Db } from '../db/types.js';

/**
 * What both drivers must do identically; the pg and embedded test files each run it, so the
 * two implementations cannot drift apart unnoticed.
 */
export function dbContract(getDb: () => Db): void {
  it('normalises types once: int8 → number, date → YYYY-MM-DD, numeric → string', async () => {
    const r = await getDb().query("SELECT 42::int8 AS n, DATE '2026-02-25' AS d, 1.50::numeric AS x, 0.5::float8 AS f");
    expect(r.rows[0]).toEqual({ n: 42, d: '2026-02-25', x: '1.50', f: 0.5 });
  });

  it('writes a query as PostgreSQL CSV with a header, streamed into the sink, and counts the rows', async () => {
    const db = getDb();
    const chunks: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk);
        cb();
      },
    });
    const rows = await db.copyCsvTo(
      `SELECT * FROM (VALUES (1, NULL::text, 1.50::numeric), (2, '', 2.0), (3, 'a,"b"' || chr(10) || 'c', NULL), (4, '\\.', 0)) v(id, "label x", qty) ORDER BY id`,
      sink,
    );
    expect(rows).toBe(4);
    expect(sink.writableFinished).toBe(true);
    // NULL is an empty field, an empty string is "", numerics keep their scale
    expect(Buffer.concat(chunks).toString('utf8')).toBe('id,label x,qty\n1,,1.50\n2,"",2.0\n3,"a,""b""\nc",\n4,\\.,0\n');
  });

  it('rolls a transaction back on throw and leaves nothing behind', async () => {
    const db = getDb();
    await db.query('CREATE TABLE tx_probe(id int)');
    await expect(
      db.withTransaction(async (tx) => {
        await tx.query('INSERT INTO tx_probe VALUES (1)');
        throw new Error('fault mid-step');
      }),
    ).rejects.toThrow('fault mid-step');
    expect((await db.query<{ n: number }>('SELECT count(*)::int8 AS n FROM tx_probe')).rows[0]!.n).toBe(0);
  });

  it('sets lock_timeout and statement_timeout for the transaction only', async () => {
    const db = getDb();
    const r = await db.withTransaction(
      (tx) => tx.query("SELECT current_setting('lock_timeout') AS l, current_setting('statement_timeout') AS s"),
      { lockTimeoutMs: 1234, statementTimeoutMs: 5678 },
    );
    expect(r.rows[0]).toEqual({ l: '1234ms', s: '5678ms' });
    const after = await db.query("SELECT current_setting('statement_timeout') AS s");
    expect(after.rows[0]).toEqual({ s: '0' });
  });

  it('stops a script at the first error, names file and line, and rolls its transaction back', async () => {
    const db = getDb();
    const script = ['BEGIN;', 'CREATE TABLE half_done(id int);', '', "INSERT INTO half_done VALUES ('not a number');", 'INSERT INTO half_done VALUES (2);', 'COMMIT;'].join('\n');
    const err = await runSqlText(db, script, 'sql/change.sql').catch((e: unknown) => e);
    expect((err as { describe(): string }).describe()).toMatch(/^SQL_FAILED: sql\/change\.sql:4: \[22P02\] invalid input syntax for type integer/);
    const t = await db.query<{ t: string | null }>("SELECT to_regclass('half_done')::text AS t");
    expect(t.rows[0]!.t).toBeNull();
    // and the connection is usable afterwards (not left in an aborted transaction)
    expect((await db.query('SELECT 1 AS one')).rows[0]).toEqual({ one: 1 });
  });

  it('acts as an app user: JWT claims set and the role switched, for that transaction only', async () => {
    const db = getDb();
    await db.query("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN CREATE ROLE authenticated NOLOGIN; END IF; END $$");
    const uid = '00000000-0000-4000-8000-0000000000aa';
    const r = await withAppUser(db, { role: 'authenticated', userId: uid }, (tx) =>
      tx.query(
        "SELECT current_user AS who, current_setting('request.jwt.claim.sub', true) AS sub, current_setting('request.jwt.claims', true)::jsonb->>'sub' AS claims",
      ),
    );
    expect(r.rows[0]).toEqual({ who: 'authenticated', sub: uid, claims: uid });
    expect((await db.query<{ u: string }>('SELECT current_user AS u')).rows[0]!.u).not.toBe('authenticated');
  });
}
