import { UserError } from '../errors.js';
import { splitList } from '../lists.js';
import type { IgnoredComment } from '../results/approval-issue.js';
import type { GateReview, TriggeredBy } from '../results/approvals.js';
import type { SignOff } from '../results/signoff.js';
import { isoWithOffset } from './signoff.js';

/**
 * The GO gate held as an issue (actions/approval-gate), for repositories whose environments cannot
 * have required reviewers: which comment on the issue is the depot manager's GO or NO-GO (runbook
 * 5.6). Pure: the action opens, polls and closes the issue; this reads the comments.
 */

/**
 * The approvers of one depot's gate, in a repository that migrates several: each depot's own list
 * from a JSON object (`{"kinshasa": "chef-kin", "lubumbashi": ["chef-lub"]}`), so that one depot's
 * manager can never give another's GO. A depot run without such a list, or missing from it, is
 * refused: falling back to one list for all depots is what this prevents.
 */
export function approversOfDepot(depot: string, byDepotJson: string, field = 'approvers-by-depot'): string[] {
  let map: unknown;
  try {
    map = JSON.parse(byDepotJson || 'null');
  } catch (e) {
    throw new UserError('BAD_INPUT', `${field} is not JSON: ${(e as Error).message}`, { where: { field } });
  }
  if (!map || typeof map !== 'object' || Array.isArray(map))
    throw new UserError('BAD_INPUT', `depot ${depot}: ${field} must be a JSON object giving each depot its approvers`, {
      where: { field },
      hint: 'e.g. the repository variable GO_APPROVERS_BY_DEPOT = {"kinshasa": "chef-kinshasa", "lubumbashi": "chef-lubumbashi"}',
    });
  const entry = (map as Record<string, unknown>)[depot];
  if (entry === undefined || entry === null)
    throw new UserError('BAD_INPUT', `depot ${depot} has no approvers in ${field} (${Object.keys(map).join(', ') || 'empty'})`, {
      where: { field },
    });
  return parseApprovers(Array.isArray(entry) ? entry.map(String).join(' ') : String(entry));
}

/** A GitHub login: letters, digits and single hyphens, at most 39 characters. */
const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/;

/** The approvers as the form or a repository variable gives them: comma-, space- or newline-separated, with or without @. */
export function parseApprovers(text: string): string[] {
  const logins = splitList(text)
    .map((l) => l.replace(/^@/, ''))
    .filter(Boolean);
  if (!logins.length)
    throw new UserError('BAD_INPUT', 'no approver given: list the GitHub logins whose GO or NO-GO counts', {
      where: { field: 'approvers' },
      hint: 'e.g. the repository variable GO_APPROVERS = chef-depot',
    });
  const bad = logins.find((l) => !LOGIN.test(l));
  if (bad) throw new UserError('BAD_INPUT', `"${bad.slice(0, 40)}" is not a GitHub login`, { where: { field: 'approvers' } });
  return [...new Set(logins)];
}

/**
 * The verdict a comment starts with: `GO` or `NO-GO` (any case) as its first word, the rest its
 * comment. "GOOD", "GO-LIVE" or "NO GO" are not verdicts.
 */
export function verdictOf(body: string): { state: 'approved' | 'rejected'; comment: string } | null {
  const m = /^\s*(NO-GO|GO)(?![\w-])[\s:.,;!—–-]*([\s\S]*)$/i.exec(body);
  if (!m) return null;
  return { state: m[1]!.toUpperCase() === 'GO' ? 'approved' : 'rejected', comment: m[2]!.trim() };
}

export interface IssueComment {
  who: string;
  body: string;
  at: string;
  /** when it was last edited (GitHub's updated_at); absent or equal to `at`: never edited */
  updatedAt?: string;
  url: string;
}

const lower = (s: string) => s.toLowerCase();

/**
 * The first comment, oldest first, that is a verdict by a listed approver who did not start the
 * run; every comment before it that does not count, with why. Comments by whoever started the
 * run never count, even if they are listed.
 */
export function judgeComments(
  comments: readonly IssueComment[],
  gate: { environment: string; approvers: readonly string[]; triggeredBy: TriggeredBy },
): { decided: GateReview | null; ignored: IgnoredComment[] } {
  const starters = new Set([gate.triggeredBy.actor, gate.triggeredBy.triggeringActor].map(lower));
  const approvers = new Set(gate.approvers.map(lower));
  const ignored: IgnoredComment[] = [];
  for (const c of comments) {
    const ignore = (reason: IgnoredComment['reason']) => ignored.push({ who: c.who, at: c.at, url: c.url, reason });
    if (starters.has(lower(c.who))) {
      ignore('started the run');
      continue;
    }
    if (!approvers.has(lower(c.who))) {
      ignore('not a listed approver');
      continue;
    }
    // anyone with write access (whoever dispatched the run, say) may edit another's comment: only the words
    // as the approver posted them count, so an edited comment is never a verdict
    if (c.updatedAt && c.updatedAt !== c.at) {
      ignore('edited after it was posted');
      continue;
    }
    const v = verdictOf(c.body);
    if (!v) {
      ignore('no GO or NO-GO at its start');
      continue;
    }
    return {
      decided: {
        environment: gate.environment,
        via: 'approval-issue',
        state: v.state,
        who: c.who,
        comment: v.comment,
        at: c.at,
        url: c.url,
      },
      ignored,
    };
  }
  return { decided: null, ignored };
}

/** The approvers whose word counts: the listed ones less whoever started the run; none left is an error. */
export function effectiveApprovers(listed: readonly string[], triggeredBy: TriggeredBy): string[] {
  const starters = new Set([triggeredBy.actor, triggeredBy.triggeringActor].map(lower));
  const left = listed.filter((a) => !starters.has(lower(a)));
  if (!left.length)
    throw new UserError(
      'BAD_INPUT',
      `every listed approver (${listed.join(', ')}) started this run: the GO must come from someone else (runbook 5.6)`,
      { where: { field: 'approvers' }, hint: "list the depot manager's login, and dispatch the run from another account" },
    );
  return left;
}

/** The sign-off the deciding comment is: dated when it was written, naming the issue, the run and who started it. */
export function signoffFromIssue(
  review: GateReview,
  ctx: { role: string; runId: string; triggeredBy: TriggeredBy; issue: { number: number; url: string } },
): SignOff {
  return {
    format: 'astm53b-signoff/1',
    who: review.who,
    role: ctx.role,
    decision: review.state === 'approved' ? 'GO' : 'NO-GO',
    at: isoWithOffset(new Date(review.at!)),
    comment: [review.comment, `comment on approval issue #${ctx.issue.number}, run ${ctx.runId}`].filter(Boolean).join(' — '),
    runId: ctx.runId,
    environment: review.environment,
    via: 'approval-issue',
    triggeredBy: ctx.triggeredBy,
    issue: { number: ctx.issue.number, url: ctx.issue.url, commentUrl: review.url ?? ctx.issue.url },
  };
}
