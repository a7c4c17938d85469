import path from 'node:path';
import { withDb } from '../../db/open.js';
import { initFixture, validateInitOptions } from '../../runbook/db-init.js';
import { checkCompat } from '../../runbook/compat.js';
import { rehearse as rehearseRunbook } from '../../rehearsal/rehearse.js';
import { readStockSummary } from '../../runbook/stock-summary.js';
import { renderCompatText } from '../../report/compat.js';
import { renderDecisionText } from '../../report/decision.js';
import { renderStockSummaryText } from '../../report/stock-summary.js';
import { UserError } from '../../errors.js';
import type { CommandContext, CommandSpec } from '../command.js';
import { listOption, pathOption, stringOption } from '../options.js';
import { parseRecipients, readIdentityFile } from '../../crypto/age.js';
import type { RehearsalOptions } from '../../rehearsal/rehearse.js';
import { resetEmbedded, targetOf } from './db.js';
import { runContextFrom } from '../../results/run-context.js';

/**
 * The main job: the whole runbook rehearsed on a fresh embedded database, in the PROD
 * workflow's order, ending with a verified evidence bundle. The demo's honest outcome is
 * NO-GO (the receptions already stored use the legacy formula, ML_PP's P0 leaves the
 * snapshot behind the journal, and nobody signed), so it also rehearses the rollback.
 * Exit 0 when every step ran and the bundle verifies, whatever the decision.
 */
/** Both or neither: a NO-GO rehearsal rolls back, and an encrypted backup is restored only with its identity. */
async function encryptionOf(ctx: CommandContext): Promise<RehearsalOptions['encryption']> {
  const recipients = parseRecipients(listOption(ctx, 'encrypt-to'));
  const file = pathOption(ctx, 'identity');
  if (!recipients.length && !file) return undefined;
  if (!file || !recipients.length) {
    throw new UserError('MISSING_OPTION', '--encrypt-to and --identity go together: the rehearsal restores the encrypted backup on NO-GO', {
      where: { field: file ? 'encrypt-to' : 'identity' },
    });
  }
  return { recipients, identity: await readIdentityFile(file) };
}

export const rehearse: CommandSpec = {
  name: 'rehearse',
  summary: 'rehearse the whole runbook on a fresh embedded database and build the evidence bundle (the README main job)',
  details:
    'Deletes and recreates ./.astm53b/pgdata (the demo depot), then: compat, preflight, freeze, verified backup,\n' +
    'the P0 change, golden cases, smoke, decision, rollback on NO-GO, freeze lifted, evidence bundle built and\n' +
    'verified in ./.astm53b/rehearsal/. Exit 0 when every step ran and the bundle verifies (GO or NO-GO).',
  options: {
    scale: { type: 'string', valueName: 'N', description: 'demo size (see db init)', default: '1' },
    seed: { type: 'string', valueName: 'N', description: 'seed of the demo values', default: '1' },
    golden: { type: 'string', valueName: 'FILE', description: 'golden cases (default golden/demo-golden-cases.csv)' },
    signoff: { type: 'string', valueName: 'FILE', description: "the depot manager's sign-off record (without it the decision is NO-GO)" },
    'flutter-commit': { type: 'string', valueName: 'SHA', description: 'Flutter commit to record as deployed' },
    out: { type: 'string', valueName: 'DIR', description: 'results and bundle folder', default: '.astm53b/rehearsal' },
    'encrypt-to': {
      type: 'string',
      multiple: true,
      valueName: 'RECIPIENT',
      description: "age recipient (age.pub) the backup's data files are encrypted to, as in PROD; needs --identity",
    },
    identity: { type: 'string', valueName: 'FILE', description: 'the matching age.key, with which the rollback decrypts the backup' },
  },
  async run(ctx) {
    const opts = validateInitOptions({ scale: stringOption(ctx, 'scale'), seed: stringOption(ctx, 'seed') });
    const encryption = await encryptionOf(ctx);
    const target = targetOf({ ...ctx, values: {} });
    await resetEmbedded(target, ctx);
    return withDb(target, async (db) => {
      const init = await initFixture(db, opts, ctx.log);
      ctx.out(`db init: ${init.files.length} SQL files in ${(init.ms / 1000).toFixed(1)} s on ${init.target}\n`);
      const compat = await checkCompat(db, ctx.log);
      ctx.out(renderCompatText(compat));
      if (!compat.compatible)
        throw new UserError('INCOMPATIBLE', 'the fixture does not satisfy the pipeline’s requirements (a bug in sql/)');
      ctx.out(`\n${renderStockSummaryText(await readStockSummary(db))}\n`);
      const golden = pathOption(ctx, 'golden');
      const signoff = pathOption(ctx, 'signoff');
      const flutterCommit = stringOption(ctx, 'flutter-commit');
      const r = await rehearseRunbook(
        db,
        {
          outDir: pathOption(ctx, 'out') ?? path.resolve(ctx.cwd, '.astm53b/rehearsal'),
          run: runContextFrom(ctx.env, { runId: `rehearsal-${new Date().toISOString().replace(/[:.]/g, '-')}` }),
          ...(golden ? { golden } : {}),
          ...(signoff ? { signoff } : {}),
          ...(flutterCommit ? { flutterCommit } : {}),
          ...(encryption ? { encryption } : {}),
        },
        ctx.log,
      );
      const width = Math.max(...r.steps.map((s) => s.step.length));
      ctx.out('Runbook rehearsal\n');
      for (const s of r.steps) ctx.out(`  ${s.ok ? 'ok  ' : 'FAIL'}  ${s.step.padEnd(width)}  (${s.runbook})  ${s.summary}\n`);
      ctx.out(`\n${renderDecisionText(r.decision)}\n`);
      ctx.out(`evidence bundle: ${path.relative(ctx.cwd, r.bundle.out)} sha256 ${r.bundle.sha256}\n`);
      ctx.out(`verify it with: npx astm53b evidence verify ${path.relative(ctx.cwd, r.bundle.out)}\n`);
      return r.verification.ok ? 0 : 1;
    });
  },
};
