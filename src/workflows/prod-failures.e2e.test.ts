import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFingerprint } from '../db/fingerprint.js';
import type { Decision } from '../results/decision.js';
import { p0With } from '../testing/change-files.js';
import { runWorkflow } from '../testing/workflow/run.js';
import type { RunReport } from '../testing/workflow/types.js';
import {
  applicationChecksums,
  appWroteMinutesAgo,
  artifactJson,
  bundleFile,
  demoDepot,
  isFrozen,
  jobResults,
  LEAD,
  manifestChecksums,
  prodScenario,
  scenarioKeys,
  verifyUploadedBundle,
  type Depot,
  APP_COMMIT,
} from './scenarios.js';

/**
 * The PROD workflow when a step that changes nothing yet fails: the backup (its scratch
 * database refuses connections: the postgres:17 service container died), or the change file
 * (it also disables a trigger, which sql-apply refuses and rolls back).
 */
describe('PROD workflow, backup fails: the scratch service refuses connections', () => {
  let depot: Depot;
  let before: Record<string, string>;
  let catalog: string;
  let r: RunReport;
  beforeAll(async () => {
    depot = await demoDepot('wf_backup_fails');
    before = await applicationChecksums(depot.db);
    catalog = (await readFingerprint(depot.db)).sha256;
    r = await runWorkflow(prodScenario(depot, await scenarioKeys(), { name: 'backup-fails', refuseServices: ['scratch'] }));
  });
  afterAll(async () => {
    await r?.dispose();
    await depot?.close();
  });

  it('stops before the change, lifts the freeze it set, reaches no gate, decides NO-GO and has nothing to roll back', async () => {
    expect(jobResults(r), r.describe()).toEqual({
      preflight: 'success',
      'start-gate-issue': 'skipped',
      change: 'failure',
      'go-gate': 'skipped',
      'go-gate-issue': 'skipped',
      decide: 'success',
      rollback: 'skipped',
      release: 'skipped',
      changelog: 'skipped',
      evidence: 'success',
    });
    const change = Object.fromEntries(r.job('change').steps.map((s) => [s.label, s.outcome]));
    expect(change).toMatchObject({
      './actions/freeze': 'success',
      './actions/backup': 'failure',
      'Lift the freeze (a step before the change failed, nothing was changed)': 'success',
      './actions/sql-apply': 'skipped',
      './actions/golden-verify': 'skipped',
      './actions/smoke': 'skipped',
    });
    expect(r.step('change', 'backup').annotations.find((a) => a.level === 'error')!.message).toMatch(/ECONNREFUSED|refused/i);
    expect(r.job('change').outputs).toEqual({ 'backup-verified': 'false', change: '' });
    const decision = await artifactJson<Decision>(r, 'results-decision', 'decision.json');
    expect(decision.decision).toBe('NO-GO');
    expect(decision.reasons.map((x) => x.condition)).toContain('NO_VERIFIED_BACKUP');
  });

  it('leaves every application table and the catalog as they were, and the depot unfrozen', async () => {
    expect(await applicationChecksums(depot.db)).toEqual(before);
    expect((await readFingerprint(depot.db)).sha256).toBe(catalog);
    expect(await isFrozen(depot.db)).toBe(false);
    expect(await artifactJson(r, 'results-change', 'freeze-off.json')).toMatchObject({ frozen: false });
    // what the failed backup had written is uploaded for the record, without a manifest no step accepts it as a backup
    expect(r.artifacts.get('backup')?.files ?? []).not.toContain('manifest.json');
  });

  it('still uploads a bundle that verifies, NO-GO', async () => {
    const v = await verifyUploadedBundle(r);
    expect([v.ok, v.signedByDepot, v.decision]).toEqual([true, true, 'NO-GO']);
  });
});

