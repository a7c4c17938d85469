import { createPublicKey } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AgeIdentities } from '../crypto/age.js';
import type { Logger } from '../logger.js';
import type { Db } from '../db/types.js';
import { buildBundle, type BundleResult } from '../evidence/bundle.js';
import { verifyBundle } from '../evidence/verify.js';
import type { SigningKey } from '../crypto/signing.js';
import { ML_PP_PROFILE, parseGoldenProfile } from '../golden/profile.js';
import { appliedEarlierFile, BACKUP_DIR, DEFAULT_RESULTS_DIR, errorFileOf, RESULTS } from '../results/files.js';
import { writeResult, writeValidated } from '../results/io.js';
import { ApplyResult } from '../results/sql-apply.js';
import type { Decision } from '../results/decision.js';
import type { RunContext } from '../results/run-context.js';
import type { VerifyResult } from '../results/evidence.js';
import { SignOff } from '../results/signoff.js';
import { backup } from '../runbook/backup/index.js';
import { decide } from '../runbook/decide.js';
import { freezeOff, freezeOn } from '../runbook/freeze.js';
import { runGoldenVerify } from '../runbook/golden-run.js';
import { loadPreflightInputs, preflight } from '../runbook/preflight.js';
import { restate } from '../runbook/restate.js';
import { rollback } from '../runbook/rollback.js';
import { runSmoke } from '../runbook/smoke/index.js';
import { applyChangeFile, parseExpectedFunctions } from '../runbook/sql-apply.js';
import { STEP_TIMEOUT_DEFAULTS } from '../runbook/timeouts.js';
import { AFTER_GO_DRILLS, flipDumpByte, goldenWithDeviation, plantBlockingPolicy, plantNegativeStock } from './drills.js';
import { runAfterGoDrill } from './after-go-drill.js';
import { cutConnectionAt } from './faults.js';
import type { RehearsalInputs } from './inputs.js';
import { plainProgress, type Progress, type StepOutcome, type StepReport } from './progress.js';

/**
 * The whole runbook on one database, in the PROD workflow's order, each step writing its result
 * where the decision and the evidence bundle read it: preflight (3.3, 4.1, 4.4; a failed one
 * stops the run before anything changes), freeze (3.4), verified backup (3.1, 4.2), the change
 * files (4.3), golden cases (3.2, 5.6), smoke (4.5, 5.1–5.5), the depot manager's sign-off
 * (5.6), decision (6.1, 7); then on GO the freeze lifted (release), on NO-GO the rollback from
 * the verified dump (6.2), proven equal to it; the bundle (5.7) built and verified. A step that
 * fails does not stop the run: its result says why and the decision counts it, as the
 * workflow's always() jobs do. No ending leaves the change applied without a GO.
 */
export interface RehearsalOptions {
  /** folder for the results and the bundle; emptied first */
  outDir: string;
  inputs: RehearsalInputs;
  /** restate the receptions stored with the legacy formula after the change (runbook §2) */
  restate?: boolean;
  flutterCommit?: string;
  run: RunContext;
  progress?: Progress;
  /** the backup's data files age-encrypted to `recipients`; the rollback decrypts them with `identity` */
  encryption?: { recipients: string[]; identity: AgeIdentities };
  /** the depot's Ed25519 key: the bundle's manifest is signed, and verified with its public half */
  signingKey?: SigningKey;
}

export interface RehearsalResult {
  steps: StepReport[];
  decision: Decision;
  bundle: BundleResult;
  verification: VerifyResult;
  resultsDir: string;
  /** ms from the freeze to the decision: the depot's downtime, human waits excluded */
  freezeWindowMs: number | null;
  /** the after-GO drills: the bundle of the watch and the late rollback (the GO bundle is `bundle`) */
  afterGoBundle?: BundleResult;
  /** the after-GO drills: every one of their steps showed what it must (undefined: not such a drill, or no GO to start from) */
  afterGoOk?: boolean;
}

/** The sign-off a rehearsal records: the given one, or for the gate-rejected drill the manager's NO-GO. */
function gateRecord(inputs: RehearsalInputs): SignOff | null {
  if (inputs.drill !== 'gate-rejected') return inputs.signoff;
  const who = inputs.signoff?.who ?? 'responsable dépôt (drill)';
  return {
    who,
    role: inputs.signoff?.role ?? 'responsable dépôt',
    decision: 'NO-GO',
    at: new Date().toISOString(),
    comment: 'drill gate-rejected: the GO gate is rejected',
  };
}

