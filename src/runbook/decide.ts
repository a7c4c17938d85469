import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { isUserError } from '../errors.js';
import type { Logger } from '../logger.js';
import { BACKUP_DIR, BACKUP_FILES, errorFileOf, RESULTS } from '../results/files.js';
import { readResult, type ReadOutcome } from '../results/io.js';
import type { Decision, DecisionReason } from '../results/decision.js';
import { GO_CONDITIONS, type GoCondition } from '../results/go-conditions.js';
import type { Approvals } from '../results/approvals.js';
import type { SignOff } from '../results/signoff.js';
import { assertVerifiedBackup } from './backup/manifest.js';
import { sameRun, signoffProblems } from './signoff.js';

/**
 * `astm53b decide` (runbook 6.1, 7): GO only when every step's result says it passed and the
 * depot manager signed GO; otherwise NO-GO with every reason, each tied to the runbook condition
 * it meets. A result file that is missing, unreadable or not what it claims to be (checked
 * against its schema in src/results) is a reason in itself: silence is never a GO.
 *
 * It reads preflight.json, sql-apply.json, golden.json, smoke.json, signoff.json (or
 * --signoff FILE, held to signoffProblems: this run's, not dated ahead, not self-approved),
 * approvals.json and approval-issue.json when the run made them (a rejected gate, an
 * unanswered approval issue are reasons), and the verified backup in backup/ (the backup action's default), or
 * manifest.json + verification.json at the top when the backup was written there.
 */
export interface DecideOptions {
  resultsDir: string;
  /** sign-off record; default resultsDir/signoff.json */
  signoff?: string;
  /** the time of the decision; default now (tests fix it) */
  now?: Date;
  /** this run's id: a sign-off that names another run does not count */
  runId?: string;
  /**
   * a rehearsal: the depot manager's record is given before the run (it names no run), so it
   * cannot postdate the smoke; the decision says it was a rehearsal's sign-off
   */
  rehearsal?: boolean;
  /** who started this run (GITHUB_ACTOR, GITHUB_TRIGGERING_ACTOR): none of them may sign its GO */
  actors?: string[];
}

const reason = (condition: GoCondition, source: string, message: string): DecisionReason => ({
  condition,
  runbook: GO_CONDITIONS[condition].runbook,
  rule: GO_CONDITIONS[condition].text,
  source,
  message,
});

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

