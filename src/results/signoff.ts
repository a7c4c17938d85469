import { z } from 'zod';
import { TriggeredBy } from './approvals.js';

/** signoff.json: the depot manager's written validation (runbook 5.6). */
export const SIGNOFF_FORMAT = 'astm53b-signoff/1';

export const SignOff = z.strictObject({
  format: z.literal(SIGNOFF_FORMAT).optional(),
  who: z.string().trim().min(2, { message: 'must name the person who signs' }),
  role: z.string().trim().min(2, { message: "must give the signer's role (e.g. responsable dépôt)" }),
  decision: z.enum(['GO', 'NO-GO']),
  at: z.iso.datetime({ offset: true, message: 'must be an ISO date and time with its offset, e.g. 2026-03-11T22:40:00+01:00' }),
  comment: z.string().optional(),
  /** the workflow run the record was made in (every record a run makes carries it); absent: given by hand */
  runId: z.string().min(1).optional(),
  /** the gate this is the review of: the GitHub environment (prod-go), or the one an approval issue stood for */
  environment: z.string().min(1).optional(),
  /** how it was given: GitHub's deployment review, or a comment on the approval issue of actions/approval-gate */
  via: z.enum(['environment-review', 'approval-issue']).optional(),
  /** who started the run the record was made in: the sign-off must come from someone else */
  triggeredBy: TriggeredBy.optional(),
  /** the approval issue and the comment that decided it (actions/approval-gate) */
  issue: z.strictObject({ number: z.number().int().positive(), url: z.string(), commentUrl: z.string() }).optional(),
});
export type SignOff = z.infer<typeof SignOff>;
