import * as core from '@actions/core';
import { getOctokit } from '@actions/github';
import { UserError } from '../errors.js';
import { runContextFrom } from '../results/run-context.js';
import type { RunFacts } from '../runbook/signoff.js';

/**
 * The workflow run an action is part of, and a client of GitHub's REST API for it (GITHUB_API_URL:
 * api.github.com, a GitHub Enterprise server, or the tests' local server). Shared by the actions
 * that read or write the run's approvals (signoff, approval-gate).
 */
export interface WorkflowRun {
  owner: string;
  repo: string;
  /** GITHUB_RUN_ID, as the REST API takes it */
  id: number;
  /** the run's page: https://github.com/OWNER/REPO/actions/runs/ID */
  url: string;
  /** owner/repo#run_id.attempt, the run id every result carries, and who started the run */
  facts: RunFacts;
  octokit: ReturnType<typeof getOctokit>;
}

export function workflowRun(token: string, env: NodeJS.ProcessEnv = process.env): WorkflowRun {
  core.setSecret(token);
  const [owner, repo] = (env.GITHUB_REPOSITORY ?? '').split('/');
  const id = env.GITHUB_RUN_ID;
  const actor = env.GITHUB_ACTOR;
  if (!owner || !repo || !id || !actor)
    throw new UserError(
      'NOT_IN_A_RUN',
      'GITHUB_REPOSITORY, GITHUB_RUN_ID and GITHUB_ACTOR are not all set: this action records what happened in a workflow run',
    );
  const octokit = getOctokit(token, env.GITHUB_API_URL ? { baseUrl: env.GITHUB_API_URL } : {});
  return {
    owner,
    repo,
    id: Number(id),
    url: `${env.GITHUB_SERVER_URL ?? 'https://github.com'}/${owner}/${repo}/actions/runs/${id}`,
    facts: {
      runId: runContextFrom(env).runId,
      triggeredBy: { actor, triggeringActor: env.GITHUB_TRIGGERING_ACTOR || actor },
      now: new Date(),
    },
    octokit,
  };
}

/** A refused or failed API call, as the user error that names the call and the permission the job needs. */
export function apiError(e: unknown, what: string, permission: string): UserError {
  const status = (e as { status?: number }).status;
  return new UserError('GITHUB_API', `cannot ${what}: HTTP ${status ?? '?'} ${(e as Error).message.split('\n')[0]}`, {
    hint: `the job needs permissions: ${permission}`,
  });
}
