import { withDb } from '../../db/open.js';
import { initFixture, validateInitOptions } from '../../runbook/db-init.js';
import { checkCompat } from '../../runbook/compat.js';
import { readStockSummary } from '../../runbook/stock-summary.js';
import { renderCompatText } from '../../report/compat.js';
import { renderStockSummaryText } from '../../report/stock-summary.js';
import type { CommandSpec } from '../command.js';
import { resetEmbedded, targetOf } from './db.js';

/**
 * The main job: a full runbook rehearsal on the embedded database. Today it builds the demo
 * depot as the runbook found PROD, proves the pipeline's requirements hold on it, and shows
 * the stock and the trucks waiting; the backup, apply, golden, smoke and decision steps join
 * it as they land.
 */
export const rehearse: CommandSpec = {
  name: 'rehearse',
  summary: 'rehearse the runbook on a fresh embedded database (the README main job)',
  details: 'Deletes and recreates ./.astm53b/pgdata, then runs every step available so far.',
  options: {
    scale: { type: 'string', valueName: 'N', description: 'demo size (see db init)', default: '1' },
    seed: { type: 'string', valueName: 'N', description: 'seed of the demo values', default: '1' },
  },
  async run(ctx) {
    const opts = validateInitOptions({ scale: ctx.values.scale, seed: ctx.values.seed });
    const target = targetOf({ ...ctx, values: {} });
    await resetEmbedded(target, ctx);
    return withDb(target, async (db) => {
      const init = await initFixture(db, opts, ctx.log);
      ctx.out(`step db init: ${init.files.length} SQL files in ${(init.ms / 1000).toFixed(1)} s on ${init.target}\n\n`);
      const compat = await checkCompat(db, ctx.log);
      ctx.out(`step compat:\n${renderCompatText(compat)}\n`);
      ctx.out(renderStockSummaryText(await readStockSummary(db)));
      return compat.compatible ? 0 : 1;
    });
  },
};
