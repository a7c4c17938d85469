import * as core from '@actions/core';
import { getOctokit } from '@actions/github';
import { z } from 'zod';
import { UserError } from '../../errors.js';
import { signoffFromApprovals, type EnvironmentApproval } from '../../runbook/signoff.js';
import { readInputs } from '../inputs.js';
import { DEFAULT_OUTPUT_DIR, publishResult } from '../results.js';
import { runAction } from '../run.js';

/** Body of actions/signoff: records the GO gate's review as signoff.json for the decision. */
const SignoffInputs = z.object({
  'github-token': z.string().min(1),
  environment: z.string().min(1).default('prod-go'),
  role: z.string().min(2).default('responsable dépôt'),
  'output-dir': z.string().default(DEFAULT_OUTPUT_DIR),
});

export function signoffAction(): Promise<void> {
  return runAction('signoff', async (log) => {
    const i = readInputs(SignoffInputs);
    core.setSecret(i['github-token']);
    const [owner, repo] = (process.env.GITHUB_REPOSITORY ?? '').split('/');
    const runId = process.env.GITHUB_RUN_ID;
    if (!owner || !repo || !runId)
      throw new UserError('NOT_IN_A_RUN', 'GITHUB_REPOSITORY and GITHUB_RUN_ID are not set: the sign-off is read from a workflow run');
    const octokit = getOctokit(i['github-token'], process.env.GITHUB_API_URL ? { baseUrl: process.env.GITHUB_API_URL } : {});
    let approvals: EnvironmentApproval[];
    try {
      approvals = (await octokit.rest.actions.getReviewsForRun({ owner, repo, run_id: Number(runId) })).data as EnvironmentApproval[];
    } catch (e) {
      const status = (e as { status?: number }).status;
      throw new UserError(
        'GITHUB_API',
        `cannot read the reviews of run ${runId} of ${owner}/${repo}: HTTP ${status ?? '?'} ${(e as Error).message.split('\n')[0]}`,
        {
          hint: 'the job needs permissions: actions: read',
        },
      );
    }
    const signoff = signoffFromApprovals(approvals, { environment: i.environment, role: i.role, runId, now: new Date() });
    log.info(`sign-off: ${signoff.decision} by ${signoff.who} (${signoff.role})`);
    await publishResult(i['output-dir'], 'signoff', signoff);
    core.setOutput('decision', signoff.decision);
    core.setOutput('who', signoff.who);
    return undefined;
  });
}
