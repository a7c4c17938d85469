import { expect, it } from 'vitest';
import { withAppUser } from '../db/as-user.js';
import { schemaExists } from '../db/catalog.js';
import { readFingerprint } from '../db/fingerprint.js';
import { PgDb } from '../db/pg.js';
import type { Db, Queryable } from '../db/types.js';
import { UserError } from '../errors.js';
import { memoryLogger } from '../logger.js';
import { userWithRole } from '../testing/fixture-contract.js';
import { appReception } from '../testing/movements.js';
import { describePg, holdOpenTransaction, useFreshDatabase } from '../testing/pg.js';
import { readAppActivity } from './app-activity.js';
import { FREEZE_SQLSTATE, allowFrozenWrites, applicationTables, freezeOff, freezeOn, freezeStatus } from './freeze.js';

const run = { runId: 'freeze-run-7', actor: 'ops-lead' };

async function dbError(p: Promise<unknown>): Promise<{ code?: string; message: string; hint?: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error('expected the database to refuse this');
}

describePg('astm53b freeze (runbook 3.4 / 4.1)', () => {
  const fx = useFreshDatabase('freeze', { fixture: true });
  let gerant = '';
  let before = '';

  it('status on a database never frozen: not frozen, and reading it creates nothing', async () => {
    const { db } = fx();
    gerant = await userWithRole(db, 'gerant');
    // the demo was built a second ago: its trigger-written log rows carry now(), which the
    // activity check rightly reads as an app writing; age them as a real depot's would be
    await db.query("UPDATE log_actions SET created_at = created_at - interval '1 day' WHERE created_at > now() - interval '1 hour'");
    before = (await readFingerprint(db)).sha256;
    const s = await freezeStatus(db);
    expect(s).toMatchObject({ frozen: false, guardedTables: [], consistent: true });
    expect(await schemaExists(db, 'astm53b')).toBe(false);
  });

  it('on: the database refuses receptions and sorties from the app with its own SQLSTATE; the catalog fingerprint does not move', async () => {
    const { db } = fx();
    const r = await freezeOn(db, { reason: 'ASTM53B PROD migration window', force: false, run }, memoryLogger());
    expect(r).toMatchObject({
      frozen: true,
      changed: true,
      by: 'ops-lead',
      runId: 'freeze-run-7',
    });
    // every table a rollback would restore, not only the two the runbook names
    expect(r.guardedTables).toEqual((await applicationTables(db)).map((t) => t.replace(/^public\./, '')));
    expect(r.guardedTables).toEqual(
      expect.arrayContaining([
        'receptions',
        'sorties_produit',
        'stocks_journaliers',
        'stocks_snapshot',
        'stocks_adjustments',
        'cours_de_route',
        'log_actions',
      ]),
    );
    expect(r.activity?.writing).toBe(false);
    expect((await readFingerprint(db)).sha256).toBe(before);

    const rec = await dbError(withAppUser(db, { role: 'authenticated', userId: gerant }, (tx) => appReception(tx, '2026-02-27')));
    expect(rec.code).toBe(FREEZE_SQLSTATE);
    expect(rec.message).toMatch(
      /^ASTM53B_FROZEN: INSERT on public\.receptions refused.*by ops-lead, run freeze-run-7: ASTM53B PROD migration window/,
    );
    const sortie = await dbError(
      withAppUser(db, { role: 'authenticated', userId: gerant }, (tx) =>
        tx.query("UPDATE sorties_produit SET note = 'x' WHERE statut = 'brouillon'"),
      ),
    );
    expect(sortie.code).toBe(FREEZE_SQLSTATE);
    // the app's sortie path: a direct insert (the legacy RPC fails earlier, on the journal, with P0001)
    const insert = await dbError(
      withAppUser(db, { role: 'authenticated', userId: gerant }, (tx) =>
        tx.query(
          `INSERT INTO sorties_produit (citerne_id, produit_id, client_id, index_avant, index_apres, temperature_ambiante_c, densite_a_15, volume_corrige_15c, proprietaire_type, statut, date_sortie)
           SELECT citerne_id, produit_id, client_id, 0, 10, 20, 837, 10, 'MONALUXE', 'brouillon', now() FROM sorties_produit WHERE statut = 'brouillon'`,
        ),
      ),
    );
    expect(insert.code).toBe(FREEZE_SQLSTATE);
    // even the owner: the freeze is about the depot's data, not about who asks
    expect((await dbError(db.query('DELETE FROM receptions WHERE false'))).code).toBe(FREEZE_SQLSTATE);
  });

  it("the pipeline's controlled write passes inside its own transaction, and only there", async () => {
    const { db } = fx();
    const id = await withAppUser(db, { role: 'authenticated', userId: gerant }, async (tx) => {
      await allowFrozenWrites(tx);
      return appReception(tx, '2026-02-27');
    });
    expect((await db.query('SELECT 1 FROM receptions WHERE id = $1', [id])).rowCount).toBe(1);
    // transaction-local: the next transaction of the same app user is refused again
    expect((await dbError(withAppUser(db, { role: 'authenticated', userId: gerant }, (tx) => appReception(tx, '2026-02-27')))).code).toBe(
      FREEZE_SQLSTATE,
    );
  });

  it('status says who froze, when, why and in which run; on again changes nothing', async () => {
    const { db } = fx();
    const s = await freezeStatus(db);
    expect(s).toMatchObject({
      frozen: true,
      by: 'ops-lead',
      reason: 'ASTM53B PROD migration window',
      runId: 'freeze-run-7',
      consistent: true,
    });
    const again = await freezeOn(db, { reason: 'other', force: false, run: { runId: 'x', actor: 'y' } }, memoryLogger());
    expect(again.changed).toBe(false);
    expect(again.reason).toBe('ASTM53B PROD migration window');
  });

  it('off: writes pass again, the catalog equals the pre-freeze one, and both events are recorded', async () => {
    const { db } = fx();
    const r = await freezeOff(db, { reason: 'GO signed', run: { runId: 'freeze-run-8', actor: 'ops-lead' } }, memoryLogger());
    expect(r).toMatchObject({ frozen: false, changed: true, guardedTables: [] });
    expect((await readFingerprint(db)).sha256).toBe(before);
    const triggers = await db.query("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'astm53b%'");
    expect(triggers.rows).toEqual([]);
    await withAppUser(db, { role: 'authenticated', userId: gerant }, (tx) => appReception(tx, '2026-02-28'));
    const log = await db.query<{ action: string; by_whom: string; reason: string; run_id: string }>(
      'SELECT action, by_whom, reason, run_id FROM astm53b.freeze_log ORDER BY id',
    );
    expect(log.rows).toEqual([
      { action: 'on', by_whom: 'ops-lead', reason: 'ASTM53B PROD migration window', run_id: 'freeze-run-7' },
      { action: 'off', by_whom: 'ops-lead', reason: 'GO signed', run_id: 'freeze-run-8' },
    ]);
    expect((await freezeOff(db, { reason: '', run }, memoryLogger())).changed).toBe(false);
  });

  it('on refuses while the app is visibly writing, says what it saw, and --force records that it was forced', async () => {
    const { db } = fx();
    // the receptions just made are recent movements
    const e = await freezeOn(db, { reason: 'window', force: false, run }, memoryLogger()).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).code).toBe('APP_ACTIVE');
    expect((e as UserError).message).toMatch(/2 reception\(s\) created in the last 15 min/);
    expect(await freezeStatus(db)).toMatchObject({ frozen: false, guardedTables: [] });
    const forced = await freezeOn(db, { reason: 'window', force: true, run }, memoryLogger());
    expect(forced).toMatchObject({ frozen: true, forced: true });
    const row = await db.query<{ forced: boolean; seen: string[] }>(
      "SELECT forced, activity->'seen' AS seen FROM astm53b.freeze_log ORDER BY id DESC LIMIT 1",
    );
    expect(row.rows[0]!.forced).toBe(true);
    expect(row.rows[0]!.seen.join()).toMatch(/reception/);
    await freezeOff(db, { reason: 'done', run }, memoryLogger());
  });

  it('sees an open session of an app role on this database, and not its own connections', async () => {
    const { db, scratch } = fx();
    const app = new PgDb(scratch.url, { applicationName: 'ml_pp_app_simulated' });
    // idle in transaction, as an app stuck mid-entry would be
    const session = await holdOpenTransaction(app, 'SELECT count(*) FROM receptions');
    try {
      const seen = await db.withClient((c: Queryable) => readAppActivity(c, { appRoles: ['postgres'], windowMinutes: 0 }));
      expect(seen.activeSessions.map((s) => s.application_name)).toEqual(['ml_pp_app_simulated']);
      expect(seen.seen.join()).toMatch(/session pid \d+ of postgres \(ml_pp_app_simulated\) idle in transaction/);
    } finally {
      await session.release();
      await app.close();
    }
  });

  it('the guard reads nothing of the pipeline schema: the app roles have no grant there, yet get the clear refusal', async () => {
    const db: Db = fx().db;
    const r = await db.query<{ ok: boolean }>("SELECT has_function_privilege('authenticated', 'astm53b.freeze_guard()', 'EXECUTE') AS ok");
    expect(r.rows[0]!.ok).toBe(false);
  });
});
