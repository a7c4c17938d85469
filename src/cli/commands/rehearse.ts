import path from 'node:path';
import { withDb } from '../../db/open.js';
import { assertSessionCapable, resolveTarget } from '../../db/target.js';
import { UserError } from '../../errors.js';
import { CHANGE_FILES } from '../../paths.js';
import { AFTER_GO_DRILLS, DRILLS } from '../../rehearsal/drills.js';
import { loadRehearsalInputs } from '../../rehearsal/inputs.js';
import { plainProgress, terminalProgress } from '../../rehearsal/progress.js';
import { rehearse as rehearseRunbook } from '../../rehearsal/rehearse.js';
import { renderCompatText } from '../../report/compat.js';
import { renderDecisionText } from '../../report/decision.js';
import { renderStockSummaryText } from '../../report/stock-summary.js';
import { runContextFrom } from '../../results/run-context.js';
import { checkCompat } from '../../runbook/compat.js';
import { initFixture, validateInitOptions } from '../../runbook/db-init.js';
import { readStockSummary } from '../../runbook/stock-summary.js';
import type { CommandContext, CommandSpec } from '../command.js';
import { parseRecipients, readIdentityFile } from '../../crypto/age.js';
import type { RehearsalOptions } from '../../rehearsal/rehearse.js';
import { flagOption, listOption, pathOption, stringOption } from '../options.js';
import { readSigningKey } from '../../crypto/signing.js';
import { resetEmbedded } from './db.js';

/**
 * The main job: the whole runbook rehearsed in the PROD workflow's order, ending with a verified
 * evidence bundle. Without --url on a fresh embedded demo depot; with --url on a real PostgreSQL
 * that already holds ML_PP (e.g. a restored copy of PROD). Exit 0 GO, 1 NO-GO, 2 bad input
 * (refused before anything is touched), 3 a bug; `--expect NO-GO` turns the expected outcome into
 * exit 0 (the README's main job: the runbook as written must end NO-GO).
 */
