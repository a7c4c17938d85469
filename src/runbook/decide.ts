import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { isUserError } from '../errors.js';
import type { Logger } from '../logger.js';
import { assertVerifiedBackup, MANIFEST_FILE, VERIFICATION_FILE } from './backup-manifest.js';
import { GO_CONDITIONS, type GoCondition } from './go-conditions.js';

/**
 * `astm53b decide` (runbook 6.1, 7): GO only when every step's result says it passed and the
 * depot manager signed GO; otherwise NO-GO with every reason, each tied to the runbook condition
 * it meets. A result file that is missing, unreadable or not what it claims to be is a reason
 * in itself: silence is never a GO.
 *
 * Layout of the results folder (what the actions write, default astm53b-results/):
 *   preflight.json, sql-apply.json, golden.json, smoke.json, signoff.json (or --signoff FILE),
 *   and the verified backup in backup/ (the backup action's default), or manifest.json +
 *   verification.json at the top when the backup was written there.
 */
export const RESULT_FILES = {
  preflight: 'preflight.json',
  apply: 'sql-apply.json',
  golden: 'golden.json',
  smoke: 'smoke.json',
  signoff: 'signoff.json',
} as const;
export const BACKUP_SUBDIR = 'backup';

/** The depot manager's written validation (runbook 5.6). */
export const SignOffSchema = z
  .object({
    format: z.literal('astm53b-signoff/1').optional(),
    who: z.string().trim().min(2, { message: 'must name the person who signs' }),
    role: z.string().trim().min(2, { message: "must give the signer's role (e.g. responsable dépôt)" }),
    decision: z.enum(['GO', 'NO-GO']),
    at: z.iso.datetime({ offset: true, message: 'must be an ISO date and time with its offset, e.g. 2026-03-11T22:40:00+01:00' }),
    comment: z.string().optional(),
  })
  .strict();
export type SignOff = z.infer<typeof SignOffSchema>;

export interface DecisionReason {
  condition: GoCondition;
  runbook: string;
  rule: string;
  source: string;
  message: string;
}

export type InputStatus = 'passed' | 'failed' | 'missing' | 'unreadable';

export interface Decision {
  step: 'decide';
  decision: 'GO' | 'NO-GO';
  at: string;
  resultsDir: string;
  inputs: { name: string; file: string; status: InputStatus; detail: string }[];
  signoff: SignOff | null;
  reasons: DecisionReason[];
}

export interface DecideOptions {
  resultsDir: string;
  /** sign-off record; default resultsDir/signoff.json */
  signoff?: string;
}

const reason = (condition: GoCondition, source: string, message: string): DecisionReason => ({
  condition,
  runbook: GO_CONDITIONS[condition].runbook,
  rule: GO_CONDITIONS[condition].text,
  source,
  message,
});

type Read = { ok: true; value: unknown } | { ok: false; status: 'missing' | 'unreadable'; detail: string };

async function readJsonFile(file: string): Promise<Read> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return {
      ok: false,
      status: code === 'ENOENT' ? 'missing' : 'unreadable',
      detail: code === 'ENOENT' ? 'no such file' : `cannot read it: ${code ?? (e as Error).message}`,
    };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, status: 'unreadable', detail: `not JSON: ${(e as Error).message}` };
  }
}

function shapeError(e: z.ZodError): string {
  const i = e.issues[0]!;
  return `field ${i.path.join('.') || '(root)'}: ${i.message}`;
}

const Preflight = z
  .object({ step: z.literal('preflight'), passed: z.boolean(), failures: z.array(z.object({ code: z.string(), message: z.string() })) })
  .passthrough();
const Apply = z
  .object({
    ok: z.boolean(),
    status: z.enum(['applied', 'already-applied', 'dry-run', 'rejected']),
    violations: z.array(z.string()).optional(),
  })
  .passthrough();
const Golden = z
  .object({
    passed: z.boolean(),
    tolerance_l: z.number(),
    profile: z.string(),
    cases: z.array(
      z
        .object({
          reference: z.string(),
          verdict: z.enum(['PASS', 'FAIL']),
          deviation_l: z.number(),
          mlpp_deviation_l: z.number().nullable(),
        })
        .passthrough(),
    ),
  })
  .passthrough();
