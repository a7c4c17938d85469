import { functionSource } from '../../db/catalog.js';
import type { Queryable } from '../../db/types.js';
import { UserError } from '../../errors.js';
import type { SmokeResult } from '../../results/smoke.js';
import { P0_FLAG_PATTERN } from '../compat.js';
import { readEnvironment } from '../environment.js';
import { FREEZE_TRIGGER } from '../freeze.js';
import { OTHER_OWNER, SMOKE_MOVEMENTS } from './movements.js';
import type { SmokeOptions } from './options.js';

const WRITER_ROLES = ['admin', 'directeur', 'gerant'] as const;
const GASOIL = `(upper(coalesce(p.code, '')) IN ('G.O', 'GO', 'GASOIL', 'AGO') OR p.nom ILIKE '%gasoil%')`;

export interface Context {
  environment: string;
  frozen: boolean;
  p0Applied: boolean;
  user: SmokeResult['user'];
  lectureUser: string | null;
  tank: NonNullable<SmokeResult['tank']> & { depotId: string | null };
  clientId: string;
  day: string;
  hasObservedDensityColumn: boolean;
  sortieHasVolume15c: boolean;
}

/** A read request as the smoke's app user: a read-only transaction of its own for 5.1/5.2, a request inside the smoke's transaction for 5.5. */
export type AsUser = <T>(fn: (q: Queryable) => Promise<T>) => Promise<T>;

