import {
  functionSource,
  readColumns,
  readFunctions,
  readRoles,
  readSchemas,
  readTables,
  readTriggers,
  readUniqueKeys,
  searchPathOf,
  type ColumnInfo,
  type FunctionInfo,
  type TableInfo,
  type TriggerInfo,
  type UniqueKeyInfo,
} from '../db/catalog.js';
import { MIN_SERVER_MAJOR, REQUIRED_FUNCTIONS, REQUIRED_ROLES, REQUIRED_TABLES, REQUIRED_TRIGGERS } from '../db/requirements.js';
import type { Db } from '../db/types.js';
import type { Logger } from '../logger.js';
import type { CompatItem, CompatResult, CompatStatus, SecurityFinding } from '../results/compat.js';
import type { ServerInfo } from '../results/common.js';

export interface CatalogInventory {
  server: ServerInfo;
  schemas: string[];
  roles: string[];
  tables: TableInfo[];
  columns: ColumnInfo[];
  uniqueKeys: UniqueKeyInfo[];
  functions: FunctionInfo[];
  triggers: TriggerInfo[];
  /** does validate_sortie set the journal's allow-write flag (the P0 change)? */
  validateSortieSetsFlag: boolean | undefined;
}

const SCHEMAS = ['public', 'auth', 'astm'];

/** What tells the P0 body of validate_sortie from the legacy one: it sets the journal write flag (compat and the smoke read it). */
export const P0_FLAG_PATTERN = /app\.stocks_journaliers_allow_write/;

export async function readInventory(db: Db): Promise<CatalogInventory> {
  const server = await db.server();
  return db.withTransaction(
    async (q) => {
      const [schemas, roles, tables, columns, uniqueKeys, functions, triggers, src] = [
        await readSchemas(q),
        await readRoles(q, REQUIRED_ROLES),
        await readTables(q, SCHEMAS),
        await readColumns(q, SCHEMAS),
        await readUniqueKeys(q, SCHEMAS),
        await readFunctions(q, SCHEMAS),
        await readTriggers(q, SCHEMAS),
        await functionSource(q, 'public', 'validate_sortie'),
      ];
      const validateSortieSetsFlag = src === undefined ? undefined : P0_FLAG_PATTERN.test(src);
      return { server, schemas, roles, tables, columns, uniqueKeys, functions, triggers, validateSortieSetsFlag };
    },
    { readOnly: true },
  );
}

const RLS_OFF =
  "row level security is off (PROD has it on): any role granted the table (on Supabase anon and authenticated, through the API) reads and writes every row. No step relies on it; the smoke's 5.1 shows what anon reads";

