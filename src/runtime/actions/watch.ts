import * as core from '@actions/core';
import { z } from 'zod';
import { readPublicKey } from '../../crypto/signing.js';
import { withDb } from '../../db/open.js';
import { assertSessionCapable, resolveTarget } from '../../db/target.js';
import { renderWatchMarkdown } from '../../report/watch.js';
import { runContextFrom } from '../../results/run-context.js';
import { DEFAULT_COMPLAINT_LABEL, DEFAULT_INCIDENT_LABEL, watch } from '../../runbook/watch/index.js';
import { parseComplaint, parseWindowHours } from '../../runbook/watch/options.js';
import { readDatabaseUrl, readInputs, readSigningKeyInput } from '../inputs.js';
import { runAction } from '../run.js';
import { UserError } from '../../errors.js';

/** actions/watch (runbook 6.1 "réclamation terrain dans les 24h", 6.3): the same pass as `astm53b watch`. */
const Inputs = z.object({
  'go-bundle': z.string().min(1),
  'public-key': z.string().optional(),
  'window-hours': z.string().optional(),
  'tolerance-l': z.string().optional(),
  complaint: z.string().optional(),
  'complaint-label': z.string().default(DEFAULT_COMPLAINT_LABEL),
  'incident-label': z.string().default(DEFAULT_INCIDENT_LABEL),
  close: z.enum(['true', 'false']).default('false'),
  'output-dir': z.string().default('astm53b-watch'),
});

export function watchAction(): Promise<void> {
  return runAction('watch', async (log) => {
    const url = readDatabaseUrl();
    const token = core.getInput('github-token');
    if (token) core.setSecret(token);
    const signingKey = readSigningKeyInput();
    const i = readInputs(Inputs);
    const keyFile = i['public-key'];
    const publicKey = keyFile ? await readPublicKey(keyFile) : undefined;
    const toleranceL = i['tolerance-l'] ? Number(i['tolerance-l']) : undefined;
    if (toleranceL !== undefined && !(toleranceL >= 0))
      throw new UserError('BAD_INPUT', `tolerance-l ${i['tolerance-l']}: a number of litres, 0 or more`, {
        where: { field: 'tolerance-l' },
      });
    const complaints = i.complaint?.trim() ? [parseComplaint(i.complaint, 'input complaint')] : [];
    const windowHours = parseWindowHours(i['window-hours']);
    const repository = process.env.GITHUB_REPOSITORY;
    const target = resolveTarget({ url, cwd: process.cwd() });
    assertSessionCapable(target, 'watch');
    const w = await withDb(target, (db) =>
      watch(
        db,
        {
          goBundle: i['go-bundle'],
          outDir: i['output-dir'],
          run: runContextFrom(process.env),
          complaints,
          close: i.close === 'true',
          ...(publicKey ? { publicKey } : {}),
          ...(signingKey ? { signingKey } : {}),
          ...(windowHours ? { windowHours } : {}),
          ...(toleranceL !== undefined ? { toleranceL } : {}),
          ...(token && repository
            ? {
                github: {
                  apiUrl: process.env.GITHUB_API_URL ?? 'https://api.github.com',
                  repository,
                  token,
                  complaintLabel: i['complaint-label'],
                  incidentLabel: i['incident-label'],
                },
              }
            : {}),
        },
        log,
      ),
    );
    core.setOutput('decision', w.decision);
    core.setOutput('closing', String(w.window.closing));
    core.setOutput('incident-issue', w.incident?.number ? String(w.incident.number) : '');
    core.setOutput('addendum', w.addendum ? `${i['output-dir']}/${w.addendum.path}` : '');
    core.setOutput('result-file', `${i['output-dir']}/watch.json`);
    await core.summary.addRaw(renderWatchMarkdown(w)).write();
    if (w.decision === 'NO-GO')
      return {
        failure: `NO-GO under runbook 6.1: ${w.reasons.map((r) => r.condition).join('; ')} (the watch does not roll back: a person decides)`,
      };
    return undefined;
  });
}