export async function readContext(q: Queryable, opts: SmokeOptions): Promise<Context> {
  const env = await readEnvironment(q);
  const frozen =
    (await q.query<{ n: number }>('SELECT count(*)::int8 AS n FROM pg_trigger WHERE tgname = $1', [FREEZE_TRIGGER])).rows[0]!.n > 0;
  const src = await functionSource(q, 'public', 'validate_sortie');
  const day = (await q.query<{ d: string }>('SELECT current_date::text AS d')).rows[0]!.d;

  let user: Context['user'];
  if (opts.asUser) {
    // as _current_role() resolves it: the latest profils row of that user
    const r = await q.query<{ role: string }>('SELECT role FROM public.profils WHERE user_id = $1 ORDER BY created_at DESC LIMIT 1', [
      opts.asUser,
    ]);
    const role = r.rows[0]?.role;
    if (!role)
      throw new UserError('NO_APP_USER', `--as-user ${opts.asUser}: no profils row for that user`, { where: { field: 'as-user' } });
    if (!(WRITER_ROLES as readonly string[]).includes(role)) {
      throw new UserError(
        'NO_APP_USER',
        `--as-user ${opts.asUser} has role ${role}; the smoke needs admin, directeur or gerant (validate_sortie refuses the others)`,
        { where: { field: 'as-user' } },
      );
    }
    user = { id: opts.asUser, role, chosenBy: '--as-user' };
  } else {
    const r = await q.query<{ user_id: string; role: string }>(
      `SELECT p.user_id::text, p.role FROM public.profils p WHERE p.user_id IS NOT NULL AND p.role = ANY($1::text[])
          AND p.created_at IS NOT DISTINCT FROM (SELECT max(p2.created_at) FROM public.profils p2 WHERE p2.user_id = p.user_id)
        ORDER BY p.created_at NULLS LAST, p.user_id LIMIT 1`,
      [WRITER_ROLES],
    );
    const u = r.rows[0];
    if (!u)
      throw new UserError('NO_APP_USER', 'no profils row with role admin, directeur or gerant: the smoke has no app user to act as', {
        hint: 'pass --as-user UUID',
      });
    user = { id: u.user_id, role: u.role, chosenBy: 'the first profils row (by created_at) with role admin, directeur or gerant' };
  }
  const lecture = (
    await q.query<{ user_id: string }>(
      "SELECT user_id::text FROM public.profils WHERE role = 'lecture' AND user_id IS NOT NULL ORDER BY created_at NULLS LAST, user_id LIMIT 1",
    )
  ).rows[0];

  // a tank where the other owner holds stock, best with a row on the day: OTHER_OWNERS_UNTOUCHED then
  // tests the data as it is; the smoke's own PARTENAIRE reception fills in otherwise (other-owner.ts).
  // Room first: the smoke's receptions must not push the tank over capacity (a false 5.5 failure)
  const sortieL = SMOKE_MOVEMENTS.sortie.index_apres - SMOKE_MOVEMENTS.sortie.index_avant;
  const receivedL =
    SMOKE_MOVEMENTS.reception.index_apres -
    SMOKE_MOVEMENTS.reception.index_avant +
    SMOKE_MOVEMENTS.otherOwnerReception.index_apres -
    SMOKE_MOVEMENTS.otherOwnerReception.index_avant;
  const tanks = await q.query<{
    id: string;
    nom: string;
    produit_id: string;
    depot_id: string | null;
    utile: number;
    statut: string;
    gasoil: boolean;
    other_day: boolean;
    other_stock: boolean;
  }>(
    `SELECT t.* FROM (
       SELECT c.id::text, c.nom, c.produit_id::text, c.depot_id::text, (c.capacite_totale - c.capacite_securite) AS utile, c.statut, ${GASOIL} AS gasoil,
              coalesce((SELECT sum(s.stock_ambiant) FROM public.stocks_snapshot s WHERE s.citerne_id = c.id), 0) AS stock,
              EXISTS (SELECT 1 FROM public.stocks_journaliers j WHERE j.citerne_id = c.id AND j.produit_id = c.produit_id AND j.proprietaire_type = $4
                         AND j.date_jour = $1::date AND j.stock_ambiant >= $5 AND j.stock_15c >= $5) AS other_day,
              EXISTS (SELECT 1 FROM public.stocks_snapshot s WHERE s.citerne_id = c.id AND s.produit_id = c.produit_id AND s.proprietaire_type = $4
                         AND s.stock_ambiant > 0) AS other_stock
         FROM public.citernes c JOIN public.produits p ON p.id = c.produit_id
        WHERE ($2::uuid IS NULL AND c.statut = 'active' AND ${GASOIL}) OR c.id = $2::uuid) t
      ORDER BY (CASE WHEN t.stock + $3 <= t.utile THEN 0 ELSE 1 END), t.other_day DESC, t.other_stock DESC,
               (CASE WHEN t.stock > 0 THEN 0 ELSE 1 END), t.nom`,
    [day, opts.citerneId ?? null, receivedL, OTHER_OWNER, sortieL],
  );
  const t = tanks.rows[0];
  if (!t) {
    throw new UserError(
      'NO_TANK',
      opts.citerneId ? `--citerne ${opts.citerneId}: no such tank` : 'no active GASOIL tank: runbook 5.2 needs one',
      { where: { field: 'citerne' } },
    );
  }
  if (opts.citerneId && (t.statut !== 'active' || !t.gasoil)) {
    throw new UserError(
      'NO_TANK',
      `--citerne ${opts.citerneId} (${t.nom}) is ${t.statut}${t.gasoil ? '' : ', not GASOIL'}: runbook 5.2 needs an active GASOIL tank`,
      { where: { field: 'citerne' } },
    );
  }
  const other = t.other_day
    ? `${OTHER_OWNER} already has a journal row on the day`
    : t.other_stock
      ? `${OTHER_OWNER} also holds stock in it (the smoke gives it a journal row on the day)`
      : `no ${OTHER_OWNER} stock in it (the smoke gives ${OTHER_OWNER} stock and a journal row on the day)`;
  const chosenBy = opts.citerneId
    ? `--citerne; ${other}: validate_sortie must leave it alone`
    : `active GASOIL tank with room for the smoke's receptions, preferring one where ${OTHER_OWNER} has a journal row on the day, then stock, then MONALUXE stock, then by name; ${other}: validate_sortie must leave it alone`;
  const client = (await q.query<{ id: string }>('SELECT id::text FROM public.clients ORDER BY nom, id LIMIT 1')).rows[0];
  if (!client)
    throw new UserError('NO_CLIENT', 'no client: a MONALUXE sortie needs a beneficiary (validate_sortie refuses BENEFICIAIRE_REQUIRED)');
  const cols = await q.query<{ t: string; c: string }>(
    `SELECT table_name AS t, column_name AS c FROM information_schema.columns
      WHERE table_schema = 'public' AND ((table_name = 'receptions' AND column_name = 'densite_observee_kgm3') OR (table_name = 'sorties_produit' AND column_name = 'volume_15c'))`,
  );
  return {
    environment: env.env,
    frozen,
    p0Applied: src !== undefined && P0_FLAG_PATTERN.test(src),
    user,
    lectureUser: lecture?.user_id ?? null,
    tank: { id: t.id, nom: t.nom, produitId: t.produit_id, depotId: t.depot_id, capacite_utile: Number(t.utile), chosenBy },
    clientId: client.id,
    day,
    hasObservedDensityColumn: cols.rows.some((r) => r.t === 'receptions'),
    sortieHasVolume15c: cols.rows.some((r) => r.t === 'sorties_produit'),
  };
}