describe('PROD workflow, apply rejected: the change file also disables a trigger', () => {
  const file = 'sql/docs/DB_CHANGES/2026-03-01_validate_sortie_p0_and_trigger.sql';
  let depot: Depot;
  let before: Record<string, string>;
  let catalog: string;
  let r: RunReport;
  beforeAll(async () => {
    depot = await demoDepot('wf_apply_rejected');
    before = await applicationChecksums(depot.db);
    catalog = (await readFingerprint(depot.db)).sha256;
    r = await runWorkflow(
      prodScenario(depot, await scenarioKeys(), {
        name: 'apply-rejected',
        inputs: { 'flutter-commit': APP_COMMIT, 'golden-file': 'golden/demo-golden-cases.csv', 'change-file': file },
        commitFiles: { [file]: p0With('ALTER TABLE public.receptions DISABLE TRIGGER trg_receptions_log_created;') },
      }),
    );
  });
  afterAll(async () => {
    await r?.dispose();
    await depot?.close();
  });

  it('refuses the file, runs no check and no gate, decides NO-GO and restores the verified dump anyway', async () => {
    expect(jobResults(r), r.describe()).toEqual({
      preflight: 'success',
      'start-gate-issue': 'skipped',
      change: 'failure',
      'go-gate': 'skipped',
      'go-gate-issue': 'skipped',
      decide: 'success',
      rollback: 'success',
      release: 'skipped',
      changelog: 'skipped',
      evidence: 'success',
    });
    expect(r.job('change').outputs).toEqual({ 'backup-verified': 'true', change: 'rejected' });
    expect(r.step('change', 'golden').outcome).toBe('skipped');
    expect(r.step('change', './actions/smoke').outcome).toBe('skipped');
    const applied = await artifactJson<{ status: string; violations: string[] }>(r, 'results-change', 'sql-apply.json');
    expect(applied.status).toBe('rejected');
    expect(applied.violations).toEqual([expect.stringMatching(/changed trigger public\.receptions\.trg_receptions_log_created/)]);
    const decision = await artifactJson<Decision>(r, 'results-decision', 'decision.json');
    expect(decision.decision).toBe('NO-GO');
    // the rollback restores and proves the dump; it undoes no change file, since none was applied
    expect(await artifactJson(r, 'results-rollback', 'rollback.json')).toMatchObject({
      ok: true,
      undone: [],
      freeze: { frozenAfter: true },
    });
  });

  it('leaves every table and the catalog equal to the dump and to before, still frozen until the team lifts it', async () => {
    const manifest = await artifactJson<Parameters<typeof manifestChecksums>[0]>(r, 'backup', 'manifest.json');
    const after = await applicationChecksums(depot.db);
    expect(after).toEqual(manifestChecksums(manifest));
    expect(after).toEqual(before);
    expect((await readFingerprint(depot.db)).sha256).toBe(catalog);
    expect(await isFrozen(depot.db)).toBe(true);
  });
});

describe('PROD workflow without the AGE_RECIPIENT variable: its backup could only leave the runner in clear', () => {
  let depot: Depot;
  let before: Record<string, string>;
  let r: RunReport;
  beforeAll(async () => {
    depot = await demoDepot('wf_no_recipient');
    before = await applicationChecksums(depot.db);
    r = await runWorkflow(prodScenario(depot, await scenarioKeys(), { name: 'no-recipient', vars: {} }));
  });
  afterAll(async () => {
    await r?.dispose();
    await depot?.close();
  });

  it('stops at the first step of preflight, naming the variable, before anything connects to the database', async () => {
    expect(r.job('preflight').result, r.describe()).toBe('failure');
    expect(r.step('preflight', "The backup's age recipient is configured").outcome).toBe('failure');
    expect(r.step('preflight', 'preflight').outcome).toBe('skipped');
    expect(r.job('change').result).toBe('skipped');
    expect(r.job('rollback').result).toBe('skipped');
    expect(r.step('preflight', "The backup's age recipient is configured").annotations.map((a) => a.message)).toEqual([
      expect.stringMatching(/set the repository variable AGE_RECIPIENT/),
    ]);
    expect(r.artifacts.has('backup')).toBe(false);
  });

  it('leaves the depot untouched and unfrozen', async () => {
    expect(await applicationChecksums(depot.db)).toEqual(before);
    expect(await isFrozen(depot.db)).toBe(false);
  });
});

