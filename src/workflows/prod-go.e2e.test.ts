import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFingerprint } from '../db/fingerprint.js';
import { hashFile } from '../hash.js';
import { CHANGE_FILES } from '../paths.js';
import type { Manifest } from '../results/backup.js';
import type { Decision } from '../results/decision.js';
import { runWorkflow } from '../testing/workflow/run.js';
import type { RunReport } from '../testing/workflow/types.js';
import {
  applicationChecksums,
  artifactJson,
  bundleFile,
  demoDepot,
  isFrozen,
  jobResults,
  manifestChecksums,
  MANAGER,
  prodScenario,
  scenarioKeys,
  verifyUploadedBundle,
  type Depot,
  APP_COMMIT,
} from './scenarios.js';

const P0_1 = `sql/${CHANGE_FILES.p0_1}`;
const SEP_MAIL = 'evidence/sep/2026-12-04_confirmation-SEP.eml';

/**
 * The remedied PROD run as GitHub runs it: our corrected change file (P0.1), the restatement of
 * the receptions stored with the legacy formula (input `restate`), the depot manager approving
 * the GO gate, SEP's confirmation archived. Every check passes, decide says GO, release lifts the
 * freeze, no rollback runs, and the bundle is complete (runbook 5.7), signed and attested.
 */
describe('PROD workflow, GO: P0.1, the restatement, the manager approves', () => {
  let depot: Depot;
  let before: Record<string, string>;
  let r: RunReport;
  beforeAll(async () => {
    depot = await demoDepot('wf_go');
    before = await applicationChecksums(depot.db);
    r = await runWorkflow(
      prodScenario(depot, await scenarioKeys(), {
        name: 'go',
        inputs: {
          'flutter-commit': APP_COMMIT,
          'golden-file': 'golden/demo-golden-cases.csv',
          'change-file': P0_1,
          restate: 'true',
          'sep-files': SEP_MAIL,
          'changelog-pr': 'https://github.com/VALERYkal/ml_pp_mvp/pull/214',
        },
        commitFiles: {
          [SEP_MAIL]: [
            'From: controle@sep.example',
            'To: chef-depot@depot.example',
            'Subject: Confirmation terrain ASTM 53B',
            'Date: Fri, 04 Dec 2026 09:12:00 +0000',
            'Content-Type: text/plain; charset=utf-8',
            '',
            'Les volumes à 15 °C des 8 réceptions de contrôle sont confirmés.',
            '',
          ].join('\r\n'),
        },
        go: { state: 'approved', by: MANAGER, comment: 'Chiffres SEP conformes, GO' },
      }),
    );
  });
  afterAll(async () => {
    await r?.dispose();
    await depot?.close();
  });

  it('runs the change job green, restates before the golden cases, passes the gate, decides GO and releases; no rollback', async () => {
    expect(jobResults(r), r.describe()).toEqual({
      preflight: 'success',
      change: 'success',
      'go-gate': 'success',
      decide: 'success',
      rollback: 'skipped',
      release: 'success',
      evidence: 'success',
    });
    const steps = r.job('change').steps.map((s) => s.label);
    expect(steps.indexOf('./actions/restate')).toBeGreaterThan(steps.indexOf('./actions/sql-apply'));
    expect(steps.indexOf('./actions/restate')).toBeLessThan(steps.indexOf('./actions/golden-verify'));
    expect(r.step('change', 'restate').outcome).toBe('success');
    const restated = await artifactJson<{ ok: boolean; counts: { booked: number } }>(r, 'results-change', 'restate.json');
    expect(restated.ok).toBe(true);
    expect(restated.counts.booked).toBeGreaterThan(0);
    const decision = await artifactJson<Decision>(r, 'results-decision', 'decision.json');
    expect([decision.decision, decision.reasons]).toEqual(['GO', []]);
    expect(await artifactJson(r, 'results-decision', 'signoff.json')).toMatchObject({ who: MANAGER, decision: 'GO' });
  });

  it('leaves P0.1 applied in the ledger, the restatement booked, every other table as before, and the depot unfrozen', async () => {
    expect(await isFrozen(depot.db)).toBe(false);
    const ledger = await depot.db.query<{ file_name: string; state: string }>('SELECT file_name, state FROM astm53b.apply_ledger');
    expect(ledger.rows).toEqual([{ file_name: path.basename(P0_1), state: 'applied' }]);
    const manifest = await artifactJson<Manifest>(r, 'backup', 'manifest.json');
    expect((await readFingerprint(depot.db)).sha256).not.toBe(manifest.fingerprint.sha256);
    const after = await applicationChecksums(depot.db);
    // only the restatement's adjustments: the smoke's controlled movements were rolled back with its transaction
    const changed = Object.keys(after).filter((t) => after[t] !== before[t]);
    expect(changed).toEqual(['public.stocks_adjustments']);
    expect(manifestChecksums(manifest)).toEqual(before);
  });

  it('uploads a complete GO bundle that verifies with signing.pub, archives SEP’s mail, and is the attested zip', async () => {
    const v = await verifyUploadedBundle(r);
    expect([v.code, v.ok, v.signedByDepot, v.decision, v.problems]).toEqual([0, true, true, 'GO', []]);
    const manifest = JSON.parse(await bundleFile(v.zip, 'manifest.json'));
    expect(manifest.runbook57.complete).toBe(true);
    expect(await bundleFile(v.zip, 'sep/2026-12-04_confirmation-SEP.eml')).toMatch(/Confirmation terrain ASTM 53B/);
    expect(r.attestations).toEqual([
      { job: 'evidence', subjects: [{ name: path.basename(v.zip), sha256: (await hashFile(v.zip)).sha256 }] },
    ]);
  });
});
