import { z } from 'zod';
import { Comparison } from './backup.js';

/** rollback.json (runbook 6.2): the dump restored, proved equal to the backup, and what people still have to do. */
export const RollbackResult = z.strictObject({
  ok: z.boolean(),
  target: z.string(),
  backupDir: z.string(),
  backupTakenAt: z.string(),
  restoredSchemas: z.array(z.string()),
  notRestored: z.array(z.string()),
  ms: z.strictObject({ restore: z.number(), proof: z.number() }),
  protections: z.strictObject({
    triggersCreatedAfterData: z.boolean(),
    tableDataEntries: z.number(),
    triggerEntries: z.number(),
    note: z.string(),
  }),
  comparison: Comparison,
  failures: z.array(z.string()),
  warnings: z.array(z.string()),
  /** what the runbook still asks of people once the database is back */
  todos: z.array(z.string()),
});
export type RollbackResult = z.infer<typeof RollbackResult>;
