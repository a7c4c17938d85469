import type { Queryable } from './types.js';

/**
 * A table's content as one number pair: row count and the md5 of every row's text form in
 * primary-key order. Equal checksums on two databases mean equal content (backup
 * verification, rollback proof, "cours_de_route untouched").
 */
export interface TableChecksum {
  table: string;
  rows: number;
  md5: string;
}

const IDENT = /^[a-z_][a-z0-9_]*$/;

export async function tableChecksum(q: Queryable, schema: string, table: string, orderBy = 'id'): Promise<TableChecksum> {
  for (const part of [schema, table, orderBy]) {
    if (!IDENT.test(part)) throw new Error(`not a plain identifier: ${part}`);
  }
  const r = await q.query<{ rows: number; md5: string | null }>(
    `SELECT count(*)::int8 AS rows, md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t.${orderBy}), '')) AS md5 FROM ${schema}.${table} t`,
  );
  const row = r.rows[0]!;
  return { table: `${schema}.${table}`, rows: row.rows, md5: row.md5 ?? '' };
}
