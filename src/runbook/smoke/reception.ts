import { table53b } from '../../astm/index.js';
import type { AppIdentity, Queryable } from '../../db/types.js';
import { profileName } from '../../golden/profile.js';
import type { Logger } from '../../logger.js';
import type { Balance, Owner, SmokeFinding, TankFigures } from '../../results/smoke.js';
import type { Context } from './context.js';
import { delta, fmtBalance, r3, readTankFigures, sameBalance } from './figures.js';
import { attempt, bal, check, finding, otherOwners, type Seen } from './findings.js';
import { SMOKE_MARK, SMOKE_MOVEMENTS, SMOKE_OWNER } from './movements.js';
import type { SmokeOptions } from './options.js';
import type { Requests } from './transaction.js';

export async function receptionCheck(
  req: Requests,
  opts: SmokeOptions,
  ctx: Context,
  who: AppIdentity,
  before: TankFigures,
  seen: Seen,
  log: Logger,
) {
  const m = SMOKE_MOVEMENTS.reception;
  const amb = m.index_apres - m.index_avant;
  const engine = table53b({
    observedDensity: m.densite_observee_kgm3,
    temperatureC: m.temperature_c,
    hydrometer: opts.profile.hydrometer,
    edition: opts.profile.edition,
    rounding: opts.profile.rounding,
    volumeL: amb,
  });
  const engine15 = engine.volume15L!;
  const plaque = `${SMOKE_MARK} ${opts.run.runId}`.slice(0, 60);
  const note = `${SMOKE_MARK}: pipeline test reception, run ${opts.run.runId}`;
  const f: SmokeFinding[] = [];
  const r = await attempt(async () => {
    // the test truck, by the pipeline: under RLS only admin/directeur may insert one
    const cdrId = await req.as(undefined, async (tx) => {
      const cdr = await tx.query<{ id: string }>(
        `INSERT INTO public.cours_de_route (depot_destination_id, produit_id, plaque_camion, date_chargement, volume, statut, note)
         VALUES ($1, $2, $3, $4::date, $5, 'ARRIVE', $6) RETURNING id::text`,
        [ctx.tank.depotId, ctx.tank.produitId, plaque, ctx.day, amb, `${SMOKE_MARK}: pipeline test truck, run ${opts.run.runId}`],
      );
      return cdr.rows[0]!.id;
    });
    const row = await req.as(who, (tx) => insertReception(tx, ctx, m, engine15, { owner: SMOKE_OWNER, cdrId, partenaireId: null }, note));
    return { cdrId, row };
  });
  if (!r.ok) {
    seen('5.3 reception', r.error);
    f.push(
      finding(
        'RECEPTION_INSERTED',
        false,
        r.error.code === 'P0001' || r.error.code === '42501' ? 'P0001_OR_RLS' : 'SMOKE_FAILED',
        `the reception was refused: ${r.error.code} ${r.error.message}`,
      ),
    );
    return {
      check: check('5.3', 'Réception contrôlée', '4.5, 5.3', f),
      cdr: undefined,
      reception: undefined,
      after: undefined,
    };
  }
  const { cdrId, row } = r.value;
  log.info(`smoke: reception ${row.id} (${amb} L) on ${ctx.tank.nom}, truck ${cdrId}`);
  const stored = row.volume_15c ?? row.volume_corrige_15c;
  const storedIn: 'volume_15c' | 'volume_corrige_15c' | null =
    row.volume_15c !== null ? 'volume_15c' : row.volume_corrige_15c !== null ? 'volume_corrige_15c' : null;
  const after = await req.as(who, (q) => readTankFigures(q, ctx.tank.id, ctx.tank.produitId, ctx.day));
  const expected: Balance = { amb: row.volume_ambiant, v15: stored ?? 0 };
  const own = SMOKE_OWNER;
  const dj = delta(after[own].journal, before[own].journal);
  const ds = delta(after[own].snapshot, before[own].snapshot);
  const dev = stored === null ? null : r3(stored - engine15);
  f.push(
    finding(
      'RECEPTION_15C_MATCHES_ENGINE',
      dev !== null && Math.abs(dev) <= opts.toleranceL,
      'GOLDEN_DEVIATION',
      dev === null
        ? 'the reception stores no 15 °C volume'
        : `${storedIn} ${r3(stored!)} L vs engine ${r3(engine15)} L (${profileName(opts.profile)}): ${dev >= 0 ? '+' : ''}${dev} L, tolerance ±${opts.toleranceL} L${storedIn === 'volume_corrige_15c' ? ' (the database stores what the app sent)' : ' (computed by the database)'}`,
      { stored_15c: stored === null ? null : r3(stored), engine_15c: r3(engine15), deviation_l: dev },
    ),
    finding(
      'JOURNAL_CREDIT',
      sameBalance(dj, expected),
      'STOCK_INCOHERENCE',
      `journal ${own} rose by ${fmtBalance(dj)}; expected ${fmtBalance(expected)}`,
      { ...bal('journal_delta', dj), ...bal('expected', expected) },
    ),
    finding(
      'SNAPSHOT_CREDIT',
      sameBalance(ds, expected),
      'STOCK_INCOHERENCE',
      `snapshot ${own} rose by ${fmtBalance(ds)}; expected ${fmtBalance(expected)}`,
      { ...bal('snapshot_delta', ds), ...bal('expected', expected) },
    ),
  );
  f.push(otherOwners(before, after, own, 'the reception'));
  const probe = await req.as(who, async (q) => {
    const logs = await q.query<{ n: number }>(
      "SELECT count(*)::int8 AS n FROM public.log_actions WHERE action = 'RECEPTION_CREEE' AND details->>'reception_id' = $1",
      [row.id],
    );
    const cdr = await q.query<{ statut: string }>('SELECT statut FROM public.cours_de_route WHERE id = $1', [cdrId]);
    return { logs: logs.rows[0]!.n, statut: cdr.rows[0]?.statut ?? null };
  });
  f.push(
    finding(
      'LOG_RECEPTION_CREEE',
      probe.logs === 1,
      'SMOKE_FAILED',
      `log_actions has ${probe.logs} RECEPTION_CREEE row(s) for the reception`,
      { rows: probe.logs },
    ),
    finding(
      'CDR_CLOSED',
      probe.statut === 'DECHARGE',
      'SMOKE_FAILED',
      `the test truck is ${probe.statut ?? 'invisible to the user'} after its reception (expected DECHARGE)`,
    ),
  );
  return {
    check: check(
      '5.3',
      'Réception contrôlée: volume à 15 °C cohérent, crédit journal et snapshot, RECEPTION_CREEE, CDR clôturé',
      '4.5, 5.3',
      f,
    ),
    cdr: { id: cdrId, plaque_camion: plaque, statut_after: probe.statut },
    reception: {
      id: row.id,
      ...m,
      volume_ambiant: row.volume_ambiant,
      engine_15c: r3(engine15),
      engine_density15: engine.density15,
      stored_15c: stored === null ? null : r3(stored),
      stored_in: storedIn,
      sent_volume_corrige_15c: r3(engine15),
    },
    after,
  };
}

