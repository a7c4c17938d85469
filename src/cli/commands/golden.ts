import path from 'node:path';
import { withDb } from '../../db/open.js';
import { goldenJsonSchema } from '../../golden/schema.js';
import { CANDIDATE_PROFILES, parseGoldenProfile, profileName } from '../../golden/profile.js';
import { driftReport } from '../../runbook/golden-drift.js';
import { runGoldenVerify } from '../../runbook/golden-run.js';
import { DEFAULT_GOLDEN_SOURCE } from '../../runbook/golden-source.js';
import { DEFAULT_TOLERANCE_L } from '../../runbook/golden-verify.js';
import { renderDriftText, renderGoldenMarkdown, renderGoldenText } from '../../report/golden.js';
import { jsonText } from '../../results/io.js';
import type { CommandSpec } from '../command.js';
import { flagOption, stringOption } from '../options.js';
import { parseToleranceL } from '../../golden/tolerance.js';
import { targetOf, urlOption } from './db.js';

const PROFILE_HELP = `profile EDITION/ROUNDING/DENSITY, one of: ${CANDIDATE_PROFILES.map(profileName).join(', ')}`;

const verify: CommandSpec = {
  name: 'golden verify',
  summary: 'compare every golden case: engine vs SEP (vs ML_PP with a database), ±5 L verdicts, SEP profile discovery, diagnosis',
  details: [
    'Cases come from FILE (CSV with the columns of ML_PP public.astm_golden_cases_15c, "," or French ";"',
    'export; or JSON) or, with --from-db, from that table in the target (rows with --source).',
    "With --url, cases linked to a reception (reception_id) are also compared with ML_PP's effective 15 °C",
    'volume: the one stored plus its restatement adjustments (astm53b restate); both are shown. The drift of',
    'every stored reception against ASTM 53B is reported too. With a FILE and no',
    '--url, no database is opened unless --with-db asks for the embedded one.',
    "Without --profile, the profile reproducing most of SEP's figures is used (the table of all profiles is",
    'printed). Exit code 0 when every case passes, 1 when one fails, 2 on bad input.',
  ].join('\n'),
  positionals: [{ name: 'FILE', description: 'golden cases (.csv or .json)' }],
  options: {
    'from-db': { type: 'boolean', description: 'read the cases from public.astm_golden_cases_15c' },
    'with-db': { type: 'boolean', description: 'with a FILE and no --url: compare with the embedded database too' },
    source: {
      type: 'string',
      valueName: 'SOURCE',
      description: 'with --from-db: rows whose source is this',
      default: DEFAULT_GOLDEN_SOURCE,
    },
    url: urlOption,
    profile: { type: 'string', valueName: 'PROFILE', description: PROFILE_HELP },
    'tolerance-l': {
      type: 'string',
      valueName: 'L',
      description: 'tolerance in litres, either side',
      default: String(DEFAULT_TOLERANCE_L),
    },
    json: { type: 'boolean', description: 'print the result as JSON' },
    markdown: { type: 'boolean', description: 'print the markdown job summary' },
  },
  async run(ctx) {
    const toleranceL = parseToleranceL(stringOption(ctx, 'tolerance-l'));
    const fileArg = ctx.positionals[0];
    const fromDb = flagOption(ctx, 'from-db');
    const hasUrl = stringOption(ctx, 'url') !== undefined;
    const report = await runGoldenVerify(
      {
        ...(fileArg ? { file: { path: path.resolve(ctx.cwd, fileArg), displayName: fileArg } } : {}),
        fromDb,
        ...(fromDb ? { source: stringOption(ctx, 'source') ?? DEFAULT_GOLDEN_SOURCE } : {}),
        // without --url, the embedded database (as every database command) when asked for
        ...(hasUrl || fromDb || flagOption(ctx, 'with-db') ? { target: targetOf(ctx) } : {}),
        ...(stringOption(ctx, 'profile') ? { profile: stringOption(ctx, 'profile')! } : {}),
        toleranceL,
      },
      ctx.log,
    );
    ctx.out(
      flagOption(ctx, 'json') ? jsonText(report) : flagOption(ctx, 'markdown') ? renderGoldenMarkdown(report) : renderGoldenText(report),
    );
    return report.passed ? 0 : 1;
  },
};

const drift: CommandSpec = {
  name: 'golden drift',
  summary: 'stored 15 °C volume of every reception against its ASTM 53B recomputation, per reception, tank and total (read-only)',
  options: {
    url: urlOption,
    profile: { type: 'string', valueName: 'PROFILE', description: PROFILE_HELP, default: profileName(CANDIDATE_PROFILES[0]!) },
    json: { type: 'boolean', description: 'print the result as JSON' },
  },
  async run(ctx) {
    const profile = parseGoldenProfile(stringOption(ctx, 'profile') ?? '');
    const report = await withDb(targetOf(ctx), (db) =>
      db.withTransaction((tx) => driftReport(tx, { profile }, ctx.log), { readOnly: true }),
    );
    ctx.out(flagOption(ctx, 'json') ? jsonText(report) : renderDriftText(report));
  },
};

const schema: CommandSpec = {
  name: 'golden schema',
  summary: 'print the JSON Schema of a golden-case file (as committed in golden/golden-cases.schema.json)',
  options: {},
  async run(ctx) {
    ctx.out(`${JSON.stringify(goldenJsonSchema(), null, 2)}\n`);
  },
};

export const goldenCommands: CommandSpec[] = [verify, drift, schema];
