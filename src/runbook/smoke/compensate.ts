import type { Logger } from '../../logger.js';
import { withAppUser } from '../../db/as-user.js';
import type { Db } from '../../db/types.js';
import { delta, r3, sameBalance } from './figures.js';
import { type AdjustmentMade, type Compensation, type FigureReturn, OWNERS, type Balance, type TankFigures } from '../../results/smoke.js';

export interface MovementEffect {
  mouvement_type: 'RECEPTION' | 'SORTIE';
  mouvement_id: string;
  /** the movement's own key */
  owner: string;
  /** measured change of v_stock_actuel of that key across the movement */
  actuel: Balance;
}

export async function compensate(
  db: Db,
  userId: string,
  effects: MovementEffect[],
  runId: string,
  log: Logger,
  mark: string,
): Promise<{ adjustments: AdjustmentMade[]; notAdjusted: Compensation['notAdjusted'] }> {
  const adjustments: AdjustmentMade[] = [];
  const notAdjusted: Compensation['notAdjusted'] = [];
  await withAppUser(db, { role: 'authenticated', userId }, async (tx) => {
    for (const e of effects) {
      if (sameBalance(e.actuel, { amb: 0, v15: 0 })) {
        notAdjusted.push({
          mouvement_type: e.mouvement_type,
          mouvement_id: e.mouvement_id,
          why: 'it did not move v_stock_actuel (validate_sortie debits the journal only, never the snapshot)',
        });
        continue;
      }
      const reason = `${mark} compensation of the pipeline's controlled ${e.mouvement_type.toLowerCase()} ${e.mouvement_id} (run ${runId})`;
      const r = await tx.query<{ id: string }>(
        `INSERT INTO public.stocks_adjustments (mouvement_type, mouvement_id, delta_ambiant, delta_15c, reason, created_by)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id::text`,
        [e.mouvement_type, e.mouvement_id, -e.actuel.amb, -e.actuel.v15, reason, userId],
      );
      adjustments.push({
        mouvement_type: e.mouvement_type,
        mouvement_id: e.mouvement_id,
        delta_ambiant: r3(-e.actuel.amb),
        delta_15c: r3(-e.actuel.v15),
        reason,
        id: r.rows[0]!.id,
      });
    }
  });
  log.info(`smoke: ${adjustments.length} compensating adjustment(s) recorded in stocks_adjustments`);
  return { adjustments, notAdjusted };
}

/** Every figure of every owner of the tank: before the smoke against after it (and its compensation). */
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

export function summariseReturns(figures: FigureReturn[]): string[] {
  const out: string[] = [];
  for (const figure of ['v_stock_actuel', 'snapshot', 'journal'] as const) {
    const rows = figures.filter((f) => f.figure === figure);
    const off = rows.filter((f) => !f.returned);
    out.push(
      off.length === 0
        ? `${figure}: back to its prior value to the litre for every owner`
        : `${figure}: NOT back: ${off.map((f) => `${f.owner} ${f.difference.amb >= 0 ? '+' : ''}${f.difference.amb} L / ${f.difference.v15 >= 0 ? '+' : ''}${f.difference.v15} L @15 °C`).join('; ')}`,
    );
  }
  return out;
}