export interface InsertedReception {
  id: string;
  volume_ambiant: number;
  volume_corrige_15c: number | null;
  volume_15c: number | null;
}

/** The columns the February app sends for a reception (the database sets the rest); PROD's densite_observee_kgm3 comes after where it exists. */
export const APP_RECEPTION_COLUMNS = [
  'cours_de_route_id',
  'partenaire_id',
  'citerne_id',
  'produit_id',
  'index_avant',
  'index_apres',
  'temperature_ambiante_c',
  'densite_a_15',
  'volume_corrige_15c',
  'proprietaire_type',
  'date_reception',
  'note',
] as const;

/**
 * A reception as the app inserts it: the February app's payload (densite_a_15 = the observed density,
 * volume_corrige_15c computed client-side), plus the observed density where PROD has that column.
 */
export async function insertReception(
  tx: Queryable,
  ctx: Context,
  m: { index_avant: number; index_apres: number; temperature_c: number; densite_observee_kgm3: number },
  engine15: number,
  who: { owner: Owner; cdrId: string | null; partenaireId: string | null },
  note: string,
): Promise<InsertedReception> {
  const cols: string[] = [...APP_RECEPTION_COLUMNS];
  const vals: unknown[] = [
    who.cdrId,
    who.partenaireId,
    ctx.tank.id,
    ctx.tank.produitId,
    m.index_avant,
    m.index_apres,
    m.temperature_c,
    m.densite_observee_kgm3,
    engine15,
    who.owner,
    ctx.day,
    note,
  ];
  if (ctx.hasObservedDensityColumn) {
    cols.push('densite_observee_kgm3');
    vals.push(m.densite_observee_kgm3);
  }
  const dateAt = cols.indexOf('date_reception');
  const ins = await tx.query<InsertedReception>(
    `INSERT INTO public.receptions (${cols.join(', ')}) VALUES (${vals.map((_, i) => `$${i + 1}${i === dateAt ? '::date' : ''}`).join(', ')})
     RETURNING id::text, volume_ambiant, volume_corrige_15c, volume_15c`,
    vals,
  );
  return ins.rows[0]!;
}
