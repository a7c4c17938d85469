import type { Queryable } from './types.js';

/** Catalog reads shared by compat (and, later, the fingerprint). Read-only, any role with catalog access. */

export interface ColumnInfo {
  schema: string;
  table: string;
  column: string;
  type: string;
  notNull: boolean;
}

export async function readColumns(q: Queryable, schemas: readonly string[]): Promise<ColumnInfo[]> {
  const r = await q.query<ColumnInfo>(
    `SELECT n.nspname AS schema, c.relname AS "table", a.attname AS "column",
            format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS "notNull"
       FROM pg_attribute a
       JOIN pg_class c ON c.oid = a.attrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ANY($1) AND c.relkind IN ('r','p') AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY 1, 2, a.attnum`,
    [schemas],
  );
  return r.rows;
}

export interface TableInfo {
  schema: string;
  table: string;
  rls: boolean;
  forceRls: boolean;
}

export async function readTables(q: Queryable, schemas: readonly string[]): Promise<TableInfo[]> {
  const r = await q.query<TableInfo>(
    `SELECT n.nspname AS schema, c.relname AS "table", c.relrowsecurity AS rls, c.relforcerowsecurity AS "forceRls"
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ANY($1) AND c.relkind IN ('r','p')
      ORDER BY 1, 2`,
    [schemas],
  );
  return r.rows;
}

export interface UniqueKeyInfo {
  schema: string;
  table: string;
  name: string;
  columns: string[];
}

export async function readUniqueKeys(q: Queryable, schemas: readonly string[]): Promise<UniqueKeyInfo[]> {
  const r = await q.query<UniqueKeyInfo>(
    `SELECT n.nspname AS schema, t.relname AS "table", i.relname AS name,
            array_agg(a.attname::text ORDER BY a.attname) AS columns
       FROM pg_index x
       JOIN pg_class i ON i.oid = x.indexrelid
       JOIN pg_class t ON t.oid = x.indrelid
       JOIN pg_namespace n ON n.oid = t.relnamespace
       JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(x.indkey)
      WHERE x.indisunique AND x.indpred IS NULL AND n.nspname = ANY($1)
      GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
    [schemas],
  );
  return r.rows;
}

export interface FunctionInfo {
  schema: string;
  name: string;
  identityArgs: string;
  securityDefiner: boolean;
  config: string[];
  language: string;
}

/** The search_path a function pins (proconfig), normalised: `search_path="public"` → `public`; null if none. */
export function searchPathOf(config: readonly string[]): string | null {
  const sp = config.find((c) => /^search_path=/i.test(c));
  return sp === undefined ? null : sp.slice('search_path='.length).replace(/["'\s]/g, '');
}

export async function readFunctions(q: Queryable, schemas: readonly string[]): Promise<FunctionInfo[]> {
  const r = await q.query<FunctionInfo & { config: string[] | null }>(
    `SELECT n.nspname AS schema, p.proname AS name, pg_get_function_identity_arguments(p.oid) AS "identityArgs",
            p.prosecdef AS "securityDefiner", p.proconfig AS config, l.lanname AS language
       FROM pg_proc p
       JOIN pg_namespace n ON n.oid = p.pronamespace
       JOIN pg_language l ON l.oid = p.prolang
      WHERE n.nspname = ANY($1) AND p.prokind IN ('f','p')
      ORDER BY 1, 2, 3`,
    [schemas],
  );
  return r.rows.map((f) => ({ ...f, config: f.config ?? [] }));
}

export interface TriggerInfo {
  schema: string;
  table: string;
  name: string;
  function: string;
  enabled: string;
}

export async function readTriggers(q: Queryable, schemas: readonly string[]): Promise<TriggerInfo[]> {
  const r = await q.query<TriggerInfo>(
    `SELECT n.nspname AS schema, c.relname AS "table", t.tgname AS name, p.proname AS function, t.tgenabled::text AS enabled
       FROM pg_trigger t
       JOIN pg_class c ON c.oid = t.tgrelid
       JOIN pg_namespace n ON n.oid = c.relnamespace
       JOIN pg_proc p ON p.oid = t.tgfoid
      WHERE NOT t.tgisinternal AND n.nspname = ANY($1)
      ORDER BY 1, 2, 3`,
    [schemas],
  );
  return r.rows;
}

export async function readRoles(q: Queryable, names: readonly string[]): Promise<string[]> {
  const r = await q.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE rolname = ANY($1) ORDER BY 1', [names]);
  return r.rows.map((x) => x.rolname);
}

export async function readSchemas(q: Queryable): Promise<string[]> {
  const r = await q.query<{ nspname: string }>(
    "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' ORDER BY 1",
  );
  return r.rows.map((x) => x.nspname);
}

export async function schemaExists(q: Queryable, schema: string): Promise<boolean> {
  const r = await q.query<{ ok: boolean }>('SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1) AS ok', [schema]);
  return r.rows[0]?.ok === true;
}

export async function functionSource(q: Queryable, schema: string, name: string): Promise<string | undefined> {
  const r = await q.query<{ src: string }>(
    `SELECT p.prosrc AS src FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = $1 AND p.proname = $2 ORDER BY p.oid LIMIT 1`,
    [schema, name],
  );
  return r.rows[0]?.src;
}
