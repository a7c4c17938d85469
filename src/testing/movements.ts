import { withAppUser } from '../db/as-user.js';
import { runSqlFile } from '../db/sql-file.js';
import type { Db, Queryable } from '../db/types.js';
import { sqlPath, CHANGE_FILES } from '../paths.js';
import { userWithRole } from './fixture-contract.js';

const GASOIL = '22222222-2222-2222-2222-222222222222';

/**
 * What happens to the demo database after a backup in the runbook: the P0 change applied, the
 * draft sortie validated through the RPC and a new reception entered by the gerant. Rollback
 * tests start from here, on either engine.
 */
export async function applyP0AndMove(db: Db): Promise<void> {
  await runSqlFile(db, sqlPath(CHANGE_FILES.p0), { displayName: CHANGE_FILES.p0 });
  const gerant = await userWithRole(db, 'gerant');
  const draft = (
    await db.query<{ id: string }>("SELECT id::text FROM sorties_produit WHERE statut = 'brouillon' ORDER BY created_at LIMIT 1")
  ).rows[0]!.id;
  await withAppUser(db, { role: 'authenticated', userId: gerant }, (tx) => tx.query('SELECT validate_sortie($1)', [draft]));
  const cdr = (await db.query<{ id: string }>("SELECT id::text FROM cours_de_route WHERE statut = 'ARRIVE' ORDER BY plaque_camion LIMIT 1"))
    .rows[0]!.id;
  const tank = (
    await db.query<{ id: string }>("SELECT id::text FROM citernes WHERE produit_id = $1 AND statut = 'active' ORDER BY nom LIMIT 1", [
      GASOIL,
    ])
  ).rows[0]!.id;
  await withAppUser(db, { role: 'authenticated', userId: gerant }, (tx) =>
    tx.query(
      `INSERT INTO receptions (cours_de_route_id, citerne_id, produit_id, index_avant, index_apres, temperature_ambiante_c, densite_a_15, volume_corrige_15c, proprietaire_type, date_reception, note)
       VALUES ($1, $2, $3, 100000, 101234.5, 27, 837.2, 1224.87, 'MONALUXE', '2026-02-26', 'after backup')`,
      [cdr, tank, GASOIL],
    ),
  );
}

/** A reception as the app makes it, on the first truck still waiting. */
export async function appReception(tx: Queryable, day: string): Promise<string> {
  const cdr = (
    await tx.query<{ id: string }>(
      "SELECT c.id::text FROM cours_de_route c WHERE statut = 'ARRIVE' AND produit_id = $1 AND NOT EXISTS (SELECT 1 FROM receptions r WHERE r.cours_de_route_id = c.id) ORDER BY plaque_camion LIMIT 1",
      [GASOIL],
    )
  ).rows[0]!.id;
  const tank = (
    await tx.query<{ id: string }>("SELECT id::text FROM citernes WHERE produit_id = $1 AND statut = 'active' ORDER BY nom LIMIT 1", [
      GASOIL,
    ])
  ).rows[0]!.id;
  const r = await tx.query<{ id: string }>(
    `INSERT INTO receptions (cours_de_route_id, citerne_id, produit_id, index_avant, index_apres, temperature_ambiante_c, densite_a_15, volume_corrige_15c, proprietaire_type, date_reception, note)
     VALUES ($1, $2, $3, 200000, 201000, 25, 837, 993.5, 'MONALUXE', $4, 'astm53b freeze test') RETURNING id::text`,
    [cdr, tank, GASOIL, day],
  );
  return r.rows[0]!.id;
}
