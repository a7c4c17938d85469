import * as core from '@actions/core';
import { z } from 'zod';
import { UserError } from '../../errors.js';
import { splitList } from '../../lists.js';
import { approvalsRecord, signoffFromApprovals, type EnvironmentApproval } from '../../runbook/signoff.js';
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
  environment: z.string().min(1).default('prod-go'),
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
    const only = splitList(i.environments);
    if (only.length && !only.includes(i.environment))
      throw new UserError('BAD_INPUT', `environments (${only.join(', ')}) leaves out the GO gate's environment ${i.environment}`, {
        where: { field: 'environments' },
      });
    const record = approvalsRecord(approvals, run.facts, only);
    for (const r of record.reviews) log.info(`${r.environment}: ${r.state} by ${r.who}${r.comment ? `: ${r.comment}` : ''}`);
    await publishResult(i['output-dir'], 'approvals', record);
    const signoff = signoffFromApprovals(record, { environment: i.environment, role: i.role, now: new Date() });
    if (!signoff) {
      // nothing is invented: decide reads the absence as NO_SIGNOFF
      log.warn(`no review of environment "${i.environment}" in run ${run.id}: no sign-off recorded`);
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
