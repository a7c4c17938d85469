import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFingerprint } from '../db/fingerprint.js';
import { silentLogger } from '../logger.js';
import type { Decision } from '../results/decision.js';
import { setEnvironment } from '../runbook/environment.js';
import { CHANGE_FILES, sqlPath } from '../paths.js';
import { runCli } from '../testing/cli.js';
import { runWorkflow } from '../testing/workflow/run.js';
import type { RunReport } from '../testing/workflow/types.js';
import {
  applicationChecksums,
  bundleFile,
  DEMO_GOLDEN,
  demoDepot,
  STAGING_WORKFLOW,
  scenarioKeys,
  verifyUploadedBundle,
  type Depot,
} from './scenarios.js';

/**
 * The STAGING rehearsal on a staging-marked demo depot: preflight, verified backup, P0, golden
 * and smoke on STAGING's data (NO-GO, as on PROD), then the reset "CDR only" for the team's tests;
 * its sql-apply.json, uploaded as `staging-baseline`, is what PROD's preflight compares with.
 */
describe('STAGING workflow: apply, golden, smoke, reset, and the baseline for PROD', () => {
  let staging: Depot;
  let prod: Depot | undefined;
  let before: Record<string, string>;
  let r: RunReport;
  beforeAll(async () => {
    staging = await demoDepot('wf_staging');
    await setEnvironment(staging.db, { env: 'staging', run: { runId: 'scenario-setup', actor: 'ops-engineer' } }, silentLogger);
    before = await applicationChecksums(staging.db);
    r = await runWorkflow({
      name: 'staging',
      workflow: STAGING_WORKFLOW,
      actor: 'ops-engineer',
      inputs: { 'golden-file': DEMO_GOLDEN },
      vars: { AGE_RECIPIENT: (await scenarioKeys()).recipient },
      environments: {
        staging: { secrets: { STAGING_DATABASE_URL: staging.url, EVIDENCE_SIGNING_KEY: (await scenarioKeys()).signingKey } },
      },
      serviceServer: process.env.TEST_DATABASE_URL!,
      minuteMs: 4_000,
    });
  });
  afterAll(async () => {
    await r?.dispose();
    await staging?.close();
    await prod?.close();
  });

  it('applies P0, runs golden and smoke on the receptions they check, then resets, and decides NO-GO as PROD would', async () => {
    const steps = Object.fromEntries(r.job('rehearse').steps.map((s) => [s.label, s.outcome]));
    expect(steps, r.describe()).toMatchObject({
      './actions/preflight': 'success',
      './actions/backup': 'success',
      './actions/sql-apply': 'success',
      './actions/golden-verify': 'failure',
      './actions/smoke': 'failure',
      './actions/staging-reset': 'success',
    });
    expect(r.step('rehearse', 'apply').outputs.status).toBe('applied');
    expect(r.step('rehearse', 'golden').annotations.some((a) => /ML_PP − SEP 95\.917 L/.test(a.message))).toBe(true);
    expect(r.step('rehearse', 'decide').outputs.decision).toBe('NO-GO');
    expect(r.skippedInstalls.map((s) => s.step)).toEqual(['PostgreSQL 17 client']);
  });

  it('leaves STAGING reset ("CDR only") with P0 in place: movements gone, trucks kept', async () => {
    const count = async (t: string) => (await staging.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM public.${t}`)).rows[0]!.n;
    expect([await count('receptions'), await count('sorties_produit'), await count('stocks_journaliers')]).toEqual([0, 0, 0]);
    // every other table, cours_de_route and stocks_snapshot among them, exactly as before the run
    const after = await applicationChecksums(staging.db);
    const purged = Object.keys(after).filter((t) => after[t] !== before[t]);
    expect(purged).toEqual(['public.log_actions', 'public.receptions', 'public.sorties_produit', 'public.stocks_journaliers']);
    expect(Object.keys(after)).toEqual(Object.keys(before));
    const applied = JSON.parse(await readFile(path.join(r.artifactDir('staging-baseline'), 'sql-apply.json'), 'utf8'));
    // P0's after-state, but for the one function the reset patches on STAGING (receptions' guard honours its flag)
    const entries = (f: { entries: { kind: string; name: string; value: string }[] }) => new Set(f.entries.map((e) => JSON.stringify(e)));
    const afterApply = entries(applied.fingerprintAfter);
    const now = entries(await readFingerprint(staging.db));
    const changed = [...now].filter((e) => !afterApply.has(e)).map((e) => JSON.parse(e).name);
    expect(changed).toEqual(['public.receptions_block_update_delete()']);
    expect([...afterApply].filter((e) => !now.has(e)).map((e) => JSON.parse(e).name)).toEqual(changed);
  });

  it('uploads a staging bundle that verifies', async () => {
    const v = await verifyUploadedBundle(r);
    expect([v.ok, v.signedByDepot, v.decision]).toEqual([true, true, 'NO-GO']);
    const decision = JSON.parse(await bundleFile(v.zip, 'results/decision.json')) as Decision;
    expect(decision.reasons.map((x) => x.condition)).toContain('NO_SIGNOFF');
  });

  it("uploads sql-apply.json as staging-baseline, which PROD's preflight takes: no drift on a PROD that matches, drift on one that does not", async () => {
    expect([...r.artifacts.get('staging-baseline')!.files]).toEqual(['sql-apply.json']);
    const baseline = path.join(r.artifactDir('staging-baseline'), 'sql-apply.json');
    prod = await demoDepot('wf_staging_prod');
    const preflight = (extra: string[] = []) =>
      runCli([
        'preflight',
        '--url',
        prod!.url,
        '--golden',
        DEMO_GOLDEN,
        '--change',
        sqlPath(CHANGE_FILES.p0),
        '--baseline',
        baseline,
        '--json',
        ...extra,
      ]);
    const same = await preflight();
    expect(same.code, same.stderr).toBe(0);
    expect(JSON.parse(same.stdout).drift).toMatchObject({ changes: [], objectsCompared: expect.any(Number) });
    // someone changed, on PROD only, a function the change file replaces
    await prod.db.query("ALTER FUNCTION public.sorties_produit_block_update_delete() SET work_mem = '8MB'");
    const drifted = await preflight();
    expect(drifted.code).toBe(1);
    expect(JSON.stringify(JSON.parse(drifted.stdout).drift.changes)).toContain('sorties_produit_block_update_delete');
  });
});
