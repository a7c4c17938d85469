import { APPROVALS_FORMAT, type Approvals, type GateReview, type TriggeredBy } from '../results/approvals.js';
import { runWithoutAttempt } from '../results/run-context.js';
import type { SignOff } from '../results/signoff.js';

/**
 * The depot manager's written GO/NO-GO (runbook 5.6 "validation écrite responsable dépôt"),
 * taken from what GitHub recorded: the reviews of the run's gates, with the reviewer's login and
 * comment (GET /repos/{owner}/{repo}/actions/runs/{run_id}/approvals), or the comment that
 * decided an approval issue (actions/approval-gate). And the one check every sign-off passes
 * before it counts, wherever it comes from (decide, the rehearsal's --signoff): made in this
 * run, not dated in the future, not given by whoever started the run.
 * Pure: the actions fetch, this decides what the records say.
 */
export interface EnvironmentApproval {
  environments: { name?: string }[];
  state: string;
  comment?: string | null;
  user?: { login?: string } | null;
}

/** Where and by whom a record is made: the workflow run. */
export interface RunFacts {
  /** owner/repo#run_id.attempt (runContextFrom) */
  runId: string;
  triggeredBy: TriggeredBy;
  now: Date;
}

/** ISO 8601 with an explicit offset (UTC), as the sign-off schema requires. */
export const isoWithOffset = (d: Date): string => d.toISOString().replace('Z', '+00:00');

/**
 * Every approval and rejection of the run, oldest first; a review naming several environments is
 * one per environment. `only`: the environments of this depot's gates (a matrix run over depots
 * holds every depot's reviews); absent, every environment.
 */
export function approvalsRecord(approvals: readonly EnvironmentApproval[], run: RunFacts, only?: readonly string[]): Approvals {
  const reviews: GateReview[] = [];
  const kept = only?.length ? new Set(only) : undefined;
  for (const a of approvals) {
    if (a.state !== 'approved' && a.state !== 'rejected') continue;
    const who = a.user?.login;
    if (!who) continue;
    for (const e of a.environments) {
      if (!e.name || (kept && !kept.has(e.name))) continue;
      reviews.push({ environment: e.name, via: 'environment-review', state: a.state, who, comment: a.comment?.trim() ?? '', at: null });
    }
  }
  return { format: APPROVALS_FORMAT, runId: run.runId, triggeredBy: run.triggeredBy, readAt: new Date(run.now).toISOString(), reviews };
}

export interface SignoffOfGate {
  /** the gate whose review is the sign-off: the GitHub environment of the GO (prod-go) */
  environment: string;
  role: string;
  now: Date;
}

/**
 * The sign-off: the last review of the GO gate (the API lists reviews oldest first; the last
 * word counts), or null when nobody reviewed it. GitHub does not date a review: the record is
 * dated when it is made, right after the review.
 */
export function signoffFromApprovals(record: Approvals, gate: SignoffOfGate): SignOff | null {
  const last = record.reviews.filter((r) => r.environment === gate.environment).at(-1);
  if (!last) return null;
  return {
    format: 'astm53b-signoff/1',
    who: last.who,
    role: gate.role,
    decision: last.state === 'approved' ? 'GO' : 'NO-GO',
    at: isoWithOffset(gate.now),
    comment: [last.comment, `GitHub review of environment ${gate.environment}, run ${record.runId}`].filter(Boolean).join(' — '),
    runId: record.runId,
    environment: gate.environment,
    via: 'environment-review',
    triggeredBy: record.triggeredBy,
  };
}

/**
 * How far ahead of this machine's clock a sign-off may be dated: the signer's laptop or phone
 * may run a few minutes fast. Beyond that, a record dated in the future was not signed after the
 * results it claims to cover.
 */
export const SIGNOFF_CLOCK_SKEW_MINUTES = 5;

export interface SignoffJudgement {
  /** this run's id; undefined: no run to hold the record to (astm53b decide by hand) */
  runId?: string | undefined;
  /** a rehearsal: the record is given by hand before the run, so it must name no run */
  rehearsal?: boolean;
  now: Date;
  /** who started this run (GITHUB_ACTOR, GITHUB_TRIGGERING_ACTOR): none of them may sign its GO */
  actors?: readonly string[];
}

