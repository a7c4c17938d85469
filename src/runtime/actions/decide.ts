import path from 'node:path';
import * as core from '@actions/core';
import { z } from 'zod';
import { renderDecisionMarkdown } from '../../report/decision.js';
import { runContextFrom } from '../../results/run-context.js';
import { decide } from '../../runbook/decide.js';
import { readInputs } from '../inputs.js';
import { DEFAULT_OUTPUT_DIR, publishResult } from '../results.js';
import { runAction } from '../run.js';

/** actions/decide (runbook 6.1, 7): the same step as `astm53b decide`. */
const DecideInputs = z.object({
  'results-dir': z.string().default(DEFAULT_OUTPUT_DIR),
  signoff: z.string().optional(),
  'output-dir': z.string().default(DEFAULT_OUTPUT_DIR),
});

export function decideAction(): Promise<void> {
  return runAction('decide', async (log) => {
    const i = readInputs(DecideInputs);
    // in a workflow run the sign-off must be this run's and not given by whoever started it
    const env = process.env;
    const inRun = env.GITHUB_RUN_ID
      ? { runId: runContextFrom(env).runId, actors: [env.GITHUB_ACTOR, env.GITHUB_TRIGGERING_ACTOR].filter((a): a is string => !!a) }
      : {};
    const d = await decide(
      { resultsDir: path.resolve(i['results-dir']), ...(i.signoff ? { signoff: path.resolve(i.signoff) } : {}), ...inRun },
      log,
    );
    await publishResult(i['output-dir'], 'decision', d);
    core.setOutput('decision', d.decision);
    await core.summary.addRaw(renderDecisionMarkdown(d)).write();
    if (d.decision !== 'GO')
      return { failure: `NO-GO: ${d.reasons.length} reason(s): ${[...new Set(d.reasons.map((r) => r.condition))].join(', ')}` };
    return undefined;
  });
}
