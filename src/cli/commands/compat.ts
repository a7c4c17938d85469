import { withDb } from '../../db/open.js';
import { checkCompat } from '../../runbook/compat.js';
import { renderCompatText } from '../../report/compat.js';
import type { CommandSpec } from '../command.js';
import { flagOption } from '../options.js';
import { jsonText } from '../../results/io.js';
import { targetOf, urlOption } from './db.js';

export const compat: CommandSpec = {
  name: 'compat',
  summary: 'list what the pipeline relies on in the target database and what is missing or different (read-only)',
  details: 'Exit code 0 when compatible, 1 when something required is missing or different.',
  options: {
    url: urlOption,
    json: { type: 'boolean', description: 'print the result as JSON' },
    verbose: { type: 'boolean', description: 'list every checked object, not only the problems' },
  },
  async run(ctx) {
    return withDb(targetOf(ctx), async (db) => {
      const r = await checkCompat(db, ctx.log);
      ctx.out(flagOption(ctx, 'json') ? jsonText(r) : renderCompatText(r, { verbose: flagOption(ctx, 'verbose') }));
      return r.compatible ? 0 : 1;
    });
  },
};
