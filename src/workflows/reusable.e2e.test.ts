import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PIPELINE_RELEASE } from '../testing/workflow/own-actions.js';
import { runWorkflow } from '../testing/workflow/run.js';
import type { RunReport } from '../testing/workflow/types.js';
import {
  APP_COMMIT,
  applicationChecksums,
  appWroteMinutesAgo,
  demoDepot,
  isFrozen,
  jobResults,
  prodScenario,
  scenarioKeys,
  type Depot,
} from './scenarios.js';

/**
 * The reusable PROD workflow as the app's repository calls it: its call inputs typed (a boolean
 * is a boolean), the secrets from the caller's environments, and this repository's actions at
 * their release tag run as they are in this tree. The depot's app wrote 3 minutes ago and the
 * call asks for a 5-minute activity window without force: the freeze refuses, nothing else runs.
 */
describe('reusable PROD workflow, called with a 5-minute window on a depot the app wrote to 3 minutes ago', () => {
  let depot: Depot;
  let before: Record<string, string>;
  let r: RunReport;
  beforeAll(async () => {
    depot = await demoDepot('wf_reusable');
    await appWroteMinutesAgo(depot, 3);
    before = await applicationChecksums(depot.db);
    r = await runWorkflow(
      prodScenario(depot, await scenarioKeys(), {
        name: 'reusable',
        workflow: '.github/workflows/reusable-astm53b-prod.yml',
        inputs: {
          'flutter-commit': APP_COMMIT,
          'golden-file': 'golden/demo-golden-cases.csv',
          'freeze-force': false,
          'freeze-window-minutes': '5',
        },
      }),
    );
  });
  afterAll(async () => {
    await r?.dispose();
    await depot?.close();
  });

  it('runs this repository’s actions at the release tag: preflight passes, the freeze refuses on the activity within 5 minutes', async () => {
    expect(r.job('preflight').result, r.describe()).toBe('success');
    expect(r.step('preflight', 'preflight').uses).toBe(`${PIPELINE_RELEASE.repository}/actions/preflight@${PIPELINE_RELEASE.tag}`);
    expect(r.step('change', 'freeze').outcome).toBe('failure');
    expect(
      r
        .step('change', 'freeze')
        .annotations.map((a) => a.message)
        .join('\n'),
    ).toMatch(/log_actions row\(s\) in the last 5 min/);
    expect(r.step('change', 'backup').outcome).toBe('skipped');
    expect(jobResults(r)).toMatchObject({ 'go-gate': 'skipped', rollback: 'skipped', release: 'skipped', changelog: 'skipped' });
    expect(await applicationChecksums(depot.db)).toEqual(before);
    expect(await isFrozen(depot.db)).toBe(false);
  });
});
