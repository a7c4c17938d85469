import path from 'node:path';
import { withDb } from '../../db/open.js';
import { assertSessionCapable } from '../../db/target.js';
import { renderDecisionMarkdown, renderDecisionText } from '../../report/decision.js';
import { renderSmokeMarkdown, renderSmokeText } from '../../report/smoke.js';
import { decide } from '../../runbook/decide.js';
import { buildSmokeOptions, runSmoke } from '../../runbook/smoke/index.js';
import type { CommandSpec } from '../command.js';
import { targetOf, urlOption } from './db.js';
import { DEFAULT_RESULTS_DIR } from '../../results/files.js';
import { jsonText } from '../../results/io.js';
import { flagOption, stringOption } from '../options.js';
import { runOf, runOptions } from '../run-options.js';

/** Runbook 4.5 / 5.1–5.5 (smoke) and 6.1 / 7 (the GO/NO-GO decision). */

export const smoke: CommandSpec = {
  name: 'smoke',
  summary: 'runbook 4.5, 5.1–5.5: a controlled reception and sortie as a real app user, through the real RPC, every check with its figures',
  details: [
    'Acts as an app user (JWT claims, SET LOCAL ROLE authenticated): --as-user, else the first profils row with role',
    'admin, directeur or gerant. On a tank preferably holding PARTENAIRE stock too, gives PARTENAIRE a journal row of the',
    'day by a reception if it has none (so that validate_sortie debiting another owner shows), creates a test truck',
    '(plate ASTM53B-SMOKE …) in ARRIVE, receives it, validates a draft MONALUXE sortie with validate_sortie.',
    "The 15 °C volume of the reception is the engine's, with --profile, else the profile of",
    "--golden-result (golden.json), else ML_PP's own (1980/table/hydrometer). The movements and every check on them",
    '(5.3–5.5) run in one transaction that is rolled back, each app request a savepoint with its own role, claims and',
    'flags; it passes the freeze. Nothing is ever committed, even when killed; the report proves the tank is as before.',
    'Exit 0 all checks passed, 1 not.',
  ].join('\n'),
  options: {
    url: urlOption,
    'as-user': { type: 'string', valueName: 'UUID', description: 'profils.user_id to act as (admin, directeur or gerant)' },
    profile: { type: 'string', valueName: 'EDITION/ROUNDING/DENSITY', description: 'engine profile, e.g. 1980/table/hydrometer' },
    'golden-result': { type: 'string', valueName: 'FILE', description: 'golden.json of golden-verify: use the profile it settled' },
    'tolerance-l': { type: 'string', valueName: 'L', description: 'tolerance of the 15 °C volume, litres either side', default: '5' },
    citerne: {
      type: 'string',
      valueName: 'UUID',
      description: 'the tank to use (default: an active GASOIL tank with room, preferring one where PARTENAIRE holds stock too)',
    },
    ...runOptions,
    json: { type: 'boolean', description: 'print the result as JSON' },
    markdown: { type: 'boolean', description: 'print the result as markdown' },
  },
  async run(ctx) {
    const golden = stringOption(ctx, 'golden-result');
    const opts = await buildSmokeOptions({
      asUser: stringOption(ctx, 'as-user'),
      profile: stringOption(ctx, 'profile'),
      goldenResult: golden ? { path: path.resolve(ctx.cwd, golden), display: golden } : undefined,
      toleranceL: stringOption(ctx, 'tolerance-l'),
      citerne: stringOption(ctx, 'citerne'),
      run: runOf(ctx),
    });
    const target = targetOf(ctx);
    assertSessionCapable(target, 'smoke');
    return withDb(target, async (db) => {
      const r = await runSmoke(db, opts, ctx.log);
      ctx.out(flagOption(ctx, 'json') ? jsonText(r) : flagOption(ctx, 'markdown') ? renderSmokeMarkdown(r) : renderSmokeText(r));
      return r.passed ? 0 : 1;
    });
  },
};

export const decideCommand: CommandSpec = {
  name: 'decide',
  summary:
    'runbook 6.1, 7: GO only when preflight, verified backup, apply, golden, smoke and the sign-off all passed; NO-GO lists every reason',
  details: [
    'Reads DIR/preflight.json, DIR/backup/ (or DIR/manifest.json + verification.json: re-verified), DIR/sql-apply.json,',
    'DIR/golden.json, DIR/smoke.json and the sign-off (--signoff FILE, else DIR/signoff.json:',
    '{"who": "…", "role": "responsable dépôt", "decision": "GO"|"NO-GO", "at": "2026-03-11T22:40:00+01:00", "comment": "…"}).',
    'A missing or unreadable file is a NO-GO with that reason. Exit 0 GO, 1 NO-GO.',
  ].join('\n'),
  options: {
    results: { type: 'string', valueName: 'DIR', description: 'folder of the step results', default: DEFAULT_RESULTS_DIR },
    signoff: { type: 'string', valueName: 'FILE', description: "the depot manager's sign-off record (JSON)" },
    json: { type: 'boolean', description: 'print decision.json' },
    markdown: { type: 'boolean', description: 'print the markdown summary' },
  },
  async run(ctx) {
    const signoff = stringOption(ctx, 'signoff');
    const d = await decide(
      {
        resultsDir: path.resolve(ctx.cwd, stringOption(ctx, 'results') ?? DEFAULT_RESULTS_DIR),
        ...(signoff ? { signoff: path.resolve(ctx.cwd, signoff) } : {}),
      },
      ctx.log,
    );
    ctx.out(flagOption(ctx, 'json') ? jsonText(d) : flagOption(ctx, 'markdown') ? renderDecisionMarkdown(d) : renderDecisionText(d));
    return d.decision === 'GO' ? 0 : 1;
  },
};

export const smokeCommands: CommandSpec[] = [smoke, decideCommand];
