import * as core from '@actions/core';
import { z } from 'zod';
import { withDb } from '../db/open.js';
import { resolveTarget } from '../db/target.js';
import { checkCompat } from '../runbook/compat.js';
import { renderCompatMarkdown } from '../report/compat.js';
import { readDatabaseUrl, readInputs } from './inputs.js';
import { backupAction, rollbackAction } from './backup-actions.js';
import { evidenceAction } from './evidence-actions.js';
import { goldenVerifyAction } from './golden-actions.js';
import { freezeAction, sqlApplyAction, stagingResetAction } from './pipeline-actions.js';
import { DEFAULT_OUTPUT_DIR, publishResult } from './results.js';
import { preflightAction } from './preflight-actions.js';
import { runAction } from './run.js';
import { signoffAction } from './signoff-actions.js';
import { decideAction, smokeAction } from './smoke-actions.js';

/** Every action's body: read inputs, call the runbook function, publish outputs and summary. */

const CompatInputs = z.object({
  'output-dir': z.string().default(DEFAULT_OUTPUT_DIR),
  'fail-on-incompatible': z.enum(['true', 'false']).default('true'),
});

export function compatAction(): Promise<void> {
  return runAction('compat', async (log) => {
    const url = readDatabaseUrl();
    const inputs = readInputs(CompatInputs);
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

export const ACTIONS: Record<string, () => Promise<void>> = {
  backup: backupAction,
  compat: compatAction,
  decide: decideAction,
  evidence: evidenceAction,
  freeze: freezeAction,
  'golden-verify': goldenVerifyAction,
  preflight: preflightAction,
  rollback: rollbackAction,
  signoff: signoffAction,
  smoke: smokeAction,
  'sql-apply': sqlApplyAction,
  'staging-reset': stagingResetAction,
};
