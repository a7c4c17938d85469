import { z } from 'zod';
import { parseRows } from '../db/rows.js';
import type { Queryable } from '../db/types.js';
import type { RestatedReception, RestateProof, RestateTotal } from '../results/restate.js';
import type { ApplyResult } from '../results/sql-apply.js';

/**
 * The proof `restate` gives before COMMIT: what the app shows as the current stock
 * (v_stock_actuel: snapshot + Σ adjustments, per depot, tank, product and owner) moved by exactly
 * the adjustments booked, on their keys and nowhere else; the rows read back are what was meant
 * (the reception, ASTM − stored, the app user, the context ML_PP's trigger derives from the
 * reception); and the journal, the snapshot and the movements were not written, since a
 * restatement may change the figures only through stocks_adjustments (DB-STRICT).
 */

/** float8 sums of a few numbers: anything beyond this is a real difference, not rounding */
export const MOVE_TOLERANCE_L = 1e-6;

/** Tables a restatement must leave alone: the movements and the two stock tables the app derives from them. */
const UNTOUCHED = [
  'public.receptions',
  'public.sorties_produit',
  'public.stocks_journaliers',
  'public.stocks_snapshot',
  'public.cours_de_route',
];
const ADJUSTMENTS = 'public.stocks_adjustments';

export interface StockFigures {
  amb: number;
  v15: number;
}

export const stockKey = (k: { citerneId: string; produitId: string; owner: string; depotId: string | null }): string =>
  `${k.citerneId}|${k.produitId}|${k.owner}|${k.depotId ?? ''}`;

const StockRow = z.object({
  depot_id: z.string().nullable(),
  citerne_id: z.string().nullable(),
  produit_id: z.string().nullable(),
  proprietaire_type: z.string().nullable(),
  stock_ambiant: z.number().nullable(),
  stock_15c: z.number().nullable(),
});

/** v_stock_actuel as the app reads it, by key; a key the view lists twice is summed (it cannot, unless PROD changed it). */
export async function readStock(q: Queryable): Promise<Map<string, StockFigures>> {
  const r = await q.query(
    `SELECT depot_id::text AS depot_id, citerne_id::text AS citerne_id, produit_id::text AS produit_id, proprietaire_type,
            stock_ambiant, stock_15c FROM public.v_stock_actuel`,
  );
  const out = new Map<string, StockFigures>();
  for (const row of parseRows(StockRow, r.rows, 'restate: v_stock_actuel')) {
    const key = stockKey({
      citerneId: row.citerne_id ?? '',
      produitId: row.produit_id ?? '',
      owner: row.proprietaire_type ?? '',
      depotId: row.depot_id,
    });
    const was = out.get(key) ?? { amb: 0, v15: 0 };
    out.set(key, { amb: was.amb + (row.stock_ambiant ?? 0), v15: was.v15 + (row.stock_15c ?? 0) });
  }
  return out;
}

const BookedRow = z.object({
  id: z.string(),
  mouvement_type: z.string(),
  mouvement_id: z.string(),
  delta_ambiant: z.number(),
  delta_15c: z.number(),
  reason: z.string(),
  created_by: z.string().nullable(),
  depot_id: z.string().nullable(),
  citerne_id: z.string().nullable(),
  produit_id: z.string().nullable(),
  proprietaire_type: z.string().nullable(),
});
export type BookedRow = z.infer<typeof BookedRow>;

/** The rows this run inserted, read back as the pipeline (after the app's triggers set their context). */
export async function readBooked(q: Queryable, ids: readonly string[]): Promise<Map<string, BookedRow>> {
  const r = await q.query(
    `SELECT id::text AS id, mouvement_type, mouvement_id::text AS mouvement_id, delta_ambiant, delta_15c, reason,
            created_by::text AS created_by, depot_id::text AS depot_id, citerne_id::text AS citerne_id,
            produit_id::text AS produit_id, proprietaire_type
       FROM public.stocks_adjustments WHERE id = ANY($1::uuid[])`,
    [ids],
  );
  return new Map(parseRows(BookedRow, r.rows, 'restate: booked adjustments').map((b) => [b.id, b]));
}

