import { rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../../errors.js';
import { withDb } from '../../db/open.js';
import { assertSessionCapable, resolveTarget, type Target } from '../../db/target.js';
import { initFixture, validateInitOptions } from '../../runbook/db-init.js';
import { loadSchemaDump } from '../../runbook/schema-dump.js';
import { readStockSummary } from '../../runbook/stock-summary.js';
import { renderStockSummaryText } from '../../report/stock-summary.js';
import type { CommandContext, CommandSpec, OptionSpec } from '../command.js';
import { flagOption, stringOption } from '../options.js';
import { jsonText } from '../../results/io.js';

export const urlOption: OptionSpec = {
  type: 'string',
  valueName: 'URL',
  description: 'target PostgreSQL (postgresql://…, or env:NAME); without it, the embedded database',
};

export function targetOf(ctx: CommandContext): Target {
  return resolveTarget({ url: stringOption(ctx, 'url'), cwd: ctx.cwd, env: ctx.env });
}

export async function pathExists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

/** `--reset` on the embedded database only: a real server's data is never deleted by us. */
export async function resetEmbedded(target: Target, ctx: CommandContext): Promise<void> {
  if (target.kind !== 'embedded') {
    throw new UserError('BAD_OPTION', '--reset applies to the embedded database only; on a real server, create a new database', {
      where: { field: 'reset' },
    });
  }
  if (await pathExists(target.dataDir)) {
    ctx.log.info(`removing ${path.relative(ctx.cwd, target.dataDir)}`);
    await rm(target.dataDir, { recursive: true, force: true });
  }
}

export const dbInit: CommandSpec = {
  name: 'db init',
  summary: "create ML_PP's stock module (as in PROD on 2026-02-11) and the demo depot",
  details:
    'Applies sql/supabase/shim.sql (only where schema auth is absent), sql/schema/ml_pp_stock.sql,\n' +
    'sql/supabase/grants.sql and sql/seed/demo.sql (plus sql/seed/scale.sql when --scale > 1) in one\n' +
    'transaction: on any error the target is left as it was. Refuses a database that already has the schema.',
  options: {
    url: urlOption,
    scale: {
      type: 'string',
      valueName: 'N',
      description: 'grow the demo by about 10 000 movement rows per unit above 1 (benchmarks)',
      default: '1',
    },
    seed: { type: 'string', valueName: 'N', description: 'seed of the deterministic demo values', default: '1' },
    reset: { type: 'boolean', description: 'embedded only: delete the embedded database first' },
    json: { type: 'boolean', description: 'print the result as JSON' },
  },
  async run(ctx) {
    const opts = validateInitOptions({ scale: stringOption(ctx, 'scale'), seed: stringOption(ctx, 'seed') });
    const target = targetOf(ctx);
    assertSessionCapable(target, 'db init');
    if (flagOption(ctx, 'reset')) await resetEmbedded(target, ctx);
    return withDb(target, async (db) => {
      const result = await initFixture(db, opts, ctx.log);
      const summary = await readStockSummary(db);
      if (flagOption(ctx, 'json')) ctx.out(jsonText({ ...result, summary }));
      else {
        ctx.out(`initialised ${result.target} (scale ${result.scale}, seed ${result.seed}) in ${(result.ms / 1000).toFixed(1)} s\n\n`);
        ctx.out(renderStockSummaryText(summary));
      }
    });
  },
};

export const dbStatus: CommandSpec = {
  name: 'db status',
  summary: 'stock per tank and owner, and the trucks arrived but not yet received',
  options: { url: urlOption, json: { type: 'boolean', description: 'print the result as JSON' } },
  async run(ctx) {
    const target = targetOf(ctx);
    if (target.kind === 'embedded' && !(await pathExists(target.dataDir))) {
      throw new UserError('NO_DATABASE', `no embedded database in ${path.relative(ctx.cwd, target.dataDir)}`, {
        hint: 'run astm53b db init first',
      });
    }
    return withDb(target, async (db) => {
      const summary = await readStockSummary(db);
      ctx.out(flagOption(ctx, 'json') ? jsonText(summary) : renderStockSummaryText(summary));
    });
  },
};

export const dbLoadSchema: CommandSpec = {
  name: 'db load-schema',
  summary: 'load a pg_dump -s of ML_PP (e.g. the PROD snapshot of 2026-02-11) into an empty database, with the Supabase shim',
  positionals: [{ name: 'DUMP.sql', description: 'schema dump (plain SQL as written by pg_dump -s)', required: true }],
  options: { url: urlOption, reset: { type: 'boolean', description: 'embedded only: delete the embedded database first' } },
  async run(ctx) {
    const target = targetOf(ctx);
    assertSessionCapable(target, 'db load-schema');
    if (flagOption(ctx, 'reset')) await resetEmbedded(target, ctx);
    const file = path.resolve(ctx.cwd, ctx.positionals[0]!);
    return withDb(target, async (db) => {
      const r = await loadSchemaDump(db, file, ctx.positionals[0]!, ctx.log);
      ctx.out(
        `loaded ${r.file} into ${db.label}: ${r.reports.reduce((n, x) => n + x.statements, 0)} statements, ${r.dropped.length} skipped${r.shimApplied ? ', Supabase shim applied' : ''}\n`,
      );
    });
  },
};
