import { expect, it } from 'vitest';
import { describePg, useFreshDatabase } from './pg.js';

/** The `pg17` project is only worth its time if its server really is the major version PROD runs. */
describePg('the pg17 project’s server', () => {
  const fx = useFreshDatabase('pg17_version');

  it('is PostgreSQL 17, with the settings of the PostgreSQL 15 test server', async () => {
    const r = await fx().db.query<{ num: number; version: string; collate: string; encoding: string }>(
      `SELECT current_setting('server_version_num')::int AS num, version() AS version,
              datcollate AS collate, pg_encoding_to_char(encoding) AS encoding
         FROM pg_database WHERE datname = current_database()`,
    );
    const row = r.rows[0]!;
    expect(row.num).toBeGreaterThanOrEqual(170000);
    expect(row.num).toBeLessThan(180000);
    expect(row.version).toMatch(/^PostgreSQL 17\./);
    expect({ collate: row.collate, encoding: row.encoding }).toEqual({ collate: 'C.UTF-8', encoding: 'UTF8' });
  });
});