export async function decide(opts: DecideOptions, log: Logger): Promise<Decision> {
  const dir = opts.resultsDir;
  const reasons: DecisionReason[] = [];
  const inputs: Decision['inputs'] = [];
  const rel = (f: string) => path.relative(process.cwd(), f) || f;

  /** a missing, unreadable or misshapen result is a reason: RESULT_MISSING (or the step's own condition) */
  async function usable<T>(name: string, r: ReadOutcome<T>, missingAs: GoCondition, step = name): Promise<T | undefined> {
    if (r.ok) return r.value;
    // a step that stopped on an error leaves <step>.error.txt: the reason says what stopped it
    const stopped = r.status === 'missing' ? await readFile(path.join(dir, errorFileOf(step)), 'utf8').catch(() => undefined) : undefined;
    const detail = stopped ? `the step stopped: ${stopped.trim().split('\n')[0]}` : r.detail;
    inputs.push({ name, file: rel(r.file), status: r.status, detail });
    const why = r.detail.startsWith('field ') ? `is not a ${name} result: ${r.detail}` : `${r.status}: ${detail}`;
    reasons.push(reason(missingAs, rel(r.file), `${name} result ${why}`));
    return undefined;
  }
  const record = (name: string, file: string, ok: boolean, detail: string) =>
    inputs.push({ name, file: rel(file), status: ok ? 'passed' : 'failed', detail });
  const fileOf = (kind: keyof typeof RESULTS) => path.join(dir, RESULTS[kind].file);

  // The decision closes the freeze window: the step results are read and the backup's files
  // re-hashed all at once (the hashing and reading overlap the parsing), then judged one by one
  // in the runbook's order below, exactly as if read in turn.
  const sub = path.join(dir, BACKUP_DIR);
  const manifestName = BACKUP_FILES.manifest.file;
  const backupDirP = (async () =>
    (await exists(path.join(sub, manifestName))) || !(await exists(path.join(dir, manifestName))) ? sub : dir)();
  const backupCheck = backupDirP.then(assertVerifiedBackup).then(
    (m) => ({ m }),
    (e: unknown) => ({ e }),
  );
  const reads = {
    preflight: readResult(dir, 'preflight'),
    sqlApply: readResult(dir, 'sqlApply'),
    golden: readResult(dir, 'golden'),
    smoke: readResult(dir, 'smoke'),
  };
  // awaited below, in order; one that fails meanwhile must not go unhandled
  for (const p of [backupDirP, ...Object.values(reads)]) p.catch(() => {});

  // preflight (3.3, 4.1) --------------------------------------------------------------------
  const preflight = await usable('preflight', await reads.preflight, 'RESULT_MISSING');
  if (preflight) {
    const file = fileOf('preflight');
    record('preflight', file, preflight.passed, preflight.passed ? 'passed' : `${preflight.failures.length} failure(s)`);
    if (!preflight.passed) {
      if (!preflight.failures.length) reasons.push(reason('DRIFT', rel(file), 'preflight did not pass'));
      for (const f of preflight.failures) reasons.push(reason('DRIFT', rel(file), `${f.code}: ${f.message}`));
    }
  }

  // verified backup (3.1, 4.2) ----------------------------------------------------------------
  const backupDir = await backupDirP;
  const verificationFile = path.join(backupDir, BACKUP_FILES.verification.file);
  const checked = await backupCheck;
  if ('m' in checked) {
    const m = checked.m;
    record('backup', verificationFile, true, `verified dump of ${m.source.label}, ${m.files.length} file(s) re-hashed`);
  } else {
    const e = checked.e;
    if (!isUserError(e)) throw e;
    inputs.push({
      name: 'backup',
      file: rel(verificationFile),
      status: e.code === 'BACKUP_INCOMPLETE' ? 'missing' : 'failed',
      detail: e.describe(),
    });
    reasons.push(reason('NO_VERIFIED_BACKUP', rel(backupDir), e.describe()));
  }

  // change applied (4.3) ----------------------------------------------------------------------
  const apply = await usable('sql-apply', await reads.sqlApply, 'RESULT_MISSING');
  if (apply) {
    const file = fileOf('sqlApply');
    const applied = apply.ok && (apply.status === 'applied' || apply.status === 'already-applied');
    record('sql-apply', file, applied, apply.status);
    if (!applied) {
      const why = apply.violations.length ? `: ${apply.violations.join('; ')}` : '';
      reasons.push(reason('CHANGE_NOT_APPLIED', rel(file), `status ${apply.status}${why}`));
    }
  }

  // golden cases (3.2, 5.6) -------------------------------------------------------------------
  const golden = await usable('golden', await reads.golden, 'RESULT_MISSING', 'golden-verify');
  if (golden) {
    const file = rel(fileOf('golden'));
    const failing = golden.cases.filter((c) => c.verdict === 'FAIL');
    const within = `${golden.cases.length - failing.length}/${golden.cases.length} within ±${golden.tolerance_l} L (${golden.profile})`;
    record('golden', fileOf('golden'), golden.passed && failing.length === 0, within);
    for (const c of failing) {
      const restated = c.mlpp_restated_15c_l;
      const mlpp = c.mlpp_deviation_l === null ? '' : `, ML_PP${restated === null ? '' : ' (effective)'} − SEP ${c.mlpp_deviation_l} L`;
      // the remedy DB-STRICT allows for a reception stored with the legacy formula (runbook §2)
      const remedy =
        c.mlpp_verdict !== 'FAIL' || c.mlpp_deviation_l === null
          ? ''
          : restated === null
            ? `; ML_PP's value is the one stored, never restated: \`astm53b restate\` books its ASTM 53B restatement (one stocks_adjustments row per reception, as an app admin), then verify again`
            : `; ML_PP's effective value already includes a restatement of ${restated} L and still differs from SEP`;
      reasons.push(
        reason(
          'GOLDEN_DEVIATION',
          file,
          `case ${c.reference}: engine − SEP ${c.deviation_l} L${mlpp}, beyond ±${golden.tolerance_l} L${remedy}`,
        ),
      );
    }
    if (!golden.passed && !failing.length) reasons.push(reason('GOLDEN_DEVIATION', file, 'the golden verification did not pass'));
    if (!golden.cases.length) reasons.push(reason('GOLDEN_DEVIATION', file, 'no golden case was verified'));
  }

  // smoke (4.5, 5.1–5.5) ----------------------------------------------------------------------
  const smoke = await usable('smoke', await reads.smoke, 'RESULT_MISSING');
  if (smoke) {
    const file = rel(fileOf('smoke'));
    record(
      'smoke',
      fileOf('smoke'),
      smoke.passed,
      smoke.checks.map((c) => `${c.id} ${c.passed ? 'ok' : c.ran ? 'FAIL' : 'not run'}`).join(', '),
    );
    let n = 0;
    for (const c of smoke.checks) {
      for (const f of c.findings) {
        if (f.passed) continue;
        n++;
        reasons.push(reason(f.condition ?? 'SMOKE_FAILED', file, `${c.id} ${f.code}: ${f.message}`));
      }
    }
    // a check that did not run proves nothing; said once, unless a finding already says why
    if (!smoke.passed && n === 0)
      for (const c of smoke.checks.filter((x) => !x.passed)) reasons.push(reason('SMOKE_FAILED', file, `${c.id}: ${c.message}`));
  }

  // sign-off (5.6) --------------------------------------------------------------------------
  let signoff: SignOff | null = null;
  const read = await readResult(dir, 'signoff', opts.signoff);
  if (!read.ok) {
    inputs.push({ name: 'signoff', file: rel(read.file), status: read.status, detail: read.detail });
    const message =
      read.status === 'missing'
        ? 'no written validation by the depot manager (sign-off record absent)'
        : read.detail.startsWith('field ')
          ? `sign-off record invalid: ${read.detail}`
          : `sign-off record ${read.detail}`;
    reasons.push(reason('NO_SIGNOFF', rel(read.file), message));
  } else {
    signoff = read.value;
    const file = read.file;
    const now = opts.now ?? new Date();
    const problems = signoffProblems(signoff, { runId: opts.runId, rehearsal: opts.rehearsal === true, now, actors: opts.actors ?? [] });
    const givenAhead = opts.rehearsal === true && signoff.runId === undefined;
    const before = !givenAhead && smoke && Date.parse(signoff.at) < Date.parse(smoke.at);
    const by = signoff.triggeredBy ? `, run triggered by ${signoff.triggeredBy.actor}` : '';
    record(
      'signoff',
      file,
      signoff.decision === 'GO' && !before && !problems.length,
      `${signoff.decision} by ${signoff.who} (${signoff.role}) at ${signoff.at}${by}${givenAhead ? ' (a rehearsal: the record was given before the run)' : ''}`,
    );
    for (const p of problems) reasons.push(reason('NO_SIGNOFF', rel(file), p.message));
    if (signoff.decision === 'NO-GO' && !problems.some((p) => p.field === 'runId')) {
      reasons.push(
        reason('SIGNOFF_NO_GO', rel(file), `${signoff.who} (${signoff.role}) signed NO-GO${signoff.comment ? `: ${signoff.comment}` : ''}`),
      );
    } else if (before && !problems.length) {
      reasons.push(
        reason('NO_SIGNOFF', rel(file), `signed at ${signoff.at}, before the smoke results of ${smoke.at}: the sign-off cannot cover them`),
      );
    }
  }

  // every review of the run's gates (3.4, 5.6): absent outside a workflow run; a rejection of a gate other than the sign-off's is a reason
  let approvals: Approvals | null = null;
  const reviewed = await readResult(dir, 'approvals');
  if (reviewed.ok && opts.runId !== undefined && !sameRun(reviewed.value.runId, opts.runId)) {
    inputs.push({ name: 'approvals', file: rel(reviewed.file), status: 'failed', detail: `made in run ${reviewed.value.runId}` });
    reasons.push(
      reason('RESULT_MISSING', rel(reviewed.file), `approvals record of run ${reviewed.value.runId}, not of this run (${opts.runId})`),
    );
  } else if (reviewed.ok) {
    approvals = reviewed.value;
    const rejected = approvals.reviews.filter((r) => r.state === 'rejected');
    record(
      'approvals',
      reviewed.file,
      !rejected.length,
      approvals.reviews.map((r) => `${r.environment} ${r.state} by ${r.who}`).join(', ') || 'no review',
    );
    for (const r of rejected.filter((x) => x.environment !== signoff?.environment))
      reasons.push(
        reason('GATE_REJECTED', rel(reviewed.file), `${r.environment} rejected by ${r.who}${r.comment ? `: ${r.comment}` : ''}`),
      );
  } else if (reviewed.status === 'unreadable') {
    inputs.push({ name: 'approvals', file: rel(reviewed.file), status: 'unreadable', detail: reviewed.detail });
    reasons.push(reason('RESULT_MISSING', rel(reviewed.file), `approvals record unreadable: ${reviewed.detail}`));
  }

  // the gates held as issues (actions/approval-gate): their outcomes, and a timeout said as such
  for (const gate of ['startApprovalIssue', 'approvalIssue'] as const) {
    const name = gate === 'approvalIssue' ? 'approval-issue' : 'approval-issue-start';
    const asked = await readResult(dir, gate);
    if (asked.ok && opts.runId !== undefined && !sameRun(asked.value.runId, opts.runId)) {
      inputs.push({ name, file: rel(asked.file), status: 'failed', detail: `made in run ${asked.value.runId}` });
      reasons.push(
        reason('RESULT_MISSING', rel(asked.file), `approval issue record of run ${asked.value.runId}, not of this run (${opts.runId})`),
      );
    } else if (asked.ok) {
      const a = asked.value;
      const by = a.decidedBy ? ` by ${a.decidedBy.who} at ${a.decidedBy.at}` : '';
      const ignored = a.ignored.length
        ? `; ${a.ignored.length} comment(s) did not count (${a.ignored.map((x) => `${x.who}: ${x.reason}`).join(', ')})`
        : '';
      record(name, asked.file, a.outcome === 'approved', `issue #${a.issue.number} ${a.outcome}${by}${ignored}`);
      const where = `approval issue #${a.issue.number} (${a.issue.url})`;
      if (gate === 'startApprovalIssue' && a.outcome !== 'approved') {
        // the start was refused or never given: the migration did not start (runbook 3.4)
        const d = a.decidedBy;
        reasons.push(
          reason(
            'GATE_REJECTED',
            rel(asked.file),
            d
              ? `${a.environment} rejected by ${d.who} on ${where}${d.comment ? `: ${d.comment}` : ''}`
              : `${a.environment}: no GO or NO-GO from ${a.approvers.join(', ')} on ${where} by ${a.deadline}; the migration did not start`,
          ),
        );
      } else if (gate === 'approvalIssue' && a.outcome === 'timeout' && !signoff) {
        reasons.push(reason('NO_SIGNOFF', rel(asked.file), `${where}: no GO or NO-GO from ${a.approvers.join(', ')} by ${a.deadline}`));
      }
    } else if (asked.status === 'unreadable') {
      inputs.push({ name, file: rel(asked.file), status: 'unreadable', detail: asked.detail });
      reasons.push(reason('RESULT_MISSING', rel(asked.file), `approval issue record unreadable: ${asked.detail}`));
    }
  }

  const decision: Decision = {
    step: 'decide',
    decision: reasons.length ? 'NO-GO' : 'GO',
    at: new Date().toISOString(),
    resultsDir: rel(dir),
    inputs,
    signoff,
    approvals,
    reasons,
  };
  const conditions = [...new Set(reasons.map((r) => r.condition))].join(', ');
  log.info(`decide: ${decision.decision}${reasons.length ? ` (${reasons.length} reason(s): ${conditions})` : ''}`);
  return decision;
}