describe('PROD workflow dispatched from another branch than the default one', () => {
  let depot: Depot;
  let before: Record<string, string>;
  let r: RunReport;
  beforeAll(async () => {
    depot = await demoDepot('wf_feature_branch');
    before = await applicationChecksums(depot.db);
    r = await runWorkflow(prodScenario(depot, await scenarioKeys(), { name: 'feature-branch', ref: 'refs/heads/try-p0' }));
  });
  afterAll(async () => {
    await r?.dispose();
    await depot?.close();
  });

  it('stops in preflight at the branch check, naming both branches, before anything connects to the database', async () => {
    expect(r.job('preflight').result, r.describe()).toBe('failure');
    expect(r.step('preflight', 'Dispatched from the default branch').annotations.map((a) => a.message)).toEqual([
      'PROD runs only from the default branch (main); this run was dispatched from refs/heads/try-p0',
    ]);
    expect(r.step('preflight', 'preflight').outcome).toBe('skipped');
    expect(jobResults(r)).toMatchObject({ change: 'skipped', 'go-gate': 'skipped', rollback: 'skipped', release: 'skipped' });
    expect(await applicationChecksums(depot.db)).toEqual(before);
    expect(await isFrozen(depot.db)).toBe(false);
  });
});

/**
 * A depot's start environment without a required reviewer (never set, or a depot name GitHub met
 * for the first time and created an environment for, unprotected): GitHub runs preflight
 * unreviewed, so nobody gave the go-ahead; the run stops there, before the freeze.
 */
