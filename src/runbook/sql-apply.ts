import { UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import { lockPipeline } from '../db/advisory-lock.js';
import { searchPathOf } from '../db/catalog.js';
import { APP_SCHEMAS, diffFingerprints, readFingerprint } from '../db/fingerprint.js';
import { runStatements } from '../db/sql-file.js';
import type { Db, Queryable } from '../db/types.js';
import { sha256Hex, type ChangeFile } from './change-file.js';
import { dropTransactionControl } from './db-init.js';
import { ensureStateSchema, stateExists } from './state-schema.js';
import type { ApplyResult, FunctionCheck } from '../results/sql-apply.js';
import { Fingerprint } from '../results/common.js';
import type { FingerprintChange } from '../results/common.js';
import type { RunContext } from '../results/run-context.js';

/**
 * `astm53b sql-apply` (runbook 4.3): one change file in ONE transaction, verified before COMMIT.
 * Under the pipeline's advisory lock: ledger check, catalog fingerprint, the file's
 * statements (its own BEGIN/COMMIT dropped), fingerprint again, then the proof the runbook
 * asks for: each expected function replaced, SECURITY DEFINER, search_path=public, and no
 * other change to any function, trigger, policy, RLS switch or grant. Anything else rolls
 * back, so a rejected file leaves the catalog byte-identical.
 */
export const DEFAULT_EXPECTED_FUNCTIONS = ['validate_sortie', 'sorties_produit_block_update_delete'];

export interface ApplyOptions {
  file: ChangeFile;
  expectFunctions: string[];
  dryRun: boolean;
  /** the runbook's change replaces functions only; a file that also changes rows of application tables needs a reason */
  allowData?: string;
  lockTimeoutMs: number;
  statementTimeoutMs: number;
  lockWaitMs: number;
  run: RunContext;
}

export interface FunctionState {
  signature: string;
  securityDefiner: boolean;
  config: string[];
  definitionSha256: string;
}

const IDENT = /^(?:([a-z_][a-z0-9_]*)\.)?([a-z_][a-z0-9_]*)$/;

export function parseExpectedFunctions(v: string | undefined): string[] {
  if (v === undefined || v.trim() === '') return DEFAULT_EXPECTED_FUNCTIONS.map((n) => `public.${n}`);
  const names = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!names.length) throw new UserError('BAD_OPTION', '--expect-functions lists no function', { where: { field: 'expect-functions' } });
  return names.map((n) => {
    const m = IDENT.exec(n);
    if (!m)
      throw new UserError('BAD_OPTION', `--expect-functions: "${n.slice(0, 60)}" is not a function name (name or schema.name, lowercase)`, {
        where: { field: 'expect-functions' },
      });
    return `${m[1] ?? 'public'}.${m[2]}`;
  });
}

export async function readFunctionStates(q: Queryable, names: readonly string[]): Promise<Map<string, FunctionState[]>> {
  const r = await q.query<{ fq: string; signature: string; sd: boolean; config: string[] | null; def: string }>(
    `SELECT n.nspname || '.' || p.proname AS fq,
            n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS signature,
            p.prosecdef AS sd, p.proconfig AS config, pg_get_functiondef(p.oid) AS def
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname || '.' || p.proname = ANY($1) ORDER BY 2`,
    [names],
  );
  const out = new Map<string, FunctionState[]>(names.map((n) => [n, []]));
  for (const f of r.rows) {
    out.get(f.fq)!.push({ signature: f.signature, securityDefiner: f.sd, config: f.config ?? [], definitionSha256: sha256Hex(f.def) });
  }
  return out;
}

