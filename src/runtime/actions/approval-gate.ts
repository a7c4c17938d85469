import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import * as core from '@actions/core';
import { z } from 'zod';
import { isUserError, UserError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { approvalIssueTitle, renderApprovalIssue } from '../../report/approval-issue.js';
import { APPROVAL_ISSUE_FORMAT, type ApprovalIssue } from '../../results/approval-issue.js';
import { readResult } from '../../results/io.js';
import {
  approversOfDepot,
  effectiveApprovers,
  judgeComments,
  parseApprovers,
  signoffFromIssue,
  type IssueComment,
} from '../../runbook/approval-gate.js';
import { depotFrom } from '../../results/run-context.js';
import { decide } from '../../runbook/decide.js';
import { apiError, workflowRun, type WorkflowRun } from '../github-run.js';
import { readInputs } from '../inputs.js';
import { DEFAULT_OUTPUT_DIR, publishResult } from '../results.js';
import { runAction } from '../run.js';

/**
 * Body of actions/approval-gate: a gate as an issue, for repositories whose environments cannot
 * have required reviewers. Opens an issue showing what is to be approved, waits (bounded) for a
 * listed approver's `GO` or `NO-GO` comment, records the exchange and closes the issue. The GO
 * gate (runbook 5.6) records the verdict as signoff.json, and approval-issue.json; the start gate
 * (runbook 3.4) as approval-issue-start.json, and fails its step on anything but a GO, so that
 * nothing after it starts.
 */
/** GitHub-hosted jobs stop at 360 min; the wait must end before its job's timeout-minutes. */
export const MAX_WAIT_MINUTES = 340;

const ApprovalGateInputs = z.object({
  'github-token': z.string().min(1),
  approvers: z.string().default(''),
  'approvers-by-depot': z.string().default(''),
  gate: z
    .enum(['go', 'start'], { message: "must be 'go' (the GO after the checks) or 'start' (the go-ahead before the freeze)" })
    .default('go'),
  environment: z.string().min(1).optional(),
  role: z.string().min(2).default('responsable dépôt'),
  'timeout-minutes': z.coerce
    .number({ message: 'must be a number of minutes' })
    .positive({ message: 'must be more than 0' })
    .max(MAX_WAIT_MINUTES, { message: `must be at most ${MAX_WAIT_MINUTES} (a GitHub-hosted job stops at 360)` })
    .default(120),
  'poll-seconds': z.coerce.number({ message: 'must be a number of seconds' }).min(1).max(600).default(30),
  'run-inputs': z.string().default(''),
  'results-dir': z.string().default(DEFAULT_OUTPUT_DIR),
  'output-dir': z.string().default(DEFAULT_OUTPUT_DIR),
});

/** What the GO's approver is shown: each summary, or why it is missing (the checks did not run). */
async function whatIsApproved(dir: string, run: WorkflowRun, log: Logger) {
  const golden = await readResult(dir, 'golden');
  const smoke = await readResult(dir, 'smoke');
  let decision;
  try {
    decision = await decide({ resultsDir: dir, runId: run.facts.runId, actors: [run.facts.triggeredBy.actor] }, log);
  } catch (e) {
    if (!isUserError(e)) throw e;
    decision = `the decision could not be made: ${e.describe()}`;
  }
  return {
    gate: 'go' as const,
    golden: golden.ok ? golden.value : `golden.json ${golden.detail}`,
    smoke: smoke.ok ? smoke.value : `smoke.json ${smoke.detail}`,
    decision,
  };
}

/**
 * What the start's approver is shown: preflight's result, and the values the run was asked to run
 * with (run-inputs; else the event's, which in a called workflow are the caller's).
 */
async function whatIsStarted(dir: string, runInputs: string) {
  const preflight = await readResult(dir, 'preflight');
  let given: unknown = {};
  try {
    if (runInputs.trim()) given = JSON.parse(runInputs);
    else if (process.env.GITHUB_EVENT_PATH)
      given = (JSON.parse(await readFile(process.env.GITHUB_EVENT_PATH, 'utf8')) as { inputs?: unknown }).inputs;
  } catch (e) {
    throw new UserError('BAD_INPUT', `run-inputs is not JSON: ${(e as Error).message}`, { where: { field: 'run-inputs' } });
  }
  const inputs =
    given && typeof given === 'object' && !Array.isArray(given)
      ? Object.fromEntries(Object.entries(given).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v ?? '')]))
      : {};
  return { gate: 'start' as const, preflight: preflight.ok ? preflight.value : `preflight.json ${preflight.detail}`, inputs };
}

