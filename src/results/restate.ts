import { z } from 'zod';
import { STORED_COLUMNS } from './golden.js';
import { RunContext } from './run-context.js';

/**
 * restate.json (runbook §2 "Impact sur 8 réceptions déjà en PROD", 3.2): the receptions stored
 * with the legacy 15 °C formula, each restated by one stocks_adjustments row booked as an app
 * user, and the proof that v_stock_actuel moved by exactly that.
 */

/**
 * How every restatement's reason starts: what makes a second run recognise the first one
 * (with mouvement_id), and what golden verification adds to ML_PP's stored value.
 */
export const RESTATEMENT_REASON_PREFIX = 'ASTM53B restatement';

export const RESTATE_STATUSES = ['restated', 'nothing-to-restate', 'dry-run', 'rejected'] as const;
export type RestateStatus = (typeof RESTATE_STATUSES)[number];

/**
 * booked: an adjustment written by this run (kept only when the status is `restated`);
 * already_restated: an earlier run booked it; no_drift: stored equals ASTM 53B within the
 * threshold; not_recomputed: an input is missing or outside the tables.
 */
export const RESTATE_ACTIONS = ['booked', 'already_restated', 'no_drift', 'not_recomputed'] as const;
export type RestateAction = (typeof RESTATE_ACTIONS)[number];

export const EarlierRestatement = z.strictObject({
  adjustment_id: z.string(),
  delta_15c_l: z.number(),
  reason: z.string(),
  created_at: z.string(),
});
export type EarlierRestatement = z.infer<typeof EarlierRestatement>;

export const RestatedReception = z.strictObject({
  reception_id: z.string(),
  date_reception: z.string().nullable(),
  citerne: z.string(),
  citerne_id: z.string(),
  produit_id: z.string(),
  proprietaire_type: z.string(),
  depot_id: z.string().nullable(),
  volume_ambiant_l: z.number().nullable(),
  temperature_c: z.number().nullable(),
  densite_kgm3: z.number().nullable(),
  stored_15c_l: z.number().nullable(),
  stored_column: z.enum(STORED_COLUMNS).nullable(),
  astm_15c_l: z.number().nullable(),
  /** ASTM − stored: what an adjustment adds (null when not recomputed) */
  delta_15c_l: z.number().nullable(),
  action: z.enum(RESTATE_ACTIONS),
  /** the row this run booked (null unless booked; in a dry run or a rejected run, the id it had in the rolled-back transaction) */
  adjustment_id: z.string().nullable(),
  /** the reason written with it (null unless booked) */
  reason: z.string().nullable(),
  earlier: z.array(EarlierRestatement),
  /** one sentence: why this action */
  why: z.string(),
});
export type RestatedReception = z.infer<typeof RestatedReception>;

/** One (tank, product, owner) of v_stock_actuel that this run's adjustments move. */
export const RestateTotal = z.strictObject({
  citerne: z.string(),
  citerne_id: z.string(),
  produit_id: z.string(),
  proprietaire_type: z.string(),
  depot_id: z.string().nullable(),
  /** adjustments booked on this key */
  adjustments: z.number().int(),
  /** Σ of their delta_15c */
  delta_15c_l: z.number(),
  /** v_stock_actuel.stock_15c in the transaction before the first insert and after the last (null: no row) */
  before_15c_l: z.number().nullable(),
  after_15c_l: z.number().nullable(),
  moved_15c_l: z.number().nullable(),
  moved_ambiant_l: z.number().nullable(),
  holds: z.boolean(),
});
export type RestateTotal = z.infer<typeof RestateTotal>;

export const TableWrites = z.strictObject({
  table: z.string(),
  inserted: z.number(),
  updated: z.number(),
  deleted: z.number(),
});

export const RestateProof = z.strictObject({
  holds: z.boolean(),
  /** Σ delta_15c booked, and Σ of what v_stock_actuel moved on those keys */
  expected_15c_l: z.number(),
  moved_15c_l: z.number(),
  /** how far a move may be from its adjustments: float8 sums, not a tolerance on the figures */
  tolerance_l: z.number(),
  /** keys of v_stock_actuel outside `totals` that moved (must be none) */
  others_moved: z.array(z.string()),
  /** rows this transaction wrote, per application table (pg_stat_xact_user_tables) */
  writes: z.array(TableWrites),
  problems: z.array(z.string()),
});
export type RestateProof = z.infer<typeof RestateProof>;

export const RestateUser = z.strictObject({
  id: z.string(),
  email: z.string().nullable(),
  role: z.string(),
  chosen_by: z.string(),
});

export const RestateResult = z.strictObject({
  target: z.string(),
  run: RunContext,
  status: z.enum(RESTATE_STATUSES),
  /** the proof held (or there was nothing to prove) */
  ok: z.boolean(),
  dry_run: z.boolean(),
  /** this run's adjustments are in the database */
  committed: z.boolean(),
  message: z.string(),
  profile: z.string(),
  profile_source: z.string(),
  /** |ASTM − stored| at or below this is the stored value's rounding, not a drift */
  threshold_l: z.number(),
  /** the freeze was on (the adjustments passed it with the pipeline's token) */
  frozen: z.boolean(),
  /** who booked the adjustments (null when nothing was to be booked) */
  user: RestateUser.nullable(),
  counts: z.strictObject({
    receptions: z.number().int(),
    booked: z.number().int(),
    already_restated: z.number().int(),
    no_drift: z.number().int(),
    not_recomputed: z.number().int(),
  }),
  receptions: z.array(RestatedReception),
  totals: z.array(RestateTotal),
  proof: RestateProof,
  settings: z.strictObject({ lockTimeoutMs: z.number(), statementTimeoutMs: z.number(), lockWaitMs: z.number() }),
  at: z.string(),
  ms: z.number(),
});
export type RestateResult = z.infer<typeof RestateResult>;
