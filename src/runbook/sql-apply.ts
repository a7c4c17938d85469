import { UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import { lockPipeline } from '../db/advisory-lock.js';
import { searchPathOf } from '../db/catalog.js';
import { diffFingerprints, readFingerprint } from '../db/fingerprint.js';
import { runStatements } from '../db/sql-file.js';
import type { Db, Queryable } from '../db/types.js';
import { sha256Hex, type ChangeFile } from './change-file.js';
import { dropTransactionControl } from './db-init.js';
import { ensureStateSchema, stateExists } from './state-schema.js';
import type { ApplyResult, FunctionCheck } from '../results/sql-apply.js';
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
        if (await stateExists(c)) {
          const led = await c.query<{ sha256: string; applied_at: string; run_id: string; applied_by: string }>(
            'SELECT sha256, applied_at::text, run_id, applied_by FROM astm53b.apply_ledger WHERE file_name = $1',
            [file.name],
          );
          const row = led.rows[0];
          if (row && row.sha256 !== file.sha256) {
            throw new UserError(
              'LEDGER_CONFLICT',
              `a different file named ${file.name} was applied on ${row.applied_at} (sha256 ${row.sha256}, run ${row.run_id}, by ${row.applied_by}); this one has sha256 ${file.sha256}`,
              {
                where: { file: file.display },
                hint: 'a change file is never edited after it was applied: give the new change its own dated name',
              },
            );
          }
          if (row) {
            await end('ROLLBACK');
            const fp = await readFingerprint(c);
            log.info(`${file.name}: already applied on ${row.applied_at} (run ${row.run_id}); nothing done`);
            return {
              ...base,
              status: 'already-applied' as const,
              ok: true,
              fingerprintBefore: fp,
              fingerprintAfter: fp,
              diff: [],
              functions: [],
              violations: [],
              ledger: { fileName: file.name, sha256: row.sha256, appliedAt: row.applied_at, runId: row.run_id, appliedBy: row.applied_by },
              at: new Date().toISOString(),
              ms: Date.now() - started,
            };
          }
        }
        const fpBefore = await readFingerprint(c);
        const fnBefore = await readFunctionStates(c, opts.expectFunctions);
        await runStatements(c, file.text, file.display, { filter: dropTransactionControl, log });
        const fpAfter = await readFingerprint(c);
        const fnAfter = await readFunctionStates(c, opts.expectFunctions);
        const diff = diffFingerprints(fpBefore, fpAfter);
        const { functions, violations } = evaluateApply(opts.expectFunctions, fnBefore, fnAfter, diff);
        const common = { ...base, fingerprintBefore: fpBefore, fingerprintAfter: fpAfter, diff, functions, violations };
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
          `INSERT INTO astm53b.apply_ledger (file_name, sha256, run_id, applied_by, fingerprint_before, fingerprint_after)
           VALUES ($1, $2, $3, $4, $5, $6) RETURNING applied_at::text`,
          [file.name, file.sha256, opts.run.runId, opts.run.actor, fpBefore.sha256, fpAfter.sha256],
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
