import { userInfo } from 'node:os';
import { z } from 'zod';
import { UserError } from '../errors.js';

/** Who runs this and under which run id: recorded in every result and every row the pipeline writes. */
export const RunContext = z.strictObject({ runId: z.string(), actor: z.string() });
export type RunContext = z.infer<typeof RunContext>;

/**
 * A depot's name as its environments (`prod-<depot>`) and artifacts (`<depot>.backup`) carry it:
 * lower case (GitHub's environment names ignore case, concurrency groups and artifacts may not), and
 * never starting like another gate's suffix, or `prod-<depot>` could be another depot's
 * `prod-rollback-<x>` and hold its secrets.
 */
export const DEPOT_NAME = /^(?!(?:start|go|rollback|watch)-)[a-z0-9][a-z0-9_-]{0,39}$/;

/**
 * The depot a run migrates, when one repository migrates several (ASTM53B_DEPOT, set by the
 * workflows from their `depot` input): empty means the repository's only depot.
 */
export function depotFrom(env: NodeJS.ProcessEnv): string | undefined {
  const depot = env.ASTM53B_DEPOT?.trim();
  if (!depot) return undefined;
  if (!DEPOT_NAME.test(depot))
    throw new UserError(
      'BAD_OPTION',
      `depot "${depot.slice(0, 40)}" (ASTM53B_DEPOT, the workflow's depot input) must be 1-40 lower-case letters, digits, _ or -, starting with a letter or digit, and not with start-, go-, rollback- or watch-: it names GitHub environments and artifacts`,
      { where: { field: 'depot' } },
    );
  return depot;
}

/**
 * A run's id: `owner/repo#run_id.attempt`, and `@depot` after it when the run migrates one depot of
 * several. The legs of a matrix over depots share one GitHub run: the depot keeps their sign-offs,
 * freezes and CHANGELOG entries apart.
 */
export function runContextFrom(
  env: NodeJS.ProcessEnv,
  explicit: { runId?: string | undefined; actor?: string | undefined } = {},
): RunContext {
  const gh = env.GITHUB_RUN_ID ? `${env.GITHUB_REPOSITORY ?? 'github'}#${env.GITHUB_RUN_ID}.${env.GITHUB_RUN_ATTEMPT ?? '1'}` : undefined;
  const depot = depotFrom(env);
  const base = explicit.runId ?? gh ?? `local-${new Date().toISOString()}`;
  const runId = depot && !base.endsWith(`@${depot}`) ? `${base}@${depot}` : base;
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

/**
 * A run's id without its attempt ("owner/repo#42.2" → "owner/repo#42", "owner/repo#42.2@kin" →
 * "owner/repo#42@kin"): a re-run attempt is the same migration of the same depot.
 */
export const runWithoutAttempt = (runId: string): string => runId.replace(/\.\d+(@[\w-]+)?$/, '$1');
