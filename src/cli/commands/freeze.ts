import { withDb } from '../../db/open.js';
import { assertSessionCapable } from '../../db/target.js';
import { UserError } from '../../errors.js';
import { renderFreezeText } from '../../report/freeze.js';
import { jsonText } from '../../results/io.js';
import { freezeOff, freezeOn, freezeStatus } from '../../runbook/freeze.js';
import type { CommandSpec } from '../command.js';
import { flagOption, integerOption, stringOption } from '../options.js';
import { jsonOption, runOf, runOptions } from '../run-options.js';
import { targetOf, urlOption } from './db.js';

/** Runbook 3.4 / 4.1, the same step as actions/freeze. */
export const freezeCommand: CommandSpec = {
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
    json: jsonOption,
  },
  async run(ctx) {
    const what = ctx.positionals[0];
    if (what !== 'on' && what !== 'off' && what !== 'status')
      throw new UserError('BAD_ARGUMENTS', `freeze takes on, off or status, got "${String(what).slice(0, 20)}"`);
    const windowMinutes = integerOption(ctx, 'window-minutes', { min: 0, max: 1440, unit: 'minutes' }) ?? 15;
    const target = targetOf(ctx);
    if (what !== 'status') assertSessionCapable(target, `freeze ${what}`);
    const run = what === 'status' ? undefined : runOf(ctx);
    const reason = stringOption(ctx, 'reason') ?? '';
    return withDb(target, async (db) => {
      const r =
        what === 'status'
          ? await freezeStatus(db)
          : what === 'on'
            ? await freezeOn(db, { reason, force: flagOption(ctx, 'force'), run: run!, windowMinutes }, ctx.log)
            : await freezeOff(db, { reason, run: run! }, ctx.log);
      ctx.out(flagOption(ctx, 'json') ? jsonText(r) : renderFreezeText(r));
      return r.consistent ? 0 : 1;
    });
  },
};
