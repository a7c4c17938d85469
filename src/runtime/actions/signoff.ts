import * as core from '@actions/core';
import { z } from 'zod';
import { UserError } from '../../errors.js';
import { splitList } from '../../lists.js';
import { approvalsRecord, signoffFromApprovals, startApprovalProblem, type EnvironmentApproval } from '../../runbook/signoff.js';
import { apiError, workflowRun } from '../github-run.js';
import { readInputs } from '../inputs.js';
import { DEFAULT_OUTPUT_DIR, publishResult } from '../results.js';
import { runAction } from '../run.js';

/**
 * Body of actions/signoff: every review of the run's gates as approvals.json (approvals and
 * rejections: who, comment, environment), and the GO gate's review as signoff.json.
 */
const SignoffInputs = z.object({
  'github-token': z.string().min(1),
  gate: z.enum(['go', 'start'], { message: "must be 'go' (record the GO's sign-off) or 'start' (check the go-ahead)" }).default('go'),
  environment: z.string().min(1).optional(),
  environments: z.string().default(''),
  role: z.string().min(2).default('responsable dépôt'),
  'output-dir': z.string().default(DEFAULT_OUTPUT_DIR),
});

export function signoffAction(): Promise<void> {
  return runAction('signoff', async (log) => {
    const i = readInputs(SignoffInputs);
    const run = workflowRun(i['github-token']);
    let approvals: EnvironmentApproval[];
    try {
      approvals = (await run.octokit.rest.actions.getReviewsForRun({ owner: run.owner, repo: run.repo, run_id: run.id }))
        .data as EnvironmentApproval[];
    } catch (e) {
      throw apiError(e, `read the reviews of run ${run.id} of ${run.owner}/${run.repo}`, 'actions: read');
    }
    const environment = i.environment ?? (i.gate === 'start' ? 'prod-start' : 'prod-go');
    const only = splitList(i.environments);
    if (only.length && !only.includes(environment))
      throw new UserError('BAD_INPUT', `environments (${only.join(', ')}) leaves out the gate's environment ${environment}`, {
        where: { field: 'environments' },
      });
    const record = approvalsRecord(approvals, run.facts, only);
    for (const r of record.reviews) log.info(`${r.environment}: ${r.state} by ${r.who}${r.comment ? `: ${r.comment}` : ''}`);
    await publishResult(i['output-dir'], 'approvals', record);
    if (i.gate === 'start') {
      const problem = startApprovalProblem(record, environment);
      if (problem) return { failure: problem };
      log.info(`${environment}: the go-ahead of ${record.reviews.filter((r) => r.environment === environment).at(-1)!.who}`);
      return undefined;
    }
    const signoff = signoffFromApprovals(record, { environment, role: i.role, now: new Date() });
    if (!signoff) {
      // nothing is invented: decide reads the absence as NO_SIGNOFF
      log.warn(`no review of environment "${environment}" in run ${run.id}: no sign-off recorded`);
      core.setOutput('decision', '');
      return undefined;
    }
    log.info(`sign-off: ${signoff.decision} by ${signoff.who} (${signoff.role}), run triggered by ${signoff.triggeredBy!.actor}`);
    await publishResult(i['output-dir'], 'signoff', signoff);
    core.setOutput('decision', signoff.decision);
    core.setOutput('who', signoff.who);
    return undefined;
  });
}
