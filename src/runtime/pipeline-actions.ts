import path from 'node:path';
import * as core from '@actions/core';
import { z } from 'zod';
import { withDb } from '../db/open.js';
import { assertSessionCapable, resolveTarget } from '../db/target.js';
import { sqlPath } from '../paths.js';
import { renderFreezeText } from '../report/freeze.js';
import { renderApplyMarkdown } from '../report/sql-apply.js';
import { renderResetText } from '../report/staging-reset.js';
import { loadChangeFile } from '../runbook/change-file.js';
import { CHANGE_FILES } from '../runbook/db-init.js';
import { freezeOff, freezeOn, freezeStatus } from '../runbook/freeze.js';
import { APPLY_DEFAULTS, applyChangeFile, parseExpectedFunctions, parseMs } from '../runbook/sql-apply.js';
import { stagingReset } from '../runbook/staging-reset.js';
import { readDatabaseUrl, readInputs } from './inputs.js';
import { DEFAULT_OUTPUT_DIR, publishResult } from './results.js';
import { runAction } from './run.js';
import { runContextFrom } from '../results/run-context.js';

/** Bodies of actions/sql-apply, actions/staging-reset and actions/freeze: the same runbook functions as the CLI. */

const Timeouts = {
  'lock-timeout-ms': z.string().optional(),
  'statement-timeout-ms': z.string().optional(),
  'lock-wait-ms': z.string().optional(),
};

function timeouts(i: {
  'lock-timeout-ms'?: string | undefined;
  'statement-timeout-ms'?: string | undefined;
  'lock-wait-ms'?: string | undefined;
}) {
  return {
    lockTimeoutMs: parseMs(i['lock-timeout-ms'], 'lock-timeout-ms', APPLY_DEFAULTS.lockTimeoutMs),
    statementTimeoutMs: parseMs(i['statement-timeout-ms'], 'statement-timeout-ms', APPLY_DEFAULTS.statementTimeoutMs),
    lockWaitMs: parseMs(i['lock-wait-ms'], 'lock-wait-ms', APPLY_DEFAULTS.lockWaitMs),
  };
}

const ApplyInputs = z.object({
  file: z.string().min(1),
  'expect-functions': z.string().optional(),
  'dry-run': z.enum(['true', 'false']).default('false'),
  'output-dir': z.string().default(DEFAULT_OUTPUT_DIR),
  ...Timeouts,
});

export function sqlApplyAction(): Promise<void> {
  return runAction('sql-apply', async (log) => {
    const url = readDatabaseUrl();
    const i = readInputs(ApplyInputs);
    const file = await loadChangeFile(path.resolve(i.file), i.file);
    const opts = {
      file,
      expectFunctions: parseExpectedFunctions(i['expect-functions']),
      dryRun: i['dry-run'] === 'true',
      ...timeouts(i),
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

const ResetInputs = z.object({
  file: z.string().optional(),
  'output-dir': z.string().default(DEFAULT_OUTPUT_DIR),
  ...Timeouts,
});

export function stagingResetAction(): Promise<void> {
  return runAction('staging-reset', async (log) => {
    const url = readDatabaseUrl();
    const i = readInputs(ResetInputs);
    const file = i.file
      ? await loadChangeFile(path.resolve(i.file), i.file)
      : await loadChangeFile(sqlPath(CHANGE_FILES.resetCdrOnly), `sql/${CHANGE_FILES.resetCdrOnly}`);
    const target = resolveTarget({ url, cwd: process.cwd() });
    assertSessionCapable(target, 'staging-reset');
    const r = await withDb(target, (db) => stagingReset(db, { file, url, run: runContextFrom(process.env), ...timeouts(i) }, log));
    await publishResult(i['output-dir'], 'stagingReset', r);
    core.setOutput('ok', String(r.ok));
    await core.summary.addRaw(`### Staging reset (runbook 3.5)\n\n\`\`\`\n${renderResetText(r)}\`\`\`\n`).write();
    return r.ok ? undefined : { failure: `invariant broken, rolled back: ${r.problems.join('; ')}` };
  });
}

const FreezeInputs = z.object({
  mode: z.enum(['on', 'off', 'status']),
  reason: z.string().optional(),
  force: z.enum(['true', 'false']).default('false'),
  'window-minutes': z.coerce.number().int().min(0).max(1440).default(15),
  'output-dir': z.string().default(DEFAULT_OUTPUT_DIR),
});

export function freezeAction(): Promise<void> {
  return runAction('freeze', async (log) => {
    const url = readDatabaseUrl();
    const i = readInputs(FreezeInputs);
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
    await core.summary.addRaw(`### Freeze (runbook 3.4 / 4.1)\n\n\`\`\`\n${renderFreezeText(r)}\`\`\`\n`).write();
    return r.consistent ? undefined : { failure: 'the recorded freeze state and the guard triggers disagree' };
  });
}
