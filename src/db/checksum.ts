import type { Queryable } from './types.js';

/**
 * A table's content as one pair: its row count and a checksum that two databases share exactly
 * when they hold the same rows (backup verification, rollback proof, "cours_de_route untouched").
 *
 * The checksum is order-free: the md5 of `rows:Σ`, where Σ is the exact (numeric) sum over every
 * row of the first 64 bits of md5(row::text) read as a signed int8. A sum needs no sort and no
 * aggregated string, so the server streams the table once in constant memory; the former
 * `md5(string_agg(row::text ORDER BY pk))` sorted every table and built it as one text value
 * (3-4× slower at --scale 100, and it fails outright past PostgreSQL's 1 GB value limit). The sum
 * counts duplicate rows, so a table without a primary key is covered too. It detects damage and
 * drift, not forgery: the files' SHA-256 (the manifest) is what makes tampering visible.
 */
export interface TableChecksum {
  table: string;
  rows: number;
  checksum: string;
}

/** What the manifest says the checksum is, so an auditor can recompute it with psql alone. */
export const CHECKSUM_ALGORITHM = "md5(count(*) || ':' || coalesce(sum(('x' || left(md5(t::text), 16))::bit(64)::int8), 0)) FROM <table> t";

/** Quoted, so any table or column name is safe and exact (PROD may hold mixed-case names). */
export const quoteIdent = (s: string): string => `"${s.replaceAll('"', '""')}"`;

export async function tableChecksum(q: Queryable, schema: string, table: string): Promise<TableChecksum> {
  const r = await q.query<{ rows: number; checksum: string }>(
    `SELECT count(*)::int8 AS rows,
            md5(count(*) || ':' || coalesce(sum(('x' || left(md5(t::text), 16))::bit(64)::int8), 0)) AS checksum
       FROM ${quoteIdent(schema)}.${quoteIdent(table)} t`,
  );
  const row = r.rows[0]!;
  return { table: `${schema}.${table}`, rows: row.rows, checksum: row.checksum };
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

/** The checksum of every base table of the schemas (the backup's and the rollback's proof); `known` ones are not read again. */
export async function schemaChecksums(q: Queryable, schemas: readonly string[], excludePrefix?: string, known?: ReadonlyMap<string, TableChecksum>): Promise<TableChecksum[]> {
  const out: TableChecksum[] = [];
  for (const t of await readTableKeys(q, schemas, excludePrefix)) out.push(known?.get(`${t.schema}.${t.table}`) ?? (await tableChecksum(q, t.schema, t.table)));
  return out;
}
