import type { Queryable } from './types.js';
import type { TableChecksum } from '../results/common.js';

/** What the manifest says the checksum is, so an auditor can recompute it with psql alone. */
export const CHECKSUM_ALGORITHM =
  "md5('record:' || count(*) || ':' || coalesce(sum(hash_record_extended(t, 0)), 0)) FROM <table> t; " +
  "for a table with a column type lacking an extended hash function, or before PostgreSQL 14: md5('text:' || count(*) || ':' || coalesce(sum(('x' || left(md5(t::text), 16))::bit(64)::int8), 0))";

const ROW_HASH = {
  record: 'hash_record_extended(t, 0)',
  text: "('x' || left(md5(t::text), 16))::bit(64)::int8",
} as const;

/** Quoted, so any table or column name is safe and exact (PROD may hold mixed-case names). */
export const quoteIdent = (s: string): string => `"${s.replaceAll('"', '""')}"`;

/** `hashable`: whether every column's type has an extended hash function (readTableKeys says); asked when not given. */
export async function tableChecksum(q: Queryable, schema: string, table: string, hashable?: boolean): Promise<TableChecksum> {
  const byRecord = hashable ?? (await readTableKeys(q, [schema])).find((t) => t.table === table)?.hashable ?? false;
  const method = byRecord ? 'record' : 'text';
  const r = await q.query<{ rows: number; checksum: string }>(
    `SELECT count(*)::int8 AS rows, md5('${method}:' || count(*) || ':' || coalesce(sum(${ROW_HASH[method]}), 0)) AS checksum
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
  /**
   * every column's type (a domain's base, an array's element) has a default extended hash function
   * of its own, and so has record (PostgreSQL 14+). Enums and ranges do not count: an enum hashes
   * by its label's OID, which a restore does not keep.
   */
  hashable: boolean;
}

/** Every base table of the schemas with its primary key, ordered by name. */
export async function readTableKeys(q: Queryable, schemas: readonly string[], excludePrefix?: string): Promise<TableKey[]> {
  const r = await q.query<TableKey>(
    `SELECT n.nspname AS schema, c.relname AS "table",
            coalesce((SELECT array_agg(a.attname::text ORDER BY k.ord)
                        FROM pg_index x CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
                        JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
                       WHERE x.indrelid = c.oid AND x.indisprimary), '{}') AS key,
            to_regprocedure('pg_catalog.hash_record_extended(record, bigint)') IS NOT NULL
            AND NOT EXISTS (
              SELECT 1 FROM pg_attribute a
                JOIN pg_type t0 ON t0.oid = a.atttypid
                JOIN pg_type t1 ON t1.oid = CASE WHEN t0.typtype = 'd' THEN t0.typbasetype ELSE t0.oid END
                JOIN pg_type t ON t.oid = CASE WHEN t1.typcategory = 'A' AND t1.typelem <> 0 THEN t1.typelem ELSE t1.oid END
               WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
                 AND NOT EXISTS (
                   SELECT 1 FROM pg_opclass oc JOIN pg_am am ON am.oid = oc.opcmethod
                     JOIN pg_amproc p ON p.amprocfamily = oc.opcfamily AND p.amprocnum = 2 AND p.amproclefttype = oc.opcintype
                    WHERE am.amname = 'hash' AND oc.opcdefault AND oc.opcintype = t.oid)) AS hashable
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ANY($1) AND c.relkind IN ('r','p') AND ($2::text IS NULL OR c.relname NOT LIKE $2 || '%')
      ORDER BY 1, 2`,
    [schemas, excludePrefix ? excludePrefix.replace(/_/g, '\\_') : null],
  );
  return r.rows;
}

/** The checksum of each table (readTableKeys lists them): the backup's and the rollback's proof. `known` ones are not read again. */
export async function tablesChecksums(
  q: Queryable,
  tables: readonly TableKey[],
  known?: ReadonlyMap<string, TableChecksum>,
): Promise<TableChecksum[]> {
  const out: TableChecksum[] = [];
  for (const t of tables) out.push(known?.get(`${t.schema}.${t.table}`) ?? (await tableChecksum(q, t.schema, t.table, t.hashable)));
  return out;
}
