import { describe, expect, it } from 'vitest';
import { REQUIRED_FUNCTIONS, REQUIRED_ROLES, REQUIRED_TABLES, REQUIRED_TRIGGERS } from '../db/requirements.js';
import { evaluateCompat, type CatalogInventory } from './compat.js';

/** An inventory that satisfies every requirement, built from the requirement list itself. */
function satisfied(): CatalogInventory {
  return {
    server: { major: 15, version: '15.20', engine: 'postgresql' },
    schemas: ['auth', 'public'],
    roles: [...REQUIRED_ROLES],
    tables: REQUIRED_TABLES.map((t) => ({ schema: t.schema, table: t.name, rls: true, forceRls: false })),
    columns: REQUIRED_TABLES.flatMap((t) =>
      t.columns.map((c) => ({ schema: t.schema, table: t.name, column: c.name, type: c.type, notNull: false })),
    ),
    uniqueKeys: REQUIRED_TABLES.flatMap((t) =>
      (t.uniqueKeys ?? []).map((k, i) => ({ schema: t.schema, table: t.name, name: `k${i}`, columns: [...k].reverse() })),
    ),
    functions: REQUIRED_FUNCTIONS.map((f) => ({
      schema: f.schema,
      name: f.name,
      identityArgs: f.identityArgs ?? '',
      securityDefiner: f.securityDefiner ?? false,
      config: f.searchPath ? [`search_path=${f.searchPath}`] : [],
      language: 'plpgsql',
    })),
    triggers: REQUIRED_TRIGGERS.map((t) => ({
      schema: 'public',
      table: t.table,
      name: t.name,
      function: t.function,
      enabled: t.enabled ?? 'O',
    })),
    validateSortieSetsFlag: false,
  };
}

describe('evaluateCompat', () => {
  it('finds a database with everything compatible, and says validate_sortie is legacy', () => {
    const r = evaluateCompat(satisfied(), 'db');
    expect(r.compatible).toBe(true);
    expect(r.counts.missing + r.counts.different).toBe(0);
    expect(r.notes.join('\n')).toMatch(/LEGACY/);
  });

  it('reports a missing column, a changed type, a disabled trigger and a lost SECURITY DEFINER by name', () => {
    const inv = satisfied();
    inv.columns = inv.columns.filter((c) => !(c.table === 'stocks_journaliers' && c.column === 'proprietaire_type'));
    inv.columns.find((c) => c.table === 'receptions' && c.column === 'volume_ambiant')!.type = 'numeric';
    inv.triggers.find((t) => t.name === 'stocks_journaliers_block_writes')!.enabled = 'D';
    inv.functions.find((f) => f.name === 'validate_sortie')!.securityDefiner = false;
    const r = evaluateCompat(inv, 'db');
    expect(r.compatible).toBe(false);
    const bad = Object.fromEntries(r.items.filter((i) => i.status !== 'ok').map((i) => [i.name, i]));
    expect(bad['public.stocks_journaliers.proprietaire_type']).toMatchObject({ status: 'missing' });
    expect(bad['public.receptions.volume_ambiant']).toMatchObject({ status: 'different', expected: 'double precision', found: 'numeric' });
    expect(bad['public.stocks_journaliers.stocks_journaliers_block_writes']).toMatchObject({
      status: 'different',
      found: expect.stringMatching(/disabled/),
    });
    expect(bad['public.validate_sortie(p_id uuid)']).toMatchObject({
      status: 'different',
      found: expect.stringMatching(/not SECURITY DEFINER/),
    });
    expect(r.counts).toMatchObject({ missing: 1, different: 3 });
  });

  it('a table ML_PP protects with RLS that has it off is a security finding, not an incompatibility', () => {
    const inv = satisfied();
    inv.tables.find((t) => t.table === 'stocks_snapshot')!.rls = false;
    const r = evaluateCompat(inv, 'db');
    expect(r.compatible).toBe(true);
    expect(r.counts).toMatchObject({ missing: 0, different: 0 });
    expect(r.security).toEqual([
      { kind: 'rls', name: 'public.stocks_snapshot', finding: expect.stringMatching(/^row level security is off/) },
    ]);
    expect(evaluateCompat(satisfied(), 'db').security).toEqual([]);
  });

  it('tolerates a missing optional column but reports it in the notes', () => {
    const inv = satisfied();
    inv.columns = inv.columns.filter((c) => c.column !== 'densite_observee_kgm3');
    const r = evaluateCompat(inv, 'db');
    expect(r.compatible).toBe(true);
    expect(r.notes.join('\n')).toMatch(/public\.receptions\.densite_observee_kgm3/);
  });

  it('treats a function found with other arguments as different, naming what it found', () => {
    const inv = satisfied();
    inv.functions.find((f) => f.name === 'validate_sortie')!.identityArgs = 'p_id uuid, p_force boolean';
    const r = evaluateCompat(inv, 'db');
    const item = r.items.find((i) => i.name.startsWith('public.validate_sortie'))!;
    expect(item).toMatchObject({ status: 'different', found: 'validate_sortie(p_id uuid, p_force boolean)' });
  });

  it('wants the stocks_journaliers unique key on exactly (tank, product, day, owner)', () => {
    const inv = satisfied();
    inv.uniqueKeys = inv.uniqueKeys.map((k) =>
      k.table === 'stocks_journaliers' ? { ...k, columns: ['citerne_id', 'produit_id', 'date_jour'] } : k,
    );
    const r = evaluateCompat(inv, 'db');
    expect(r.items.find((i) => i.kind === 'unique' && i.name.startsWith('public.stocks_journaliers'))!.status).toBe('missing');
  });

  it('refuses a server older than PostgreSQL 15', () => {
    const inv = satisfied();
    inv.server = { major: 14, version: '14.11', engine: 'postgresql' };
    expect(evaluateCompat(inv, 'db').compatible).toBe(false);
  });
});
