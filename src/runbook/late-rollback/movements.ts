import type { Movement, MovementKind, ReplayPlan } from '../../results/late-rollback.js';
import { RESTATEMENT_REASON_PREFIX } from '../../results/restate.js';
import type { Row, TableRowsSince } from './since.js';

/**
 * The movements among the rows since the backup (since.ts), in the order they were entered, each
 * with the figures the depot sees and how the replay re-enters it. A movement's time is the one
 * the app logged for it (RECEPTION_CREEE, SORTIE_VALIDEE…: the log row written since), else its
 * row's created_at; ties are broken by id, so the order is the same on every run.
 */
const TABLE_OF: Record<MovementKind, string> = {
  reception: 'public.receptions',
  sortie: 'public.sorties_produit',
  adjustment: 'public.stocks_adjustments',
};

const num = (v: unknown): number | null => (typeof v === 'number' ? v : v === null || v === undefined ? null : Number(v));
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

/** When the app logged each movement, from the log rows written since: id → earliest time. */
function loggedAt(log: TableRowsSince | undefined): Map<string, string> {
  const at = new Map<string, string>();
  for (const r of log?.written ?? []) {
    const d = (r.details ?? {}) as Record<string, unknown>;
    const id = str(d.reception_id) ?? str(d.sortie_id) ?? str(r.cible_id);
    const t = str(r.created_at);
    if (!id || !t) continue;
    const prev = at.get(id);
    if (!prev || Date.parse(t) < Date.parse(prev)) at.set(id, t);
  }
  return at;
}

function planOf(kind: MovementKind, change: 'written' | 'changed', row: Row): ReplayPlan {
  if (kind === 'reception') return 'insert-reception';
  if (kind === 'adjustment')
    return String(row.reason ?? '').startsWith(RESTATEMENT_REASON_PREFIX) ? 'skip-migration-restatement' : 'insert-adjustment';
  if (change === 'changed') return 'validate-sortie';
  return row.statut === 'validee' ? 'insert-validated-sortie' : 'insert-draft-sortie';
}

const dayOf = (kind: MovementKind, r: Row): string | null => {
  const v = kind === 'reception' ? r.date_reception : kind === 'sortie' ? r.date_sortie : null;
  return v === null || v === undefined ? null : String(v).slice(0, 10);
};

export function movementsOf(since: readonly TableRowsSince[], tankNames: ReadonlyMap<string, string>): Movement[] {
  const byName = new Map(since.map((t) => [t.name, t]));
  const at = loggedAt(byName.get('public.log_actions'));
  const list: Omit<Movement, 'seq'>[] = [];
  for (const kind of Object.keys(TABLE_OF) as MovementKind[]) {
    const t = byName.get(TABLE_OF[kind]);
    if (!t) continue;
    const rows: { row: Row; change: 'written' | 'changed' }[] = [
      ...t.written.map((row) => ({ row, change: 'written' as const })),
      // a reception or an adjustment never changes under DB-STRICT; a sortie does once: its validation
      ...(kind === 'sortie'
        ? t.changed.filter((c) => c.then.statut !== c.now.statut).map((c) => ({ row: c.now, change: 'changed' as const }))
        : []),
    ];
    for (const { row, change } of rows) {
      const id = String(row.id);
      const citerneId = str(row.citerne_id);
      list.push({
        kind,
        table: TABLE_OF[kind],
        id,
        change,
        at: at.get(id) ?? str(row.created_at) ?? '',
        enteredBy: str(row.created_by),
        validatedBy: str(row.validated_by),
        citerneId,
        citerne: citerneId ? (tankNames.get(citerneId) ?? null) : null,
        produitId: str(row.produit_id),
        proprietaire: str(row.proprietaire_type),
        day: dayOf(kind, row),
        statut: str(row.statut),
        figures: {
          index_avant: num(row.index_avant),
          index_apres: num(row.index_apres),
          volume_ambiant: num(row.volume_ambiant),
          temperature_c: num(row.temperature_ambiante_c),
          densite_a_15: num(row.densite_a_15),
          volume_corrige_15c: num(row.volume_corrige_15c),
          volume_15c: num(row.volume_15c),
          delta_ambiant: num(row.delta_ambiant),
          delta_15c: num(row.delta_15c),
        },
        mouvement: kind === 'adjustment' ? { type: String(row.mouvement_type), id: String(row.mouvement_id) } : null,
        reason: str(row.reason),
        plan: planOf(kind, change, row),
      });
    }
  }
  // an adjustment belongs to the day of the movement it corrects, when that one is listed too; else to the day it was made
  const dayOfId = new Map(list.map((m) => [m.id, m.day]));
  for (const m of list)
    if (m.kind === 'adjustment') m.day = (m.mouvement && dayOfId.get(m.mouvement.id)) ?? (m.at ? m.at.slice(0, 10) : null);
  list.sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return list.map((m, i) => ({ seq: i + 1, ...m }));
}

/** Movements still to enter by hand, grouped per tank and day in entry order. */
export function perTankAndDay(movements: readonly Movement[]): { citerne: string | null; day: string | null; movements: number[] }[] {
  const groups = new Map<string, { citerne: string | null; day: string | null; movements: number[] }>();
  for (const m of movements) {
    const k = `${m.citerne ?? ''}\u0000${m.day ?? ''}`;
    const g = groups.get(k) ?? { citerne: m.citerne, day: m.day, movements: [] };
    g.movements.push(m.seq);
    groups.set(k, g);
  }
  return [...groups.values()].sort((a, b) => (a.citerne ?? '').localeCompare(b.citerne ?? '') || (a.day ?? '').localeCompare(b.day ?? ''));
}
