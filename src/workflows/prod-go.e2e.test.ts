import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFingerprint } from '../db/fingerprint.js';
import { hashFile } from '../hash.js';
import { CHANGE_FILES, PACKAGE_ROOT } from '../paths.js';
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
  type ScenarioKeys,
  APP_COMMIT,
} from './scenarios.js';
import { enterAfterGo } from '../rehearsal/after-go.js';
import type { LateRollback } from '../results/late-rollback.js';

const P0_1 = `sql/${CHANGE_FILES.p0_1}`;
const CHANGELOG = readFileSync(path.join(PACKAGE_ROOT, 'src/evidence/__fixtures__/CHANGELOG.excerpt.md'), 'utf8');
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
  let keys: ScenarioKeys;
  beforeAll(async () => {
    depot = await demoDepot('wf_go');
    before = await applicationChecksums(depot.db);
    keys = await scenarioKeys();
    r = await runWorkflow(
      prodScenario(depot, keys, {
        name: 'go',
        inputs: {
          'flutter-commit': APP_COMMIT,
          'golden-file': 'golden/demo-golden-cases.csv',
          'change-file': P0_1,
          restate: 'true',
          'sep-files': SEP_MAIL,
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
        // the app's CHANGELOG as the REST API serves it: ML_PP's own, whose first of four [Unreleased] takes the entry
        repositoryFiles: { 'CHANGELOG.md': CHANGELOG },
        vars: { AGE_RECIPIENT: keys.recipient, CHANGELOG_OCCURRENCE: '1' },
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
      'start-gate-issue': 'skipped',
      change: 'success',
      'go-gate': 'success',
      'go-gate-issue': 'skipped',
      decide: 'success',
      rollback: 'skipped',
      release: 'success',
      changelog: 'success',
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

  it('opens one pull request on the app’s repository adding the bundle’s CHANGELOG entry to the first [Unreleased] section', async () => {
    expect(r.repository.pulls).toMatchObject([{ number: 1, head: `astm53b/changelog-run-${r.runId}`, base: 'main', state: 'open' }]);
    expect(r.repository.branches.get('main')!.files.get('CHANGELOG.md')).toBe(CHANGELOG);
    const proposed = r.repository.branches.get(`astm53b/changelog-run-${r.runId}`)!.files.get('CHANGELOG.md')!;
    const v = await verifyUploadedBundle(r);
    const entry = await bundleFile(v.zip, 'CHANGELOG-entry.md');
    const marker = `<!-- astm53b-entry: run depot/astm53b-pipeline#${r.runId} -->\n`;
    // exactly the bundle's entry, with its marker, after the first [Unreleased]: nothing else in the file changed
    expect(proposed.replace(`\n${marker}${entry}`, '')).toBe(CHANGELOG);
    expect(proposed.indexOf(marker)).toBeGreaterThan(proposed.indexOf('## [Unreleased]'));
    expect(proposed.indexOf(marker)).toBeLessThan(proposed.indexOf('## [2026-04-12]'));
    expect(JSON.parse(await bundleFile(v.zip, 'results/changelog.json'))).toMatchObject({
      status: 'opened',
      pull_request: { number: 1, merged: false },
      file: 'CHANGELOG.md',
      under: '## [Unreleased] (occurrence 1)',
    });
  });

  /**
   * Last, because it undoes the GO: a day of operations entered as the app's users, a field complaint,
   * and the late rollback workflow (runbook 6.1, 6.2) a person runs behind prod-rollback's gate from
   * the GO run's backup artifact, with replay: the backup restored, the day's movements re-entered on
   * the legacy computation, the freeze on, and a signed bundle of what was exported and replayed.
   */
  it('late rollback workflow from the GO run’s backup: restored, the day’s movements replayed as their users, frozen, bundled', async () => {
    const day = await enterAfterGo(depot.db, 'astm');
    const late = await runWorkflow({
      name: 'late-rollback',
      workflow: '.github/workflows/astm53b-late-rollback.yml',
      inputs: { 'go-run-id': String(r.runId), replay: true, reason: 'réclamation client camion BAE 6173' },
      environments: {
        'prod-rollback': {
          secrets: { DATABASE_URL: depot.url, AGE_IDENTITY: keys.ageIdentity, EVIDENCE_SIGNING_KEY: keys.signingKey },
          reviewers: [MANAGER],
        },
      },
      reviews: { 'prod-rollback': { state: 'approved', by: MANAGER, comment: 'Réclamation fondée : rollback tardif' } },
      earlierRuns: { [String(r.runId)]: { backup: r.artifactDir('backup'), 'evidence-bundle': r.artifactDir('evidence-bundle') } },
      // the depot's signing.pub, committed: the GO bundle's signature is checked with it
      commitFiles: { 'keys/signing.pub': readFileSync(keys.signingPub, 'utf8') },
      serviceServer: process.env.TEST_DATABASE_URL!,
      minuteMs: 4_000,
    });
    try {
      expect(jobResults(late), late.describe()).toEqual({ rollback: 'success' });
      expect(late.skippedInstalls.map((x) => x.step)).toEqual(['PostgreSQL 17 client from the service image (nothing downloaded)']);
      const rb = await artifactJson<{ ok: boolean; lateRollback: LateRollback }>(late, 'results-late-rollback', 'rollback.json');
      expect(rb.ok).toBe(true);
      const lr = rb.lateRollback;
      // the day's reception, sortie and adjustment replayed; the migration's restatements undone with it, not re-entered
      expect(lr.counts).toMatchObject({ replayed: 3, remaining: 0 });
      expect(lr.counts.skipped).toBeGreaterThan(0);
      expect(
        lr
          .replay!.replayed.filter((x) => x.plan !== 'skip-migration-restatement')
          .map((x) => x.originalId)
          .sort(),
      ).toEqual([day.reception, day.sortie, day.adjustment].sort());
      expect(lr.files.length).toBeGreaterThan(0);
      expect(lr.files.every((f) => f.path.endsWith('.age'))).toBe(true);
      expect(await isFrozen(depot.db)).toBe(true);
      const ledger = await depot.db.query<{ state: string }>('SELECT state FROM astm53b.apply_ledger');
      expect(ledger.rows.map((x) => x.state)).toEqual(['undone']);
      const v = await verifyUploadedBundle(late, 'late-rollback-bundle');
      expect([v.code, v.ok, v.signedByDepot]).toEqual([0, true, true]);
    } finally {
      await late.dispose();
    }
  });
});

/**
 * The same remedied run, dispatched by the depot manager, who then approves the GO gate of his
 * own run: every check passes, yet the GO is not a sign-off (runbook 5.6 asks for a validation by
 * someone other than whoever started the migration), so decide says NO-GO and the run rolls back.
 */
describe('PROD workflow, self-approval: the manager dispatches the run and approves its GO gate himself', () => {
  let depot: Depot;
  let before: Record<string, string>;
  let r: RunReport;
  beforeAll(async () => {
    depot = await demoDepot('wf_self_approval');
    before = await applicationChecksums(depot.db);
    r = await runWorkflow(
      prodScenario(depot, await scenarioKeys(), {
        name: 'self-approval',
        actor: MANAGER,
        inputs: { 'flutter-commit': APP_COMMIT, 'golden-file': 'golden/demo-golden-cases.csv', 'change-file': P0_1, restate: 'true' },
        go: { state: 'approved', by: MANAGER, comment: 'GO' },
      }),
    );
  });
  afterAll(async () => {
    await r?.dispose();
    await depot?.close();
  });

  it('passes every check, then decides NO-GO for the self-approval alone, naming who triggered and who approved; rolls back', async () => {
    expect(jobResults(r), r.describe()).toEqual({
      preflight: 'success',
      'start-gate-issue': 'skipped',
      change: 'success',
      'go-gate': 'success',
      'go-gate-issue': 'skipped',
      decide: 'success',
      rollback: 'success',
      release: 'skipped',
      changelog: 'skipped',
      evidence: 'success',
    });
    const decision = await artifactJson<Decision>(r, 'results-decision', 'decision.json');
    expect(decision.decision).toBe('NO-GO');
    expect(decision.reasons.map((x) => `${x.condition} ${x.message}`)).toEqual([
      `NO_SIGNOFF self-approval refused: ${MANAGER} approved the GO of a run triggered by ${MANAGER}; the depot manager's GO must come from someone other than whoever started the run`,
    ]);
    expect(decision.signoff).toMatchObject({ who: MANAGER, decision: 'GO', triggeredBy: { actor: MANAGER, triggeringActor: MANAGER } });
  });

  it('leaves the database equal to the verified dump and frozen, and the bundle says why', async () => {
    const manifest = await artifactJson<Manifest>(r, 'backup', 'manifest.json');
    expect(await applicationChecksums(depot.db)).toEqual(manifestChecksums(manifest));
    expect(await applicationChecksums(depot.db)).toEqual(before);
    expect(await isFrozen(depot.db)).toBe(true);
    const v = await verifyUploadedBundle(r);
    expect([v.ok, v.signedByDepot, v.decision]).toEqual([true, true, 'NO-GO']);
    const bundled = JSON.parse(await bundleFile(v.zip, 'results/decision.json')) as Decision;
    expect(bundled.reasons.map((x) => x.message)).toEqual([expect.stringMatching(/^self-approval refused/)]);
  });
});
