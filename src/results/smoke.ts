import { z } from 'zod';
import { GO_CONDITION_NAMES } from './go-conditions.js';
import { RunContext } from './run-context.js';

/** smoke.json (runbook 4.5, 5.1–5.5). */
export const OWNERS = ['MONALUXE', 'PARTENAIRE'] as const;
export type Owner = (typeof OWNERS)[number];

export const Balance = z.strictObject({ amb: z.number(), v15: z.number() });
export type Balance = z.infer<typeof Balance>;

export const OwnerFigures = z.strictObject({
  owner: z.enum(OWNERS),
  /** date of the journal row the balance comes from (null: no row up to the day) */
  journalDate: z.string().nullable(),
  journal: Balance,
  snapshot: Balance,
  actuel: Balance,
});
export type OwnerFigures = z.infer<typeof OwnerFigures>;

export const TankFigures = z.strictObject({ MONALUXE: OwnerFigures, PARTENAIRE: OwnerFigures });
export type TankFigures = z.infer<typeof TankFigures>;

/** One figure of one owner of the smoke's tank: before the smoke (5.2) against after its ROLLBACK. */
export const FigureReturn = z.strictObject({
  owner: z.string(),
  figure: z.enum(['journal', 'snapshot', 'v_stock_actuel']),
  before: Balance,
  after: Balance,
  difference: Balance,
  returned: z.boolean(),
});
export type FigureReturn = z.infer<typeof FigureReturn>;

/**
 * The smoke writes its test truck, reception and sortie, and runs 5.3–5.5, in one transaction
 * that ends in ROLLBACK: nothing it wrote is ever committed. The proof: the tank's figures read
 * by the pipeline in a fresh transaction after the rollback, compared with those read before
 * the smoke (5.2) the same way.
 */
export const RollbackProof = z.strictObject({
  /** always true in a written result: a smoke whose transaction did not end in ROLLBACK writes none */
  rolledBack: z.literal(true),
  /** the tank's figures (journal of the day, snapshot, v_stock_actuel per owner), read afresh after the rollback */
  afterRollback: TankFigures,
  /** every figure of every owner, before the smoke against after the rollback */
  figures: z.array(FigureReturn),
  /** every figure equal to the litre (what 5.5 STOCK_UNCHANGED_AFTER_ROLLBACK checks) */
  unchanged: z.boolean(),
  /** one sentence per kind of figure */
  summary: z.array(z.string()),
});
export type RollbackProof = z.infer<typeof RollbackProof>;

export const SMOKE_CHECK_IDS = ['5.1', '5.2', '5.3', '5.4', '5.5'] as const;
export type SmokeCheckId = (typeof SMOKE_CHECK_IDS)[number];

export const SmokeFinding = z.strictObject({
  code: z.string(),
  passed: z.boolean(),
  /** the GO condition a failure meets */
  condition: z.enum(GO_CONDITION_NAMES).nullable(),
  message: z.string(),
  figures: z.record(z.string(), z.union([z.number(), z.string(), z.null()])).optional(),
});
export type SmokeFinding = z.infer<typeof SmokeFinding>;

export const SmokeCheck = z.strictObject({
  id: z.enum(SMOKE_CHECK_IDS),
  title: z.string(),
  runbook: z.string(),
  ran: z.boolean(),
  passed: z.boolean(),
  message: z.string(),
  findings: z.array(SmokeFinding),
});
export type SmokeCheck = z.infer<typeof SmokeCheck>;

export const SqlErrorSeen = z.strictObject({ step: z.string(), code: z.string(), message: z.string() });
export type SqlErrorSeen = z.infer<typeof SqlErrorSeen>;

/** The controlled movement's inputs: meter indices, temperature and observed density (runbook 5.3). */
const MovementInputs = { index_avant: z.number(), index_apres: z.number(), temperature_c: z.number(), densite_observee_kgm3: z.number() };

export const SmokeResult = z.strictObject({
  step: z.literal('smoke'),
  passed: z.boolean(),
  target: z.string(),
  at: z.string(),
  run: RunContext,
  environment: z.string(),
  frozen: z.boolean(),
  p0Applied: z.boolean(),
  user: z.strictObject({ id: z.string(), role: z.string(), chosenBy: z.string() }),
  lectureUser: z.string().nullable(),
  profile: z.string(),
  profileSource: z.string(),
  toleranceL: z.number(),
  tank: z
    .strictObject({ id: z.string(), nom: z.string(), produitId: z.string(), capacite_utile: z.number(), chosenBy: z.string() })
    .nullable(),
  day: z.string().nullable(),
  /** what the smoke wrote inside its transaction; these rows never existed outside it (rolled back) */
  movements: z.strictObject({
    cdr: z.strictObject({ id: z.string(), plaque_camion: z.string(), statut_after: z.string().nullable() }).optional(),
    reception: z
      .strictObject({
        id: z.string(),
        volume_ambiant: z.number(),
        engine_15c: z.number(),
        engine_density15: z.number(),
        stored_15c: z.number().nullable(),
        stored_in: z.enum(['volume_15c', 'volume_corrige_15c']).nullable(),
        sent_volume_corrige_15c: z.number(),
        ...MovementInputs,
      })
      .optional(),
    /**
     * the reception that gave the other owner (PARTENAIRE) a journal row on the day, before 5.3, when
     * the data had none with stock in it: without it 5.3/5.4 OTHER_OWNERS_UNTOUCHED would test nothing
     */
    otherOwnerReception: z
      .strictObject({
        id: z.string(),
        owner: z.enum(OWNERS),
        partenaire_id: z.string(),
        /** no partenaires row existed: the smoke created a test partner, inside its transaction */
        partner_created: z.boolean(),
        volume_ambiant: z.number(),
        stored_15c: z.number().nullable(),
        sent_volume_corrige_15c: z.number(),
        ...MovementInputs,
      })
      .optional(),
    sortie: z
      .strictObject({
        id: z.string(),
        volume_ambiant: z.number().nullable(),
        engine_15c: z.number(),
        volume_15c_debited: z.number().nullable(),
        statut: z.string().nullable(),
        validated_by: z.string().nullable(),
        ...MovementInputs,
      })
      .optional(),
  }),
  /** as read during the smoke: before it (5.2), then inside its transaction after each movement */
  figures: z
    .strictObject({
      before: TankFigures,
      afterOtherOwnerReception: TankFigures.optional(),
      afterReception: TankFigures.optional(),
      afterSortie: TankFigures.optional(),
    })
    .nullable(),
  rollback: RollbackProof,
  checks: z.array(SmokeCheck),
  /** SQL errors the smoke did not expect (the refusals it provokes on purpose are findings, not errors) */
  errors: z.array(SqlErrorSeen),
});
export type SmokeResult = z.infer<typeof SmokeResult>;
