import path from 'node:path';
import { withDb } from '../../db/open.js';
import { assertSessionCapable } from '../../db/target.js';
import { renderRestateMarkdown, renderRestateText } from '../../report/restate.js';
import { jsonText } from '../../results/io.js';
import { RESTATE_THRESHOLD_L, buildRestateOptions, restate } from '../../runbook/restate.js';
import type { CommandSpec } from '../command.js';
import { flagOption, stringOption } from '../options.js';
import { jsonOption, runOf, runOptions, timeoutOptions, timeoutsOf } from '../run-options.js';
import { targetOf, urlOption } from './db.js';

/** Runbook §2 and 3.2, the same step as actions/restate. */
export const restateCommand: CommandSpec = {
  name: 'restate',
  summary:
    'runbook §2, 3.2: restate the receptions stored with the legacy 15 °C formula, one stocks_adjustments row each, booked as an app admin, proven before COMMIT',
  details: [
    'For each validated reception whose stored 15 °C volume (volume_15c, else volume_corrige_15c) differs from ASTM 53B of',
    `its own inputs by more than ±${RESTATE_THRESHOLD_L} L, books ONE stocks_adjustments row (RECEPTION, the reception, delta_15c = ASTM − stored,`,
    "delta_ambiant 0, a reason naming the run) through the app's own insert path: JWT claims, SET LOCAL ROLE authenticated, RLS",
    "and the table's triggers, as --as-user, else the first profils row with role admin. Receptions, journal and snapshot are",
    'not touched (DB-STRICT). ONE transaction under the pipeline lock with lock_timeout and statement_timeout, passing the',
    'freeze; before COMMIT, v_stock_actuel must have moved by exactly the adjustments on each tank and owner and nowhere else,',
    'else ROLLBACK and exit 1. A reception an earlier run restated is not booked again. The profile: --profile, else that of',
    "--golden-result (golden.json), else ML_PP's own (1980/table/hydrometer). Exit 0 done (or nothing to do), 1 the proof failed,",
    '2 bad input, unreachable target, or the database refused the app user (nothing booked).',
  ].join('\n'),
  options: {
    url: urlOption,
    'dry-run': { type: 'boolean', description: 'do everything, prove it, and roll back' },
    'as-user': {
      type: 'string',
      valueName: 'UUID',
      description: 'profils.user_id to book as (default: the first profils row with role admin)',
    },
    profile: { type: 'string', valueName: 'EDITION/ROUNDING/DENSITY', description: 'ASTM 53B profile, e.g. 1980/table/hydrometer' },
    'golden-result': { type: 'string', valueName: 'FILE', description: 'golden.json of golden-verify: use the profile it settled' },
    ...timeoutOptions,
    ...runOptions,
    json: { ...jsonOption, description: 'print restate.json' },
    markdown: { type: 'boolean', description: 'print the markdown summary' },
  },
  async run(ctx) {
    const golden = stringOption(ctx, 'golden-result');
    const opts = await buildRestateOptions({
      asUser: stringOption(ctx, 'as-user'),
      profile: stringOption(ctx, 'profile'),
      goldenResult: golden ? { path: path.resolve(ctx.cwd, golden), display: golden } : undefined,
      dryRun: flagOption(ctx, 'dry-run'),
      timeouts: timeoutsOf(ctx),
      run: runOf(ctx),
    });
    const target = targetOf(ctx);
    assertSessionCapable(target, 'restate');
    return withDb(target, async (db) => {
      const r = await restate(db, opts, ctx.log);
      ctx.out(flagOption(ctx, 'json') ? jsonText(r) : flagOption(ctx, 'markdown') ? renderRestateMarkdown(r) : renderRestateText(r));
      return r.ok ? 0 : 1;
    });
  },
};
