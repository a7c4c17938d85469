import { UserError } from '../errors.js';
import type { SignOff } from '../results/signoff.js';

/**
 * The depot manager's written GO/NO-GO (runbook 5.6 "validation écrite responsable dépôt"),
 * taken from what GitHub recorded: the review of the environment that gates the GO, with the
 * reviewer's login and comment (GET /repos/{owner}/{repo}/actions/runs/{run_id}/approvals).
 * Pure: the action fetches, this decides what the record says.
 */
export interface EnvironmentApproval {
  environments: { name?: string }[];
  state: string;
  comment?: string | null;
  user?: { login?: string } | null;
}

export interface SignoffContext {
  environment: string;
  role: string;
  runId: string;
  /** when the record is made: the job runs right after the review, which GitHub does not timestamp */
  now: Date;
}

/** ISO 8601 with an explicit offset (UTC), as the sign-off schema requires. */
const isoWithOffset = (d: Date) => d.toISOString().replace('Z', '+00:00');

export function signoffFromApprovals(approvals: readonly EnvironmentApproval[], ctx: SignoffContext): SignOff {
  const forGate = approvals.filter(
    (a) => a.environments.some((e) => e.name === ctx.environment) && (a.state === 'approved' || a.state === 'rejected'),
  );
  // the API lists reviews oldest first; the last word on the gate is the one that counts
  const last = forGate.at(-1);
  if (!last) {
    throw new UserError(
      'NO_SIGNOFF',
      `no review of environment "${ctx.environment}" in run ${ctx.runId}: the GO gate was not approved or rejected by anyone`,
      {
        where: { field: 'environment' },
        hint: 'protect that environment with the depot manager as required reviewer',
      },
    );
  }
  const who = last.user?.login;
  if (!who) throw new UserError('NO_SIGNOFF', `the review of "${ctx.environment}" names no user`);
  const comment = [last.comment?.trim(), `GitHub review of environment ${ctx.environment}, run ${ctx.runId}`].filter(Boolean).join(' — ');
  return {
    format: 'astm53b-signoff/1',
    who,
    role: ctx.role,
    decision: last.state === 'approved' ? 'GO' : 'NO-GO',
    at: isoWithOffset(ctx.now),
    comment,
  };
}
