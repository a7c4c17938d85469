import { runContextFrom } from '../results/run-context.js';

/** The run a bundle belongs to, from GitHub's environment unless given: the CLI and the action agree. */
export interface RunOptions {
  repository?: string;
  runId?: string;
  runUrl?: string;
  actor?: string;
  pipelineCommit?: string;
}

export function runInfoFrom(env: NodeJS.ProcessEnv, explicit: RunOptions = {}): RunOptions {
  const ctx = runContextFrom(env, { runId: explicit.runId, actor: explicit.actor });
  const repository = explicit.repository ?? env.GITHUB_REPOSITORY;
  const runUrl =
    explicit.runUrl ??
    (env.GITHUB_SERVER_URL && env.GITHUB_REPOSITORY && env.GITHUB_RUN_ID
      ? `${env.GITHUB_SERVER_URL}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
      : undefined);
  return {
    runId: ctx.runId,
    actor: ctx.actor,
    ...(repository ? { repository } : {}),
    ...(runUrl ? { runUrl } : {}),
    ...(explicit.pipelineCommit ? { pipelineCommit: explicit.pipelineCommit } : {}),
  };
}
