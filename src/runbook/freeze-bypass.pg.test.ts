import { expect, it } from 'vitest';
import { impersonate } from '../db/as-user.js';
import type { AppIdentity } from '../db/types.js';
import { memoryLogger } from '../logger.js';
import { userWithRole } from '../testing/fixture-contract.js';
import { describePg, useFreshDatabase } from '../testing/pg.js';
import { allowFrozenWrites, applicationTables, FREEZE_SQLSTATE, freezeOn } from './freeze.js';

/**
 * Nobody but the pipeline's own session passes the freeze. An app session (anon, an
 * authenticated gerant with real JWT claims, service_role) sets the bypass setting to every value
 * it could know or guess, including the hash it can read in pg_trigger, and writes to every table
 * a rollback would restore: refused each time, by the freeze itself wherever the role had the
 * privilege to write.
 */
const run = { runId: 'bypass-run-1', actor: 'ops-lead' };

interface Refusal {
  code: string | undefined;
  message: string;
}

describePg('the freeze cannot be bypassed by an app session', () => {
  const fx = useFreshDatabase('freeze_bypass', { fixture: true });

  it('refuses every guessable bypass value, as every app role, on every application table', async () => {
    const { db } = fx();
    const gerant = await userWithRole(db, 'gerant');
    await freezeOn(db, { reason: 'bypass test', force: true, run }, memoryLogger());
    const tables = await applicationTables(db);
    expect(tables.length).toBeGreaterThan(10);
    const hash = (
      await db.query<{ arg: string }>("SELECT encode(tgargs, 'escape') AS arg FROM pg_trigger WHERE tgname = 'astm53b_freeze' LIMIT 1")
    ).rows[0]!.arg.split('\\000')[1]!;
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    const values = ['on', 'true', '1', 'yes', 'off', 'ASTM53B', FREEZE_SQLSTATE, hash, hash.toUpperCase(), `${hash} `];
    const who: [string, AppIdentity | 'service_role'][] = [
      ['anon', { role: 'anon' }],
      ['authenticated gerant', { role: 'authenticated', userId: gerant }],
      ['service_role', 'service_role'],
    ];
    const outcomes: { role: string; table: string; value: string; code: string | undefined; mayWrite: boolean }[] = [];
    for (const [name, identity] of who) {
      const pgRole = identity === 'service_role' ? 'service_role' : identity.role;
      for (const table of tables) {
        const mayWrite = (await db.query<{ ok: boolean }>("SELECT has_table_privilege($1, $2, 'DELETE') AS ok", [pgRole, table])).rows[0]!
          .ok;
        for (const value of values) {
          const refusal = await db
            .withTransaction(async (tx) => {
              if (identity === 'service_role') await tx.query('SET LOCAL ROLE service_role');
              else await impersonate(tx, identity);
              await tx.query('SELECT set_config($1, $2, true)', ['astm53b.freeze_bypass', value]);
              await tx.query(`DELETE FROM ${table} WHERE false`);
            })
            .then(
              () => undefined,
              (e: Refusal) => e,
            );
          outcomes.push({ role: name, table, value, code: refusal?.code, mayWrite });
        }
      }
    }
    const passed = outcomes.filter((o) => o.code === undefined);
    expect(passed).toEqual([]);
    // wherever the role may write, it is the freeze that refuses (not merely a missing grant)
    const byFreeze = outcomes.filter((o) => o.mayWrite);
    expect(byFreeze.length).toBeGreaterThan(0);
    expect(byFreeze.filter((o) => o.code !== FREEZE_SQLSTATE)).toEqual([]);
    expect(outcomes.filter((o) => o.code !== FREEZE_SQLSTATE && o.code !== '42501')).toEqual([]);
  });

  it('the reported attack: a gerant sets the old bypass flag and enters a reception: refused', async () => {
    const { db } = fx();
    const gerant = await userWithRole(db, 'gerant');
    const e = await db
      .withTransaction(async (tx) => {
        await impersonate(tx, { role: 'authenticated', userId: gerant });
        await tx.query("SELECT set_config('astm53b.freeze_bypass', 'on', true)");
        await tx.query(
          `INSERT INTO public.stocks_adjustments (citerne_id, produit_id, mouvement_type, mouvement_id, delta_ambiant, delta_15c, reason, proprietaire_type)
           SELECT c.id, c.produit_id, 'RECEPTION', gen_random_uuid(), 1, 1, 'bypass attempt', 'MONALUXE' FROM public.citernes c LIMIT 1`,
        );
      })
      .then(
        () => undefined,
        (x: Refusal) => x,
      );
    expect(e?.code).toBe(FREEZE_SQLSTATE);
    expect(e?.message).toMatch(/^ASTM53B_FROZEN: INSERT on public\.stocks_adjustments refused/);
  });

  it("the pipeline's own session passes, also while acting as an app user, and only inside that transaction", async () => {
    const { db } = fx();
    const gerant = await userWithRole(db, 'gerant');
    await db.withTransaction(async (tx) => {
      await impersonate(tx, { role: 'authenticated', userId: gerant });
      await allowFrozenWrites(tx);
      expect((await tx.query<{ r: string }>('SELECT current_user::text AS r')).rows[0]!.r).toBe('authenticated');
      await tx.query('DELETE FROM public.stocks_adjustments WHERE false');
    });
    const after = await db.query('DELETE FROM public.cours_de_route WHERE false').then(
      () => undefined,
      (x: Refusal) => x,
    );
    expect(after?.code).toBe(FREEZE_SQLSTATE);
  });
});
