import path from 'node:path';
import * as core from '@actions/core';
import { z } from 'zod';
import { resolveTarget } from '../../db/target.js';
import { runGoldenVerify } from '../../runbook/golden-run.js';
import { DEFAULT_GOLDEN_SOURCE } from '../../runbook/golden-source.js';
import { renderGoldenMarkdown } from '../../report/golden.js';
import { readDatabaseUrl, readInputs } from '../inputs.js';
import { DEFAULT_OUTPUT_DIR, publishResult } from '../results.js';
import { runAction } from '../run.js';
import { parseToleranceL } from '../../golden/tolerance.js';

/** Action `golden-verify` (runbook 3.2 / 5.6): the same runbook function as `astm53b golden verify`. */
const GoldenVerifyInputs = z.object({
  'golden-file': z.string().optional(),
  'from-db': z.enum(['true', 'false']).default('false'),
  source: z.string().min(1).default(DEFAULT_GOLDEN_SOURCE),
  profile: z.string().optional(),
  'tolerance-l': z.string().optional(),
  'output-dir': z.string().default(DEFAULT_OUTPUT_DIR),
});

export function goldenVerifyAction(): Promise<void> {
  return runAction('golden-verify', async (log) => {
    const inputs = readInputs(GoldenVerifyInputs);
    // optional here: without it the cases are checked against SEP only
    const url = core.getInput('database-url').trim() ? readDatabaseUrl() : undefined;
    const file = inputs['golden-file'];
    const report = await runGoldenVerify(
      {
        ...(file ? { file: { path: path.resolve(file), displayName: file } } : {}),
        fromDb: inputs['from-db'] === 'true',
        source: inputs.source,
        ...(url ? { target: resolveTarget({ url, cwd: process.cwd() }) } : {}),
        ...(inputs.profile ? { profile: inputs.profile } : {}),
        toleranceL: parseToleranceL(inputs['tolerance-l']),
      },
      log,
    );
    await publishResult(inputs['output-dir'], 'golden', report);
    core.setOutput('passed', String(report.passed));
    core.setOutput('max-deviation-l', String(report.max_deviation_l));
    core.setOutput('cases', String(report.counts.cases));
    core.setOutput('profile', report.profile);
    // one annotation per failing case, on its line of the golden file
    for (const c of report.cases) {
      if (c.verdict !== 'FAIL') continue;
      const onFile = file && c.where.file === file;
      core.error(
        `${c.reference}: engine − SEP ${c.deviation_l} L${c.mlpp_deviation_l === null ? '' : `, ML_PP − SEP ${c.mlpp_deviation_l} L`}. ${c.diagnosis.explanation}`,
        {
          title: `golden-verify: ${c.reference} FAIL`,
          ...(onFile ? { file: c.where.file, ...(c.where.line !== undefined ? { startLine: c.where.line } : {}) } : {}),
        },
      );
    }
    await core.summary.addRaw(renderGoldenMarkdown(report)).write();
    if (!report.passed)
      return {
        failure: `${report.counts.failed} of ${report.counts.cases} golden case(s) outside ±${report.tolerance_l} L (largest deviation ${report.max_deviation_l} L)`,
      };
    return undefined;
  });
}
