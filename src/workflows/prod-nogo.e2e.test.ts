import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFingerprint } from '../db/fingerprint.js';
import { hashFile } from '../hash.js';
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
  LEAD,
  manifestChecksums,
  MANAGER,
  prodScenario,
  scenarioKeys,
  verifyUploadedBundle,
  type Depot,
  APP_COMMIT,
  APP_REPOSITORY,
} from './scenarios.js';

/**
 * The PROD workflow as GitHub runs it, on the demo depot, with ML_PP's P0 change file as written:
 * its checks cannot pass (the legacy receptions are 29–96 L from SEP; the P0 validate_sortie
 * leaves stocks_snapshot behind the journal), so every run ends NO-GO, rolled back to the
 * verified dump, still frozen, with a bundle that verifies. Once with the depot manager approving
 * the GO gate (an approval cannot outvote failing checks), once rejecting it with a comment.
 */
interface Ended {
  depot: Depot;
  before: Record<string, string>;
  r: RunReport;
}

async function runNoGo(name: string, go: { state: 'approved' | 'rejected'; comment: string }): Promise<Ended> {
  const depot = await demoDepot(`wf_${name}`);
  const before = await applicationChecksums(depot.db);
  const r = await runWorkflow(prodScenario(depot, await scenarioKeys(), { name, go: { ...go, by: MANAGER } }));
  return { depot, before, r };
}

async function expectRolledBackAndFrozen({ depot, before, r }: Ended): Promise<void> {
  const manifest = await artifactJson<Manifest>(r, 'backup', 'manifest.json');
  const after = await applicationChecksums(depot.db);
  expect(Object.keys(after).length).toBeGreaterThan(10);
  expect(after).toEqual(manifestChecksums(manifest));
  expect(after).toEqual(before);
  expect((await readFingerprint(depot.db)).sha256).toBe(manifest.fingerprint.sha256);
  expect(await isFrozen(depot.db)).toBe(true);
  const rollback = await artifactJson(r, 'results-rollback', 'rollback.json');
  expect(rollback).toMatchObject({ ok: true, committed: true, freeze: { frozenAfter: true } });
  expect((rollback.undone as { fileName: string }[]).map((u) => u.fileName)).toEqual(['2026-02-25_staging_validate_sortie_p0.sql']);
}

