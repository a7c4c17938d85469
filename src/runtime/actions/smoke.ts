import path from 'node:path';
import * as core from '@actions/core';
import { z } from 'zod';
import { withDb } from '../../db/open.js';
import { assertSessionCapable, resolveTarget } from '../../db/target.js';
import { renderSmokeMarkdown } from '../../report/smoke.js';
import { buildSmokeOptions, runSmoke } from '../../runbook/smoke/index.js';
import { readDatabaseUrl, readInputs } from '../inputs.js';
import { DEFAULT_OUTPUT_DIR, publishResult } from '../results.js';
import { runAction } from '../run.js';
import { runContextFrom } from '../../results/run-context.js';

/** actions/smoke (runbook 4.5, 5.1–5.5): the same step as `astm53b smoke`. */

const SmokeInputs = z.object({
  'as-user': z.string().optional(),
  profile: z.string().optional(),
  'golden-result': z.string().optional(),
  'tolerance-l': z.string().default('5'),
  citerne: z.string().optional(),
  'output-dir': z.string().default(DEFAULT_OUTPUT_DIR),
});

export function smokeAction(): Promise<void> {
  return runAction('smoke', async (log) => {
    const url = readDatabaseUrl();
    const i = readInputs(SmokeInputs);
    const golden = i['golden-result'];
    const opts = await buildSmokeOptions({
      asUser: i['as-user'],
      profile: i.profile,
      goldenResult: golden ? { path: path.resolve(golden), display: golden } : undefined,
      toleranceL: i['tolerance-l'],
      citerne: i.citerne,
      run: runContextFrom(process.env),
    });
    const target = resolveTarget({ url, cwd: process.cwd() });
    assertSessionCapable(target, 'smoke');
    const r = await withDb(target, (db) => runSmoke(db, opts, log));
    await publishResult(i['output-dir'], 'smoke', r);
    core.setOutput('passed', String(r.passed));
    await core.summary.addRaw(renderSmokeMarkdown(r)).write();
    if (!r.passed)
      return {
        failure: r.checks
          .filter((c) => !c.passed)
          .map((c) => `${c.id}: ${c.message}`)
          .join(' | '),
      };
    return undefined;
  });
}
