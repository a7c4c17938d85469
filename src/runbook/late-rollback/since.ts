import { quoteIdent, type TableKey } from '../../db/checksum.js';
import type { Queryable } from '../../db/types.js';

/**
 * What changed since the backup, found from the backup itself, not from timestamps: the tables
 * whose checksum differs from the manifest's (the rollback's `tablesThatDiffer`) were copied just
 * before the restore; once the dump is back in the same transaction, each copy is compared with the
 * restored table (the backup's rows) by primary key. A row of the copy whose key the backup lacks
 * was written since; one whose key is there with other values was changed since; a backup row whose
 * key the copy lacks was deleted since. A table without a primary key is compared as a multiset.
 */
export type Row = Record<string, unknown>;

export interface TableRowsSince {
  key: TableKey;
  /** schema.table */
  name: string;
  /** the temporary copy of the table as it was just before the rollback */
  copy: string;
  /** the table exists again after the restore (false: created since the backup) */
  restored: boolean;
  rowsBefore: number;
  written: Row[];
  /** `now`: before the late rollback; `then`: in the backup */
  changed: { now: Row; then: Row }[];
  deleted: Row[];
}

const parse = (rows: { j: string }[]): Row[] => rows.map((r) => JSON.parse(r.j) as Row);

/** The SELECTs behind both the JSON rows and the CSV files, so both say the same thing. */
export function sinceSelects(t: { key: TableKey; copy: string }): {
  written: string;
  changedNow: string;
  changedThen: string;
  deleted: string;
} {
  const live = `${quoteIdent(t.key.schema)}.${quoteIdent(t.key.table)}`;
  const order = (a: string) => (t.key.key.length ? t.key.key.map((k) => `${a}.${quoteIdent(k)}`).join(', ') : `${a}::text`);
  if (!t.key.key.length) {
    return {
      written: `SELECT b.* FROM (SELECT * FROM ${t.copy} EXCEPT ALL SELECT * FROM ${live}) b ORDER BY ${order('b')}`,
      changedNow: `SELECT b.* FROM ${t.copy} b WHERE false`,
      changedThen: `SELECT r.* FROM ${live} r WHERE false`,
      deleted: `SELECT r.* FROM (SELECT * FROM ${live} EXCEPT ALL SELECT * FROM ${t.copy}) r ORDER BY ${order('r')}`,
    };
  }
  const on = t.key.key.map((k) => `b.${quoteIdent(k)} = r.${quoteIdent(k)}`).join(' AND ');
  const differs = `EXISTS (SELECT 1 FROM ${live} r WHERE ${on} AND b::text IS DISTINCT FROM r::text)`;
  return {
    written: `SELECT b.* FROM ${t.copy} b WHERE NOT EXISTS (SELECT 1 FROM ${live} r WHERE ${on}) ORDER BY ${order('b')}`,
    changedNow: `SELECT b.* FROM ${t.copy} b WHERE ${differs} ORDER BY ${order('b')}`,
    changedThen: `SELECT r.* FROM ${live} r WHERE EXISTS (SELECT 1 FROM ${t.copy} b WHERE ${on} AND b::text IS DISTINCT FROM r::text) ORDER BY ${order('r')}`,
    deleted: `SELECT r.* FROM ${live} r WHERE NOT EXISTS (SELECT 1 FROM ${t.copy} b WHERE ${on}) ORDER BY ${order('r')}`,
  };
}

const asJson = (select: string) => `SELECT to_jsonb(x)::text AS j FROM (${select}) x`;

/** Inside the rollback's transaction, after the restore: every row written, changed or deleted since the backup. */
export async function rowsSince(tx: Queryable, tables: readonly { key: TableKey; copy: string }[]): Promise<TableRowsSince[]> {
  const out: TableRowsSince[] = [];
  for (const t of tables) {
    const name = `${t.key.schema}.${t.key.table}`;
    const restored = (
      await tx.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [
        `${quoteIdent(t.key.schema)}.${quoteIdent(t.key.table)}`,
      ])
    ).rows[0]!.ok;
    const rowsBefore = (await tx.query<{ n: number }>(`SELECT count(*)::int8 AS n FROM ${t.copy}`)).rows[0]!.n;
    if (!restored) {
      const all = parse((await tx.query<{ j: string }>(asJson(`SELECT * FROM ${t.copy}`))).rows);
      out.push({ key: t.key, name, copy: t.copy, restored, rowsBefore, written: all, changed: [], deleted: [] });
      continue;
    }
    const q = sinceSelects(t);
    const written = parse((await tx.query<{ j: string }>(asJson(q.written))).rows);
    const now = parse((await tx.query<{ j: string }>(asJson(q.changedNow))).rows);
    const then = parse((await tx.query<{ j: string }>(asJson(q.changedThen))).rows);
    const deleted = parse((await tx.query<{ j: string }>(asJson(q.deleted))).rows);
    out.push({
      key: t.key,
      name,
      copy: t.copy,
      restored,
      rowsBefore,
      written,
      changed: now.map((n, i) => ({ now: n, then: then[i]! })),
      deleted,
    });
  }
  return out;
}
