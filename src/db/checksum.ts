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

/** Quoted, so any table or column name is safe and exact (PROD may hold mixed-case names). */
export const quoteIdent = (s: string): string => `"${s.replaceAll('"', '""')}"`;

/** `orderBy`: a column, the primary-key columns, or [] for a table without a key (ordered by the row text). */
export async function tableChecksum(q: Queryable, schema: string, table: string, orderBy: string | readonly string[] = 'id'): Promise<TableChecksum> {
  const keys = typeof orderBy === 'string' ? [orderBy] : [...orderBy];
  const order = keys.length ? keys.map((k) => `t.${quoteIdent(k)}`).join(', ') : 't::text';
  const r = await q.query<{ rows: number; md5: string | null }>(
    `SELECT count(*)::int8 AS rows, md5(coalesce(string_agg(t::text, E'\\n' ORDER BY ${order}), '')) AS md5 FROM ${quoteIdent(schema)}.${quoteIdent(table)} t`,
  );
  const row = r.rows[0]!;
  return { table: `${schema}.${table}`, rows: row.rows, md5: row.md5 ?? '' };
}

export interface TableKey {
  schema: string;
  table: string;
  /** primary-key columns in key order; empty when the table has none */
  key: string[];
}

/** Every base table of the schemas with its primary key, ordered by name. */
export async function readTableKeys(q: Queryable, schemas: readonly string[], excludePrefix?: string): Promise<TableKey[]> {
  const r = await q.query<TableKey>(
    `SELECT n.nspname AS schema, c.relname AS "table",
            coalesce((SELECT array_agg(a.attname::text ORDER BY k.ord)
                        FROM pg_index x CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                        JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
                       WHERE x.indrelid = c.oid AND x.indisprimary), '{}') AS key
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ANY($1) AND c.relkind IN ('r','p') AND ($2::text IS NULL OR c.relname NOT LIKE $2 || '%')
      ORDER BY 1, 2`,
    [schemas, excludePrefix ? excludePrefix.replace(/_/g, '\\_') : null],
  );
  return r.rows;
}

/** The checksum of every base table of the schemas (the backup's and the rollback's proof). */
export async function schemaChecksums(q: Queryable, schemas: readonly string[], excludePrefix?: string): Promise<TableChecksum[]> {
  const out: TableChecksum[] = [];
  for (const t of await readTableKeys(q, schemas, excludePrefix)) out.push(await tableChecksum(q, t.schema, t.table, t.key));
  return out;
}
