import { z } from 'zod';
import { Comparison } from './backup.js';
import { LateRollback } from './late-rollback.js';
import { RunContext } from './run-context.js';

/**
 * rollback.json (runbook 6.2): the dump restored in one transaction with its proof, what the
 * restore discarded, the freeze kept, the change files it undid, and what people still have to do.
 */
export const DiscardedRows = z.strictObject({
  table: z.string(),
  /** rows of the table just before the rollback, and in the backup (what it holds after) */
  rowsBefore: z.number(),
  rowsInBackup: z.number(),
  /** rows written after the backup: they are gone */
  writtenSince: z.number(),
  /** rows changed after the backup: the backup's version is back */
  changedSince: z.number(),
  /** rows deleted after the backup: they are back */
  deletedSince: z.number(),
});
export type DiscardedRows = z.infer<typeof DiscardedRows>;

export const UndoneChange = z.strictObject({ fileName: z.string(), sha256: z.string(), appliedAt: z.string(), runId: z.string() });
export type UndoneChange = z.infer<typeof UndoneChange>;

export const RollbackResult = z.strictObject({
  ok: z.boolean(),
  /** the restore was committed; false means the database is exactly as before the rollback */
  committed: z.boolean(),
  target: z.string(),
  run: RunContext,
  backupDir: z.string(),
  backupTakenAt: z.string(),
  /** how the backup was tied to this database (runbook 6.2 restores PROD's own dump) */
  source: z.strictObject({ matched: z.string(), override: z.string().nullable() }),
  restoredSchemas: z.array(z.string()),
  notRestored: z.array(z.string()),
  ms: z.strictObject({ restore: z.number(), proof: z.number(), total: z.number() }),
  settings: z.strictObject({ lockTimeoutMs: z.number(), statementTimeoutMs: z.number(), lockWaitMs: z.number() }),
  protections: z.strictObject({
    triggersCreatedAfterData: z.boolean(),
    tableDataEntries: z.number(),
    triggerEntries: z.number(),
    note: z.string(),
  }),
  /** runbook 6.2 step 1: entries stay refused; frozenByRollback when the database was not frozen before */
  freeze: z.strictObject({ frozenBefore: z.boolean(), frozenAfter: z.boolean(), frozenByRollback: z.boolean(), guardedTables: z.number() }),
  /** per table whose content differed from the backup: what the restore discarded or brought back */
  discarded: z.array(DiscardedRows),
  /** change files the ledger said were applied after the backup: marked undone */
  undone: z.array(UndoneChange),
  /** a late rollback: the GO whose backup this is, as its verified evidence bundle records it */
  goRun: z
    .strictObject({ bundleSha256: z.string(), runId: z.string(), decidedAt: z.string(), signatureValid: z.boolean().nullable() })
    .optional(),
  comparison: Comparison.nullable(),
  failures: z.array(z.string()),
  warnings: z.array(z.string()),
  /** what the runbook still asks of people once the database is back */
  todos: z.array(z.string()),
  /**
   * The movements made since the backup (a late rollback: runbook 6.1's field complaint within
   * 24 h of a GO): exported before COMMIT, and replayed with --replay. Absent when the rollback
   * did not reach the restore's proof.
   */
  lateRollback: LateRollback.optional(),
  /** when the rollback ended (ISO); absent from results written before it was recorded */
  at: z.string().optional(),
});
export type RollbackResult = z.infer<typeof RollbackResult>;
