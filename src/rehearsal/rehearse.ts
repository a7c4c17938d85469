import { copyFile, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../logger.js';
import type { Db } from '../db/types.js';
import { buildBundle, type BundleResult } from '../evidence/bundle.js';
import { verifyBundle } from '../evidence/verify.js';
import { ML_PP_PROFILE, parseGoldenProfile } from '../golden/profile.js';
import { PACKAGE_ROOT, sqlPath, CHANGE_FILES } from '../paths.js';
import { BACKUP_DIR, DEFAULT_RESULTS_DIR, errorFileOf, RESULTS } from '../results/files.js';
import { writeResult } from '../results/io.js';
import { backup } from '../runbook/backup/index.js';
import { loadChangeFile } from '../runbook/change-file.js';
import { decide } from '../runbook/decide.js';
import { freezeOff, freezeOn } from '../runbook/freeze.js';
import { runGoldenVerify } from '../runbook/golden-run.js';
import { loadPreflightInputs, preflight } from '../runbook/preflight.js';
import { rollback } from '../runbook/rollback.js';
import { runSmoke } from '../runbook/smoke/index.js';
import { applyChangeFile, parseExpectedFunctions } from '../runbook/sql-apply.js';
import type { Decision } from '../results/decision.js';
import type { RunContext } from '../results/run-context.js';
import type { VerifyResult } from '../results/evidence.js';
import { STEP_TIMEOUT_DEFAULTS } from '../runbook/timeouts.js';
import type { AgeIdentities } from '../crypto/age.js';

/**
 * The whole runbook on one database, in the PROD workflow's order, each step writing its
 * result where the decision and the evidence bundle read it: preflight (3.3, 4.1, 4.4),
 * freeze (3.4), verified backup (3.1, 4.2), the P0 change (4.3), golden cases (3.2, 5.6),
 * smoke (4.5, 5.1-5.5), sign-off if one is given (5.6), decision (6.1, 7), rollback from the
 * verified dump on NO-GO (6.2), freeze lifted, bundle (5.7) built and verified. A step that
 * fails does not stop the rehearsal: its result says why and the decision counts it.
 */
export interface RehearsalOptions {
  /** folder for the results and the bundle; emptied first */
  outDir: string;
  golden?: string;
  changeFile?: string;
  /** the depot manager's sign-off record; without one the decision is NO-GO, as it must be */
  signoff?: string;
  flutterCommit?: string;
  run: RunContext;
  /** the backup's data files age-encrypted to `recipients`; the rollback decrypts them with `identity` */
  encryption?: { recipients: string[]; identity: AgeIdentities };
}

export interface RehearsalStep {
  step: string;
  runbook: string;
  ok: boolean;
  summary: string;
}

export interface RehearsalResult {
  steps: RehearsalStep[];
  decision: Decision;
  bundle: BundleResult;
  verification: VerifyResult;
  resultsDir: string;
}

export async function rehearse(db: Db, opts: RehearsalOptions, log: Logger): Promise<RehearsalResult> {
  const out = path.resolve(opts.outDir);
  const results = path.join(out, DEFAULT_RESULTS_DIR);
  await rm(out, { recursive: true, force: true });
  await mkdir(results, { recursive: true });
  const steps: RehearsalStep[] = [];
  /** runs one step; a UserError or a failed check is recorded and the rehearsal goes on, as the workflow's always() jobs do */
  async function step(name: string, runbook: string, fn: () => Promise<{ ok: boolean; summary: string }>): Promise<boolean> {
    try {
      const r = await fn();
      steps.push({ step: name, runbook, ...r });
      log.info(`${name}: ${r.ok ? 'ok' : 'FAILED'} — ${r.summary}`);
      return r.ok;
    } catch (e) {
      const summary = (e as { describe?: () => string }).describe?.() ?? (e as Error).message;
      steps.push({ step: name, runbook, ok: false, summary });
      await writeFile(path.join(results, errorFileOf(name)), `${summary}\n`);
      log.warn(`${name}: FAILED — ${summary}`);
      return false;
    }
  }

  const golden = opts.golden ?? path.join(PACKAGE_ROOT, 'golden/demo-golden-cases.csv');
  const change = opts.changeFile ?? sqlPath(CHANGE_FILES.p0);
  const rel = (p: string) => path.relative(PACKAGE_ROOT, p) || p;

  await step('preflight', '3.3, 4.1, 4.4', async () => {
    const inputs = await loadPreflightInputs({
      golden: { path: golden, display: rel(golden) },
      changeFiles: [{ path: change, display: rel(change) }],
      deployment: { ...(opts.flutterCommit ? { flutterCommit: opts.flutterCommit } : {}), astmFlag: 'off' },
    });
    const r = await preflight(db, inputs, log);
    await writeResult(results, 'preflight', r);
    return {
      ok: r.passed,
      summary: `${r.failures.length} failure(s), ${r.pendingTrucks.length} truck(s) waiting, ${r.gasoilReceptions.length} GASOIL receptions`,
    };
  });
  // the demo's own movements were logged a moment ago: a real freeze would see "app activity"
  await step('freeze-on', '3.4, 4.1', async () => {
    const r = await freezeOn(db, { reason: 'ASTM 53B rehearsal', force: true, run: opts.run }, log);
    await writeResult(results, 'freezeOn', r);
    return { ok: r.frozen, summary: r.frozen ? 'receptions and sorties refused by the database' : 'not frozen' };
  });
  const backedUp = await step('backup', '3.1, 4.2', async () => {
    const r = await backup(db, { outDir: path.join(results, BACKUP_DIR), encryptTo: opts.encryption?.recipients ?? [] }, log);
    return { ok: r.verification.ok, summary: `${r.dir}: verification ${r.verification.ok ? 'passed' : 'FAILED'}` };
  });
  if (backedUp) {
    await step('sql-apply', '4.3', async () => {
      const file = await loadChangeFile(change, rel(change));
      const r = await applyChangeFile(
        db,
        { file, expectFunctions: parseExpectedFunctions(undefined), dryRun: false, ...STEP_TIMEOUT_DEFAULTS, run: opts.run },
        log,
      );
      await writeResult(results, 'sqlApply', r);
      return { ok: r.ok, summary: `${r.status}; ${r.violations.length} violation(s)` };
    });
  } else {
    log.warn('sql-apply: not run: no verified backup (runbook 3.1: "Aucune modification PROD sans dump vérifié")');
  }
  let profile = ML_PP_PROFILE;
  await step('golden-verify', '3.2, 5.6', async () => {
    const r = await runGoldenVerify({ file: { path: golden, displayName: rel(golden) }, db }, log);
    await writeResult(results, 'golden', r);
    profile = parseGoldenProfile(r.profile);
    return { ok: r.passed, summary: `${r.counts.cases} case(s), profile ${r.profile}, max deviation ${r.max_deviation_l} L` };
  });
  await step('smoke', '4.5, 5.1-5.5', async () => {
    const r = await runSmoke(db, { profile, profileSource: RESULTS.golden.file, toleranceL: 5, run: opts.run }, log);
    await writeResult(results, 'smoke', r);
    return { ok: r.passed, summary: r.checks.map((c) => `${c.id} ${c.passed ? 'ok' : 'FAIL'}`).join(', ') };
  });
  if (opts.signoff) await copyFile(opts.signoff, path.join(results, RESULTS.signoff.file));

  const decision = await decide({ resultsDir: results }, log);
  await writeResult(results, 'decision', decision);
  steps.push({
    step: 'decide',
    runbook: '6.1, 7',
    ok: decision.decision === 'GO',
    summary: `${decision.decision}${decision.reasons.length ? `: ${[...new Set(decision.reasons.map((r) => r.condition))].join(', ')}` : ''}`,
  });

  if (decision.decision !== 'GO' && backedUp) {
    await step('rollback', '6.2', async () => {
      const r = await rollback(db, { backupDir: path.join(results, BACKUP_DIR), run: opts.run, identity: opts.encryption?.identity }, log);
      await writeResult(results, 'rollback', r);
      return {
        ok: r.ok,
        summary: r.ok ? `database equal to the verified dump again (${r.restoredSchemas.join(', ')})` : r.failures.join('; '),
      };
    });
  }
  await step('freeze-off', '4.1', async () => {
    const r = await freezeOff(
      db,
      { reason: decision.decision === 'GO' ? 'GO' : 'rehearsal over (in PROD: after the legacy build is redeployed)', run: opts.run },
      log,
    );
    await writeResult(results, 'freezeOff', r);
    return { ok: !r.frozen, summary: 'entries allowed again' };
  });

  const bundlePath = path.join(out, 'astm53b-evidence.zip');
  const bundle = await buildBundle({ resultsDir: results, out: bundlePath, run: { runId: opts.run.runId, actor: opts.run.actor } }, log);
  const verification = await verifyBundle(bundle.out, { expectSha256: bundle.sha256 }, log);
  steps.push({
    step: 'evidence',
    runbook: '5.7',
    ok: verification.ok,
    summary: `${path.relative(process.cwd(), bundle.out)} (${verification.checked} files re-hashed, ${verification.ok ? 'verified' : 'VERIFY FAILED'})`,
  });
  return { steps, decision, bundle, verification, resultsDir: results };
}
