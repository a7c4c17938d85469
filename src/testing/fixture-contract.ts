import { expect, it } from 'vitest';
import { withAppUser } from '../db/as-user.js';
import { tableChecksum } from '../db/checksum.js';
import { runSqlFile } from '../db/sql-file.js';
import type { Db, Queryable } from '../db/types.js';
import { sqlPath, CHANGE_FILES } from '../paths.js';
import { readStockSummary } from '../runbook/stock-summary.js';

/**
 * The behaviours of ML_PP's stock module that the runbook depends on, checked on an
 * initialised demo database. Run on real PostgreSQL and on PGlite by their test files.
 * The tests run in order: the legacy RPC is probed before the P0 change is applied.
 */
const GASOIL = '22222222-2222-2222-2222-222222222222';
const MOVEMENT_TABLES = ['receptions', 'sorties_produit', 'stocks_journaliers', 'stocks_snapshot', 'stocks_adjustments', 'log_actions'];

export async function userWithRole(q: Queryable, role: string): Promise<string> {
  const r = await q.query<{ user_id: string }>('SELECT user_id::text FROM profils WHERE role = $1 ORDER BY created_at LIMIT 1', [role]);
  if (!r.rows[0]) throw new Error(`the demo has no ${role} user`);
  return r.rows[0].user_id;
}

interface Balance {
  amb: number;
  v15: number;
}

async function journalBalance(q: Queryable, citerne: string, day: string, owner: string): Promise<Balance> {
  const r = await q.query<Balance>(
    `SELECT stock_ambiant AS amb, stock_15c AS v15 FROM stocks_journaliers
      WHERE citerne_id = $1 AND produit_id = $2 AND proprietaire_type = $3 AND date_jour <= $4
      ORDER BY date_jour DESC LIMIT 1`,
    [citerne, GASOIL, owner, day],
  );
  return r.rows[0] ?? { amb: 0, v15: 0 };
}

async function snapshotBalance(q: Queryable, citerne: string, owner: string): Promise<Balance> {
  const r = await q.query<Balance>(
    'SELECT stock_ambiant AS amb, stock_15c AS v15 FROM stocks_snapshot WHERE citerne_id = $1 AND produit_id = $2 AND proprietaire_type = $3',
    [citerne, GASOIL, owner],
  );
  return r.rows[0] ?? { amb: 0, v15: 0 };
}

async function pgError(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error('expected the database to refuse this');
}

