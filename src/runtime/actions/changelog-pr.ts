import path from 'node:path';
import * as core from '@actions/core';
import { getOctokit } from '@actions/github';
import { z } from 'zod';
import { UserError } from '../../errors.js';
import { changelogEntryFromResults } from '../../evidence/bundle.js';
import { openChangelogPullRequest } from '../../evidence/changelog-pr.js';
import { runInfoFrom } from '../../evidence/run-info.js';
import { readInputs } from '../inputs.js';
import { DEFAULT_OUTPUT_DIR, publishResult } from '../results.js';
import { runAction } from '../run.js';
import { splitFileList } from './evidence.js';

/**
 * Action `changelog-pr` (runbook 5.7 "Mettre à jour CHANGELOG.md"): after a GO, the entry the
 * bundle carries goes out as a pull request on the app's repository, once per run; changelog.json
 * says where it went, so the bundle can show the CHANGELOG change as written, not generated.
 */
const ChangelogPrInputs = z.object({
  'github-token': z.string().min(1),
  repository: z.string().regex(/^[^/\s]+\/[^/\s]+$/, { message: 'must be owner/name' }),
  base: z.string().default(''),
  'changelog-file': z.string().min(1).default('CHANGELOG.md'),
  'changelog-under': z.string().min(1).default('## [Unreleased]'),
  'changelog-occurrence': z
    .string()
    .regex(/^([1-9]\d*)?$/, { message: 'must be 1, 2, … or empty' })
    .default(''),
  'results-dir': z.string().default(DEFAULT_OUTPUT_DIR),
  'sep-files': z.string().default(''),
  'output-dir': z.string().default(DEFAULT_OUTPUT_DIR),
});

export function changelogPrAction(): Promise<void> {
  return runAction('changelog-pr', async (log) => {
    const i = readInputs(ChangelogPrInputs);
    core.setSecret(i['github-token']);
    const run = runInfoFrom(process.env);
    if (!run.runId) throw new UserError('NOT_IN_A_RUN', 'GITHUB_RUN_ID is not set: the pull request is named after the run that made it');
    const { entry } = await changelogEntryFromResults(
      {
        resultsDir: path.resolve(i['results-dir']),
        sepEvidence: splitFileList(i['sep-files']).map((f) => path.resolve(f)),
        run,
        secrets: [i['github-token']],
        // the entry states the runbook 5.7 checklist as the bundle will: this pull request is the CHANGELOG change
        changelogWritten: `the pull request on ${i.repository} that proposes this entry`,
      },
      log,
    );
    const gh = getOctokit(i['github-token'], process.env.GITHUB_API_URL ? { baseUrl: process.env.GITHUB_API_URL } : {});
    const r = await openChangelogPullRequest(gh, {
      repository: i.repository,
      base: i.base,
      file: i['changelog-file'],
      under: i['changelog-occurrence']
        ? { heading: i['changelog-under'], occurrence: Number(i['changelog-occurrence']) }
        : i['changelog-under'],
      entry,
      runId: run.runId,
      ...(run.runUrl ? { runUrl: run.runUrl } : {}),
    });
    const where = r.pull_request ? `pull request #${r.pull_request.number} (${r.pull_request.url})` : `${r.file} on ${r.base}`;
    log.info(
      r.status === 'opened'
        ? `CHANGELOG entry proposed in ${where}`
        : r.status === 'pull-request-exists'
          ? `this run's CHANGELOG pull request already exists: ${where}; nothing changed`
          : `this run's CHANGELOG entry is already in ${where}; nothing changed`,
    );
    await publishResult(i['output-dir'], 'changelog', r);
    core.setOutput('status', r.status);
    core.setOutput('pull-request-url', r.pull_request?.url ?? '');
    await core.summary.addHeading('CHANGELOG (runbook 5.7)', 3).addRaw(`${r.status}: ${where}\n`).write();
    return undefined;
  });
}
