import { impersonate } from '../../db/as-user.js';
import type { Db, Queryable } from '../../db/types.js';
import { legacyVolume15 } from '../../golden/diagnose.js';
import type { Logger } from '../../logger.js';
import type { Movement, Replayed, ReplayResult } from '../../results/late-rollback.js';
import { allowFrozenWrites } from '../freeze.js';
import { APP_RECEPTION_COLUMNS } from '../smoke/reception.js';
import type { Row, TableRowsSince } from './since.js';

/**
 * `--replay`: each exported movement entered again, in the order it was entered, through the
 * rolled-back app's own paths, as the user who entered it: one transaction per movement (as one
 * PostgREST request is), the JWT claims and SET LOCAL ROLE authenticated (impersonate), so RLS,
 * auth.uid() and every DB-STRICT trigger apply; no trigger is disabled and no allow-write flag
 * is set by us. The freeze stays on: the pipeline's session passes it with its token, the app
 * does not. The 15 °C volume sent is the legacy app's (V·(1 − 0.00065·ΔT), FACTS §2.4), since the
 * rollback brought back the legacy computation.
 *
 * A movement the database refuses (a constraint, a stock that would go negative, the legacy
 * validate_sortie that DB-STRICT blocks) stops the replay there: its transaction rolls back, the
 * movements before it stay committed, and it and every later one are listed to enter by hand.
 */

/** The columns the app sends for each kind (the rest is set by the database); only those the target has are sent. */
const RECEPTION_COLUMNS = [...APP_RECEPTION_COLUMNS, 'densite_observee_kgm3'];
const SORTIE_COLUMNS = [
  'citerne_id',
  'produit_id',
  'client_id',
  'partenaire_id',
  'index_avant',
  'index_apres',
  'temperature_ambiante_c',
  'densite_a_15',
  'proprietaire_type',
  'date_sortie',
  'note',
  'chauffeur_nom',
  'plaque_camion',
  'plaque_remorque',
  'transporteur',
];
const ADJUSTMENT_COLUMNS = ['mouvement_type', 'delta_ambiant', 'delta_15c', 'reason'];

/** The legacy app's 15 °C volume for a movement, from its own ambient volume and temperature. */
export function legacy15c(m: Movement): number | null {
  const amb =
    m.figures.volume_ambiant ??
    (m.figures.index_apres !== null && m.figures.index_avant !== null ? m.figures.index_apres - m.figures.index_avant : null);
  if (amb === null || m.figures.temperature_c === null) return null;
  return legacyVolume15(amb, m.figures.temperature_c);
}

async function columnsOf(q: Queryable, table: string): Promise<Set<string>> {
  const r = await q.query<{ c: string }>(
    `SELECT attname::text AS c FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`,
    [table],
  );
  return new Set(r.rows.map((x) => x.c));
}

async function insertRow(tx: Queryable, table: string, values: Record<string, unknown>): Promise<string> {
  const cols = Object.keys(values);
  const r = await tx.query<{ id: string }>(
    `INSERT INTO ${table} (${cols.map((c) => `"${c}"`).join(', ')}) VALUES (${cols.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING id::text`,
    cols.map((c) => values[c]),
  );
  return r.rows[0]!.id;
}

const pick = (row: Row, names: readonly string[], has: Set<string>): Record<string, unknown> =>
  Object.fromEntries(names.filter((n) => has.has(n) && n in row).map((n) => [n, row[n]]));

export interface ReplayInput {
  movements: readonly Movement[];
  since: readonly TableRowsSince[];
}

export async function replayMovements(db: Db, input: ReplayInput, log: Logger): Promise<ReplayResult> {
  const rowOf = new Map<string, Row>();
  for (const t of input.since) for (const r of [...t.written, ...t.changed.map((c) => c.now)]) rowOf.set(`${t.name}:${String(r.id)}`, r);
  const cols = {
    'public.receptions': await columnsOf(db, 'public.receptions'),
    'public.sorties_produit': await columnsOf(db, 'public.sorties_produit'),
    'public.stocks_adjustments': await columnsOf(db, 'public.stocks_adjustments'),
  };
  /** original id → replayed id, so an adjustment follows the movement it corrects */
  const newId = new Map<string, string>();
  const replayed: Replayed[] = [];
  for (const m of input.movements) {
    const row = rowOf.get(`${m.table}:${m.id}`)!;
    const legacy = m.kind === 'adjustment' ? null : legacy15c(m);
    const original15c = m.kind === 'adjustment' ? m.figures.delta_15c : (m.figures.volume_15c ?? m.figures.volume_corrige_15c);
    if (m.plan === 'skip-migration-restatement') {
      replayed.push({ seq: m.seq, kind: m.kind, originalId: m.id, replayedId: null, plan: m.plan, as: [], original15c, legacy15c: null });
      log.info(`replay #${m.seq}: ${m.id} is the migration's own restatement: not re-entered on the legacy app`);
      continue;
    }
    const who = m.plan === 'validate-sortie' ? (m.validatedBy ?? m.enteredBy) : m.enteredBy;
    try {
      if (!who)
        throw Object.assign(new Error(`${m.table} ${m.id} records no user (created_by): it cannot be entered as its author`), {
          code: 'NO_AUTHOR',
        });
      const id = await db.withTransaction(async (tx) => {
        await allowFrozenWrites(tx);
        await impersonate(tx, { role: 'authenticated', userId: who });
        switch (m.plan) {
          case 'insert-reception':
            return insertRow(tx, 'public.receptions', {
              ...pick(row, RECEPTION_COLUMNS, cols['public.receptions']),
              volume_corrige_15c: legacy,
            });
          case 'insert-validated-sortie':
          case 'insert-draft-sortie':
            return insertRow(tx, 'public.sorties_produit', {
              ...pick(row, SORTIE_COLUMNS, cols['public.sorties_produit']),
              volume_corrige_15c: legacy,
              statut: m.plan === 'insert-draft-sortie' ? 'brouillon' : 'validee',
            });
          case 'validate-sortie':
            await tx.query('SELECT public.validate_sortie($1)', [m.id]);
            return m.id;
          case 'insert-adjustment':
            return insertRow(tx, 'public.stocks_adjustments', {
              ...pick(row, ADJUSTMENT_COLUMNS, cols['public.stocks_adjustments']),
              mouvement_id: newId.get(String(row.mouvement_id)) ?? row.mouvement_id,
            });
          default:
            throw new Error(`no replay path for ${m.plan}`);
        }
      });
      newId.set(m.id, id);
      replayed.push({
        seq: m.seq,
        kind: m.kind,
        originalId: m.id,
        replayedId: id,
        plan: m.plan,
        as: [who],
        original15c,
        legacy15c: legacy,
      });
      log.info(`replay #${m.seq}: ${m.kind} ${m.id} re-entered as ${id} (${m.plan}, as ${who})`);
    } catch (e) {
      const err = e as { code?: string; message?: string };
      const remaining = input.movements.filter((x) => x.seq >= m.seq && x.plan !== 'skip-migration-restatement').map((x) => x.seq);
      log.warn(
        `replay stopped at #${m.seq} (${m.kind} ${m.id}): ${err.code ?? ''} ${err.message ?? String(e)}; ${remaining.length} movement(s) to enter by hand`,
      );
      return {
        stoppedAt: {
          seq: m.seq,
          id: m.id,
          kind: m.kind,
          code: typeof err.code === 'string' ? err.code : null,
          message: err.message ?? String(e),
        },
        replayed,
        remaining,
      };
    }
  }
  return { stoppedAt: null, replayed, remaining: [] };
}