describe('PROD workflow whose start environment has no required reviewer', () => {
  let depot: Depot;
  let before: Record<string, string>;
  let r: RunReport;
  beforeAll(async () => {
    depot = await demoDepot('wf_start_unreviewed');
    before = await applicationChecksums(depot.db);
    const s = prodScenario(depot, await scenarioKeys(), { name: 'start-unreviewed' });
    r = await runWorkflow({ ...s, environments: { ...s.environments, 'prod-start': { secrets: { DATABASE_URL: depot.url } } } });
  });
  afterAll(async () => {
    await r?.dispose();
    await depot?.close();
  });

  it('stops in preflight at the go-ahead check, before anything is frozen or changed', async () => {
    expect(r.job('preflight').result, r.describe()).toBe('failure');
    expect(r.step('preflight', 'The go-ahead to start was given by someone else').annotations.map((a) => a.message)).toEqual([
      expect.stringMatching(/prod-start was not reviewed in run depot\/astm53b-pipeline#\d+\.1: the migration needs the go-ahead/),
    ]);
    expect(r.step('preflight', 'preflight').outcome).toBe('skipped');
    expect(jobResults(r)).toMatchObject({
      change: 'skipped',
      'go-gate': 'skipped',
      rollback: 'skipped',
      release: 'skipped',
      evidence: 'success',
    });
    expect(await applicationChecksums(depot.db)).toEqual(before);
    expect(await isFrozen(depot.db)).toBe(false);
  });
});

/**
 * Preflight only reads, so prod-start may hold a read-only role's URL (DATABASE_URL_READONLY),
 * which it then takes over DATABASE_URL: here prod-start's DATABASE_URL names a database that
 * does not exist, so preflight passes only through the read-only one. The app wrote 10 minutes
 * ago, so the freeze refuses with the default window of 15 minutes, and nothing happens.
 */
describe('PROD workflow with a read-only preflight URL, on a depot the app wrote to 10 minutes ago', () => {
  const role = `astm53b_ro_${process.pid}`;
  let depot: Depot;
  let before: Record<string, string>;
  let r: RunReport;
  beforeAll(async () => {
    depot = await demoDepot('wf_readonly_active');
    await appWroteMinutesAgo(depot, 10);
    await depot.db.query(`CREATE ROLE ${role} LOGIN IN ROLE pg_read_all_data`);
    await depot.db.query(`ALTER ROLE ${role} SET default_transaction_read_only = on`);
    before = await applicationChecksums(depot.db);
    const readonly = new URL(depot.url);
    readonly.username = role;
    const missing = new URL(depot.url);
    missing.pathname = '/no_such_database';
    const s = prodScenario(depot, await scenarioKeys(), { name: 'readonly-preflight' });
    s.environments!['prod-start'] = {
      ...s.environments!['prod-start']!,
      secrets: { DATABASE_URL: missing.toString(), DATABASE_URL_READONLY: readonly.toString() },
    };
    r = await runWorkflow(s);
  });
  afterAll(async () => {
    await r?.dispose();
    await depot?.close();
    await depot?.db.query(`DROP ROLE IF EXISTS ${role}`).catch(() => {});
  });

  it('runs preflight through the read-only URL', () => {
    expect(r.job('preflight').result, r.describe()).toBe('success');
  });

  it('refuses the freeze on the app activity it sees within 15 minutes, and stops before the backup', async () => {
    expect(r.step('change', 'freeze').outcome, r.describe()).toBe('failure');
    expect(
      r
        .step('change', 'freeze')
        .annotations.map((a) => a.message)
        .join('\n'),
    ).toMatch(/log_actions row\(s\) in the last 15 min/);
    expect(r.step('change', 'backup').outcome).toBe('skipped');
    expect(r.step('change', 'apply').outcome).toBe('skipped');
    expect(jobResults(r)).toMatchObject({ 'go-gate': 'skipped', rollback: 'skipped', release: 'skipped' });
    expect(await applicationChecksums(depot.db)).toEqual(before);
    expect(await isFrozen(depot.db)).toBe(false);
  });
});

describe('PROD workflow, start refused: the lead rejects prod-start with a comment', () => {
  const comment = 'Pas ce soir : deux camions à décharger';
  let depot: Depot;
  let before: Record<string, string>;
  let r: RunReport;
  beforeAll(async () => {
    depot = await demoDepot('wf_start_rejected');
    before = await applicationChecksums(depot.db);
    r = await runWorkflow(
      prodScenario(depot, await scenarioKeys(), {
        name: 'start-rejected',
        reviews: { 'prod-start': { state: 'rejected', by: LEAD, comment } },
      }),
    );
  });
  afterAll(async () => {
    await r?.dispose();
    await depot?.close();
  });

  it('runs nothing against the database, yet records the rejection (who, comment, gate) in the decision and the bundle', async () => {
    expect(jobResults(r), r.describe()).toEqual({
      preflight: 'failure',
      'start-gate-issue': 'skipped',
      change: 'skipped',
      'go-gate': 'skipped',
      'go-gate-issue': 'skipped',
      decide: 'success',
      rollback: 'skipped',
      release: 'skipped',
      changelog: 'skipped',
      evidence: 'success',
    });
    const decision = await artifactJson<Decision>(r, 'results-decision', 'decision.json');
    expect(decision.decision).toBe('NO-GO');
    expect(decision.reasons.filter((x) => x.condition === 'GATE_REJECTED').map((x) => x.message)).toEqual([
      `prod-start rejected by ${LEAD}: ${comment}`,
    ]);
    expect(decision.approvals!.reviews).toEqual([
      { environment: 'prod-start', via: 'environment-review', state: 'rejected', who: LEAD, comment, at: null },
    ]);
    const v = await verifyUploadedBundle(r);
    expect([v.ok, v.signedByDepot, v.decision]).toEqual([true, true, 'NO-GO']);
    expect(JSON.parse(await bundleFile(v.zip, 'results/approvals.json')).reviews[0]).toMatchObject({
      state: 'rejected',
      who: LEAD,
      comment,
    });
    expect(await applicationChecksums(depot.db)).toEqual(before);
    expect(await isFrozen(depot.db)).toBe(false);
  });
});
