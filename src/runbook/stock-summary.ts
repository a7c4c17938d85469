import { z } from 'zod';
import { parseRows } from '../db/rows.js';
import type { Queryable } from '../db/types.js';
import { WaitingTruck } from '../results/common.js';
import { StockLine } from '../results/late-rollback.js';

/**
 * What the depot has and what is waiting at the gate: stock per tank and owner (snapshot,
 * and the journal's latest closing balance beside it), and the trucks arrived but not yet
 * received (runbook 3.3: they are received only after the ASTM validation).
 */
const StockRow = StockLine.extend({ capacite_totale: z.number() });
export type StockRow = z.infer<typeof StockRow>;

export type { WaitingTruck };

export interface StockSummary {
  stock: StockRow[];
  waitingTrucks: WaitingTruck[];
}

export async function readStockSummary(q: Queryable): Promise<StockSummary> {
  const stock = await q.query(
    `WITH keys AS (
       SELECT citerne_id, produit_id, proprietaire_type FROM stocks_snapshot
       UNION SELECT citerne_id, produit_id, proprietaire_type FROM stocks_journaliers
     ), last_day AS (
       SELECT DISTINCT ON (citerne_id, produit_id, proprietaire_type)
              citerne_id, produit_id, proprietaire_type, date_jour, stock_ambiant, stock_15c
         FROM stocks_journaliers
        ORDER BY citerne_id, produit_id, proprietaire_type, date_jour DESC
     )
     SELECT c.nom AS citerne, coalesce(p.code, p.nom) AS produit, k.proprietaire_type,
            c.capacite_totale, s.stock_ambiant AS snapshot_ambiant, s.stock_15c AS snapshot_15c,
            j.date_jour::text AS journal_date, j.stock_ambiant AS journal_ambiant, j.stock_15c AS journal_15c
       FROM keys k
       JOIN citernes c ON c.id = k.citerne_id
       JOIN produits p ON p.id = k.produit_id
       LEFT JOIN stocks_snapshot s
              ON s.citerne_id = k.citerne_id AND s.produit_id = k.produit_id AND s.proprietaire_type = k.proprietaire_type
       LEFT JOIN last_day j
              ON j.citerne_id = k.citerne_id AND j.produit_id = k.produit_id AND j.proprietaire_type = k.proprietaire_type
      ORDER BY c.nom, produit, k.proprietaire_type`,
  );
  const trucks = await q.query(
    `SELECT cdr.id::text, cdr.plaque_camion, coalesce(p.code, p.nom) AS produit, cdr.volume::text AS volume,
            cdr.date_chargement::text, cdr.statut
       FROM cours_de_route cdr
       LEFT JOIN produits p ON p.id = cdr.produit_id
      WHERE cdr.statut = 'ARRIVE'
        AND NOT EXISTS (SELECT 1 FROM receptions r WHERE r.cours_de_route_id = cdr.id)
      ORDER BY cdr.date_chargement, cdr.plaque_camion`,
  );
  return {
    stock: parseRows(StockRow, stock.rows, 'stock summary'),
    waitingTrucks: parseRows(WaitingTruck.strip(), trucks.rows, 'trucks waiting'),
  };
}