describe('PROD workflow, NO-GO as written: checks fail, the manager approves the gate', () => {
  let run: Ended;
  beforeAll(async () => {
    run = await runNoGo('nogo', { state: 'approved', comment: 'Vu, je valide' });
  });
  afterAll(async () => {
    await run?.r.dispose();
    await run?.depot.close();
  });

  it('backs up (verified), applies P0, fails golden and smoke, reaches the gate, decides NO-GO, rolls back, skips release', async () => {
    const { r } = run;
    expect(jobResults(r), r.describe()).toEqual({
      preflight: 'success',
      'start-gate-issue': 'skipped',
      change: 'failure',
      'go-gate': 'success',
      'go-gate-issue': 'skipped',
      decide: 'success',
      rollback: 'success',
      release: 'skipped',
      changelog: 'skipped',
      evidence: 'success',
    });
    expect(r.job('change').outputs).toEqual({ 'backup-verified': 'true', change: 'applied' });
    expect(r.step('change', 'backup').outputs.verified).toBe('true');
    expect(r.step('change', 'golden').outcome).toBe('failure');
    expect(r.step('change', './actions/smoke').outcome).toBe('failure');
    expect(r.step('change', 'Lift the freeze (a step before the change failed, nothing was changed)').outcome).toBe('skipped');
    expect(r.job('go-gate').review).toMatchObject({ state: 'approved', login: MANAGER });

    const decision = await artifactJson<Decision>(r, 'results-decision', 'decision.json');
    expect(decision.decision).toBe('NO-GO');
    expect(new Set(decision.reasons.map((x) => x.condition))).toEqual(new Set(['GOLDEN_DEVIATION', 'STOCK_INCOHERENCE']));
    expect(await artifactJson(r, 'results-decision', 'signoff.json')).toMatchObject({ who: MANAGER, decision: 'GO' });
    expect(r.apiRequests).toEqual([
      // preflight checks that someone else gave the go-ahead to start, then confirms the deployed app's commit in
      // its repository, before the database is opened
      { method: 'GET', path: `/repos/depot/astm53b-pipeline/actions/runs/${r.runId}/approvals`, status: 200, job: 'preflight' },
      { method: 'GET', path: `/repos/${APP_REPOSITORY}/commits/${APP_COMMIT}`, status: 200, job: 'preflight' },
      { method: 'GET', path: `/repos/depot/astm53b-pipeline/actions/runs/${r.runId}/approvals`, status: 200, job: 'decide' },
    ]);
  });

  it('leaves the database equal to the verified dump, P0 undone, and still frozen', () => expectRolledBackAndFrozen(run));

  it('uploads a bundle that verifies, NO-GO, with the sign-off, the rollback and the dump', async () => {
    const v = await verifyUploadedBundle(run.r);
    expect([v.code, v.ok, v.signedByDepot, v.decision, v.problems]).toEqual([0, true, true, 'NO-GO', []]);
    // GitHub's attestation names exactly the uploaded zip (the stand-in records the subject it would sign)
    expect(run.r.attestations).toEqual([
      { job: 'evidence', subjects: [{ name: path.basename(v.zip), sha256: (await hashFile(v.zip)).sha256 }] },
    ]);
    expect(JSON.parse(await bundleFile(v.zip, 'results/signoff.json'))).toMatchObject({ who: MANAGER, decision: 'GO' });
    expect(JSON.parse(await bundleFile(v.zip, 'results/rollback.json'))).toMatchObject({ ok: true });
    expect(JSON.parse(await bundleFile(v.zip, 'results/backup/manifest.json'))).toMatchObject({ format: 'astm53b-backup/4' });
    // the backup left the runner as ciphertext only, and the rollback decrypted it (AGE_IDENTITY)
    expect(
      run.r.artifacts.get('backup')!.files.filter((f) => !/\.age$|^manifest\.json$|^verification\.json$|^functions\//.test(f)),
    ).toEqual([]);
    expect(run.r.artifacts.get('backup')!.files).toContain('database.dump.age');
  });

  it('runs every step GitHub would run: no unknown input, no missing required one, the PostgreSQL 17 client steps skipped and listed', () => {
    const steps = run.r.jobs.flatMap((j) => j.steps);
    expect(steps.flatMap((s) => s.unexpectedInputs.map((i) => `${s.job}/${s.label}: ${i}`))).toEqual([]);
    expect(steps.flatMap((s) => s.missingInputs.map((i) => `${s.job}/${s.label}: ${i}`))).toEqual([]);
    expect(steps.flatMap((s) => s.problems)).toEqual([]);
    expect(run.r.skippedInstalls.map((s) => `${s.job}/${s.step}`)).toEqual([
      "change/PostgreSQL 17 client (pg_dump >= the server's major)",
      'rollback/PostgreSQL 17 client from the service image (nothing downloaded)',
    ]);
    expect(run.r.skippedInstalls.find((s) => s.job === 'rollback')!.reason).toMatch(/^docker exec into a service container: /);
  });
});

describe('PROD workflow, gate rejected: the manager rejects prod-go with a comment', () => {
  const comment = 'Écarts golden au-delà de 5 L : on reste en legacy';
  let run: Ended;
  beforeAll(async () => {
    run = await runNoGo('rejected', { state: 'rejected', comment });
  });
  afterAll(async () => {
    await run?.r.dispose();
    await run?.depot.close();
  });

  it('fails the gate without running it, still decides NO-GO with the rejection as the signed NO-GO, and rolls back', async () => {
    const { r } = run;
    expect(jobResults(r), r.describe()).toMatchObject({
      'go-gate': 'failure',
      'go-gate-issue': 'skipped',
      decide: 'success',
      rollback: 'success',
      release: 'skipped',
      changelog: 'skipped',
      evidence: 'success',
    });
    expect(r.job('go-gate')).toMatchObject({ steps: [], note: `rejected by ${MANAGER}` });
    const decision = await artifactJson<Decision>(r, 'results-decision', 'decision.json');
    expect(decision.decision).toBe('NO-GO');
    expect(new Set(decision.reasons.map((x) => x.condition))).toEqual(new Set(['GOLDEN_DEVIATION', 'STOCK_INCOHERENCE', 'SIGNOFF_NO_GO']));
    const runId = `depot/astm53b-pipeline#${r.runId}.1`;
    expect(decision.reasons.find((x) => x.condition === 'SIGNOFF_NO_GO')!.message).toBe(
      `${MANAGER} (responsable dépôt) signed NO-GO: ${comment} — GitHub review of environment prod-go, run ${runId}`,
    );
    // every review of the run, read by the decide job that always runs: the start gate's approval and the GO gate's rejection
    expect(decision.approvals).toMatchObject({
      runId,
      triggeredBy: { actor: 'ops-engineer', triggeringActor: 'ops-engineer' },
      reviews: [
        { environment: 'prod-start', state: 'approved', who: LEAD, comment: 'Créneau validé, équipe informée' },
        { environment: 'prod-go', state: 'rejected', who: MANAGER, comment },
      ],
    });
    expect(decision.signoff).toMatchObject({ who: MANAGER, decision: 'NO-GO', environment: 'prod-go', runId });
  });

  it('leaves the database equal to the verified dump, P0 undone, and still frozen', () => expectRolledBackAndFrozen(run));

  it('puts the rejection in the bundle: who, NO-GO, and the comment', async () => {
    const v = await verifyUploadedBundle(run.r);
    expect([v.ok, v.signedByDepot, v.decision]).toEqual([true, true, 'NO-GO']);
    const signoff = JSON.parse(await bundleFile(v.zip, 'results/signoff.json'));
    expect(signoff).toMatchObject({ who: MANAGER, decision: 'NO-GO', role: 'responsable dépôt' });
    expect(signoff.comment).toContain(comment);
    const decision = JSON.parse(await bundleFile(v.zip, 'results/decision.json')) as Decision;
    expect(decision.reasons.some((x) => x.condition === 'SIGNOFF_NO_GO' && x.message.includes(comment))).toBe(true);
    expect(decision.approvals!.reviews.find((x) => x.environment === 'prod-go')).toMatchObject({
      state: 'rejected',
      who: MANAGER,
      comment,
    });
    const approvals = JSON.parse(await bundleFile(v.zip, 'results/approvals.json'));
    expect(
      approvals.reviews.map((x: { environment: string; state: string; who: string }) => `${x.environment} ${x.state} ${x.who}`),
    ).toEqual([`prod-start approved ${LEAD}`, `prod-go rejected ${MANAGER}`]);
  });
});
