import path from 'node:path';
import { withDb } from '../../db/open.js';
import { assertSessionCapable } from '../../db/target.js';
import { renderDecisionMarkdown, renderDecisionText } from '../../report/decision.js';
import { renderSmokeMarkdown, renderSmokeText } from '../../report/smoke.js';
import { decide } from '../../runbook/decide.js';
import { buildSmokeOptions, runSmoke } from '../../runbook/smoke/index.js';
import type { CommandContext, CommandSpec } from '../command.js';
import { targetOf, urlOption } from './db.js';
import { runContextFrom } from '../../results/run-context.js';

/** Runbook 4.5 / 5.1–5.5 (smoke) and 6.1 / 7 (the GO/NO-GO decision). */

const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;
const str = (ctx: CommandContext, name: string) =>
  typeof ctx.values[name] === 'string' && ctx.values[name] !== '' ? (ctx.values[name] as string) : undefined;

export const smoke: CommandSpec = {
  name: 'smoke',
  summary: 'runbook 4.5, 5.1–5.5: a controlled reception and sortie as a real app user, through the real RPC, every check with its figures',
  details: [
    'Acts as an app user (JWT claims, SET LOCAL ROLE authenticated): --as-user, else the first profils row with role',
    'admin, directeur or gerant. Creates a test truck (plate ASTM53B-SMOKE …) in ARRIVE, receives it, validates a draft',
    "sortie with validate_sortie. The 15 °C volume of the reception is the engine's, with --profile, else the profile of",
    "--golden-result (golden.json), else ML_PP's own (1980/table/hydrometer). Passes the freeze in its own transactions.",
    '--compensate (default unless the database is marked staging) records stocks_adjustments that bring v_stock_actuel',
    'back; the report says which figures (journal, snapshot, v_stock_actuel) returned. Exit 0 all checks passed, 1 not.',
  ].join('\n'),
  options: {
    url: urlOption,
    'as-user': { type: 'string', valueName: 'UUID', description: 'profils.user_id to act as (admin, directeur or gerant)' },
    profile: { type: 'string', valueName: 'EDITION/ROUNDING/DENSITY', description: 'engine profile, e.g. 1980/table/hydrometer' },
    'golden-result': { type: 'string', valueName: 'FILE', description: 'golden.json of golden-verify: use the profile it settled' },
    'tolerance-l': { type: 'string', valueName: 'L', description: 'tolerance of the 15 °C volume, litres either side', default: '5' },
    compensate: { type: 'boolean', description: 'compensate the movements through stocks_adjustments (default: on unless staging)' },
    'no-compensate': { type: 'boolean', description: 'leave the movements uncompensated' },
    citerne: { type: 'string', valueName: 'UUID', description: 'the tank to use (default: an active GASOIL tank with a single owner)' },
    'run-id': {
      type: 'string',
      valueName: 'ID',
      description: 'run id recorded in the test rows (default: GITHUB_RUN_ID, else local-<time>)',
    },
    actor: { type: 'string', valueName: 'NAME', description: 'who runs this (default: GITHUB_ACTOR, else the OS user)' },
    json: { type: 'boolean', description: 'print the result as JSON' },
    markdown: { type: 'boolean', description: 'print the result as markdown' },
  },
  async run(ctx) {
    const golden = str(ctx, 'golden-result');
    const opts = await buildSmokeOptions({
      asUser: str(ctx, 'as-user'),
      profile: str(ctx, 'profile'),
      goldenResult: golden ? { path: path.resolve(ctx.cwd, golden), display: golden } : undefined,
      toleranceL: str(ctx, 'tolerance-l'),
      compensate: ctx.values['no-compensate'] === true ? false : ctx.values.compensate === true ? true : undefined,
      citerne: str(ctx, 'citerne'),
      run: runContextFrom(ctx.env, { runId: str(ctx, 'run-id'), actor: str(ctx, 'actor') }),
    });
    const target = targetOf(ctx);
    assertSessionCapable(target, 'smoke');
    return withDb(target, async (db) => {
      const r = await runSmoke(db, opts, ctx.log);
      ctx.out(ctx.values.json ? json(r) : ctx.values.markdown ? renderSmokeMarkdown(r) : renderSmokeText(r));
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
    results: { type: 'string', valueName: 'DIR', description: 'folder of the step results', default: 'astm53b-results' },
    signoff: { type: 'string', valueName: 'FILE', description: "the depot manager's sign-off record (JSON)" },
    json: { type: 'boolean', description: 'print decision.json' },
    markdown: { type: 'boolean', description: 'print the markdown summary' },
  },
  async run(ctx) {
    const signoff = str(ctx, 'signoff');
    const d = await decide(
      {
        resultsDir: path.resolve(ctx.cwd, str(ctx, 'results') ?? 'astm53b-results'),
        ...(signoff ? { signoff: path.resolve(ctx.cwd, signoff) } : {}),
      },
      ctx.log,
    );
    ctx.out(ctx.values.json ? json(d) : ctx.values.markdown ? renderDecisionMarkdown(d) : renderDecisionText(d));
    return d.decision === 'GO' ? 0 : 1;
  },
};

export const smokeCommands: CommandSpec[] = [smoke, decideCommand];
