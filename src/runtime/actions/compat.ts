import * as core from '@actions/core';
import { z } from 'zod';
import { withDb } from '../../db/open.js';
import { resolveTarget } from '../../db/target.js';
import { renderCompatMarkdown } from '../../report/compat.js';
import { checkCompat } from '../../runbook/compat.js';
import { readDatabaseUrl, readInputs } from '../inputs.js';
import { DEFAULT_OUTPUT_DIR, publishResult } from '../results.js';
import { runAction } from '../run.js';

/** actions/compat: what the pipeline relies on in the target (read-only), as `astm53b compat`. */
const Inputs = z.object({
  'output-dir': z.string().default(DEFAULT_OUTPUT_DIR),
  'fail-on-incompatible': z.enum(['true', 'false']).default('true'),
});

export function compatAction(): Promise<void> {
  return runAction('compat', async (log) => {
    const url = readDatabaseUrl();
    const inputs = readInputs(Inputs);
    const target = resolveTarget({ url, cwd: process.cwd() });
    const result = await withDb(target, (db) => checkCompat(db, log));
    await publishResult(inputs['output-dir'], 'compat', result);
    core.setOutput('compatible', String(result.compatible));
    await core.summary.addRaw(renderCompatMarkdown(result)).write();
    if (!result.compatible && inputs['fail-on-incompatible'] === 'true') {
      return { failure: `${result.counts.missing} missing and ${result.counts.different} different objects in ${result.target}` };
    }
    return undefined;
  });
}
