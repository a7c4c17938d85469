import { createHash } from 'node:crypto';
import type { Queryable } from './types.js';
import type { Structure, StructureChange, StructureEntry } from '../results/common.js';

export async function readStructure(q: Queryable, schemas: readonly string[], excludePrefix = ''): Promise<Structure> {
  const like = `${excludePrefix.replace(/_/g, '\\_')}%`;
  // NOT LIKE '' excludes nothing (a NUL byte is not valid text for the server)
  const skip = excludePrefix ? like : '';
  const r = await q.query<StructureEntry>(
    `SELECT 'column' AS kind, n.nspname || '.' || c.relname || '.' || a.attname AS name,
            a.attnum || ' ' || format_type(a.atttypid, a.atttypmod) || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
              || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '') || CASE a.attgenerated WHEN 's' THEN ' GENERATED' ELSE '' END AS value
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE n.nspname = ANY($1) AND c.relkind IN ('r','p','v','m') AND a.attnum > 0 AND NOT a.attisdropped AND c.relname NOT LIKE $2
     UNION ALL
     SELECT 'constraint', n.nspname || '.' || c.relname || '.' || k.conname, pg_get_constraintdef(k.oid)
       FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ANY($1) AND c.relname NOT LIKE $2
     UNION ALL
     SELECT 'index', schemaname || '.' || indexname, indexdef FROM pg_indexes WHERE schemaname = ANY($1) AND tablename NOT LIKE $2
     UNION ALL
     SELECT 'view', n.nspname || '.' || c.relname, pg_get_viewdef(c.oid)
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ANY($1) AND c.relkind IN ('v','m') AND c.relname NOT LIKE $2`,
    [schemas, skip],
  );
  const entries = r.rows.sort((x, y) => (x.kind === y.kind ? (x.name < y.name ? -1 : x.name > y.name ? 1 : 0) : x.kind < y.kind ? -1 : 1));
  const digest = createHash('sha256');
  for (const e of entries) digest.update(`${e.kind}\t${e.name}\t${e.value}\n`);
  return { entries, sha256: digest.digest('hex') };
}

export function diffStructures(before: Structure, after: Structure): StructureChange[] {
  const key = (e: StructureEntry) => `${e.kind}\u0000${e.name}`;
  const a = new Map(before.entries.map((e) => [key(e), e]));
  const b = new Map(after.entries.map((e) => [key(e), e]));
  const out: StructureChange[] = [];
  for (const [k, e] of a) {
    const n = b.get(k);
    if (!n) out.push({ kind: e.kind, name: e.name, change: 'removed' });
    else if (n.value !== e.value) out.push({ kind: e.kind, name: e.name, change: 'changed' });
  }
  for (const [k, e] of b) if (!a.has(k)) out.push({ kind: e.kind, name: e.name, change: 'added' });
  return out;
}
