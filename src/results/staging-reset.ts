import { z } from 'zod';
import { EnvironmentMarker, Sha256, TableChecksum } from './common.js';
import { RunContext } from './run-context.js';

/** staging-reset.json (runbook 3.5). */
export const ResetCounts = z.strictObject({
  receptions: z.number(),
  sorties_produit: z.number(),
  stocks_journaliers: z.number(),
  log_actions_scoped: z.number(),
  cours_de_route: z.number(),
  stocks_snapshot: z.number(),
});
export type ResetCounts = z.infer<typeof ResetCounts>;

export const LeftSnapshot = z.strictObject({
  citerne: z.string(),
  produit: z.string(),
  proprietaire_type: z.string(),
  stock_ambiant: z.number(),
  stock_15c: z.number(),
});
export const LeftCdr = z.strictObject({ id: z.string(), plaque_camion: z.string(), date_chargement: z.string() });

export const ResetResult = z.strictObject({
  target: z.string(),
  file: z.strictObject({ name: z.string(), display: z.string(), sha256: Sha256 }),
  run: RunContext,
  environment: EnvironmentMarker,
  before: ResetCounts,
  after: ResetCounts,
  cdrBefore: TableChecksum,
  cdrAfter: TableChecksum,
  ok: z.boolean(),
  problems: z.array(z.string()),
  /** what still shows stock (v_stock_actuel reads the snapshot) or blocks receptions (CDR not ARRIVE) */
  leftovers: z.strictObject({ snapshotWithStock: z.array(LeftSnapshot), cdrDecharge: z.array(LeftCdr) }),
  ms: z.number(),
});
export type ResetResult = z.infer<typeof ResetResult>;
