import { z } from 'zod';

/**
 * approvals.json: every review of the run's gates, approvals and rejections alike (runbook 3.4
 * and 5.6), as GitHub recorded them (`GET /repos/{owner}/{repo}/actions/runs/{run_id}/approvals`)
 * or as the approval issue of `actions/approval-gate` holds them. A rejected gate runs no step of
 * its job: this record, made by a job that always runs, is where its rejection is kept.
 */
export const APPROVALS_FORMAT = 'astm53b-approvals/1';

/** One review of one gate. */
export const GateReview = z.strictObject({
  /** the GitHub environment reviewed (prod-start, prod-go), or the gate an approval issue stood for */
  environment: z.string().min(1),
  /** GitHub's deployment review, or a comment on the approval issue of actions/approval-gate */
  via: z.enum(['environment-review', 'approval-issue']),
  state: z.enum(['approved', 'rejected']),
  who: z.string().min(1),
  comment: z.string(),
  /** when: an issue comment is dated; GitHub's review history gives no time (null) */
  at: z.string().nullable(),
  /** the issue comment, when there is one */
  url: z.string().optional(),
});
export type GateReview = z.infer<typeof GateReview>;

/** Who started the run: the dispatcher (GITHUB_ACTOR) and, for a re-run, who re-ran it (GITHUB_TRIGGERING_ACTOR). */
export const TriggeredBy = z.strictObject({ actor: z.string().min(1), triggeringActor: z.string().min(1) });
export type TriggeredBy = z.infer<typeof TriggeredBy>;

export const Approvals = z.strictObject({
  format: z.literal(APPROVALS_FORMAT),
  /** the run whose reviews these are (owner/repo#run_id.attempt, as every result names its run) */
  runId: z.string().min(1),
  triggeredBy: TriggeredBy,
  /** when the reviews were read */
  readAt: z.string(),
  /** oldest first, as the API lists them */
  reviews: z.array(GateReview),
});
export type Approvals = z.infer<typeof Approvals>;
