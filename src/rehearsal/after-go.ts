import { table53b } from '../astm/index.js';
import { withAppUser } from '../db/as-user.js';
import type { Db } from '../db/types.js';
import { legacyVolume15 } from '../golden/diagnose.js';
import { ML_PP_PROFILE } from '../golden/profile.js';

/**
 * A day of operations after a GO on the demo depot (the after-GO drills, and the tests), entered as the app's users through their own
 * paths (JWT claims, SET LOCAL ROLE authenticated, RLS, DB-STRICT): a reception of the truck still
 * waiting, a sortie and a gauge correction (stocks_adjustments). `app: 'astm'` is the migrated app
 * (ASTM 53B volumes, the sortie validated through validate_sortie, which needs P0.1 applied);
 * `app: 'legacy'` is what the legacy app would have stored for the same field figures (legacy
 * 15 °C, the sortie inserted as validee): the reference a replay must reach.
 */
export const AFTER_GO_DAY = '2026-02-27';

async function userWithRole(db: Db, role: string): Promise<string> {
  const r = await db.query<{ user_id: string }>('SELECT user_id::text FROM public.profils WHERE role = $1 ORDER BY created_at LIMIT 1', [
    role,
  ]);
  if (!r.rows[0]) throw new Error(`the demo has no ${role} user`);
  return r.rows[0].user_id;
}
const GASOIL = '22222222-2222-2222-2222-222222222222';
export const TANK4 = '91d2078b-8e19-43c2-bf33-322a42cd4e94';
const CDR_9 = '9a8cb953-d5f3-1065-326c-aa6aa0b7f2b3';
/** the demo's second truck waiting at the gate */
export const CDR_10 = '2c7ae155-09fa-4f7d-de81-a70cd700b6bd';
const CLIENT_1 = '7892edea-75d6-775a-b7bd-5360b3e0c531';
/** the demo's draft sortie, there at the backup */
export const DEMO_DRAFT = '4bdb406f-c761-68af-b20e-3f0894e20a5b';

export const AFTER_GO_FIGURES = {
  reception: { index_avant: 500000, index_apres: 501500, temperature_c: 27.5, densite: 836.9 },
  sortie: { index_avant: 600000, index_apres: 600800, temperature_c: 26, densite: 836.5 },
  adjustment: { delta_ambiant: 0, delta_15c: -2.5, reason: 'jaugeage contradictoire après réclamation du client' },
} as const;

const astm15 = (amb: number, t: number, rho: number) =>
  table53b({
    observedDensity: rho,
    temperatureC: t,
    hydrometer: ML_PP_PROFILE.hydrometer,
    edition: ML_PP_PROFILE.edition,
    rounding: ML_PP_PROFILE.rounding,
    volumeL: amb,
  }).volume15L!;

export interface AfterGoIds {
  reception: string;
  sortie: string;
  adjustment: string;
}

/** A reception by the gerant; `truck` and `m` default to CDR 9 and AFTER_GO_FIGURES.reception. */
export async function enterReception(
  db: Db,
  app: 'astm' | 'legacy',
  truck: string = CDR_9,
  m: { index_avant: number; index_apres: number; temperature_c: number; densite: number } = AFTER_GO_FIGURES.reception,
): Promise<string> {
  const gerant = await userWithRole(db, 'gerant');
  const amb = m.index_apres - m.index_avant;
  const v15 = app === 'astm' ? astm15(amb, m.temperature_c, m.densite) : legacyVolume15(amb, m.temperature_c);
  return withAppUser(db, { role: 'authenticated', userId: gerant }, async (tx) => {
    const r = await tx.query<{ id: string }>(
      `INSERT INTO receptions (cours_de_route_id, citerne_id, produit_id, index_avant, index_apres, temperature_ambiante_c, densite_a_15, volume_corrige_15c, proprietaire_type, date_reception, note)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'MONALUXE', $9::date, 'after the GO') RETURNING id::text`,
      [truck, TANK4, GASOIL, m.index_avant, m.index_apres, m.temperature_c, m.densite, v15, AFTER_GO_DAY],
    );
    return r.rows[0]!.id;
  });
}

export async function enterSortie(db: Db, app: 'astm' | 'legacy'): Promise<string> {
  const gerant = await userWithRole(db, 'gerant');
  const m = AFTER_GO_FIGURES.sortie;
  const amb = m.index_apres - m.index_avant;
  const v15 = app === 'astm' ? astm15(amb, m.temperature_c, m.densite) : legacyVolume15(amb, m.temperature_c);
  const who = { role: 'authenticated' as const, userId: gerant };
  const id = await withAppUser(db, who, async (tx) => {
    const r = await tx.query<{ id: string }>(
      `INSERT INTO sorties_produit (citerne_id, produit_id, client_id, index_avant, index_apres, temperature_ambiante_c, densite_a_15, volume_corrige_15c, proprietaire_type, statut, date_sortie, note)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'MONALUXE', $9, ($10::date + time '12:00')::timestamptz, 'after the GO') RETURNING id::text`,
      [
        TANK4,
        GASOIL,
        CLIENT_1,
        m.index_avant,
        m.index_apres,
        m.temperature_c,
        m.densite,
        v15,
        app === 'astm' ? 'brouillon' : 'validee',
        AFTER_GO_DAY,
      ],
    );
    return r.rows[0]!.id;
  });
  if (app === 'astm') await withAppUser(db, who, (tx) => tx.query('SELECT validate_sortie($1)', [id]));
  return id;
}

export async function enterAdjustment(db: Db, receptionId: string): Promise<string> {
  const directeur = await userWithRole(db, 'directeur');
  const a = AFTER_GO_FIGURES.adjustment;
  return withAppUser(db, { role: 'authenticated', userId: directeur }, async (tx) => {
    const r = await tx.query<{ id: string }>(
      `INSERT INTO stocks_adjustments (mouvement_type, mouvement_id, delta_ambiant, delta_15c, reason) VALUES ('RECEPTION', $1, $2, $3, $4) RETURNING id::text`,
      [receptionId, a.delta_ambiant, a.delta_15c, a.reason],
    );
    return r.rows[0]!.id;
  });
}

/** The day after the GO: reception, sortie, adjustment, in that order. */
export async function enterAfterGo(db: Db, app: 'astm' | 'legacy'): Promise<AfterGoIds> {
  const reception = await enterReception(db, app);
  const sortie = await enterSortie(db, app);
  const adjustment = await enterAdjustment(db, reception);
  return { reception, sortie, adjustment };
}

/** The demo's draft (there at the backup) validated after the GO by the gerant, through the migrated validate_sortie. */
export async function validateDemoDraft(db: Db): Promise<void> {
  const gerant = await userWithRole(db, 'gerant');
  await withAppUser(db, { role: 'authenticated', userId: gerant }, (tx) => tx.query('SELECT validate_sortie($1)', [DEMO_DRAFT]));
}
