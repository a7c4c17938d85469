import type { Db, Queryable } from '../../db/types.js';
import type { Logger } from '../../logger.js';
import type { DiscardedRows } from '../../results/rollback.js';
import type { ExportFile, LateRollback, Movement, ReplayResult, StockLine } from '../../results/late-rollback.js';
import { readStockSummary } from '../stock-summary.js';
import { movementsOf, perTankAndDay } from './movements.js';
import { replayMovements } from './replay.js';
import { rowsSince, type TableRowsSince } from './since.js';
import type { TableKey } from '../../db/checksum.js';
import { writeExport } from './export.js';

export { LATE_ROLLBACK_DIR } from './export.js';

export const SINCE_METHOD =
  "tables whose count or checksum differs from the backup manifest's, copied just before the restore and compared with the restored backup by primary key (a table without one as a multiset): rows written, changed and deleted since the backup, whatever their timestamps say";

/** Stock per tank and owner as the app shows it: snapshot and the journal's latest closing balance. */
export async function stockLines(q: Queryable): Promise<StockLine[]> {
  return (await readStockSummary(q)).stock.map(({ capacite_totale: _c, ...line }) => line);
}

/** What the rollback's transaction learns after the restore, before COMMIT. */
export interface SinceBackup {
  since: TableRowsSince[];
  movements: Movement[];
  files: ExportFile[];
  stockBefore: StockLine[];
  stockAfterRestore: StockLine[];
  recipients: string[] | null;
}

/** Inside the rollback's transaction, once the restore is proven: the rows since, the movements, the export on disk. */
export async function exportSince(
  tx: Queryable,
  tables: readonly { key: TableKey; copy: string }[],
  opts: { resultsDir?: string; recipients: string[] | null; stockBefore: StockLine[]; env: NodeJS.ProcessEnv },
  log: Logger,
): Promise<SinceBackup> {
  const since = await rowsSince(tx, tables);
  const tanks = new Map(
    (await tx.query<{ id: string; nom: string }>('SELECT id::text, nom FROM public.citernes')).rows.map((r) => [r.id, r.nom]),
  );
  const movements = movementsOf(since, tanks);
  const files = opts.resultsDir ? await writeExport(tx, opts.resultsDir, since, movements, opts.recipients, opts.env, log) : [];
  if (movements.length)
    log.warn(
      `rollback: ${movements.length} movement(s) entered since the backup${opts.resultsDir ? ', exported before COMMIT' : ' (no results folder: not exported)'}`,
    );
  return { since, movements, files, stockBefore: opts.stockBefore, stockAfterRestore: await stockLines(tx), recipients: opts.recipients };
}

/** The per-table counts rollback.json always had, from the same comparison. */
export function discardedOf(since: readonly TableRowsSince[], rowsInBackup: (table: string) => number): DiscardedRows[] {
  return since.map((t) => ({
    table: t.name,
    rowsBefore: t.rowsBefore,
    rowsInBackup: rowsInBackup(t.name),
    writtenSince: t.written.length,
    changedSince: t.changed.length,
    deletedSince: t.restored ? t.deleted.length : rowsInBackup(t.name),
  }));
}

/** After COMMIT: the replay if asked, and the late rollback's record. */
export async function finishLateRollback(db: Db, s: SinceBackup, replay: boolean, log: Logger): Promise<LateRollback> {
  let result: ReplayResult | null = null;
  let afterReplay: StockLine[] | null = null;
  if (replay) {
    result = await replayMovements(db, { movements: s.movements, since: s.since }, log);
    afterReplay = await stockLines(db);
  }
  const skipped = s.movements.filter((m) => m.plan === 'skip-migration-restatement');
  const replayedCount = result ? result.replayed.filter((r) => r.replayedId !== null).length : 0;
  const remaining = result
    ? new Set(result.remaining)
    : new Set(s.movements.filter((m) => m.plan !== 'skip-migration-restatement').map((m) => m.seq));
  return {
    method: SINCE_METHOD,
    movements: s.movements,
    files: s.files,
    encryption: s.recipients ? { method: 'age', recipients: s.recipients } : null,
    replay: result,
    toReenter: perTankAndDay(s.movements.filter((m) => remaining.has(m.seq))),
    counts: { sinceBackup: s.movements.length, replayed: replayedCount, skipped: skipped.length, remaining: remaining.size },
    stock: { beforeRollback: s.stockBefore, afterRestore: s.stockAfterRestore, afterReplay },
  };
}