/** `search_path=public`, however it was written (TO 'public', = public, "public"). */
/** The 4.3 proof, pure: which expected functions pass, and every change that is not allowed. */
export function evaluateApply(
  expect: readonly string[],
  before: Map<string, FunctionState[]>,
  after: Map<string, FunctionState[]>,
  diff: readonly FingerprintChange[],
): { functions: FunctionCheck[]; violations: string[] } {
  const functions: FunctionCheck[] = [];
  const allowed = new Set<string>();
  for (const name of expect) {
    const now = after.get(name) ?? [];
    const was = new Map((before.get(name) ?? []).map((f) => [f.signature, f]));
    if (!now.length) {
      functions.push({
        name,
        signature: null,
        replaced: false,
        securityDefiner: false,
        searchPath: null,
        problems: ['does not exist after the file ran'],
      });
      continue;
    }
    for (const f of now) {
      allowed.add(f.signature);
      const old = was.get(f.signature);
      const problems: string[] = [];
      const replaced = old !== undefined && old.definitionSha256 !== f.definitionSha256;
      if (!old) problems.push('created, not replaced (it did not exist before)');
      else if (!replaced) problems.push('not replaced: its definition is unchanged');
      if (!f.securityDefiner) problems.push('SECURITY INVOKER, expected SECURITY DEFINER');
      const sp = searchPathOf(f.config);
      if (sp !== 'public')
        problems.push(sp === null ? 'no SET search_path, expected search_path=public' : `search_path=${sp}, expected public`);
      functions.push({ name, signature: f.signature, replaced, securityDefiner: f.securityDefiner, searchPath: sp, problems });
    }
  }
  const violations = functions.flatMap((f) => f.problems.map((p) => `${f.signature ?? f.name}: ${p}`));
  for (const d of diff) {
    if (d.kind === 'function' && allowed.has(d.name)) continue;
    violations.push(`${d.change} ${d.kind.replace('_', ' ')} ${d.name}: the change file may only replace ${expect.join(', ')}`);
  }
  return { functions, violations };
}

interface LedgerRow {
  sha256: string;
  state: 'applied' | 'undone';
  applied_at: string;
  run_id: string;
  applied_by: string;
  fingerprint_after: string;
  fingerprint_after_json: unknown;
  undone_at: string | null;
  undone_reason: string | null;
}

async function readLedgerRow(q: Queryable, fileName: string): Promise<LedgerRow | undefined> {
  if (!(await stateExists(q))) return undefined;
  // an older copy of the pipeline schema lacks the state columns until a writing step brings it up to date
  const cols = await q.query<{ n: number }>(
    "SELECT count(*)::int8 AS n FROM information_schema.columns WHERE table_schema = 'astm53b' AND table_name = 'apply_ledger' AND column_name = 'state'",
  );
  const extra =
    cols.rows[0]!.n > 0
      ? 'state, fingerprint_after_json, undone_at::text, undone_reason'
      : "'applied' AS state, NULL AS fingerprint_after_json, NULL AS undone_at, NULL AS undone_reason";
  const r = await q.query<LedgerRow>(
    `SELECT sha256, applied_at::text, run_id, applied_by, fingerprint_after, ${extra} FROM astm53b.apply_ledger WHERE file_name = $1`,
    [fileName],
  );
  return r.rows[0];
}

export type RowActivity = Map<string, { ins: number; upd: number; del: number }>;

/** Rows inserted, updated and deleted so far in this transaction, per application table. */
export async function rowActivity(q: Queryable): Promise<RowActivity> {
  const r = await q.query<{ t: string; ins: number; upd: number; del: number }>(
    `SELECT format('%I.%I', schemaname, relname) AS t, n_tup_ins::int8 AS ins, n_tup_upd::int8 AS upd, n_tup_del::int8 AS del
       FROM pg_stat_xact_user_tables WHERE schemaname = ANY($1)`,
    [APP_SCHEMAS],
  );
  return new Map(r.rows.map((x) => [x.t, { ins: x.ins, upd: x.upd, del: x.del }]));
}

export function diffRowActivity(before: RowActivity, after: RowActivity): ApplyResult['dataChanges'] {
  const out: ApplyResult['dataChanges'] = [];
  for (const [table, a] of [...after].sort(([x], [y]) => (x < y ? -1 : 1))) {
    const b = before.get(table) ?? { ins: 0, upd: 0, del: 0 };
    const d = { table, inserted: a.ins - b.ins, updated: a.upd - b.upd, deleted: a.del - b.del };
    if (d.inserted || d.updated || d.deleted) out.push(d);
  }
  return out;
}