export function fixtureContract(getDb: () => Db): void {
  it('has the demo depot as the runbook found PROD: 8 GASOIL receptions and 2 trucks arrived but not received', async () => {
    const db = getDb();
    const rec = await db.query<{ n: number }>(
      'SELECT count(*)::int8 AS n FROM receptions WHERE produit_id = $1 AND cours_de_route_id IS NOT NULL',
      [GASOIL],
    );
    expect(rec.rows[0]!.n).toBe(8);
    const waiting = await db.query<{ n: number }>(
      "SELECT count(*)::int8 AS n FROM cours_de_route c WHERE statut = 'ARRIVE' AND NOT EXISTS (SELECT 1 FROM receptions r WHERE r.cours_de_route_id = c.id)",
    );
    expect(waiting.rows[0]!.n).toBe(2);
    // the journal and the snapshot tell the same story for every key
    const diverging = await db.query(
      `SELECT s.citerne_id FROM stocks_snapshot s
         JOIN LATERAL (SELECT stock_ambiant, stock_15c FROM stocks_journaliers j
                        WHERE j.citerne_id = s.citerne_id AND j.produit_id = s.produit_id AND j.proprietaire_type = s.proprietaire_type
                        ORDER BY date_jour DESC LIMIT 1) j ON true
        WHERE abs(j.stock_ambiant - s.stock_ambiant) > 1e-6 OR abs(j.stock_15c - s.stock_15c) > 1e-6`,
    );
    expect(diverging.rows).toEqual([]);
  });

  it('summarises stock per tank and owner (snapshot beside the journal) and the 2 trucks waiting', async () => {
    const s = await readStockSummary(getDb());
    expect(s.waitingTrucks).toHaveLength(2);
    expect(s.waitingTrucks.every((t) => t.statut === 'ARRIVE' && t.produit === 'G.O')).toBe(true);
    expect(s.stock.length).toBeGreaterThan(0);
    for (const r of s.stock) {
      expect(r.snapshot_ambiant, `${r.citerne} ${r.proprietaire_type}`).toBeCloseTo(r.journal_ambiant!, 6);
      expect(r.snapshot_15c, `${r.citerne} ${r.proprietaire_type}`).toBeCloseTo(r.journal_15c!, 6);
    }
    expect(new Set(s.stock.map((r) => r.proprietaire_type))).toEqual(new Set(['MONALUXE', 'PARTENAIRE']));
  });

  it('a reception by a gerant credits journal and snapshot exactly, closes its cours de route and logs; it is then immutable (P0001)', async () => {
    const db = getDb();
    const gerant = await userWithRole(db, 'gerant');
    const cdr = (
      await db.query<{ id: string }>(
        "SELECT c.id::text FROM cours_de_route c WHERE statut = 'ARRIVE' AND produit_id = $1 AND NOT EXISTS (SELECT 1 FROM receptions r WHERE r.cours_de_route_id = c.id) ORDER BY plaque_camion LIMIT 1",
        [GASOIL],
      )
    ).rows[0]!.id;
    const tank = (
      await db.query<{ id: string }>("SELECT id::text FROM citernes WHERE produit_id = $1 AND statut = 'active' ORDER BY nom LIMIT 1", [
        GASOIL,
      ])
    ).rows[0]!.id;
    const day = '2026-02-26';
    const [j0, s0] = [await journalBalance(db, tank, day, 'MONALUXE'), await snapshotBalance(db, tank, 'MONALUXE')];
    const amb = 1234.5; // index 100000 → 101234.5
    const v15 = amb * (1 - 0.00065 * (27 - 15)); // the legacy app formula
    const id = await withAppUser(db, { role: 'authenticated', userId: gerant }, async (tx) => {
      const r = await tx.query<{ id: string; created_by: string; volume_ambiant: number }>(
        `INSERT INTO receptions (cours_de_route_id, citerne_id, produit_id, index_avant, index_apres, temperature_ambiante_c, densite_a_15, volume_corrige_15c, proprietaire_type, date_reception, note)
         VALUES ($1, $2, $3, 100000, 101234.5, 27, 837.2, $4, 'MONALUXE', $5, 'astm53b test') RETURNING id::text, created_by::text, volume_ambiant`,
        [cdr, tank, GASOIL, v15, day],
      );
      return r.rows[0]!;
    });
    expect(id.created_by).toBe(gerant);
    expect(id.volume_ambiant).toBeCloseTo(amb, 9);
    const [j1, s1] = [await journalBalance(db, tank, day, 'MONALUXE'), await snapshotBalance(db, tank, 'MONALUXE')];
    expect(j1.amb - j0.amb).toBeCloseTo(amb, 6);
    expect(j1.v15 - j0.v15).toBeCloseTo(v15, 6);
    expect(s1.amb - s0.amb).toBeCloseTo(amb, 6);
    expect(s1.v15 - s0.v15).toBeCloseTo(v15, 6);
    expect((await db.query<{ statut: string }>('SELECT statut FROM cours_de_route WHERE id = $1', [cdr])).rows[0]!.statut).toBe('DECHARGE');
    const logs = await db.query<{ action: string }>(
      "SELECT action FROM log_actions WHERE details->>'reception_id' = $1 AND module = 'receptions' ORDER BY action",
      [id.id],
    );
    expect(logs.rows.map((r) => r.action)).toEqual(['RECEPTION_CREEE', 'RECEPTION_VALIDE']);
    const upd = await pgError(db.query("UPDATE receptions SET note = 'changed' WHERE id = $1", [id.id]));
    expect(upd.code).toBe('P0001');
    const del = await pgError(db.query('DELETE FROM receptions WHERE id = $1', [id.id]));
    expect(del.code).toBe('P0001');
  });

  it('legacy validate_sortie cannot complete under DB-STRICT (P0001 on the journal write), and changes nothing', async () => {
    const db = getDb();
    const gerant = await userWithRole(db, 'gerant');
    const draft = (
      await db.query<{ id: string }>("SELECT id::text FROM sorties_produit WHERE statut = 'brouillon' ORDER BY created_at LIMIT 1")
    ).rows[0]!.id;
    const before = await tableChecksum(db, 'public', 'stocks_journaliers');
    const err = await pgError(
      withAppUser(db, { role: 'authenticated', userId: gerant }, (tx) => tx.query('SELECT validate_sortie($1)', [draft])),
    );
    expect(err.code).toBe('P0001');
    expect(err.message).toMatch(/Ecriture directe interdite sur stocks_journaliers/);
    expect(await tableChecksum(db, 'public', 'stocks_journaliers')).toEqual(before);
    expect((await db.query<{ statut: string }>('SELECT statut FROM sorties_produit WHERE id = $1', [draft])).rows[0]!.statut).toBe(
      'brouillon',
    );
  });

  it('the P0 change file applies with stop-on-first-error; validate_sortie then validates the draft, debits the journal and logs SORTIE_VALIDEE', async () => {
    const db = getDb();
    await runSqlFile(db, sqlPath(CHANGE_FILES.p0), { displayName: `sql/${CHANGE_FILES.p0}` });
    const gerant = await userWithRole(db, 'gerant');
    const s = (
      await db.query<{
        id: string;
        citerne_id: string;
        volume_ambiant: number | null;
        index_avant: number;
        index_apres: number;
        volume_corrige_15c: number | null;
        day: string;
        owner: string;
      }>(
        "SELECT id::text, citerne_id::text, volume_ambiant, index_avant, index_apres, volume_corrige_15c, coalesce(date_sortie, now())::date::text AS day, proprietaire_type AS owner FROM sorties_produit WHERE statut = 'brouillon' ORDER BY created_at LIMIT 1",
      )
    ).rows[0]!;
    const amb = s.volume_ambiant ?? s.index_apres - s.index_avant;
    const before = await journalBalance(db, s.citerne_id, '9999-12-31', s.owner);
    await withAppUser(db, { role: 'authenticated', userId: gerant }, (tx) => tx.query('SELECT validate_sortie($1)', [s.id]));
    const after = await journalBalance(db, s.citerne_id, '9999-12-31', s.owner);
    expect(before.amb - after.amb).toBeCloseTo(amb, 6);
    expect(before.v15 - after.v15).toBeCloseTo(s.volume_corrige_15c ?? amb, 6);
    const row = (
      await db.query<{ statut: string; validated_by: string }>('SELECT statut, validated_by::text FROM sorties_produit WHERE id = $1', [
        s.id,
      ])
    ).rows[0]!;
    expect(row).toEqual({ statut: 'validee', validated_by: gerant });
    const log = await db.query<{ module: string }>(
      "SELECT module FROM log_actions WHERE action = 'SORTIE_VALIDEE' AND details->>'sortie_id' = $1",
      [s.id],
    );
    expect(log.rows).toEqual([{ module: 'sorties' }]);
    // DB-STRICT: a validated sortie is immutable, even for its owner
    expect((await pgError(db.query("UPDATE sorties_produit SET note = 'x' WHERE id = $1", [s.id]))).code).toBe('P0001');
    expect((await pgError(db.query('DELETE FROM sorties_produit WHERE id = $1', [s.id]))).code).toBe('P0001');
  });

  it('a lecture user gets ROLE_FORBIDDEN from validate_sortie', async () => {
    const db = getDb();
    const lecture = await userWithRole(db, 'lecture');
    const gerant = await userWithRole(db, 'gerant');
    const client = (await db.query<{ id: string }>('SELECT id::text FROM clients ORDER BY nom LIMIT 1')).rows[0]!.id;
    const tank = (
      await db.query<{ id: string }>("SELECT id::text FROM citernes WHERE produit_id = $1 AND statut = 'active' ORDER BY nom LIMIT 1", [
        GASOIL,
      ])
    ).rows[0]!.id;
    const draft = await withAppUser(
      db,
      { role: 'authenticated', userId: gerant },
      async (tx) =>
        (
          await tx.query<{ id: string }>(
            "INSERT INTO sorties_produit (citerne_id, produit_id, client_id, index_avant, index_apres, temperature_ambiante_c, densite_a_15, volume_corrige_15c, proprietaire_type, statut, date_sortie, note) VALUES ($1, $2, $3, 0, 10, 20, 837, 10, 'MONALUXE', 'brouillon', now(), 'astm53b test') RETURNING id::text",
            [tank, GASOIL, client],
          )
        ).rows[0]!.id,
    );
    const err = await pgError(
      withAppUser(db, { role: 'authenticated', userId: lecture }, (tx) => tx.query('SELECT validate_sortie($1)', [draft])),
    );
    expect(err.code).toBe('P0001');
    expect(err.message).toMatch(/ROLE_FORBIDDEN/);
  });

  it('anon reads no movement row (RLS and grants as after the 2026-02-21 hardening)', async () => {
    const db = getDb();
    // PROD had no adjustment when the runbook was written, nor has the demo: make one, through
    // the app's own path (an admin, RLS on), so there is something to hide from anon
    const admin = await userWithRole(db, 'admin');
    const reception = (await db.query<{ id: string }>('SELECT id::text FROM receptions ORDER BY created_at LIMIT 1')).rows[0]!.id;
    await withAppUser(db, { role: 'authenticated', userId: admin }, (tx) =>
      tx.query(
        "INSERT INTO stocks_adjustments (mouvement_type, mouvement_id, delta_ambiant, delta_15c, reason, created_by) VALUES ('RECEPTION', $1, 0.5, 0.5, 'astm53b test: anon visibility probe', $2)",
        [reception, admin],
      ),
    );
    for (const table of MOVEMENT_TABLES) {
      const owner = await db.query<{ n: number }>(`SELECT count(*)::int8 AS n FROM ${table}`);
      expect(owner.rows[0]!.n, `${table} has rows to hide`).toBeGreaterThan(0);
      const seen = await withAppUser(db, { role: 'anon' }, (tx) => tx.query(`SELECT * FROM ${table}`)).then(
        (r) => r.rows.length,
        (e: { code?: string }) => (e.code === '42501' ? 0 : Promise.reject(e)),
      );
      expect(seen, `anon sees rows of ${table}`).toBe(0);
    }
  });

  it('the staging reset, run twice, empties the movement tables and leaves cours_de_route identical', async () => {
    const db = getDb();
    const cdrBefore = await tableChecksum(db, 'public', 'cours_de_route');
    expect(cdrBefore.rows).toBeGreaterThan(0);
    for (let run = 0; run < 2; run++) {
      await runSqlFile(db, sqlPath(CHANGE_FILES.resetCdrOnly), { displayName: `sql/${CHANGE_FILES.resetCdrOnly}` });
      for (const table of ['receptions', 'sorties_produit', 'stocks_journaliers']) {
        expect(
          (await db.query<{ n: number }>(`SELECT count(*)::int8 AS n FROM ${table}`)).rows[0]!.n,
          `${table} after reset ${run + 1}`,
        ).toBe(0);
      }
      const scoped = await db.query<{ n: number }>(
        "SELECT count(*)::int8 AS n FROM log_actions WHERE module IN ('receptions', 'sorties') OR module ILIKE '%stock%'",
      );
      expect(scoped.rows[0]!.n).toBe(0);
      expect(await tableChecksum(db, 'public', 'cours_de_route')).toEqual(cdrBefore);
    }
  });
}
