import path from 'node:path';
import { UserError } from '../../errors.js';
import { withDb } from '../../db/open.js';
import { assertSessionCapable, type Target } from '../../db/target.js';
import { sqlPath } from '../../paths.js';
import { renderApplyText } from '../../report/sql-apply.js';
import { loadChangeFile } from '../../runbook/change-file.js';
import { CHANGE_FILES } from '../../runbook/db-init.js';
import { freezeOff, freezeOn, freezeStatus } from '../../runbook/freeze.js';
import { renderFreezeText } from '../../report/freeze.js';
import { renderResetText } from '../../report/staging-reset.js';
import { assertProjectRef, parseEnvName, readEnvironment, setEnvironment } from '../../runbook/environment.js';
import { APPLY_DEFAULTS, applyChangeFile, parseExpectedFunctions, parseMs } from '../../runbook/sql-apply.js';
import { stagingReset } from '../../runbook/staging-reset.js';
import type { CommandContext, CommandSpec, OptionSpec } from '../command.js';
import { targetOf, urlOption } from './db.js';
import { runContextFrom } from '../../results/run-context.js';

/** The runbook steps that change the target: env marker, SQL apply (4.3), staging reset (3.5), freeze (3.4/4.1). */

const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

const runOptions: Record<string, OptionSpec> = {
  'run-id': {
    type: 'string',
    valueName: 'ID',
    description: 'run id recorded with every change (default: GITHUB_RUN_ID, else local-<time>)',
  },
  actor: { type: 'string', valueName: 'NAME', description: 'who runs this, recorded (default: GITHUB_ACTOR, else the OS user)' },
};

const timeoutOptions: Record<string, OptionSpec> = {
  'lock-timeout-ms': {
    type: 'string',
    valueName: 'MS',
    description: 'lock_timeout of each statement',
    default: String(APPLY_DEFAULTS.lockTimeoutMs),
  },
  'statement-timeout-ms': {
    type: 'string',
    valueName: 'MS',
    description: 'statement_timeout of each statement',
    default: String(APPLY_DEFAULTS.statementTimeoutMs),
  },
  'lock-wait-ms': {
    type: 'string',
    valueName: 'MS',
    description: 'how long to wait for another pipeline step on the same database',
    default: String(APPLY_DEFAULTS.lockWaitMs),
  },
};

const str = (ctx: CommandContext, name: string) => (typeof ctx.values[name] === 'string' ? (ctx.values[name] as string) : undefined);
const runOf = (ctx: CommandContext) => runContextFrom(ctx.env, { runId: str(ctx, 'run-id'), actor: str(ctx, 'actor') });
const timeoutsOf = (ctx: CommandContext) => ({
  lockTimeoutMs: parseMs(ctx.values['lock-timeout-ms'], 'lock-timeout-ms', APPLY_DEFAULTS.lockTimeoutMs),
  statementTimeoutMs: parseMs(ctx.values['statement-timeout-ms'], 'statement-timeout-ms', APPLY_DEFAULTS.statementTimeoutMs),
  lockWaitMs: parseMs(ctx.values['lock-wait-ms'], 'lock-wait-ms', APPLY_DEFAULTS.lockWaitMs),
});
const urlOf = (t: Target) => (t.kind === 'pg' ? t.url : undefined);

function changeTarget(ctx: CommandContext, step: string): Target {
  const target = targetOf(ctx);
  assertSessionCapable(target, step);
  return target;
}

export const envSet: CommandSpec = {
  name: 'env set',
  summary: "mark the target database staging or prod (in the pipeline's own schema astm53b)",
  details:
    "With --project-ref, the Supabase project ref in the connection (user postgres.<ref>, or host db.<ref>.supabase.co)\nmust be that one. A database carrying ML_PP's own marker public.app_settings env='staging' cannot be marked prod.",
  positionals: [{ name: 'ENV', description: 'staging or prod', required: true }],
  options: {
    url: urlOption,
    'project-ref': { type: 'string', valueName: 'REF', description: 'expected Supabase project ref' },
    ...runOptions,
    json: { type: 'boolean', description: 'print the marker as JSON' },
  },
  async run(ctx) {
    const env = parseEnvName(ctx.positionals[0]);
    const run = runOf(ctx);
    const target = changeTarget(ctx, 'env set');
    assertProjectRef(urlOf(target), str(ctx, 'project-ref')); // before connecting: bad input touches nothing
    return withDb(target, async (db) => {
      const m = await setEnvironment(db, { env, projectRef: str(ctx, 'project-ref'), url: urlOf(target), run }, ctx.log);
      ctx.out(ctx.values.json ? json(m) : `${db.label}: ${m.env} (${m.explanation})\n`);
    });
  },
};

export const envShow: CommandSpec = {
  name: 'env show',
  summary: 'which environment the target database is marked as (read-only)',
  options: { url: urlOption, json: { type: 'boolean', description: 'print the marker as JSON' } },
  async run(ctx) {
    return withDb(targetOf(ctx), async (db) => {
      const m = await db.withTransaction((tx) => readEnvironment(tx), { readOnly: true });
      ctx.out(ctx.values.json ? json(m) : `${db.label}: ${m.env} (${m.explanation})\n`);
    });
  },
};

