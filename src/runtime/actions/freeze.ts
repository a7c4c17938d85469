import * as core from '@actions/core';
import { z } from 'zod';
import { withDb } from '../../db/open.js';
import { assertSessionCapable, resolveTarget } from '../../db/target.js';
import { renderFreezeMarkdown } from '../../report/freeze.js';
import { runContextFrom } from '../../results/run-context.js';
import { freezeOff, freezeOn, freezeStatus } from '../../runbook/freeze.js';
import { readDatabaseUrl, readInputs } from '../inputs.js';
import { DEFAULT_OUTPUT_DIR, publishResult } from '../results.js';
import { runAction } from '../run.js';

/** actions/freeze (runbook 3.4 / 4.1): the same step as `astm53b freeze`. */
const Inputs = z.object({
  mode: z.enum(['on', 'off', 'status']),
  reason: z.string().optional(),
  force: z.enum(['true', 'false']).default('false'),
  'window-minutes': z.coerce.number().int().min(0).max(1440).default(15),
  'output-dir': z.string().default(DEFAULT_OUTPUT_DIR),
});

export function freezeAction(): Promise<void> {
  return runAction('freeze', async (log) => {
    const url = readDatabaseUrl();
    const i = readInputs(Inputs);
    const target = resolveTarget({ url, cwd: process.cwd() });
    if (i.mode !== 'status') assertSessionCapable(target, `freeze ${i.mode}`);
    const run = runContextFrom(process.env);
    const r = await withDb(target, async (db) => {
      if (i.mode === 'status') {
        const status = await freezeStatus(db);
        await publishResult(i['output-dir'], 'freezeStatus', status);
        return status;
      }
      const changed =
        i.mode === 'on'
          ? await freezeOn(db, { reason: i.reason ?? '', force: i.force === 'true', run, windowMinutes: i['window-minutes'] }, log)
          : await freezeOff(db, { reason: i.reason ?? '', run }, log);
      await publishResult(i['output-dir'], i.mode === 'on' ? 'freezeOn' : 'freezeOff', changed);
      return changed;
    });
    core.setOutput('frozen', String(r.frozen));
    await core.summary.addRaw(renderFreezeMarkdown(r)).write();
    return r.consistent ? undefined : { failure: 'the recorded freeze state and the guard triggers disagree' };
  });
}
