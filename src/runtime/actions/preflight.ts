import path from 'node:path';
import * as core from '@actions/core';
import { z } from 'zod';
import { withDb } from '../../db/open.js';
import { resolveTarget } from '../../db/target.js';
import { renderPreflightMarkdown } from '../../report/preflight.js';
import { loadPreflightInputs, preflight } from '../../runbook/preflight.js';
import { depotFrom } from '../../results/run-context.js';
import { readDatabaseUrl, readInputs } from '../inputs.js';
import { DEFAULT_OUTPUT_DIR, publishResult } from '../results.js';
import { runAction } from '../run.js';

/** Body of actions/preflight: the first job of every run. */
const PreflightInputs = z.object({
  'golden-file': z.string().min(1),
  'change-files': z.string().min(1),
  baseline: z.string().optional(),
  'flutter-commit': z.string().optional(),
  'flutter-repository': z.string().optional(),
  'astm-flag': z.enum(['on', 'off']).optional(),
  'activity-minutes': z
    .string()
    .regex(/^[1-9][0-9]*$/, 'a positive whole number of minutes')
    .default('15'),
  'output-dir': z.string().default(DEFAULT_OUTPUT_DIR),
});

const ref = (p: string) => ({ path: path.resolve(p), display: p });

export function preflightAction(): Promise<void> {
  return runAction('preflight', async (log) => {
    // a depot name no environment or artifact can carry stops the run here, before the database
    depotFrom(process.env);
    const url = readDatabaseUrl();
    const token = core.getInput('github-token');
    if (token) core.setSecret(token);
    const i = readInputs(PreflightInputs);
    const repository = i['flutter-repository'];
    const inputs = await loadPreflightInputs(
      {
        golden: ref(i['golden-file']),
        changeFiles: i['change-files']
          .split('\n')
          .map((s) => s.trim())
          .filter(Boolean)
          .map(ref),
        ...(i.baseline ? { baseline: ref(i.baseline) } : {}),
        deployment: {
          ...(i['flutter-commit'] ? { flutterCommit: i['flutter-commit'] } : {}),
          ...(i['astm-flag'] ? { astmFlag: i['astm-flag'] } : {}),
        },
        activityWindowMinutes: Number(i['activity-minutes']),
        ...(repository
          ? {
              flutterRepository: {
                repository,
                apiUrl: process.env.GITHUB_API_URL || 'https://api.github.com',
                ...(token ? { token } : {}),
              },
            }
          : {}),
      },
      log,
    );
    const r = await withDb(resolveTarget({ url, cwd: process.cwd() }), (db) => preflight(db, inputs, log));
    await publishResult(i['output-dir'], 'preflight', r);
    core.setOutput('passed', String(r.passed));
    core.setOutput('pending-trucks', String(r.pendingTrucks.length));
    await core.summary.addRaw(renderPreflightMarkdown(r)).write();
    return r.passed ? undefined : { failure: r.failures.map((f) => `${f.code}: ${f.message}`).join(' | ') };
  });
}
