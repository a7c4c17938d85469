import { z } from 'zod';
import { Sha256 } from './common.js';

/**
 * The late rollback's part of rollback.json (runbook 6.1 "réclamation terrain dans les 24h", 6.2):
 * every row written, changed or deleted since the backup, found by comparing each table whose
 * checksum differs from the backup's with the backup's rows by primary key; the movements among
 * them (receptions, sorties, adjustments) in the order they were entered, exported as CSV and JSON
 * with their hashes before the restore is committed; and, with --replay, each movement entered
 * again through the app's own paths as the user who entered it, tied to its original.
 */
export const MOVEMENT_KINDS = ['reception', 'sortie', 'adjustment'] as const;
export type MovementKind = (typeof MOVEMENT_KINDS)[number];

/** How a movement is re-entered: the app request(s) the replay makes, or why it is not replayed. */
export const REPLAY_PLANS = [
  /** INSERT INTO receptions as its author, the legacy 15 °C value recomputed */
  'insert-reception',
  /** the legacy app's direct path: INSERT the sortie with statut validee as its author (the AFTER INSERT trigger debits), legacy 15 °C */
  'insert-validated-sortie',
  /** a draft written since the backup: INSERT it as its author, no validation */
  'insert-draft-sortie',
  /** a draft that existed at the backup, validated since: validate_sortie as its validator (ML_PP's legacy RPC refuses it under DB-STRICT: re-entered by hand) */
  'validate-sortie',
  /** INSERT INTO stocks_adjustments as its author */
  'insert-adjustment',
  /** a restatement booked by the migration the rollback undoes: not re-entered on the legacy app */
  'skip-migration-restatement',
] as const;
export type ReplayPlan = (typeof REPLAY_PLANS)[number];

export const Movement = z.strictObject({
  /** order of entry (1-based), by the time the app logged it, then the row's creation time, then its id */
  seq: z.number().int().positive(),
  kind: z.enum(MOVEMENT_KINDS),
  table: z.string(),
  id: z.string(),
  /** written: a new row since the backup; changed: the row existed at the backup and differs (a draft validated since) */
  change: z.enum(['written', 'changed']),
  at: z.string(),
  /** the app user who entered it, and who validated it (sorties) */
  enteredBy: z.string().nullable(),
  validatedBy: z.string().nullable(),
  citerneId: z.string().nullable(),
  citerne: z.string().nullable(),
  produitId: z.string().nullable(),
  proprietaire: z.string().nullable(),
  day: z.string().nullable(),
  statut: z.string().nullable(),
  /** the figures as stored before the late rollback */
  figures: z.strictObject({
    index_avant: z.number().nullable(),
    index_apres: z.number().nullable(),
    volume_ambiant: z.number().nullable(),
    temperature_c: z.number().nullable(),
    densite_a_15: z.number().nullable(),
    volume_corrige_15c: z.number().nullable(),
    volume_15c: z.number().nullable(),
    delta_ambiant: z.number().nullable(),
    delta_15c: z.number().nullable(),
  }),
  /** adjustments: the movement they correct, and the reason */
  mouvement: z.strictObject({ type: z.string(), id: z.string() }).nullable(),
  reason: z.string().nullable(),
  plan: z.enum(REPLAY_PLANS),
});
export type Movement = z.infer<typeof Movement>;

export const ExportFile = z.strictObject({
  /** relative to the results folder */
  path: z.string(),
  format: z.enum(['csv', 'json']),
  /** the table whose rows it holds; null for movements.json */
  table: z.string().nullable(),
  rows: z.number().int(),
  bytes: z.number().int(),
  sha256: Sha256,
  /** encrypted (like the dump, to the backup's recipients): what it decrypts to */
  plaintext: z.strictObject({ path: z.string(), bytes: z.number().int(), sha256: Sha256 }).nullable(),
});
export type ExportFile = z.infer<typeof ExportFile>;

export const StockLine = z.strictObject({
  citerne: z.string(),
  produit: z.string(),
  proprietaire_type: z.string(),
  snapshot_ambiant: z.number().nullable(),
  snapshot_15c: z.number().nullable(),
  journal_date: z.string().nullable(),
  journal_ambiant: z.number().nullable(),
  journal_15c: z.number().nullable(),
});
export type StockLine = z.infer<typeof StockLine>;

export const Replayed = z.strictObject({
  seq: z.number().int(),
  kind: z.enum(MOVEMENT_KINDS),
  originalId: z.string(),
  /** the row the replay wrote (the same row for validate-sortie); null when skipped */
  replayedId: z.string().nullable(),
  plan: z.enum(REPLAY_PLANS),
  /** as whom it was entered (the original author; the validator for validate_sortie) */
  as: z.array(z.string()),
  /** the 15 °C volume stored before the late rollback, and the legacy one the replay sent */
  original15c: z.number().nullable(),
  legacy15c: z.number().nullable(),
});
export type Replayed = z.infer<typeof Replayed>;

export const ReplayResult = z.strictObject({
  /** null: every movement was replayed (or skipped by plan) */
  stoppedAt: z
    .strictObject({ seq: z.number().int(), id: z.string(), kind: z.enum(MOVEMENT_KINDS), code: z.string().nullable(), message: z.string() })
    .nullable(),
  replayed: z.array(Replayed),
  /** seq of every movement not replayed: the one that stopped the replay and all after it */
  remaining: z.array(z.number().int()),
});
export type ReplayResult = z.infer<typeof ReplayResult>;

/** The movements still to re-enter by hand, per tank and day, with their figures. */
export const ToReenter = z.strictObject({
  citerne: z.string().nullable(),
  day: z.string().nullable(),
  movements: z.array(z.number().int()),
});

export const LateRollback = z.strictObject({
  /** how the rows since the backup were found */
  method: z.string(),
  movements: z.array(Movement),
  /** the export, written and hashed before the restore was committed */
  files: z.array(ExportFile),
  encryption: z.strictObject({ method: z.literal('age'), recipients: z.array(z.string()).min(1) }).nullable(),
  replay: ReplayResult.nullable(),
  toReenter: z.array(ToReenter),
  counts: z.strictObject({
    /** movements since the backup, restatements of the migration included */
    sinceBackup: z.number().int(),
    replayed: z.number().int(),
    /** the migration's own restatements: undone with it, never re-entered */
    skipped: z.number().int(),
    remaining: z.number().int(),
  }),
  stock: z.strictObject({
    beforeRollback: z.array(StockLine),
    afterRestore: z.array(StockLine),
    afterReplay: z.array(StockLine).nullable(),
  }),
});
export type LateRollback = z.infer<typeof LateRollback>;
