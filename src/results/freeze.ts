import { z } from 'zod';
import { AppActivity } from './common.js';

/** freeze-on.json, freeze-off.json (runbook 3.4, 4.1). */
export const FreezeStatus = z.strictObject({
  target: z.string(),
  frozen: z.boolean(),
  since: z.string().optional(),
  by: z.string().optional(),
  reason: z.string().optional(),
  runId: z.string().optional(),
  /** the tables that carry the guard trigger right now */
  guardedTables: z.array(z.string()),
  /** state and triggers disagree (someone dropped a trigger by hand) */
  consistent: z.boolean(),
});
export type FreezeStatus = z.infer<typeof FreezeStatus>;

export const FreezeResult = FreezeStatus.extend({
  action: z.enum(['on', 'off']),
  /** false when the database already was in the asked state */
  changed: z.boolean(),
  forced: z.boolean(),
  activity: AppActivity.optional(),
  /** when the step ran (ISO); absent from results written before it was recorded */
  at: z.string().optional(),
});
export type FreezeResult = z.infer<typeof FreezeResult>;