export const apply: CommandSpec = {
  name: 'apply',
  summary: 'runbook 4.3: apply a change file in one transaction, proving before COMMIT that only the expected functions changed',
  details:
    'The file is framed in ONE transaction (its own BEGIN/COMMIT are dropped) under an advisory lock, with lock_timeout and\n' +
    'statement_timeout. Before COMMIT: each expected function replaced, SECURITY DEFINER, search_path=public; no other\n' +
    'function, trigger, policy, RLS switch or grant changed. Otherwise ROLLBACK and exit 1. The ledger (astm53b.apply_ledger)\n' +
    'makes the same file a no-op the second time and refuses a different file under an applied name.',
  positionals: [
    { name: 'FILE', description: 'the change file (e.g. docs/DB_CHANGES/2026-02-25_staging_validate_sortie_p0.sql)', required: true },
  ],
  options: {
    url: urlOption,
    'expect-functions': {
      type: 'string',
      valueName: 'a,b',
      description: 'functions the file must replace (default: validate_sortie,sorties_produit_block_update_delete)',
    },
    'dry-run': { type: 'boolean', description: 'run everything, report, and roll back' },
    ...timeoutOptions,
    ...runOptions,
    json: { type: 'boolean', description: 'print the full result (fingerprints before/after, diff) as JSON' },
  },
  async run(ctx) {
    const file = await loadChangeFile(path.resolve(ctx.cwd, ctx.positionals[0]!), ctx.positionals[0]!);
    const opts = {
      file,
      expectFunctions: parseExpectedFunctions(str(ctx, 'expect-functions')),
      dryRun: ctx.values['dry-run'] === true,
      ...timeoutsOf(ctx),
      run: runOf(ctx),
    };
    return withDb(changeTarget(ctx, 'apply'), async (db) => {
      const r = await applyChangeFile(db, opts, ctx.log);
      ctx.out(ctx.values.json ? json(r) : renderApplyText(r));
      return r.ok ? 0 : 1;
    });
  },
};

export const stagingResetCommand: CommandSpec = {
  name: 'staging-reset',
  summary: 'runbook 3.5: the "CDR only" reset, on a staging-marked database only, with its invariant proved before COMMIT',
  details: `Default file: sql/${CHANGE_FILES.resetCdrOnly}. Refuses (touching nothing) a database marked prod or not marked.`,
  options: {
    url: urlOption,
    file: { type: 'string', valueName: 'FILE', description: "the depot's own reset file instead of ours" },
    ...timeoutOptions,
    ...runOptions,
    json: { type: 'boolean', description: 'print the result as JSON' },
  },
  async run(ctx) {
    const given = str(ctx, 'file');
    const file = given
      ? await loadChangeFile(path.resolve(ctx.cwd, given), given)
      : await loadChangeFile(sqlPath(CHANGE_FILES.resetCdrOnly), `sql/${CHANGE_FILES.resetCdrOnly}`);
    const target = changeTarget(ctx, 'staging-reset');
    const opts = { file, url: urlOf(target), run: runOf(ctx), ...timeoutsOf(ctx) };
    return withDb(target, async (db) => {
      const r = await stagingReset(db, opts, ctx.log);
      ctx.out(ctx.values.json ? json(r) : renderResetText(r));
      return r.ok ? 0 : 1;
    });
  },
};

export const freeze: CommandSpec = {
  name: 'freeze',
  summary: 'runbook 3.4/4.1: make the database refuse receptions and sorties (on), lift it (off), or show it (status)',
  details:
    'on refuses while the app is visibly writing (movements in the last --window-minutes, busy sessions of app roles) unless --force.',
  positionals: [{ name: 'on|off|status', description: 'what to do', required: true }],
  options: {
    url: urlOption,
    reason: { type: 'string', valueName: 'TEXT', description: 'why (required for on), recorded' },
    force: { type: 'boolean', description: 'freeze even though the app looks active (what was seen is recorded)' },
    'window-minutes': { type: 'string', valueName: 'N', description: 'how recent a movement counts as activity', default: '15' },
    ...runOptions,
    json: { type: 'boolean', description: 'print the result as JSON' },
  },
  async run(ctx) {
    const what = ctx.positionals[0];
    if (what !== 'on' && what !== 'off' && what !== 'status')
      throw new UserError('BAD_ARGUMENTS', `freeze takes on, off or status, got "${String(what).slice(0, 20)}"`);
    const win = Number(ctx.values['window-minutes'] ?? 15);
    if (!Number.isInteger(win) || win < 0 || win > 1440)
      throw new UserError('BAD_OPTION', '--window-minutes must be a whole number between 0 and 1440', {
        where: { field: 'window-minutes' },
      });
    const target = what === 'status' ? targetOf(ctx) : changeTarget(ctx, `freeze ${what}`);
    const run = what === 'status' ? undefined : runOf(ctx);
    return withDb(target, async (db) => {
      const r =
        what === 'status'
          ? await freezeStatus(db)
          : what === 'on'
            ? await freezeOn(
                db,
                { reason: str(ctx, 'reason') ?? '', force: ctx.values.force === true, run: run!, windowMinutes: win },
                ctx.log,
              )
            : await freezeOff(db, { reason: str(ctx, 'reason') ?? '', run: run! }, ctx.log);
      ctx.out(ctx.values.json ? json(r) : renderFreezeText(r));
      return r.consistent ? 0 : 1;
    });
  },
};

export const pipelineCommands: CommandSpec[] = [envSet, envShow, apply, stagingResetCommand, freeze];