export async function applyChangeFile(db: Db, opts: ApplyOptions, log: Logger): Promise<ApplyResult> {
  const started = Date.now();
  const { file } = opts;
  const base = {
    target: db.label,
    file: {
      name: file.name,
      display: file.display,
      sha256: file.sha256,
      bytes: file.bytes,
      statements: file.statements.length,
      droppedTransactionControl: file.droppedTransactionControl,
    },
    run: opts.run,
    expectFunctions: opts.expectFunctions,
    settings: { lockTimeoutMs: opts.lockTimeoutMs, statementTimeoutMs: opts.statementTimeoutMs, lockWaitMs: opts.lockWaitMs },
  };
  log.info(`apply ${file.display} (sha256 ${file.sha256}) to ${db.label}${opts.dryRun ? ', dry run' : ''}`);
  return db.withClient(
    async (c) => {
      await c.query('BEGIN');
      let open = true;
      const end = async (how: 'COMMIT' | 'ROLLBACK') => {
        open = false;
        await c.query(how);
      };
      try {
        await c.query(`SET LOCAL statement_timeout = ${opts.statementTimeoutMs}`);
        await lockPipeline(c, 'change', opts.lockWaitMs, opts.lockTimeoutMs, `apply ${file.name}`);
        const prior = await readLedgerRow(c, file.name);
        if (prior && prior.sha256 !== file.sha256) {
          throw new UserError(
            'LEDGER_CONFLICT',
            `a different file named ${file.name} was applied on ${prior.applied_at} (sha256 ${prior.sha256}, run ${prior.run_id}, by ${prior.applied_by}); this one has sha256 ${file.sha256}`,
            {
              where: { file: file.display },
              hint: 'a change file is never edited after it was applied: give the new change its own dated name',
            },
          );
        }
        if (prior?.state === 'applied') {
          // "already applied" only while the live catalog still is the after-state the ledger recorded
          const fp = await readFingerprint(c);
          await end('ROLLBACK');
          const ledger = {
            fileName: file.name,
            sha256: prior.sha256,
            appliedAt: prior.applied_at,
            runId: prior.run_id,
            appliedBy: prior.applied_by,
          };
          const same = { ...base, fingerprintBefore: fp, fingerprintAfter: fp, functions: [], dataChanges: [], allowData: null, ledger };
          if (fp.sha256 === prior.fingerprint_after) {
            log.info(
              `${file.name}: already applied on ${prior.applied_at} (run ${prior.run_id}) and the catalog is still its after-state; nothing done`,
            );
            return {
              ...same,
              status: 'already-applied' as const,
              ok: true,
              diff: [],
              violations: [],
              at: new Date().toISOString(),
              ms: Date.now() - started,
            };
          }
          const recorded = prior.fingerprint_after_json ? Fingerprint.safeParse(prior.fingerprint_after_json) : undefined;
          const diff = recorded?.success ? diffFingerprints(recorded.data, fp) : [];
          const violations = [
            `${file.name} was applied on ${prior.applied_at} (run ${prior.run_id}), but the live catalog is no longer the after-state the ledger recorded (${prior.fingerprint_after.slice(0, 12)}…, now ${fp.sha256.slice(0, 12)}…): changed outside the pipeline`,
            ...(recorded?.success
              ? diff.map((d) => `${d.change} ${d.kind.replace('_', ' ')} ${d.name} since the apply`)
              : ['(the ledger row predates stored fingerprints: the changes cannot be named)']),
          ];
          for (const v of violations) log.warn(`apply ${file.name}: ${v}`);
          return { ...same, status: 'drift' as const, ok: false, diff, violations, at: new Date().toISOString(), ms: Date.now() - started };
        }
        if (prior?.state === 'undone')
          log.info(`${file.name}: undone on ${prior.undone_at} (${prior.undone_reason ?? 'rollback'}); applying it again`);
        const fpBefore = await readFingerprint(c);
        const fnBefore = await readFunctionStates(c, opts.expectFunctions);
        const rowsBefore = await rowActivity(c);
        await runStatements(c, file.text, file.display, { filter: dropTransactionControl, log });
        const dataChanges = diffRowActivity(rowsBefore, await rowActivity(c));
        const fpAfter = await readFingerprint(c);
        const fnAfter = await readFunctionStates(c, opts.expectFunctions);
        const diff = diffFingerprints(fpBefore, fpAfter);
        const { functions, violations } = evaluateApply(opts.expectFunctions, fnBefore, fnAfter, diff);
        const allowData = opts.allowData?.trim() || null;
        if (dataChanges.length && !allowData) {
          for (const d of dataChanges) {
            violations.push(
              `${d.table}: ${d.inserted} row(s) inserted, ${d.updated} updated, ${d.deleted} deleted: the change file may only replace functions (declare a data change with --allow-data "why")`,
            );
          }
        }
        const common = {
          ...base,
          fingerprintBefore: fpBefore,
          fingerprintAfter: fpAfter,
          diff,
          functions,
          dataChanges,
          allowData,
          violations,
        };
        if (violations.length) {
          await end('ROLLBACK');
          for (const v of violations) log.warn(`apply ${file.name}: ${v}`);
          log.warn(`apply ${file.name}: REJECTED and rolled back (${violations.length} problem${violations.length > 1 ? 's' : ''})`);
          return { ...common, status: 'rejected' as const, ok: false, at: new Date().toISOString(), ms: Date.now() - started };
        }
        if (opts.dryRun) {
          await end('ROLLBACK');
          log.info(`apply ${file.name}: dry run passed the 4.3 checks; rolled back`);
          return { ...common, status: 'dry-run' as const, ok: true, at: new Date().toISOString(), ms: Date.now() - started };
        }
        await ensureStateSchema(c, log, opts.lockTimeoutMs);
        const led = await c.query<{ applied_at: string }>(
          `INSERT INTO astm53b.apply_ledger (file_name, sha256, run_id, applied_by, fingerprint_before, fingerprint_after, fingerprint_after_json, state)
           VALUES ($1, $2, $3, $4, $5, $6, $7, 'applied')
           ON CONFLICT (file_name) DO UPDATE SET applied_at = now(), run_id = EXCLUDED.run_id, applied_by = EXCLUDED.applied_by,
                  db_user = current_user, fingerprint_before = EXCLUDED.fingerprint_before, fingerprint_after = EXCLUDED.fingerprint_after,
                  fingerprint_after_json = EXCLUDED.fingerprint_after_json, state = 'applied',
                  undone_at = NULL, undone_by = NULL, undone_run_id = NULL, undone_reason = NULL
           RETURNING applied_at::text`,
          [file.name, file.sha256, opts.run.runId, opts.run.actor, fpBefore.sha256, fpAfter.sha256, JSON.stringify(fpAfter)],
        );
        await c.query(
          `INSERT INTO astm53b.apply_log (file_name, sha256, action, by_whom, run_id, detail) VALUES ($1, $2, 'applied', $3, $4, $5)`,
          [file.name, file.sha256, opts.run.actor, opts.run.runId, allowData ? `data changes declared: ${allowData}` : null],
        );
        await end('COMMIT');
        log.info(
          `apply ${file.name}: committed; ${functions.map((f) => f.signature).join(', ')} replaced, SECURITY DEFINER, search_path=public; nothing else changed`,
        );
        return {
          ...common,
          status: 'applied' as const,
          ok: true,
          ledger: {
            fileName: file.name,
            sha256: file.sha256,
            appliedAt: led.rows[0]!.applied_at,
            runId: opts.run.runId,
            appliedBy: opts.run.actor,
          },
          at: new Date().toISOString(),
          ms: Date.now() - started,
        };
      } catch (e) {
        if (open) await c.query('ROLLBACK').catch(() => {});
        throw e;
      }
    },
    { discard: true },
  );
}
