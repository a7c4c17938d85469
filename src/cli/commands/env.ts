import { withDb } from '../../db/open.js';
import { assertSessionCapable, type Target } from '../../db/target.js';
import { jsonText } from '../../results/io.js';
import { assertProjectRef, parseEnvName, readEnvironment, setEnvironment } from '../../runbook/environment.js';
import type { CommandSpec } from '../command.js';
import { flagOption, stringOption } from '../options.js';
import { jsonOption, runOf, runOptions } from '../run-options.js';
import { targetOf, urlOption } from './db.js';

/** The environment marker (sql/README-pipeline.md): which databases a reset may purge. */
const urlOf = (t: Target) => (t.kind === 'pg' ? t.url : undefined);

export const envSet: CommandSpec = {
  name: 'env set',
  summary: "mark the target database staging or prod (in the pipeline's own schema astm53b)",
  details:
    'On Supabase --project-ref is required and must be the project of the connection (user postgres.<ref>, or host\n' +
    "db.<ref>.supabase.co). A database carrying ML_PP's own marker public.app_settings env='staging' cannot be marked prod.\n" +
    'A prod marker is changed only with --override-prod "why"; every change is kept in astm53b.environment_log.',
  positionals: [{ name: 'ENV', description: 'staging or prod', required: true }],
  options: {
    url: urlOption,
    'project-ref': { type: 'string', valueName: 'REF', description: 'the Supabase project ref of the connection (required on Supabase)' },
    'override-prod': {
      type: 'string',
      valueName: 'REASON',
      description: 'change a prod marker (to staging, or another project): why, recorded with who and when',
    },
    ...runOptions,
    json: jsonOption,
  },
  async run(ctx) {
    const env = parseEnvName(ctx.positionals[0]);
    const run = runOf(ctx);
    const target = targetOf(ctx);
    assertSessionCapable(target, 'env set');
    const projectRef = stringOption(ctx, 'project-ref');
    assertProjectRef(urlOf(target), projectRef); // before connecting: bad input touches nothing
    return withDb(target, async (db) => {
      const m = await setEnvironment(
        db,
        { env, projectRef, url: urlOf(target), run, overrideProd: stringOption(ctx, 'override-prod') },
        ctx.log,
      );
      ctx.out(flagOption(ctx, 'json') ? jsonText(m) : `${db.label}: ${m.env} (${m.explanation})\n`);
    });
  },
};

export const envShow: CommandSpec = {
  name: 'env show',
  summary: 'which environment the target database is marked as (read-only)',
  options: { url: urlOption, json: jsonOption },
  async run(ctx) {
    return withDb(targetOf(ctx), async (db) => {
      const m = await db.withTransaction((tx) => readEnvironment(tx), { readOnly: true });
      ctx.out(flagOption(ctx, 'json') ? jsonText(m) : `${db.label}: ${m.env} (${m.explanation})\n`);
    });
  },
};

export const envCommands: CommandSpec[] = [envSet, envShow];