export function approvalGateAction(): Promise<void> {
  return runAction('approval-gate', async (log) => {
    const i = readInputs(ApprovalGateInputs);
    const run = workflowRun(i['github-token']);
    const { owner, repo, octokit } = run;
    const triggeredBy = run.facts.triggeredBy;
    // a run of one depot among several answers to that depot's approvers only
    const depot = depotFrom(process.env);
    const listed = depot ? approversOfDepot(depot, i['approvers-by-depot']) : parseApprovers(i.approvers);
    const approvers = effectiveApprovers(listed, triggeredBy);
    const start = i.gate === 'start';
    const environment = i.environment ?? (start ? 'prod-start' : 'prod-go');
    const dir = path.resolve(i['results-dir']);
    const shown = start ? await whatIsStarted(dir, i['run-inputs']) : await whatIsApproved(dir, run, log);
    const opened = new Date();
    const deadline = new Date(opened.getTime() + i['timeout-minutes'] * 60_000);
    const view = {
      environment,
      runId: run.facts.runId,
      runUrl: run.url,
      triggeredBy,
      approvers,
      deadline: deadline.toISOString(),
      timeoutMinutes: i['timeout-minutes'],
      ...shown,
    };
    let issue: { number: number; html_url: string };
    try {
      issue = (await octokit.rest.issues.create({ owner, repo, title: approvalIssueTitle(view), body: renderApprovalIssue(view) })).data;
    } catch (e) {
      throw apiError(e, `open the approval issue in ${owner}/${repo}`, 'issues: write');
    }
    log.info(`approval issue #${issue.number} opened: ${issue.html_url}; waiting until ${view.deadline} for ${approvers.join(', ')}`);
    core.setOutput('issue-number', String(issue.number));
    core.setOutput('issue-url', issue.html_url);

    let judged: ReturnType<typeof judgeComments> = { decided: null, ignored: [] };
    for (;;) {
      try {
        const all = await octokit.paginate(octokit.rest.issues.listComments, { owner, repo, issue_number: issue.number, per_page: 100 });
        const comments: IssueComment[] = all.map((c) => ({
          who: c.user?.login ?? '',
          body: c.body ?? '',
          at: c.created_at,
          updatedAt: c.updated_at,
          url: c.html_url,
        }));
        judged = judgeComments(comments, { environment, approvers, triggeredBy });
      } catch (e) {
        // a refusal (4xx) will not change; a server error or a lost connection may: read again at the next poll
        const status = (e as { status?: number }).status;
        const err = apiError(e, `read the comments of approval issue #${issue.number}`, 'issues: write');
        if (status !== undefined && status < 500) throw err;
        log.warn(`${err.message}; reading again in ${i['poll-seconds']} s`);
      }
      const left = deadline.getTime() - Date.now();
      if (judged.decided || left <= 0) break;
      await sleep(Math.min(i['poll-seconds'] * 1000, left));
    }
    for (const x of judged.ignored) log.info(`comment by ${x.who} at ${x.at} does not count: ${x.reason}`);

    const d = judged.decided;
    const verdict = d ? (d.state === 'approved' ? 'GO' : 'NO-GO') : null;
    const closing = d
      ? `Recorded: **${verdict}** by @${d.who} at ${d.at} (${d.url}). Run ${run.facts.runId}, started by @${triggeredBy.actor}. ` +
        (start
          ? verdict === 'GO'
            ? 'The migration starts.'
            : 'The migration does not start: nothing was frozen or changed.'
          : "The run's decide job takes it from here.")
      : `No \`GO\` or \`NO-GO\` from ${approvers.map((a) => `@${a}`).join(', ')} by ${view.deadline}: ` +
        (start ? 'the migration does not start.' : 'no sign-off; the run decides NO-GO.');
    let closedAt: string | null = null;
    try {
      await octokit.rest.issues.createComment({ owner, repo, issue_number: issue.number, body: closing });
      await octokit.rest.issues.update({
        owner,
        repo,
        issue_number: issue.number,
        state: 'closed',
        state_reason: d ? 'completed' : 'not_planned',
      });
      closedAt = new Date().toISOString();
    } catch (e) {
      // the verdict is recorded either way; an issue left open is said, not hidden
      log.warn(apiError(e, `close approval issue #${issue.number}`, 'issues: write').describe());
    }
    const record: ApprovalIssue = {
      format: APPROVAL_ISSUE_FORMAT,
      runId: run.facts.runId,
      triggeredBy,
      environment,
      issue: { number: issue.number, url: issue.html_url },
      approvers,
      openedAt: opened.toISOString(),
      deadline: view.deadline,
      closedAt,
      outcome: d ? d.state : 'timeout',
      decidedBy: d,
      ignored: judged.ignored,
    };
    await publishResult(i['output-dir'], start ? 'startApprovalIssue' : 'approvalIssue', record);
    if (start) {
      core.setOutput('decision', verdict ?? '');
      if (d) core.setOutput('who', d.who);
      if (verdict === 'GO') {
        log.info(`go-ahead to start: GO by ${d!.who} on issue #${issue.number}`);
        return undefined;
      }
      return {
        failure: d
          ? `${environment}: NO-GO by ${d.who} on issue #${issue.number}${d.comment ? `: ${d.comment}` : ''}; the migration does not start`
          : `${environment}: no GO or NO-GO from an approver on issue #${issue.number} within ${i['timeout-minutes']} min; the migration does not start`,
      };
    }
    const signoff = d
      ? signoffFromIssue(d, { role: i.role, runId: run.facts.runId, triggeredBy, issue: { number: issue.number, url: issue.html_url } })
      : null;
    if (!signoff) {
      core.setOutput('decision', '');
      return {
        failure: `no GO or NO-GO from an approver on issue #${issue.number} within ${i['timeout-minutes']} min: no sign-off (NO-GO)`,
      };
    }
    await publishResult(i['output-dir'], 'signoff', signoff);
    log.info(`sign-off: ${signoff.decision} by ${signoff.who} (${signoff.role}) on issue #${issue.number}`);
    core.setOutput('decision', signoff.decision);
    core.setOutput('who', signoff.who);
    return undefined;
  });
}
