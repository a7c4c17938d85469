import path from 'node:path';
import * as core from '@actions/core';
import { z } from 'zod';
import { withDb } from '../../db/open.js';
import { assertSessionCapable, resolveTarget } from '../../db/target.js';
import { renderRestateMarkdown } from '../../report/restate.js';
import { runContextFrom } from '../../results/run-context.js';
import { buildRestateOptions, restate } from '../../runbook/restate.js';
import { parseTimeouts } from '../../runbook/timeouts.js';
import { readDatabaseUrl, readInputs, TimeoutInputs } from '../inputs.js';
import { DEFAULT_OUTPUT_DIR, publishResult } from '../results.js';
import { runAction } from '../run.js';

/** actions/restate (runbook §2, 3.2): the same step as `astm53b restate`. */
const Inputs = z.object({
  'dry-run': z.enum(['true', 'false']).default('false'),
  'as-user': z.string().optional(),
  profile: z.string().optional(),
  'golden-result': z.string().optional(),
  'output-dir': z.string().default(DEFAULT_OUTPUT_DIR),
  ...TimeoutInputs,
});

export function restateAction(): Promise<void> {
  return runAction('restate', async (log) => {
    const url = readDatabaseUrl();
    const i = readInputs(Inputs);
    const golden = i['golden-result'];
    const opts = await buildRestateOptions({
      asUser: i['as-user'],
      profile: i.profile,
      goldenResult: golden ? { path: path.resolve(golden), display: golden } : undefined,
      dryRun: i['dry-run'] === 'true',
      timeouts: parseTimeouts(i),
      run: runContextFrom(process.env),
    });
    const target = resolveTarget({ url, cwd: process.cwd() });
    assertSessionCapable(target, 'restate');
    const r = await withDb(target, (db) => restate(db, opts, log));
    await publishResult(i['output-dir'], 'restate', r);
    core.setOutput('status', r.status);
    core.setOutput('booked', String(r.counts.booked));
    core.setOutput('delta-15c-l', String(r.proof.expected_15c_l));
    core.setOutput('committed', String(r.committed));
    await core.summary.addRaw(renderRestateMarkdown(r)).write();
    return r.ok ? undefined : { failure: `proof failed, rolled back, nothing booked: ${r.proof.problems.join('; ')}` };
  });
}
