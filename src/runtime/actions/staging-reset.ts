import path from 'node:path';
import * as core from '@actions/core';
import { z } from 'zod';
import { withDb } from '../../db/open.js';
import { assertSessionCapable, resolveTarget } from '../../db/target.js';
import { renderResetMarkdown } from '../../report/staging-reset.js';
import { runContextFrom } from '../../results/run-context.js';
import { loadResetFile, stagingReset } from '../../runbook/staging-reset.js';
import { parseTimeouts } from '../../runbook/timeouts.js';
import { readDatabaseUrl, readInputs, TimeoutInputs } from '../inputs.js';
import { DEFAULT_OUTPUT_DIR, publishResult } from '../results.js';
import { runAction } from '../run.js';

/** actions/staging-reset (runbook 3.5): the same step as `astm53b staging-reset`. */
const Inputs = z.object({
  file: z.string().optional(),
  'output-dir': z.string().default(DEFAULT_OUTPUT_DIR),
  ...TimeoutInputs,
});

export function stagingResetAction(): Promise<void> {
  return runAction('staging-reset', async (log) => {
    const url = readDatabaseUrl();
    const i = readInputs(Inputs);
    const file = await loadResetFile(i.file ? { path: path.resolve(i.file), display: i.file } : undefined);
    const target = resolveTarget({ url, cwd: process.cwd() });
    assertSessionCapable(target, 'staging-reset');
    const r = await withDb(target, (db) => stagingReset(db, { file, url, run: runContextFrom(process.env), ...parseTimeouts(i) }, log));
    await publishResult(i['output-dir'], 'stagingReset', r);
    core.setOutput('ok', String(r.ok));
    await core.summary.addRaw(renderResetMarkdown(r)).write();
    return r.ok ? undefined : { failure: `invariant broken, rolled back: ${r.problems.join('; ')}` };
  });
}
