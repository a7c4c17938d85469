import path from 'node:path';
import * as core from '@actions/core';
import { z } from 'zod';
import { withDb } from '../../db/open.js';
import { assertSessionCapable, resolveTarget } from '../../db/target.js';
import { renderApplyMarkdown } from '../../report/sql-apply.js';
import { runContextFrom } from '../../results/run-context.js';
import { loadChangeFile } from '../../runbook/change-file.js';
import { applyChangeFile, parseExpectedFunctions } from '../../runbook/sql-apply.js';
import { parseTimeouts } from '../../runbook/timeouts.js';
import { readDatabaseUrl, readInputs, TimeoutInputs } from '../inputs.js';
import { DEFAULT_OUTPUT_DIR, publishResult } from '../results.js';
import { runAction } from '../run.js';

/** actions/sql-apply (runbook 4.3): the same step as `astm53b sql-apply`. */
const Inputs = z.object({
  file: z.string().min(1),
  'expect-functions': z.string().optional(),
  'dry-run': z.enum(['true', 'false']).default('false'),
  'allow-data': z.string().optional(),
  'output-dir': z.string().default(DEFAULT_OUTPUT_DIR),
  ...TimeoutInputs,
});

export function sqlApplyAction(): Promise<void> {
  return runAction('sql-apply', async (log) => {
    const url = readDatabaseUrl();
    const i = readInputs(Inputs);
    const file = await loadChangeFile(path.resolve(i.file), i.file);
    const opts = {
      file,
      expectFunctions: parseExpectedFunctions(i['expect-functions']),
      dryRun: i['dry-run'] === 'true',
      ...(i['allow-data'] ? { allowData: i['allow-data'] } : {}),
      ...parseTimeouts(i),
      run: runContextFrom(process.env),
    };
    const target = resolveTarget({ url, cwd: process.cwd() });
    assertSessionCapable(target, 'sql-apply');
    const r = await withDb(target, (db) => applyChangeFile(db, opts, log));
    await publishResult(i['output-dir'], 'sqlApply', r);
    core.setOutput('status', r.status);
    core.setOutput('sha256', r.file.sha256);
    core.setOutput('fingerprint-before', r.fingerprintBefore.sha256);
    core.setOutput('fingerprint-after', r.fingerprintAfter.sha256);
    await core.summary.addRaw(renderApplyMarkdown(r)).write();
    return r.ok ? undefined : { failure: `${r.file.name} rejected and rolled back: ${r.violations.join('; ')}` };
  });
}