const REMEDIED = `--change sql/${CHANGE_FILES.p0_1} --restate --signoff FILE`;

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
  summary: 'rehearse the whole runbook (embedded demo, or --url) in the PROD order and build the evidence bundle (the README main job)',
  details: [
    'Without --url: deletes and recreates ./.astm53b/pgdata (the demo depot). Then: preflight (a failure stops the run',
    'before the freeze), freeze, verified backup, the change file(s), golden cases, smoke, the sign-off, decision; GO lifts',
    'the freeze, NO-GO rolls back to the verified dump (proven) and lifts it; the evidence bundle is built and verified.',
    'Exit 0 GO, 1 NO-GO, 2 bad input (nothing touched), 3 a bug. With --expect GO|NO-GO: exit 0 when the outcome is',
    'the expected one, 1 when not.',
    `The runbook as written (ML_PP's P0) ends NO-GO; the remedied run: ${REMEDIED}.`,
    `Drills (on the remedied run): ${Object.keys(DRILLS).join(', ')}.`,
  ].join('\n'),
  options: {
    url: {
      type: 'string',
      valueName: 'URL',
      description: 'run on this PostgreSQL (postgresql://… or env:NAME); it must hold ML_PP already',
    },
    scale: { type: 'string', valueName: 'N', description: 'demo size, embedded only (see db init)', default: '1' },
    seed: { type: 'string', valueName: 'N', description: 'seed of the demo values, embedded only', default: '1' },
    golden: { type: 'string', valueName: 'FILE', description: 'golden cases (default golden/demo-golden-cases.csv)' },
    change: {
      type: 'string',
      multiple: true,
      valueName: 'FILE',
      description: `change file, applied in order (default sql/${CHANGE_FILES.p0})`,
    },
    signoff: {
      type: 'string',
      valueName: 'FILE',
      description: "the depot manager's sign-off record given for the rehearsal (without it: NO-GO)",
    },
    'flutter-commit': { type: 'string', valueName: 'SHA', description: 'Flutter commit to record as deployed' },
    restate: { type: 'boolean', description: 'restate the receptions stored with the legacy formula after the change (runbook §2)' },
    drill: { type: 'string', valueName: 'NAME', description: `a failure drill: ${Object.keys(DRILLS).join(', ')}` },
    expect: { type: 'string', valueName: 'GO|NO-GO', description: 'exit 0 when the decision is this one' },
    'encrypt-to': {
      type: 'string',
      multiple: true,
      valueName: 'RECIPIENT',
      description: "age recipient (age.pub) the backup's data files are encrypted to, as in PROD; needs --identity",
    },
    identity: { type: 'string', valueName: 'FILE', description: 'the matching age.key, with which the rollback decrypts the backup' },
    'signing-key': {
      type: 'string',
      valueName: 'FILE',
      description: "the depot's signing.key (astm53b keys new): the bundle's manifest is signed, and verified with its public half",
    },
    out: { type: 'string', valueName: 'DIR', description: 'results and bundle folder', default: '.astm53b/rehearsal' },
  },
  async run(ctx) {
    const expect = stringOption(ctx, 'expect');
    if (expect !== undefined && expect !== 'GO' && expect !== 'NO-GO') {
      throw new UserError('BAD_OPTION', `--expect takes GO or NO-GO, got "${expect.slice(0, 20)}"`, { where: { field: 'expect' } });
    }
    const url = stringOption(ctx, 'url');
    const init = url ? undefined : validateInitOptions({ scale: stringOption(ctx, 'scale'), seed: stringOption(ctx, 'seed') });
    // every input is read and checked before the database is opened
    const given = (name: string) => {
      const v = stringOption(ctx, name);
      return v === undefined ? undefined : { path: path.resolve(ctx.cwd, v), display: v };
    };
    const inputs = await loadRehearsalInputs({
      golden: given('golden'),
      changes: listOption(ctx, 'change').map((c) => ({ path: path.resolve(ctx.cwd, c), display: c })),
      signoff: given('signoff'),
      drill: stringOption(ctx, 'drill'),
    });
    if (
      inputs.drill &&
      AFTER_GO_DRILLS.includes(inputs.drill) &&
      (!inputs.signoff || !flagOption(ctx, 'restate') || !listOption(ctx, 'change').length)
    )
      throw new UserError('BAD_OPTION', `--drill ${inputs.drill} starts from a GO: give the remedied run too (${REMEDIED})`, {
        where: { field: 'drill' },
      });
    const encryption = await encryptionOf(ctx);
    const keyFile = pathOption(ctx, 'signing-key');
    const signingKey = keyFile ? await readSigningKey(keyFile) : undefined;
    const target = resolveTarget({ url, cwd: ctx.cwd });
    assertSessionCapable(target, 'rehearse');
    if (!url) await resetEmbedded(target, ctx);
    const progress = ctx.interactive
      ? await terminalProgress(ctx.log)
      : plainProgress(ctx.err ?? ((line) => ctx.log.info(line.trimEnd())), ctx.log);
    return withDb(target, async (db) => {
      if (init) {
        const made = await initFixture(db, init, ctx.log);
        ctx.out(`db init: ${made.files.length} SQL files in ${(made.ms / 1000).toFixed(1)} s on ${made.target}\n`);
      }
      const compat = await checkCompat(db, ctx.log);
      ctx.out(renderCompatText(compat));
      if (!compat.compatible && !url)
        throw new UserError('INCOMPATIBLE', 'the fixture does not satisfy the pipeline’s requirements (a bug in sql/)');
      ctx.out(`\n${renderStockSummaryText(await readStockSummary(db))}\n`);
      const flutterCommit = stringOption(ctx, 'flutter-commit');
      const r = await rehearseRunbook(
        db,
        {
          outDir: pathOption(ctx, 'out') ?? path.resolve(ctx.cwd, '.astm53b/rehearsal'),
          inputs,
          restate: flagOption(ctx, 'restate'),
          ...(encryption ? { encryption } : {}),
          ...(signingKey ? { signingKey } : {}),
          run: runContextFrom(ctx.env, { runId: `rehearsal-${new Date().toISOString().replace(/[:.]/g, '-')}` }),
          progress,
          ...(flutterCommit ? { flutterCommit } : {}),
        },
        ctx.log,
      );
      const width = Math.max(...r.steps.map((s) => s.step.length));
      ctx.out('Runbook rehearsal\n');
      for (const s of r.steps) ctx.out(`  ${s.ok ? 'ok  ' : 'FAIL'}  ${s.step.padEnd(width)}  (${s.runbook})  ${s.summary}\n`);
      ctx.out(`\n${renderDecisionText(r.decision)}\n`);
      if (r.freezeWindowMs !== null) ctx.out(`freeze window (freeze on → decision): ${(r.freezeWindowMs / 1000).toFixed(1)} s\n`);
      ctx.out(`evidence bundle: ${path.relative(ctx.cwd, r.bundle.out)} sha256 ${r.bundle.sha256}\n`);
      ctx.out(`verify it with: npx astm53b evidence verify ${path.relative(ctx.cwd, r.bundle.out)}\n`);
      if (r.afterGoBundle)
        ctx.out(`after the GO (watch, late rollback): ${path.relative(ctx.cwd, r.afterGoBundle.out)} sha256 ${r.afterGoBundle.sha256}\n`);
      if (inputs.drill) ctx.out(`drill ${inputs.drill}: ${DRILLS[inputs.drill].simulates}\n`);
      if (inputs.drill && AFTER_GO_DRILLS.includes(inputs.drill) && r.afterGoOk !== true) {
        ctx.out(
          `drill ${inputs.drill}: FAILED: ${r.afterGoOk === false ? 'an after-GO step did not show what it must (above)' : 'the run never reached GO'}\n`,
        );
        return 1;
      }
      if (r.decision.decision !== 'GO' && !inputs.drill && !listOption(ctx, 'change').length) {
        ctx.out(`\nThe runbook as written ends NO-GO. The remedied run (our corrected change file, the restatement, a sign-off):\n`);
        ctx.out(`  npx astm53b rehearse ${REMEDIED}\n`);
      }
      if (!r.verification.ok) return 1;
      if (expect) return r.decision.decision === expect ? 0 : 1;
      return r.decision.decision === 'GO' ? 0 : 1;
    });
  },
};
