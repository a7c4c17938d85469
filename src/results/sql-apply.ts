import { z } from 'zod';
import { Fingerprint, FingerprintChange, Sha256 } from './common.js';
import { RunContext } from './run-context.js';

/** sql-apply.json (runbook 4.3). */
export const FunctionCheck = z.strictObject({
  /** as asked: schema.name */
  name: z.string(),
  signature: z.string().nullable(),
  replaced: z.boolean(),
  securityDefiner: z.boolean(),
  searchPath: z.string().nullable(),
  problems: z.array(z.string()),
});
export type FunctionCheck = z.infer<typeof FunctionCheck>;

/** drift: the ledger says applied, but the live catalog is no longer the after-state it recorded */
export const APPLY_STATUSES = ['applied', 'already-applied', 'dry-run', 'rejected', 'drift'] as const;
export type ApplyStatus = (typeof APPLY_STATUSES)[number];

export const ApplyResult = z.strictObject({
  target: z.string(),
  file: z.strictObject({
    name: z.string(),
    display: z.string(),
    sha256: Sha256,
    bytes: z.number(),
    statements: z.number(),
    droppedTransactionControl: z.array(z.number()),
  }),
  status: z.enum(APPLY_STATUSES),
  /** true when the 4.3 proof holds (or the file was already applied) */
  ok: z.boolean(),
  run: RunContext,
  expectFunctions: z.array(z.string()),
  settings: z.strictObject({ lockTimeoutMs: z.number(), statementTimeoutMs: z.number(), lockWaitMs: z.number() }),
  fingerprintBefore: Fingerprint,
  /** as seen inside the transaction, before COMMIT or ROLLBACK */
  fingerprintAfter: Fingerprint,
  diff: z.array(FingerprintChange),
  functions: z.array(FunctionCheck),
  /** rows of application tables the file inserted, updated or deleted (pg_stat_xact_user_tables of its transaction) */
  dataChanges: z.array(z.strictObject({ table: z.string(), inserted: z.number(), updated: z.number(), deleted: z.number() })),
  /** why rows were allowed to change (--allow-data), recorded; null: they were not */
  allowData: z.string().nullable(),
  violations: z.array(z.string()),
  ledger: z
    .strictObject({ fileName: z.string(), sha256: Sha256, appliedAt: z.string(), runId: z.string(), appliedBy: z.string() })
    .optional(),
  /** ISO time the step ended: for `applied`, right after COMMIT (the runbook's "date exacte de migration") */
  at: z.string(),
  ms: z.number(),
});
export type ApplyResult = z.infer<typeof ApplyResult>;
