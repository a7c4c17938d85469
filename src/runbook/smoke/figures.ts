import { z } from 'zod';
import { parseRows } from '../../db/rows.js';
import type { Queryable } from '../../db/types.js';
import { OWNERS, type Balance, type FigureReturn, type TankFigures } from '../../results/smoke.js';

/**
 * The stock figures the smoke compares before and after each controlled movement: for one
 * tank and each owner, the journal's balance on the smoke day (the latest row up to that day:
 * the journal holds closing balances, a day without a row carries the previous one), the
 * snapshot and v_stock_actuel (snapshot + adjustments, what the app shows). Read by the caller's
 * transaction, hence as whoever it impersonates.
 */

/** Litres: below this a difference is float noise, not stock (the columns are double precision). */
export const EXACT_L = 0.001;

const num = z.union([z.number(), z.string().transform(Number)]).nullable();
const FigureRow = z.object({
  owner: z.enum(OWNERS),
  j_date: z.string().nullable(),
  j_amb: num,
  j_v15: num,
  s_amb: num,
  s_v15: num,
  a_amb: num,
  a_v15: num,
});

export async function readTankFigures(q: Queryable, citerneId: string, produitId: string, day: string): Promise<TankFigures> {
  const r = await q.query(
    `SELECT o.owner, j.date_jour::text AS j_date, j.stock_ambiant AS j_amb, j.stock_15c AS j_v15,
            s.stock_ambiant AS s_amb, s.stock_15c AS s_v15, a.stock_ambiant AS a_amb, a.stock_15c AS a_v15
       FROM (VALUES ('MONALUXE'), ('PARTENAIRE')) AS o(owner)
       LEFT JOIN LATERAL (SELECT date_jour, stock_ambiant, stock_15c FROM public.stocks_journaliers
                           WHERE citerne_id = $1 AND produit_id = $2 AND proprietaire_type = o.owner AND date_jour <= $3::date
                           ORDER BY date_jour DESC LIMIT 1) j ON true
       LEFT JOIN LATERAL (SELECT sum(stock_ambiant) AS stock_ambiant, sum(stock_15c) AS stock_15c FROM public.stocks_snapshot
                           WHERE citerne_id = $1 AND produit_id = $2 AND proprietaire_type = o.owner) s ON true
       LEFT JOIN LATERAL (SELECT sum(stock_ambiant) AS stock_ambiant, sum(stock_15c) AS stock_15c FROM public.v_stock_actuel
                           WHERE citerne_id = $1 AND produit_id = $2 AND proprietaire_type = o.owner) a ON true
      ORDER BY o.owner`,
    [citerneId, produitId, day],
  );
  const rows = parseRows(FigureRow, r.rows, 'smoke: stock figures of the tank');
  const out = {} as TankFigures;
  for (const x of rows) {
    out[x.owner] = {
      owner: x.owner,
      journalDate: x.j_date,
      journal: { amb: x.j_amb ?? 0, v15: x.j_v15 ?? 0 },
      snapshot: { amb: x.s_amb ?? 0, v15: x.s_v15 ?? 0 },
      actuel: { amb: x.a_amb ?? 0, v15: x.a_v15 ?? 0 },
    };
  }
  return out;
}

export const r3 = (x: number): number => Math.round(x * 1000) / 1000;

export function delta(after: Balance, before: Balance): Balance {
  return { amb: r3(after.amb - before.amb), v15: r3(after.v15 - before.v15) };
}

export function sameBalance(a: Balance, b: Balance, tol = EXACT_L): boolean {
  return Math.abs(a.amb - b.amb) <= tol && Math.abs(a.v15 - b.v15) <= tol;
}

export const fmtBalance = (b: Balance): string => `${r3(b.amb)} L / ${r3(b.v15)} L @15 °C`;

/** Every figure of every owner of the tank: before the smoke against after its rollback. */
export function compareFigures(before: TankFigures, after: TankFigures): FigureReturn[] {
  const out: FigureReturn[] = [];
  for (const owner of OWNERS) {
    for (const figure of ['journal', 'snapshot', 'v_stock_actuel'] as const) {
      const key = figure === 'v_stock_actuel' ? 'actuel' : figure;
      const b = before[owner][key];
      const a = after[owner][key];
      out.push({ owner, figure, before: b, after: a, difference: delta(a, b), returned: sameBalance(a, b) });
    }
  }
  return out;
}

const signed = (x: number) => `${x >= 0 ? '+' : ''}${x}`;

