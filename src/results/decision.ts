import { z } from 'zod';
import { Approvals } from './approvals.js';
import { GO_CONDITION_NAMES } from './go-conditions.js';
import { SignOff } from './signoff.js';

/** decision.json (runbook 6.1, 7): GO or NO-GO with every reason. */
export const DecisionReason = z.strictObject({
  condition: z.enum(GO_CONDITION_NAMES),
  runbook: z.string(),
  rule: z.string(),
  source: z.string(),
  message: z.string(),
});
export type DecisionReason = z.infer<typeof DecisionReason>;

export const INPUT_STATUSES = ['passed', 'failed', 'missing', 'unreadable'] as const;
export type InputStatus = (typeof INPUT_STATUSES)[number];

export const Decision = z.strictObject({
  step: z.literal('decide'),
  decision: z.enum(['GO', 'NO-GO']),
  at: z.string(),
  resultsDir: z.string(),
  inputs: z.array(z.strictObject({ name: z.string(), file: z.string(), status: z.enum(INPUT_STATUSES), detail: z.string() })),
  signoff: SignOff.nullable(),
  /** every review of the run's gates (approvals.json), when the run has one: a workflow run */
  approvals: Approvals.nullable(),
  reasons: z.array(DecisionReason),
});
export type Decision = z.infer<typeof Decision>;
