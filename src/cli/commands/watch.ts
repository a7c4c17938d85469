import path from 'node:path';
import { readPublicKey, readSigningKey } from '../../crypto/signing.js';
import { withDb } from '../../db/open.js';
import { assertSessionCapable } from '../../db/target.js';
import { UserError } from '../../errors.js';
import { renderWatchMarkdown, renderWatchText } from '../../report/watch.js';
import { jsonText } from '../../results/io.js';
import { DEFAULT_COMPLAINT_LABEL, DEFAULT_INCIDENT_LABEL, DEFAULT_WINDOW_HOURS, watch } from '../../runbook/watch/index.js';
import { parseWindowHours, readComplaintFile } from '../../runbook/watch/options.js';
import type { CommandSpec } from '../command.js';
import { flagOption, pathOption, requiredOption, stringOption } from '../options.js';
import { jsonOption, runOf, runOptions } from '../run-options.js';
import { targetOf, urlOption } from './db.js';

/** Runbook 6.1 "réclamation terrain dans les 24h", 6.3: the same pass as actions/watch. */
export const watchCommand: CommandSpec = {
  name: 'watch',
  summary:
    'the 24 hours after a GO (runbook 6.1, 6.3): one read-only pass; a finding or a field complaint is a NO-GO, never a rollback by itself',
  details: [
    'Verifies the GO bundle (--go-bundle; its signature with --public-key) and reads its decision and what validate_sortie',
    'became. Then, in one read-only transaction: the 5.5 coherence checks over the whole database (the smoke’s); every',
    'reception and sortie entered since the GO against ASTM of its own inputs (±--tolerance-l); validate_sortie against the',
    `body the GO applied. Field complaints: --complaint FILE ({"who","what","when"}), and with --repository/GITHUB_TOKEN the`,
    `issues labelled --complaint-label (default ${DEFAULT_COMPLAINT_LABEL}) opened since the GO. A NO-GO opens (or comments on)`,
    `the incident issue (label ${DEFAULT_INCIDENT_LABEL}). Once the window (default ${DEFAULT_WINDOW_HOURS} h) is over, or with --close, the`,
    'closing pass also writes astm53b-watch-addendum.zip (watch.json, signed with --signing-key) tied to the GO bundle’s SHA-256.',
    'Exit 0 GO holds, 1 NO-GO, 2 bad input.',
  ].join('\n'),
  options: {
    url: urlOption,
    'go-bundle': { type: 'string', valueName: 'ZIP', description: 'the GO run’s evidence bundle' },
    'public-key': { type: 'string', valueName: 'FILE', description: 'the depot’s signing.pub: the GO bundle’s signature must hold' },
    'window-hours': { type: 'string', valueName: 'H', description: `length of the watch (default ${DEFAULT_WINDOW_HOURS})` },
    'tolerance-l': { type: 'string', valueName: 'L', description: 'ASTM tolerance per movement in litres (default 5)' },
    complaint: { type: 'string', valueName: 'FILE', description: 'a complaint given by hand: {"who","what","when"}' },
    repository: {
      type: 'string',
      valueName: 'OWNER/NAME',
      description: 'read complaints from and report the incident to its issues (token: GITHUB_TOKEN)',
    },
    'complaint-label': { type: 'string', valueName: 'LABEL', description: `default ${DEFAULT_COMPLAINT_LABEL}` },
    'incident-label': { type: 'string', valueName: 'LABEL', description: `default ${DEFAULT_INCIDENT_LABEL}` },
    close: { type: 'boolean', description: 'make this the closing pass now (addendum bundle)' },
    'signing-key': { type: 'string', valueName: 'FILE', description: 'the depot’s signing.key: signs the addendum' },
    out: { type: 'string', valueName: 'DIR', description: 'where watch.json (and the addendum) go', default: 'astm53b-watch' },
    ...runOptions,
    json: jsonOption,
    markdown: { type: 'boolean', description: 'print the markdown summary' },
  },
  async run(ctx) {
    const goBundle = path.resolve(ctx.cwd, requiredOption(ctx, 'go-bundle', 'the GO run’s evidence bundle'));
    const windowHours = parseWindowHours(stringOption(ctx, 'window-hours'));
    const tol = stringOption(ctx, 'tolerance-l');
    const toleranceL = tol === undefined ? undefined : Number(tol);
    if (toleranceL !== undefined && !(toleranceL >= 0))
      throw new UserError('BAD_OPTION', `--tolerance-l ${tol}: a number of litres, 0 or more`, { where: { field: 'tolerance-l' } });
    const complaintFile = pathOption(ctx, 'complaint');
    const complaints = complaintFile ? [await readComplaintFile(complaintFile)] : [];
    const keyFile = pathOption(ctx, 'public-key');
    const publicKey = keyFile ? await readPublicKey(keyFile) : undefined;
    const signFile = pathOption(ctx, 'signing-key');
    const signingKey = signFile ? await readSigningKey(signFile) : undefined;
    const repository = stringOption(ctx, 'repository');
    const token = ctx.env.GITHUB_TOKEN;
    if (repository && !token)
      throw new UserError('MISSING_OPTION', '--repository needs GITHUB_TOKEN in the environment (issues: write)', {
        where: { field: 'repository' },
      });
    const target = targetOf(ctx);
    assertSessionCapable(target, 'watch');
    return withDb(target, async (db) => {
      const w = await watch(
        db,
        {
          goBundle,
          outDir: path.resolve(ctx.cwd, stringOption(ctx, 'out') ?? 'astm53b-watch'),
          run: runOf(ctx),
          complaints,
          close: flagOption(ctx, 'close'),
          env: ctx.env,
          ...(publicKey ? { publicKey } : {}),
          ...(signingKey ? { signingKey } : {}),
          ...(windowHours ? { windowHours } : {}),
          ...(toleranceL !== undefined ? { toleranceL } : {}),
          ...(repository && token
            ? {
                github: {
                  apiUrl: ctx.env.GITHUB_API_URL ?? 'https://api.github.com',
                  repository,
                  token,
                  ...(stringOption(ctx, 'complaint-label') ? { complaintLabel: stringOption(ctx, 'complaint-label') } : {}),
                  ...(stringOption(ctx, 'incident-label') ? { incidentLabel: stringOption(ctx, 'incident-label') } : {}),
                },
              }
            : {}),
        },
        ctx.log,
      );
      ctx.out(flagOption(ctx, 'json') ? jsonText(w) : flagOption(ctx, 'markdown') ? renderWatchMarkdown(w) : renderWatchText(w));
      return w.decision === 'GO-HOLDS' ? 0 : 1;
    });
  },
};