export function summariseFigures(figures: FigureReturn[]): string[] {
  return (['v_stock_actuel', 'snapshot', 'journal'] as const).map((figure) => {
    const off = figures.filter((f) => f.figure === figure && !f.returned);
    return off.length === 0
      ? `${figure}: equal to before the smoke, to the litre, for every owner`
      : `${figure}: DIFFERS from before the smoke: ${off.map((f) => `${f.owner} ${signed(f.difference.amb)} L / ${signed(f.difference.v15)} L @15 °C`).join('; ')}`;
  });
}

// --------------------------------------------------------------------------- coherence (5.5)

export interface JournalKeyRow {
  citerne_id: string;
  produit_id: string | null;
  date_jour: string;
  proprietaire_type: string | null;
  stock_ambiant: number;
  stock_15c: number;
}

export interface DuplicateKey {
  citerne_id: string;
  produit_id: string | null;
  date_jour: string;
  proprietaire_type: string | null;
  rows: number;
}

export interface OverCapacity {
  citerne_id: string;
  nom: string;
  /** capacite_totale − capacite_securite, as ML_PP's own v_integrity_checks uses */
  capacite_utile: number;
  source: 'journal' | 'v_stock_actuel';
  stock_ambiant: number;
}

/** v_integrity_checks' threshold: below −0.01 L a balance is negative, above it is float noise. */
export const NEGATIVE_THRESHOLD_L = -0.01;

export interface Coherence {
  negative: JournalKeyRow[];
  duplicates: DuplicateKey[];
  overCapacity: OverCapacity[];
}

const n = z.union([z.number(), z.string().transform(Number)]);

export async function readCoherence(q: Queryable): Promise<Coherence> {
  const negative = parseRows(
    z.object({
      citerne_id: z.string(),
      produit_id: z.string().nullable(),
      date_jour: z.string(),
      proprietaire_type: z.string().nullable(),
      stock_ambiant: n,
      stock_15c: n,
    }),
    (
      await q.query(
        `SELECT citerne_id::text, produit_id::text, date_jour::text, proprietaire_type, stock_ambiant, stock_15c FROM public.stocks_journaliers
          WHERE stock_ambiant < $1 OR stock_15c < $1 ORDER BY date_jour, citerne_id, proprietaire_type LIMIT 50`,
        [NEGATIVE_THRESHOLD_L],
      )
    ).rows,
    'smoke 5.5: negative journal rows',
  );
  // the journal's unique key: several rows per (day, tank) are legitimate, one per owner and product
  const duplicates = parseRows(
    z.object({
      citerne_id: z.string(),
      produit_id: z.string().nullable(),
      date_jour: z.string(),
      proprietaire_type: z.string().nullable(),
      rows: n,
    }),
    (
      await q.query(
        `SELECT citerne_id::text, produit_id::text, date_jour::text, proprietaire_type, count(*)::int8 AS rows FROM public.stocks_journaliers
          GROUP BY citerne_id, produit_id, date_jour, proprietaire_type HAVING count(*) > 1 ORDER BY date_jour, citerne_id LIMIT 50`,
      )
    ).rows,
    'smoke 5.5: duplicated journal keys',
  );
  // a tank holds every owner's product: the sum over owners must fit
  const overCapacity = parseRows(
    z.object({
      citerne_id: z.string(),
      nom: z.string(),
      capacite_utile: n,
      source: z.enum(['journal', 'v_stock_actuel']),
      stock_ambiant: n,
    }),
    (
      await q.query(
        `WITH latest AS (
           SELECT DISTINCT ON (citerne_id, produit_id, proprietaire_type) citerne_id, stock_ambiant
             FROM public.stocks_journaliers ORDER BY citerne_id, produit_id, proprietaire_type, date_jour DESC),
         totals AS (
           SELECT citerne_id, 'journal'::text AS source, sum(stock_ambiant) AS stock_ambiant FROM latest GROUP BY citerne_id
           UNION ALL
           SELECT citerne_id, 'v_stock_actuel', sum(stock_ambiant) FROM public.v_stock_actuel GROUP BY citerne_id)
         SELECT c.id::text AS citerne_id, c.nom, c.capacite_totale - c.capacite_securite AS capacite_utile, t.source, t.stock_ambiant
           FROM totals t JOIN public.citernes c ON c.id = t.citerne_id
          WHERE t.stock_ambiant > c.capacite_totale - c.capacite_securite
          ORDER BY c.nom, t.source`,
      )
    ).rows,
    'smoke 5.5: stock above capacity',
  );
  return { negative, duplicates, overCapacity };
}
