import { userInfo } from 'node:os';
import { z } from 'zod';
import { UserError } from '../errors.js';

/** Who runs this and under which run id: recorded in every result and every row the pipeline writes. */
export const RunContext = z.strictObject({ runId: z.string(), actor: z.string() });
export type RunContext = z.infer<typeof RunContext>;

export function runContextFrom(
  env: NodeJS.ProcessEnv,
  explicit: { runId?: string | undefined; actor?: string | undefined } = {},
): RunContext {
  const gh = env.GITHUB_RUN_ID ? `${env.GITHUB_REPOSITORY ?? 'github'}#${env.GITHUB_RUN_ID}.${env.GITHUB_RUN_ATTEMPT ?? '1'}` : undefined;
  const runId = explicit.runId ?? gh ?? `local-${new Date().toISOString()}`;
  let actor = explicit.actor ?? env.GITHUB_ACTOR;
  if (!actor) {
    try {
      actor = userInfo().username;
    } catch {
      actor = 'unknown';
    }
  }
  for (const [field, v] of [
    ['run-id', runId],
    ['actor', actor],
  ] as const) {
    if (!/^[\w.@:#/+-]{1,200}$/.test(v))
      throw new UserError('BAD_OPTION', `--${field} "${v.slice(0, 40)}" has characters other than letters, digits and ._@:#/+-`, {
        where: { field },
      });
  }
  return { runId, actor };
}
