import { z } from 'zod';
import { GateReview, TriggeredBy } from './approvals.js';

/**
 * approval-issue.json (actions/approval-gate): the GO gate held as an issue, for repositories whose
 * environments cannot have required reviewers (private repositories on GitHub Free, Pro, Team);
 * approval-issue-start.json: the start gate (prod-start, runbook 3.4) held the same way.
 * What was asked, of whom, until when, and what answered it: the deciding comment, every comment
 * that did not count and why, or the timeout.
 */
export const APPROVAL_ISSUE_FORMAT = 'astm53b-approval-issue/1';

export const IgnoredComment = z.strictObject({
  who: z.string(),
  at: z.string(),
  url: z.string(),
  reason: z.enum(['started the run', 'not a listed approver', 'edited after it was posted', 'no GO or NO-GO at its start']),
});
export type IgnoredComment = z.infer<typeof IgnoredComment>;

export const ApprovalIssue = z.strictObject({
  format: z.literal(APPROVAL_ISSUE_FORMAT),
  runId: z.string().min(1),
  triggeredBy: TriggeredBy,
  /** the gate the issue stands for (prod-go, or prod-start) */
  environment: z.string().min(1),
  issue: z.strictObject({ number: z.number().int().positive(), url: z.string() }),
  /** the logins whose GO or NO-GO counts: the listed approvers, less whoever started the run */
  approvers: z.array(z.string()).min(1),
  openedAt: z.string(),
  /** the bounded wait: no answer by then is no sign-off */
  deadline: z.string(),
  closedAt: z.string().nullable(),
  outcome: z.enum(['approved', 'rejected', 'timeout']),
  decidedBy: GateReview.nullable(),
  ignored: z.array(IgnoredComment),
});
export type ApprovalIssue = z.infer<typeof ApprovalIssue>;
