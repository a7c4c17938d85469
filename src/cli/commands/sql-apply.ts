import path from 'node:path';
import { withDb } from '../../db/open.js';
import { assertSessionCapable } from '../../db/target.js';
import { renderApplyText } from '../../report/sql-apply.js';
import { jsonText } from '../../results/io.js';
import { loadChangeFile } from '../../runbook/change-file.js';
import { applyChangeFile, parseExpectedFunctions } from '../../runbook/sql-apply.js';
import type { CommandSpec } from '../command.js';
import { flagOption, stringOption } from '../options.js';
import { jsonOption, runOf, runOptions, timeoutOptions, timeoutsOf } from '../run-options.js';
import { targetOf, urlOption } from './db.js';

/** Runbook 4.3, the same step as actions/sql-apply (`apply` is its older name, kept as an alias). */
export const sqlApplyCommand: CommandSpec = {
  name: 'sql-apply',
  aliases: ['apply'],
  summary: 'runbook 4.3: apply a change file in one transaction, proving before COMMIT that only the expected functions changed',
  details:
    'The file is framed in ONE transaction (its own BEGIN/COMMIT are dropped) under an advisory lock, with lock_timeout and\n' +
    'statement_timeout. Before COMMIT: each expected function replaced, SECURITY DEFINER, search_path=public; no other\n' +
    'function, trigger, policy, RLS switch or grant changed. Otherwise ROLLBACK and exit 1. The ledger (astm53b.apply_ledger)\n' +
    'makes the same file a no-op the second time (while the live catalog is still its after-state; otherwise DRIFT, exit 1),\n' +
    'refuses a different file under an applied name, and applies again a file a rollback undid. A file that inserts, updates\n' +
    'or deletes rows of application tables is rejected unless --allow-data says why.',
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
    'allow-data': {
      type: 'string',
      valueName: 'REASON',
      description: 'the file also changes rows of application tables on purpose: why (recorded); without it such a file is rejected',
    },
    ...timeoutOptions,
    ...runOptions,
    json: { ...jsonOption, description: 'print the full result (fingerprints before/after, diff) as JSON' },
  },
  async run(ctx) {
    const given = ctx.positionals[0]!;
    const file = await loadChangeFile(path.resolve(ctx.cwd, given), given);
    const opts = {
      file,
      expectFunctions: parseExpectedFunctions(stringOption(ctx, 'expect-functions')),
      dryRun: flagOption(ctx, 'dry-run'),
      ...(stringOption(ctx, 'allow-data') ? { allowData: stringOption(ctx, 'allow-data')! } : {}),
      ...timeoutsOf(ctx),
      run: runOf(ctx),
    };
    const target = targetOf(ctx);
    assertSessionCapable(target, 'sql-apply');
    return withDb(target, async (db) => {
      const r = await applyChangeFile(db, opts, ctx.log);
      ctx.out(flagOption(ctx, 'json') ? jsonText(r) : renderApplyText(r));
      return r.ok ? 0 : 1;
    });
  },
};