export interface SignoffProblem {
  field: 'runId' | 'at' | 'who';
  message: string;
}

/**
 * Whether two run ids (owner/repo#run_id.attempt[@depot]) name the same workflow run of the same
 * depot, whatever the attempt: a re-run of the decide job (attempt 2) is still the same run.
 */
export const sameRun = (a: string, b: string): boolean => runWithoutAttempt(a) === runWithoutAttempt(b);

/** Logins are case-insensitive on GitHub. */
const sameLogin = (a: string, b: string) => a.trim().toLowerCase() === b.trim().toLowerCase();

/**
 * Why a sign-off does not count (empty: it does). The one place these rules live: decide turns
 * each problem into a NO_SIGNOFF reason, the rehearsal refuses its --signoff file with it.
 */
export function signoffProblems(s: SignOff, j: SignoffJudgement): SignoffProblem[] {
  const problems: SignoffProblem[] = [];
  if (s.runId !== undefined && (j.rehearsal || (j.runId !== undefined && !sameRun(s.runId, j.runId)))) {
    problems.push({
      field: 'runId',
      message: `the sign-off names run ${s.runId}, not this ${j.rehearsal ? 'rehearsal' : `run (${j.runId})`}: it was made for another run and does not cover these results`,
    });
  } else if (s.runId === undefined && j.runId !== undefined && !j.rehearsal) {
    problems.push({
      field: 'runId',
      message: `the sign-off names no run: in workflow run ${j.runId} only a record made in this run counts (actions/signoff, actions/approval-gate)`,
    });
  }
  const aheadMs = Date.parse(s.at) - j.now.getTime();
  if (aheadMs > SIGNOFF_CLOCK_SKEW_MINUTES * 60_000) {
    problems.push({
      field: 'at',
      message: `the sign-off is dated ${s.at}, in the future: ${Math.round(aheadMs / 60_000)} min after this decision (${j.now.toISOString()}), beyond the ${SIGNOFF_CLOCK_SKEW_MINUTES} min of clock skew allowed; check the record and the signer's clock`,
    });
  }
  if (s.decision === 'GO') {
    const starters = [...(j.actors ?? []), ...(s.triggeredBy ? [s.triggeredBy.actor, s.triggeredBy.triggeringActor] : [])];
    if (starters.some((a) => sameLogin(a, s.who))) {
      const by = s.triggeredBy
        ? `triggered by ${s.triggeredBy.actor}${sameLogin(s.triggeredBy.triggeringActor, s.triggeredBy.actor) ? '' : `, re-run by ${s.triggeredBy.triggeringActor}`}`
        : `started by ${[...new Set(j.actors)].join(', ')}`;
      problems.push({
        field: 'who',
        message: `self-approval refused: ${s.who} approved the GO of a run ${by}; the depot manager's GO must come from someone other than whoever started the run`,
      });
    }
  }
  return problems;
}

/**
 * Why the start gate (runbook 3.4) does not hold, or null when it does: its last review is an
 * approval by someone who did not start the run. Read before anything is frozen: a start gate with
 * no required reviewer (an environment GitHub created on first use, or none set) runs its job
 * unreviewed, and that must not pass for a go-ahead.
 */
export function startApprovalProblem(record: Approvals, environment: string): string | null {
  const last = record.reviews.filter((r) => r.environment === environment).at(-1);
  if (!last)
    return `${environment} was not reviewed in run ${record.runId}: the migration needs the go-ahead of its required reviewer (set one on the environment, or dispatch with approval: issue)`;
  if (last.state !== 'approved') return `${environment} was rejected by ${last.who}${last.comment ? `: ${last.comment}` : ''}`;
  const starters = [record.triggeredBy.actor, record.triggeredBy.triggeringActor];
  if (starters.some((a) => sameLogin(a, last.who)))
    return `self-approval refused: ${last.who} approved ${environment} of a run triggered by ${record.triggeredBy.actor}; the go-ahead must come from someone else`;
  return null;
}