export async function rehearse(db: Db, opts: RehearsalOptions, log: Logger): Promise<RehearsalResult> {
  const out = path.resolve(opts.outDir);
  const results = path.join(out, DEFAULT_RESULTS_DIR);
  await rm(out, { recursive: true, force: true });
  await mkdir(results, { recursive: true });
  const { inputs, run } = opts;
  const drill = inputs.drill;
  const progress = opts.progress ?? plainProgress(() => {}, log);
  const steps: StepReport[] = [];

  /** one step: a UserError or a failed check is recorded and the run goes on */
  async function step(name: string, runbook: string, fn: (log: Logger) => Promise<StepOutcome>): Promise<boolean> {
    const t0 = Date.now();
    const r = await progress.step(name, runbook, async (stepLog) => {
      try {
        return await fn(stepLog);
      } catch (e) {
        const summary = (e as { describe?: () => string }).describe?.() ?? (e as Error).message;
        await writeFile(path.join(results, errorFileOf(name)), `${summary}\n`);
        return { ok: false, summary };
      }
    });
    steps.push({ step: name, runbook, ...r, ms: Date.now() - t0 });
    return r.ok;
  }

  /** decision.json written, and the decision shown as a step in the run's order */
  const decided = async (d: Decision): Promise<Decision> => {
    await writeResult(results, 'decision', d);
    const conditions = [...new Set(d.reasons.map((r) => r.condition))].join(', ');
    steps.push({
      step: 'decide',
      runbook: '6.1, 7',
      ok: d.decision === 'GO',
      summary: `${d.decision}${conditions ? `: ${conditions}` : ''}`,
      ms: 0,
    });
    return d;
  };

  const golden =
    drill === 'golden-deviation' ? { ...inputs.golden, path: await goldenWithDeviation(inputs.golden.path, out) } : inputs.golden;
  const preflightOk = await step('preflight', '3.3, 4.1, 4.4', async (l) => {
    const pre = await loadPreflightInputs({
      golden: { path: golden.path, display: golden.display },
      changeFiles: inputs.changes.map((c) => ({ path: c.path, display: c.display })),
      deployment: { ...(opts.flutterCommit ? { flutterCommit: opts.flutterCommit } : {}), astmFlag: 'off' },
    });
    const r = await preflight(db, pre, l);
    await writeResult(results, 'preflight', r);
    return {
      ok: r.passed,
      summary: `${r.failures.length} failure(s), ${r.pendingTrucks.length} truck(s) waiting, ${r.gasoilReceptions.length} GASOIL receptions`,
    };
  });

  let decision: Decision;
  let frozenAt: number | null = null;
  let decidedAt: number | null = null;
  if (!preflightOk) {
    // runbook 3.3/4.1: a target that fails its preflight is never frozen nor changed
    decision = await decided(await decide({ resultsDir: results, runId: run.runId, rehearsal: true }, log));
  } else {
    frozenAt = Date.now();
    // the demo's own movements were logged a moment ago: a real freeze would see "app activity"
    await step('freeze-on', '3.4, 4.1', async (l) => {
      const r = await freezeOn(db, { reason: 'ASTM 53B rehearsal', force: true, run }, l);
      await writeResult(results, 'freezeOn', r);
      return { ok: r.frozen, summary: r.frozen ? `${r.guardedTables.length} tables refuse writes` : 'not frozen' };
    });
    const backedUp = await step('backup', '3.1, 4.2', async (l) => {
      const r = await backup(
        db,
        {
          outDir: path.join(results, BACKUP_DIR),
          encryptTo: opts.encryption?.recipients ?? [],
          ...(drill === 'corrupt-dump' ? { beforeProof: flipDumpByte } : {}),
        },
        l,
      );
      return { ok: r.verification.ok, summary: `verification ${r.verification.ok ? 'passed' : `FAILED: ${r.verification.failures[0]}`}` };
    });
    let applied = false;
    if (backedUp) {
      applied = await step('sql-apply', '4.3', async (l) => {
        const target =
          drill === 'connection-lost-during-apply' ? cutConnectionAt(db, (sql) => /CREATE OR REPLACE FUNCTION/i.test(sql)).db : db;
        const applied: ApplyResult[] = [];
        for (const file of inputs.changes) {
          const r = await applyChangeFile(
            target,
            { file, expectFunctions: parseExpectedFunctions(undefined), dryRun: false, ...STEP_TIMEOUT_DEFAULTS, run },
            l,
          );
          applied.push(r);
          if (!r.ok) break;
        }
        // sql-apply.json is the file that stopped the run, or the last one; the ones before it are kept beside it
        for (const [i, r] of applied.slice(0, -1).entries()) {
          const name = appliedEarlierFile(i, r.file.name);
          await writeValidated(path.join(results, name), ApplyResult, r, name);
        }
        const last = applied.at(-1)!;
        await writeResult(results, 'sqlApply', last);
        return { ok: last.ok, summary: `${last.file.name}: ${last.status}; ${last.violations.length} violation(s)` };
      });
    } else {
      log.warn('sql-apply: not run: no verified backup (runbook 3.1: "Aucune modification PROD sans dump vérifié")');
    }
    if (applied && drill === 'negative-stock') await plantNegativeStock(db);
    if (applied && drill === 'policy-blocks-authenticated') await plantBlockingPolicy(db);
    if (applied && opts.restate) {
      await step('restate', '§2, 3.2', async (l) => {
        // the profile SEP uses, found from the golden cases alone: the restatement aligns ML_PP with it
        const found = await runGoldenVerify({ file: { path: golden.path, displayName: golden.display } }, l);
        const r = await restate(
          db,
          {
            profile: parseGoldenProfile(found.profile),
            profileSource: `${golden.display} (golden cases)`,
            dryRun: false,
            ...STEP_TIMEOUT_DEFAULTS,
            run,
          },
          l,
        );
        await writeResult(results, 'restate', r);
        return { ok: r.ok, summary: `${r.status}: ${r.counts.booked} adjustment(s), ${r.message}` };
      });
    }
    let profile = ML_PP_PROFILE;
    await step('golden-verify', '3.2, 5.6', async (l) => {
      const r = await runGoldenVerify({ file: { path: golden.path, displayName: golden.display }, db }, l);
      await writeResult(results, 'golden', r);
      profile = parseGoldenProfile(r.profile);
      return { ok: r.passed, summary: `${r.counts.cases} case(s), profile ${r.profile}, max deviation ${r.max_deviation_l} L` };
    });
    await step('smoke', '4.5, 5.1-5.5', async (l) => {
      const target =
        drill === 'connection-lost-during-smoke' ? cutConnectionAt(db, (sql) => /INSERT INTO public\.receptions/i.test(sql)).db : db;
      const r = await runSmoke(target, { profile, profileSource: RESULTS.golden.file, toleranceL: 5, run }, l);
      await writeResult(results, 'smoke', r);
      return { ok: r.passed, summary: r.checks.map((c) => `${c.id} ${c.passed ? 'ok' : 'FAIL'}`).join(', ') };
    });
    const record = gateRecord(inputs);
    if (record) await writeValidated(path.join(results, RESULTS.signoff.file), SignOff, record, RESULTS.signoff.file);
    decision = await decided(await decide({ resultsDir: results, runId: run.runId, rehearsal: true }, log));
    decidedAt = Date.now();

    if (decision.decision === 'GO') {
      await step('release', '5.6, 7', async (l) => {
        const r = await freezeOff(db, { reason: `GO, run ${run.runId}`, run }, l);
        await writeResult(results, 'freezeOff', r);
        return { ok: !r.frozen, summary: 'GO: the freeze lifted, entries accepted on the new computation' };
      });
    } else {
      if (backedUp) {
        await step('rollback', '6.2', async (l) => {
          const r = await rollback(db, { backupDir: path.join(results, BACKUP_DIR), run, identity: opts.encryption?.identity }, l);
          await writeResult(results, 'rollback', r);
          const discarded = r.discarded.reduce((n, d) => n + d.writtenSince + d.changedSince + d.deletedSince, 0);
          return {
            ok: r.ok,
            summary: r.ok ? `equal to the verified dump again; ${discarded} row(s) put back as the backup has them` : r.failures.join('; '),
          };
        });
      }
      await step('freeze-off', '6.2', async (l) => {
        const r = await freezeOff(
          db,
          { reason: 'rehearsal over (in PROD: after the legacy build is redeployed and the depot informed)', run },
          l,
        );
        await writeResult(results, 'freezeOff', r);
        return { ok: !r.frozen, summary: 'entries allowed again (rehearsal)' };
      });
    }
  }
  const bundlePath = path.join(out, 'astm53b-evidence.zip');
  let bundle!: BundleResult;
  let verification!: VerifyResult;
  // not a step that may fail quietly: without its bundle a run proves nothing
  const t0 = Date.now();
  const ev = await progress.step('evidence', '5.7', async (l) => {
    const key = opts.signingKey;
    bundle = await buildBundle(
      { resultsDir: results, out: bundlePath, run: { runId: run.runId, actor: run.actor }, ...(key ? { signingKey: key } : {}) },
      l,
    );
    // signed: verified as an auditor would, with the public half (what signing.pub holds)
    const publicKey = key ? { key: createPublicKey(key.key), fingerprint: key.fingerprint, source: key.source } : undefined;
    verification = await verifyBundle(bundle.out, { expectSha256: bundle.sha256, ...(publicKey ? { publicKey } : {}) }, l);
    return { ok: verification.ok, summary: `${verification.checked} files re-hashed, ${verification.ok ? 'verified' : 'VERIFY FAILED'}` };
  });
  steps.push({ step: 'evidence', runbook: '5.7', ...ev, ms: Date.now() - t0 });
  let afterGoBundle: BundleResult | undefined;
  let afterGoOk: boolean | undefined;
  if (drill && AFTER_GO_DRILLS.includes(drill) && decision.decision === 'GO') {
    const after = await runAfterGoDrill(
      db,
      { drill, out, results, goBundle: bundle.out, decision, run, ...(opts.encryption ? { identity: opts.encryption.identity } : {}) },
      step,
    );
    decision = after.decision;
    afterGoBundle = after.bundle;
    afterGoOk = after.ok;
  }
  const freezeWindowMs = frozenAt !== null && decidedAt !== null ? decidedAt - frozenAt : null;
  return {
    steps,
    decision,
    bundle,
    verification,
    resultsDir: results,
    freezeWindowMs,
    ...(afterGoBundle ? { afterGoBundle } : {}),
    ...(afterGoOk !== undefined ? { afterGoOk } : {}),
  };
}
