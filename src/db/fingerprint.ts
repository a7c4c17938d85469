import { createHash } from 'node:crypto';
import type { Queryable } from './types.js';
import type { Fingerprint, FingerprintChange, FingerprintEntry } from '../results/common.js';

/**
 * The catalog fingerprint: a stable, hashable description of what the runbook forbids
 * changing by accident (4.3: "aucun trigger modifié, aucune policy modifiée"). Every function
 * (signature, SECURITY DEFINER, settings, hash of its definition), every trigger
 * (pg_get_triggerdef and enabled state), every RLS policy and each table's RLS switch, and the
 * grants on tables and functions, in the application's schemas. Used by sql-apply (before and
 * after, in one transaction), preflight drift, freeze (catalog equal after `off`), backup
 * verification and rollback proof.
 *
 * The pipeline's own objects (schema `astm53b`, anything named `astm53b_*`) are left out, so
 * the freeze trigger never makes a comparison lie.
 */
export const APP_SCHEMAS = ['public', 'astm'] as const;
export const PIPELINE_SCHEMA = 'astm53b';
export const PIPELINE_PREFIX = 'astm53b_';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

export async function readFingerprint(q: Queryable, schemas: readonly string[] = APP_SCHEMAS): Promise<Fingerprint> {
  const like = `${PIPELINE_PREFIX.replace(/_/g, '\\_')}%`;
  const entries: FingerprintEntry[] = [];

  const fns = await q.query<{ name: string; sd: boolean; config: string[] | null; def: string; owner: string }>(
    `SELECT n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS name,
            p.prosecdef AS sd, p.proconfig AS config, pg_get_functiondef(p.oid) AS def, pg_get_userbyid(p.proowner) AS owner
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = ANY($1) AND p.prokind IN ('f','p') AND p.proname NOT LIKE $2`,
    [schemas, like],
  );
  for (const f of fns.rows) {
    entries.push({
      kind: 'function',
      name: f.name,
      value: `${f.sd ? 'SECURITY DEFINER' : 'SECURITY INVOKER'}; config=${(f.config ?? []).slice().sort().join(',')}; definition sha256=${sha(f.def)}`,
    });
  }

  const trg = await q.query<{ name: string; def: string; enabled: string }>(
    `SELECT n.nspname || '.' || c.relname || '.' || t.tgname AS name, pg_get_triggerdef(t.oid) AS def, t.tgenabled::text AS enabled
       FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE NOT t.tgisinternal AND n.nspname = ANY($1) AND t.tgname NOT LIKE $2`,
    [schemas, like],
  );
  for (const t of trg.rows) entries.push({ kind: 'trigger', name: t.name, value: `${t.def}; enabled=${t.enabled}` });

  const pol = await q.query<{
    name: string;
    permissive: string;
    roles: string[];
    cmd: string;
    qual: string | null;
    with_check: string | null;
  }>(
    `SELECT schemaname || '.' || tablename || '.' || policyname AS name, permissive, roles::text[] AS roles, cmd, qual, with_check
       FROM pg_policies WHERE schemaname = ANY($1) AND policyname NOT LIKE $2`,
    [schemas, like],
  );
  for (const p of pol.rows) {
    entries.push({
      kind: 'policy',
      name: p.name,
      value: `${p.permissive} ${p.cmd} TO ${[...p.roles].sort().join(',')} USING (${p.qual ?? ''}) WITH CHECK (${p.with_check ?? ''})`,
    });
  }

  const rls = await q.query<{ name: string; on: boolean; force: boolean }>(
    `SELECT n.nspname || '.' || c.relname AS name, c.relrowsecurity AS on, c.relforcerowsecurity AS force
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = ANY($1) AND c.relkind IN ('r','p') AND c.relname NOT LIKE $2`,
    [schemas, like],
  );
  for (const r of rls.rows)
    entries.push({ kind: 'rls', name: r.name, value: `rls=${r.on ? 'on' : 'off'} force=${r.force ? 'on' : 'off'}` });

  const tg = await q.query<{ name: string; grants: string }>(
    `SELECT table_schema || '.' || table_name || ' to ' || grantee AS name,
            string_agg(privilege_type, ',' ORDER BY privilege_type) AS grants
       FROM information_schema.role_table_grants
      WHERE table_schema = ANY($1) AND table_name NOT LIKE $2
      GROUP BY table_schema, table_name, grantee`,
    [schemas, like],
  );
  for (const g of tg.rows) entries.push({ kind: 'table_grant', name: g.name, value: g.grants });

  const fg = await q.query<{ name: string; grants: string }>(
    `SELECT n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ') to ' ||
            CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END AS name,
            string_agg(a.privilege_type, ',' ORDER BY a.privilege_type) AS grants
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace,
            LATERAL aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
      WHERE n.nspname = ANY($1) AND p.prokind IN ('f','p') AND p.proname NOT LIKE $2
      GROUP BY 1`,
    [schemas, like],
  );
  for (const g of fg.rows) entries.push({ kind: 'function_grant', name: g.name, value: g.grants });

  entries.sort((a, b) => (a.kind === b.kind ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.kind < b.kind ? -1 : 1));
  const digest = createHash('sha256');
  for (const e of entries) digest.update(`${e.kind}\t${e.name}\t${e.value}\n`);
  return { schemas: [...schemas], entries, sha256: digest.digest('hex') };
}

/** Added, removed and changed objects by kind and name; empty when the two are equal. */
export function diffFingerprints(before: Fingerprint, after: Fingerprint): FingerprintChange[] {
  const key = (e: FingerprintEntry) => `${e.kind}\u0000${e.name}`;
  const a = new Map(before.entries.map((e) => [key(e), e]));
  const b = new Map(after.entries.map((e) => [key(e), e]));
  const out: FingerprintChange[] = [];
  for (const [k, e] of a) {
    const n = b.get(k);
    if (!n) out.push({ kind: e.kind, name: e.name, change: 'removed', before: e.value });
    else if (n.value !== e.value) out.push({ kind: e.kind, name: e.name, change: 'changed', before: e.value, after: n.value });
  }
  for (const [k, e] of b) if (!a.has(k)) out.push({ kind: e.kind, name: e.name, change: 'added', after: e.value });
  return out.sort((x, y) => (x.kind + x.name < y.kind + y.name ? -1 : 1));
}
