import { expect } from 'vitest';
import { withAppUser } from '../db/as-user.js';
import type { Db } from '../db/types.js';
import { allowFrozenWrites, FREEZE_SQLSTATE } from '../runbook/freeze.js';
import { expectFailure } from './command.js';
import { userWithRole } from './fixture-contract.js';
import type { Manifest } from '../results/backup.js';

/**
 * What a rollback must leave on either engine: the triggers disabled exactly as the backup had
 * them, and the DB-STRICT guards still refusing a change to a validated sortie or a reception.
 */
export async function expectGuardsStillBite(db: Db, manifest: Manifest): Promise<void> {
  const disabled = await db.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND NOT t.tgisinternal AND t.tgenabled = 'D'",
  );
  expect(disabled.rows[0]!.n).toBe(
    manifest.fingerprint.entries.filter((e) => e.kind === 'trigger' && e.value.endsWith('enabled=D')).length,
  );
  // the rollback keeps entries frozen: past the freeze (as the pipeline), it is DB-STRICT that must refuse
  const pastFreeze = (sql: string, params: unknown[]) =>
    db.withTransaction(async (tx) => {
      await allowFrozenWrites(tx);
      await tx.query(sql, params);
    });
  const validated = (await db.query<{ id: string }>("SELECT id::text FROM sorties_produit WHERE statut = 'validee' LIMIT 1")).rows[0]!.id;
  const upd = (await expectFailure(pastFreeze("UPDATE sorties_produit SET note = 'x' WHERE id = $1", [validated]))) as Error & {
    code?: string;
  };
  expect(upd.code).toBe('P0001');
  const rec = (await db.query<{ id: string }>('SELECT id::text FROM receptions LIMIT 1')).rows[0]!.id;
  const del = (await expectFailure(pastFreeze('DELETE FROM receptions WHERE id = $1', [rec]))) as Error & { code?: string };
  expect(del.code).toBe('P0001');
  // and an app write without the pipeline's token meets the freeze
  const frozen = (await expectFailure(db.query('DELETE FROM receptions WHERE id = $1', [rec]))) as Error & { code?: string };
  expect(frozen.code).toBe(FREEZE_SQLSTATE);
}

/** Grants and RLS after a rollback: the owner sees rows, anon none, the gerant the stock. */
export async function expectRlsBack(db: Db, tables: readonly string[]): Promise<void> {
  for (const t of tables) {
    const owner = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM public.${t}`);
    expect(owner.rows[0]!.n, t).toBeGreaterThan(0);
    const anon = await withAppUser(db, { role: 'anon' }, (tx) => tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM public.${t}`));
    expect(anon.rows[0]!.n, t).toBe(0);
  }
  const gerant = await userWithRole(db, 'gerant');
  const seen = await withAppUser(db, { role: 'authenticated', userId: gerant }, (tx) =>
    tx.query<{ n: number }>('SELECT count(*)::int AS n FROM public.stocks_journaliers'),
  );
  expect(seen.rows[0]!.n).toBeGreaterThan(0);
}
