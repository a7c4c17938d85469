import { z } from 'zod';
import { isAstmError, volume15ByPair } from '../astm/index.js';
import type { Logger } from '../logger.js';
import type { Queryable } from '../db/types.js';
import { parseRows } from '../db/rows.js';
import { ML_PP_PROFILE, profileName, type GoldenProfile } from '../golden/profile.js';
import type { DriftReception, DriftReport, DriftTank } from '../results/golden.js';

const ReceptionRow = z.object({
  id: z.string(),
  date_reception: z.string().nullable(),
  citerne: z.string().nullable(),
  citerne_id: z.string(),
  produit_id: z.string(),
  depot_id: z.string().nullable(),
  proprietaire_type: z.string().nullable(),
  volume_ambiant: z.number().nullable(),
  temperature_ambiante_c: z.number().nullable(),
  densite_a_15: z.number().nullable(),
  volume_15c: z.number().nullable(),
  volume_corrige_15c: z.number().nullable(),
});

const r3 = (x: number) => Math.round(x * 1000) / 1000;

/** One validated reception's drift, with the ids of the stock it credited (the key of stocks_snapshot and v_stock_actuel). */
export interface ReceptionDrift {
  drift: DriftReception;
  citerneId: string;
  produitId: string;
  /** the tank's depot: what stocks_adjustments' context trigger gives an adjustment of this reception */
  depotId: string | null;
}

/** Every validated reception recomputed under `profile`, oldest first; `since`: only those created from that time on (the watch after a GO). */
export async function readReceptionDrifts(q: Queryable, profile: GoldenProfile, since?: string): Promise<ReceptionDrift[]> {
  const res = await q.query(
    `SELECT r.id::text AS id, r.date_reception, c.nom AS citerne, r.citerne_id::text AS citerne_id, r.produit_id::text AS produit_id,
            c.depot_id::text AS depot_id, r.proprietaire_type, r.volume_ambiant,
            r.temperature_ambiante_c, r.densite_a_15, r.volume_15c, r.volume_corrige_15c
       FROM public.receptions r LEFT JOIN public.citernes c ON c.id = r.citerne_id
      WHERE r.statut = 'validee' AND ($1::timestamptz IS NULL OR r.created_at >= $1::timestamptz)
      ORDER BY r.date_reception, r.created_at, r.id`,
    [since ?? null],
  );
  const solve = volume15ByPair({ hydrometer: profile.hydrometer, edition: profile.edition, rounding: profile.rounding });
  return parseRows(ReceptionRow, res.rows, 'drift: receptions').map((row) => ({
    drift: recompute(row, solve),
    citerneId: row.citerne_id,
    produitId: row.produit_id,
    depotId: row.depot_id,
  }));
}

export async function driftReport(q: Queryable, opts: { profile?: GoldenProfile }, log: Logger): Promise<DriftReport> {
  const profile = opts.profile ?? ML_PP_PROFILE;
  const receptions = (await readReceptionDrifts(q, profile)).map((x) => x.drift);
  const tanks = new Map<string, DriftTank>();
  for (const d of receptions) {
    if (d.drift_l === null) continue;
    const t = tanks.get(d.citerne) ?? { citerne: d.citerne, receptions: 0, stored_15c_l: 0, astm_15c_l: 0, drift_l: 0 };
    t.receptions++;
    t.stored_15c_l += d.stored_15c_l!;
    t.astm_15c_l += d.astm_15c_l!;
    tanks.set(d.citerne, t);
  }
  const tankList = [...tanks.values()]
    .sort((a, b) => a.citerne.localeCompare(b.citerne))
    .map((t) => ({ ...t, stored_15c_l: r3(t.stored_15c_l), astm_15c_l: r3(t.astm_15c_l), drift_l: r3(t.stored_15c_l - t.astm_15c_l) }));
  const stored = tankList.reduce((s, t) => s + t.stored_15c_l, 0);
  const astm = tankList.reduce((s, t) => s + t.astm_15c_l, 0);
  const recomputed = receptions.filter((d) => d.drift_l !== null).length;
  const total = { receptions: receptions.length, recomputed, stored_15c_l: r3(stored), astm_15c_l: r3(astm), drift_l: r3(stored - astm) };
  log.info(
    `drift: ${recomputed}/${receptions.length} receptions recomputed under ${profileName(profile)}, total ${total.drift_l.toFixed(1)} L`,
  );
  return { profile: profileName(profile), receptions, tanks: tankList, total };
}

type Solve = (observedDensity: number, temperatureC: number, volumeL: number) => number;

/** `solve`: Table 53B's volume at 15 °C under the report's profile, each (density, temperature) pair solved once (volume15ByPair). */
function recompute(row: z.infer<typeof ReceptionRow>, solve: Solve): DriftReception {
  const storedColumn = row.volume_15c !== null ? 'volume_15c' : row.volume_corrige_15c !== null ? 'volume_corrige_15c' : null;
  const stored = row.volume_15c ?? row.volume_corrige_15c;
  const base: DriftReception = {
    reception_id: row.id,
    date_reception: row.date_reception,
    citerne: row.citerne ?? '(no tank)',
    proprietaire_type: row.proprietaire_type ?? '',
    volume_ambiant_l: row.volume_ambiant,
    temperature_c: row.temperature_ambiante_c,
    densite_kgm3: row.densite_a_15,
    stored_15c_l: stored,
    stored_column: storedColumn,
    astm_15c_l: null,
    drift_l: null,
    problem: null,
  };
  const missing = [
    row.volume_ambiant === null ? 'volume_ambiant' : undefined,
    row.temperature_ambiante_c === null ? 'temperature_ambiante_c' : undefined,
    row.densite_a_15 === null ? 'densite_a_15' : undefined,
    stored === null ? 'volume_15c and volume_corrige_15c' : undefined,
  ].filter(Boolean);
  if (missing.length) return { ...base, problem: `no ${missing.join(', ')}` };
  try {
    const astm = solve(row.densite_a_15!, row.temperature_ambiante_c!, row.volume_ambiant!);
    return { ...base, astm_15c_l: astm, drift_l: r3(stored! - astm) };
  } catch (e) {
    if (isAstmError(e)) return { ...base, problem: `${e.code}: ${e.message}` };
    throw e;
  }
}