const Smoke = z
  .object({
    step: z.literal('smoke'),
    passed: z.boolean(),
    at: z.string(),
    checks: z.array(
      z
        .object({
          id: z.string(),
          title: z.string(),
          ran: z.boolean(),
          passed: z.boolean(),
          message: z.string(),
          findings: z.array(
            z
              .object({
                code: z.string(),
                passed: z.boolean(),
                condition: z.enum(Object.keys(GO_CONDITIONS) as [GoCondition, ...GoCondition[]]).nullable(),
                message: z.string(),
              })
              .passthrough(),
          ),
        })
        .passthrough(),
    ),
  })
  .passthrough();

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

  /** one result file: missing or unreadable or misshapen → RESULT_MISSING (or the step's own condition) */
  async function load<S extends z.ZodType>(name: string, file: string, schema: S, missingAs: GoCondition): Promise<z.infer<S> | undefined> {
    const r = await readJsonFile(file);
    if (!r.ok) {
      inputs.push({ name, file: rel(file), status: r.status, detail: r.detail });
      reasons.push(reason(missingAs, rel(file), `${name} result ${r.status}: ${r.detail}`));
      return undefined;
    }
    const p = schema.safeParse(r.value);
    if (!p.success) {
      inputs.push({ name, file: rel(file), status: 'unreadable', detail: shapeError(p.error) });
      reasons.push(reason(missingAs, rel(file), `${name} result is not a ${name} result: ${shapeError(p.error)}`));
      return undefined;
    }
    return p.data;
  }
  const record = (name: string, file: string, ok: boolean, detail: string) =>
    inputs.push({ name, file: rel(file), status: ok ? 'passed' : 'failed', detail });

  // preflight (3.3, 4.1) --------------------------------------------------------------------
  const pfFile = path.join(dir, RESULT_FILES.preflight);
  const pf = await load('preflight', pfFile, Preflight, 'RESULT_MISSING');
  if (pf) {
    record('preflight', pfFile, pf.passed, pf.passed ? 'passed' : `${pf.failures.length} failure(s)`);
    if (!pf.passed) {
      if (!pf.failures.length) reasons.push(reason('DRIFT', rel(pfFile), 'preflight did not pass'));
      for (const f of pf.failures) reasons.push(reason('DRIFT', rel(pfFile), `${f.code}: ${f.message}`));
    }
  }

  // verified backup (3.1, 4.2) ----------------------------------------------------------------
  const sub = path.join(dir, BACKUP_SUBDIR);
  const backupDir = (await exists(path.join(sub, MANIFEST_FILE))) || !(await exists(path.join(dir, MANIFEST_FILE))) ? sub : dir;
  try {
    const m = await assertVerifiedBackup(backupDir);
    record(
      'backup',
      path.join(backupDir, VERIFICATION_FILE),
      true,
      `verified dump of ${m.source.label}, ${m.files.length} file(s) re-hashed`,
    );
  } catch (e) {
    if (!isUserError(e)) throw e;
    inputs.push({
      name: 'backup',
      file: rel(path.join(backupDir, VERIFICATION_FILE)),
      status: e.code === 'BACKUP_INCOMPLETE' ? 'missing' : 'failed',
      detail: e.describe(),
    });
    reasons.push(reason('NO_VERIFIED_BACKUP', rel(backupDir), e.describe()));
  }

  // change applied (4.3) ----------------------------------------------------------------------
  const apFile = path.join(dir, RESULT_FILES.apply);
  const ap = await load('sql-apply', apFile, Apply, 'RESULT_MISSING');
  if (ap) {
    const applied = ap.ok && (ap.status === 'applied' || ap.status === 'already-applied');
    record('sql-apply', apFile, applied, ap.status);
    if (!applied)
      reasons.push(
        reason('CHANGE_NOT_APPLIED', rel(apFile), `status ${ap.status}${ap.violations?.length ? `: ${ap.violations.join('; ')}` : ''}`),
      );
  }

  // golden cases (3.2, 5.6) -------------------------------------------------------------------
  const gFile = path.join(dir, RESULT_FILES.golden);
  const g = await load('golden', gFile, Golden, 'RESULT_MISSING');
  if (g) {
    const failing = g.cases.filter((c) => c.verdict === 'FAIL');
    record(
      'golden',
      gFile,
      g.passed && failing.length === 0,
      `${g.cases.length - failing.length}/${g.cases.length} within ±${g.tolerance_l} L (${g.profile})`,
    );
    for (const c of failing) {
      reasons.push(
        reason(
          'GOLDEN_DEVIATION',
          rel(gFile),
          `case ${c.reference}: engine − SEP ${c.deviation_l} L${c.mlpp_deviation_l === null ? '' : `, ML_PP − SEP ${c.mlpp_deviation_l} L`}, beyond ±${g.tolerance_l} L`,
        ),
      );
    }
    if (!g.passed && !failing.length) reasons.push(reason('GOLDEN_DEVIATION', rel(gFile), 'the golden verification did not pass'));
    if (!g.cases.length) reasons.push(reason('GOLDEN_DEVIATION', rel(gFile), 'no golden case was verified'));
  }

  // smoke (4.5, 5.1–5.5) ----------------------------------------------------------------------
  const sFile = path.join(dir, RESULT_FILES.smoke);
  const s = await load('smoke', sFile, Smoke, 'RESULT_MISSING');
  if (s) {
    record('smoke', sFile, s.passed, s.checks.map((c) => `${c.id} ${c.passed ? 'ok' : c.ran ? 'FAIL' : 'not run'}`).join(', '));
    let n = 0;
    for (const c of s.checks) {
      for (const f of c.findings) {
        if (f.passed) continue;
        n++;
        reasons.push(reason(f.condition ?? 'SMOKE_FAILED', rel(sFile), `${c.id} ${f.code}: ${f.message}`));
      }
    }
    // a check that did not run proves nothing; said once, unless a finding already says why
    if (!s.passed && n === 0)
      for (const c of s.checks.filter((x) => !x.passed)) reasons.push(reason('SMOKE_FAILED', rel(sFile), `${c.id}: ${c.message}`));
  }

  // sign-off (5.6) --------------------------------------------------------------------------
  const soFile = opts.signoff ?? path.join(dir, RESULT_FILES.signoff);
  let signoff: SignOff | null = null;
  const so = await readJsonFile(soFile);
  if (!so.ok) {
    inputs.push({ name: 'signoff', file: rel(soFile), status: so.status, detail: so.detail });
    reasons.push(
      reason(
        'NO_SIGNOFF',
        rel(soFile),
        so.status === 'missing' ? 'no written validation by the depot manager (sign-off record absent)' : `sign-off record ${so.detail}`,
      ),
    );
  } else {
    const p = SignOffSchema.safeParse(so.value);
    if (!p.success) {
      inputs.push({ name: 'signoff', file: rel(soFile), status: 'unreadable', detail: shapeError(p.error) });
      reasons.push(reason('NO_SIGNOFF', rel(soFile), `sign-off record invalid: ${shapeError(p.error)}`));
    } else {
      signoff = p.data;
      const before = s && Date.parse(p.data.at) < Date.parse(s.at);
      record(
        'signoff',
        soFile,
        p.data.decision === 'GO' && !before,
        `${p.data.decision} by ${p.data.who} (${p.data.role}) at ${p.data.at}`,
      );
      if (p.data.decision === 'NO-GO')
        reasons.push(
          reason('SIGNOFF_NO_GO', rel(soFile), `${p.data.who} (${p.data.role}) signed NO-GO${p.data.comment ? `: ${p.data.comment}` : ''}`),
        );
      else if (before)
        reasons.push(
          reason('NO_SIGNOFF', rel(soFile), `signed at ${p.data.at}, before the smoke results of ${s.at}: the sign-off cannot cover them`),
        );
    }
  }

  const decision: Decision = {
    step: 'decide',
    decision: reasons.length ? 'NO-GO' : 'GO',
    at: new Date().toISOString(),
    resultsDir: rel(dir),
    inputs,
    signoff,
    reasons,
  };
  log.info(
    `decide: ${decision.decision}${reasons.length ? ` (${reasons.length} reason(s): ${[...new Set(reasons.map((r) => r.condition))].join(', ')})` : ''}`,
  );
  return decision;
}