const fmt = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(3)} L`;
const keyOf = (r: RestatedReception) =>
  stockKey({ citerneId: r.citerne_id, produitId: r.produit_id, owner: r.proprietaire_type, depotId: r.depot_id });

export interface ProofInput {
  booked: readonly RestatedReception[];
  userId: string;
  before: Map<string, StockFigures>;
  after: Map<string, StockFigures>;
  rows: Map<string, BookedRow>;
  writes: ApplyResult['dataChanges'];
}

export function prove(p: ProofInput): { totals: RestateTotal[]; proof: RestateProof } {
  const problems: string[] = [];
  const groups = new Map<string, RestateTotal>();
  for (const r of p.booked) {
    const key = keyOf(r);
    const g = groups.get(key) ?? {
      citerne: r.citerne,
      citerne_id: r.citerne_id,
      produit_id: r.produit_id,
      proprietaire_type: r.proprietaire_type,
      depot_id: r.depot_id,
      adjustments: 0,
      delta_15c_l: 0,
      before_15c_l: null,
      after_15c_l: null,
      moved_15c_l: null,
      moved_ambiant_l: null,
      holds: false,
    };
    g.adjustments++;
    g.delta_15c_l += r.delta_15c_l!;
    groups.set(key, g);
    checkRow(r, p.rows.get(r.adjustment_id!), p.userId, problems);
  }
  const totals = [...groups.entries()]
    .sort(([, a], [, b]) => a.citerne.localeCompare(b.citerne) || a.proprietaire_type.localeCompare(b.proprietaire_type))
    .map(([key, g]) => {
      const [b, a] = [p.before.get(key), p.after.get(key)];
      const t: RestateTotal = { ...g, delta_15c_l: round6(g.delta_15c_l) };
      if (!b || !a) {
        problems.push(
          `${g.citerne} / ${g.proprietaire_type}: v_stock_actuel has no row for the depot, tank, product and owner its adjustments get ` +
            `(depot ${g.depot_id ?? 'NULL'}; no stocks_snapshot row with that key): they would not show in the stock the app reads`,
        );
        return { ...t, before_15c_l: b?.v15 ?? null, after_15c_l: a?.v15 ?? null };
      }
      const moved = a.v15 - b.v15;
      const movedAmb = a.amb - b.amb;
      const holds = Math.abs(moved - g.delta_15c_l) <= MOVE_TOLERANCE_L && Math.abs(movedAmb) <= MOVE_TOLERANCE_L;
      if (!holds)
        problems.push(
          `${g.citerne} / ${g.proprietaire_type}: v_stock_actuel moved ${fmt(moved)} at 15 °C and ${fmt(movedAmb)} ambient; its ${g.adjustments} adjustment(s) add ${fmt(g.delta_15c_l)} at 15 °C and nothing ambient` +
            (a.v15 === 0 ? ' (the view clamps the stock at 0)' : ''),
        );
      return { ...t, before_15c_l: b.v15, after_15c_l: a.v15, moved_15c_l: round6(moved), moved_ambiant_l: round6(movedAmb), holds };
    });
  const othersMoved: string[] = [];
  for (const key of new Set([...p.before.keys(), ...p.after.keys()])) {
    if (groups.has(key)) continue;
    const [b, a] = [p.before.get(key), p.after.get(key)];
    if (!b || !a || Math.abs(a.v15 - b.v15) > MOVE_TOLERANCE_L || Math.abs(a.amb - b.amb) > MOVE_TOLERANCE_L) othersMoved.push(key);
  }
  for (const key of othersMoved)
    problems.push(`v_stock_actuel ${key} (tank|product|owner|depot) moved, though no adjustment of this run is on it`);
  checkWrites(p.writes, p.booked.length, problems);
  const expected = round6(totals.reduce((s, t) => s + t.delta_15c_l, 0));
  const moved = round6(totals.reduce((s, t) => s + (t.moved_15c_l ?? 0), 0));
  return {
    totals,
    proof: {
      holds: problems.length === 0,
      expected_15c_l: expected,
      moved_15c_l: moved,
      tolerance_l: MOVE_TOLERANCE_L,
      others_moved: othersMoved,
      writes: [...p.writes],
      problems,
    },
  };
}

function checkRow(r: RestatedReception, row: BookedRow | undefined, userId: string, problems: string[]): void {
  const who = `adjustment ${r.adjustment_id} of reception ${r.reception_id}`;
  if (!row) {
    problems.push(`${who}: not found after the insert`);
    return;
  }
  const expect: [string, unknown, unknown][] = [
    ['mouvement_type', row.mouvement_type, 'RECEPTION'],
    ['mouvement_id', row.mouvement_id, r.reception_id],
    ['delta_ambiant', row.delta_ambiant, 0],
    ['delta_15c', row.delta_15c, r.delta_15c_l],
    ['reason', row.reason, r.reason],
    ['created_by', row.created_by, userId],
    ['citerne_id', row.citerne_id, r.citerne_id],
    ['produit_id', row.produit_id, r.produit_id],
    ['proprietaire_type', row.proprietaire_type, r.proprietaire_type],
    ['depot_id', row.depot_id, r.depot_id],
  ];
  for (const [field, got, want] of expect)
    if (got !== want) problems.push(`${who}: ${field} is ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
}

function checkWrites(writes: ApplyResult['dataChanges'], booked: number, problems: string[]): void {
  const adj = writes.find((w) => w.table === ADJUSTMENTS) ?? { inserted: 0, updated: 0, deleted: 0 };
  if (adj.inserted !== booked || adj.updated || adj.deleted)
    problems.push(
      `${ADJUSTMENTS}: ${adj.inserted} row(s) inserted, ${adj.updated} updated, ${adj.deleted} deleted; ${booked} insert(s) expected and nothing else`,
    );
  for (const w of writes.filter((x) => UNTOUCHED.includes(x.table)))
    problems.push(
      `${w.table}: ${w.inserted} row(s) inserted, ${w.updated} updated, ${w.deleted} deleted: a restatement goes through stocks_adjustments only`,
    );
}

const round6 = (x: number) => Math.round(x * 1e6) / 1e6;
