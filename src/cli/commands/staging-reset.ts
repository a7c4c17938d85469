import { withDb } from '../../db/open.js';
import { assertSessionCapable, type Target } from '../../db/target.js';
import { CHANGE_FILES } from '../../paths.js';
import { renderResetText } from '../../report/staging-reset.js';
import { jsonText } from '../../results/io.js';
import { loadResetFile, stagingReset } from '../../runbook/staging-reset.js';
import type { CommandSpec } from '../command.js';
import { flagOption, pathOption, stringOption } from '../options.js';
import { jsonOption, runOf, runOptions, timeoutOptions, timeoutsOf } from '../run-options.js';
import { targetOf, urlOption } from './db.js';

/** Runbook 3.5, the same step as actions/staging-reset. */
export const stagingResetCommand: CommandSpec = {
  name: 'staging-reset',
  summary: 'runbook 3.5: the "CDR only" reset, on a staging-marked database only, with its invariant proved before COMMIT',
  details: `Default file: sql/${CHANGE_FILES.resetCdrOnly}. Refuses (touching nothing) a database marked prod or not marked.`,
  options: {
    url: urlOption,
    file: { type: 'string', valueName: 'FILE', description: "the depot's own reset file instead of ours" },
    ...timeoutOptions,
    ...runOptions,
    json: jsonOption,
  },
  async run(ctx) {
    const given = pathOption(ctx, 'file');
    const file = await loadResetFile(given ? { path: given, display: stringOption(ctx, 'file')! } : undefined);
    const target: Target = targetOf(ctx);
    assertSessionCapable(target, 'staging-reset');
    const opts = { file, url: target.kind === 'pg' ? target.url : undefined, run: runOf(ctx), ...timeoutsOf(ctx) };
    return withDb(target, async (db) => {
      const r = await stagingReset(db, opts, ctx.log);
      ctx.out(flagOption(ctx, 'json') ? jsonText(r) : renderResetText(r));
      return r.ok ? 0 : 1;
    });
  },
};