export function evaluateCompat(inv: CatalogInventory, target: string): CompatResult {
  const items: CompatItem[] = [];
  const security: SecurityFinding[] = [];
  const push = (item: CompatItem) => items.push(item);

  push({
    kind: 'server',
    name: 'server version',
    status: inv.server.major >= MIN_SERVER_MAJOR ? 'ok' : 'different',
    expected: `PostgreSQL >= ${MIN_SERVER_MAJOR}`,
    found: `${inv.server.engine} ${inv.server.version}`,
  });
  for (const role of REQUIRED_ROLES) {
    push({ kind: 'role', name: role, status: inv.roles.includes(role) ? 'ok' : 'missing' });
  }
  for (const schema of ['public', 'auth']) {
    push({ kind: 'schema', name: schema, status: inv.schemas.includes(schema) ? 'ok' : 'missing' });
  }

  for (const t of REQUIRED_TABLES) {
    const fq = `${t.schema}.${t.name}`;
    const table = inv.tables.find((x) => x.schema === t.schema && x.table === t.name);
    if (!table) {
      push({ kind: 'table', name: fq, status: 'missing' });
      continue;
    }
    push({ kind: 'table', name: fq, status: 'ok' });
    const columns = inv.columns.filter((c) => c.schema === t.schema && c.table === t.name);
    for (const col of t.columns) {
      const found = columns.find((c) => c.column === col.name);
      const base: CompatItem = { kind: 'column', name: `${fq}.${col.name}`, status: 'ok', expected: col.type };
      if (col.optional) base.optional = true;
      if (!found) push({ ...base, status: 'missing' });
      else push({ ...base, status: found.type === col.type ? 'ok' : 'different', found: found.type });
    }
    if (t.rls && !table.rls) security.push({ kind: 'rls', name: fq, finding: RLS_OFF });
    for (const key of t.uniqueKeys ?? []) {
      const want = [...key].sort().join(',');
      const has = inv.uniqueKeys.some((u) => u.schema === t.schema && u.table === t.name && [...u.columns].sort().join(',') === want);
      push({ kind: 'unique', name: `${fq} (${key.join(', ')})`, status: has ? 'ok' : 'missing' });
    }
  }

  for (const f of REQUIRED_FUNCTIONS) {
    const fq = `${f.schema}.${f.name}(${f.identityArgs ?? '…'})`;
    const candidates = inv.functions.filter((x) => x.schema === f.schema && x.name === f.name);
    const found = f.identityArgs === undefined ? candidates[0] : candidates.find((x) => x.identityArgs === f.identityArgs);
    if (!found) {
      push({
        kind: 'function',
        name: fq,
        status: candidates.length ? 'different' : 'missing',
        ...(candidates.length ? { found: candidates.map((c) => `${f.name}(${c.identityArgs})`).join('; ') } : {}),
      });
      continue;
    }
    const problems: string[] = [];
    if (f.securityDefiner !== undefined && found.securityDefiner !== f.securityDefiner) {
      problems.push(found.securityDefiner ? 'SECURITY DEFINER' : 'not SECURITY DEFINER');
    }
    const sp = searchPathOf(found.config);
    if (f.searchPath !== undefined && sp !== f.searchPath) {
      problems.push(sp === null ? 'no SET search_path' : `search_path=${sp}`);
    }
    const expected = [f.securityDefiner ? 'SECURITY DEFINER' : undefined, f.searchPath ? `search_path=${f.searchPath}` : undefined]
      .filter(Boolean)
      .join(', ');
    push({
      kind: 'function',
      name: fq,
      status: problems.length ? 'different' : 'ok',
      ...(expected ? { expected } : {}),
      ...(problems.length ? { found: problems.join(', ') } : {}),
    });
  }

  for (const t of REQUIRED_TRIGGERS) {
    const found = inv.triggers.find((x) => x.schema === 'public' && x.table === t.table && x.name === t.name);
    const name = `public.${t.table}.${t.name}`;
    if (!found) {
      push({ kind: 'trigger', name, status: 'missing', expected: `${t.function}()` });
      continue;
    }
    const sameFn = found.function === t.function;
    const sameState = t.enabled === undefined || found.enabled === t.enabled;
    push({
      kind: 'trigger',
      name,
      status: sameFn && sameState ? 'ok' : 'different',
      expected: `${t.function}()${t.enabled ? (t.enabled === 'O' ? ' enabled' : ' disabled') : ''}`,
      found: `${found.function}()${found.enabled === 'D' ? ' disabled' : found.enabled === 'O' ? ' enabled' : ` tgenabled=${found.enabled}`}`,
    });
  }

  const counts: Record<CompatStatus, number> = { ok: 0, missing: 0, different: 0 };
  let optionalMissing = 0;
  for (const i of items) {
    if (i.optional && i.status === 'missing') optionalMissing++;
    else counts[i.status]++;
  }
  const notes: string[] = [];
  if (inv.schemas.includes('astm'))
    notes.push('schema astm present: this database has had the post-March lookup-grid migration (FACTS §1.3)');
  if (inv.validateSortieSetsFlag === true) notes.push('validate_sortie sets app.stocks_journaliers_allow_write: the P0 change is applied');
  if (inv.validateSortieSetsFlag === false)
    notes.push(
      'validate_sortie does not set app.stocks_journaliers_allow_write: LEGACY body, it fails under DB-STRICT until the P0 change is applied',
    );
  const absent = items.filter((i) => i.optional && i.status === 'missing').map((i) => i.name);
  if (absent.length) notes.push(`optional columns absent (used when present): ${absent.join(', ')}`);
  const compatible = counts.missing === 0 && counts.different === 0;
  return { target, server: inv.server, compatible, counts, optionalMissing, items, security, notes };
}

export async function checkCompat(db: Db, log: Logger): Promise<CompatResult> {
  log.info(`compat: reading the catalog of ${db.label}`);
  const inv = await readInventory(db);
  return evaluateCompat(inv, db.label);
}
