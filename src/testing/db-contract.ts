import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { withAppUser } from '../db/as-user.js';
import { readTableKeys, tableChecksum } from '../db/checksum.js';
import { runSqlText } from '../db/sql-file.js';
import type { Db } from '../db/types.js';

/**
 * What both drivers must do identically; the pg and embedded test files each run it, so the
 * two implementations cannot drift apart unnoticed.
 */
/** ck_a's checksum, pinned: equal on every engine the contract runs on. */
const CK_A_CHECKSUM = '8da662c678ef094353fd8d3a82754337';

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

  it('checksums a table by its rows, not their order; counts duplicates; hashes records where every column type can be', async () => {
    const db = getDb();
    for (const ddl of [
      "CREATE TYPE ck_mood AS ENUM ('ok', 'ko')",
      'CREATE DOMAIN ck_pos AS int CHECK (VALUE > 0)',
      'CREATE TABLE ck_a (id int PRIMARY KEY, at timestamptz, qty numeric, tags text[], n ck_pos, doc jsonb)',
      // an enum hashes by its label's OID, which a restore does not keep: compared as text
      'CREATE TABLE ck_enum (id int, mood ck_mood)',
      'CREATE TABLE ck_b (LIKE ck_a)',
      'CREATE TABLE ck_json (id int, doc json)',
      'CREATE TABLE ck_dup (v int)',
    ]) {
      await db.query(ddl);
    }
    const rows = `(1, '2026-02-25 10:00+00', 1.50, '{a,b}', 3, '{"k": 1}'), (2, NULL, 0, '{}', 1, NULL), (3, '2026-02-26 00:00+01', -2, NULL, NULL, '[]')`;
    await db.query(`INSERT INTO ck_a VALUES ${rows}`);
    await db.query(`INSERT INTO ck_b SELECT * FROM ck_a ORDER BY id DESC`);
    const keys = await readTableKeys(db, ['public']);
    const flag = (t: string) => keys.find((k) => k.table === t)?.hashable;
    expect([flag('ck_a'), flag('ck_enum'), flag('ck_json'), flag('ck_dup')]).toEqual([true, false, false, true]);

    const a = await tableChecksum(db, 'public', 'ck_a');
    expect(a).toMatchObject({ table: 'public.ck_a', rows: 3 });
    expect((await tableChecksum(db, 'public', 'ck_b')).checksum).toBe(a.checksum);
    // the same on PostgreSQL 15 and on PGlite (PostgreSQL 18): the hash functions do not change across releases
    expect(a.checksum).toBe(CK_A_CHECKSUM);
    await db.query('UPDATE ck_b SET qty = 1.51 WHERE id = 1');
    expect((await tableChecksum(db, 'public', 'ck_b')).checksum).not.toBe(a.checksum);

    // a restore recreates the enum with new OIDs: the checksum must not move
    await db.query("INSERT INTO ck_enum VALUES (1, 'ok'), (2, 'ko')");
    const e = await tableChecksum(db, 'public', 'ck_enum');
    await db.query('DROP TABLE ck_enum');
    await db.query('DROP TYPE ck_mood');
    await db.query("CREATE TYPE ck_mood AS ENUM ('ok', 'ko')");
    await db.query('CREATE TABLE ck_enum (id int, mood ck_mood)');
    await db.query("INSERT INTO ck_enum VALUES (2, 'ko'), (1, 'ok')");
    expect(await tableChecksum(db, 'public', 'ck_enum')).toEqual(e);

    await db.query('INSERT INTO ck_json VALUES (1, \'{"k": 1}\'), (2, NULL)');
    const j = await tableChecksum(db, 'public', 'ck_json');
    expect(j.rows).toBe(2);
    await db.query('UPDATE ck_json SET doc = \'{"k":1}\' WHERE id = 1');
    // json is compared as text: a change of spacing is a change
    expect((await tableChecksum(db, 'public', 'ck_json')).checksum).not.toBe(j.checksum);

    await db.query('INSERT INTO ck_dup VALUES (1)');
    const once = await tableChecksum(db, 'public', 'ck_dup');
    await db.query('INSERT INTO ck_dup VALUES (1)');
    const twice = await tableChecksum(db, 'public', 'ck_dup');
    expect(twice.rows).toBe(2);
    expect(twice.checksum).not.toBe(once.checksum);
    await db.query('DROP TABLE ck_a, ck_b, ck_enum, ck_json, ck_dup');
    await db.query('DROP DOMAIN ck_pos');
    await db.query('DROP TYPE ck_mood');
  });

  it('a timestamptz checksum is the instant, whatever the session time zone', async () => {
    const db = getDb();
    await db.query('CREATE TABLE ck_tz (id int PRIMARY KEY, at timestamptz)');
    await db.query("INSERT INTO ck_tz VALUES (1, '2026-02-25 10:00+00')");
    const sums = await db.withClient(
      async (c) => {
        await c.query("SET TimeZone = 'UTC'");
        const utc = await tableChecksum(c, 'public', 'ck_tz');
        await c.query("SET TimeZone = 'Africa/Kinshasa'");
        const kin = await tableChecksum(c, 'public', 'ck_tz');
        await c.query('RESET TimeZone');
        return [utc.checksum, kin.checksum];
      },
      { discard: true },
    );
    expect(sums[0]).toBe(sums[1]);
    await db.query('DROP TABLE ck_tz');
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
    const script = [
      'BEGIN;',
      'CREATE TABLE half_done(id int);',
      '',
      "INSERT INTO half_done VALUES ('not a number');",
      'INSERT INTO half_done VALUES (2);',
      'COMMIT;',
    ].join('\n');
    const err = await runSqlText(db, script, 'sql/change.sql').catch((e: unknown) => e);
    expect((err as { describe(): string }).describe()).toMatch(
      /^SQL_FAILED: sql\/change\.sql:4: \[22P02\] invalid input syntax for type integer/,
    );
    const t = await db.query<{ t: string | null }>("SELECT to_regclass('half_done')::text AS t");
    expect(t.rows[0]!.t).toBeNull();
    // and the connection is usable afterwards (not left in an aborted transaction)
    expect((await db.query('SELECT 1 AS one')).rows[0]).toEqual({ one: 1 });
  });

  it('acts as an app user: JWT claims set and the role switched, for that transaction only', async () => {
    const db = getDb();
    await db.query(
      "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'authenticated') THEN CREATE ROLE authenticated NOLOGIN; END IF; END $$",
    );
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
