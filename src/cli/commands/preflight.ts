import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { withDb } from '../../db/open.js';
import { readFingerprint } from '../../db/fingerprint.js';
import { UserError } from '../../errors.js';
import { renderPreflightText } from '../../report/preflight.js';
import { loadPreflightInputs, preflight, type FileRef } from '../../runbook/preflight.js';
import type { CommandContext, CommandSpec } from '../command.js';
import { flagOption, integerOption, listOption, stringOption } from '../options.js';
import { jsonText } from '../../results/io.js';
import { targetOf, urlOption } from './db.js';

const ref = (ctx: CommandContext, p: string): FileRef => ({ path: path.resolve(ctx.cwd, p), display: p });

export const preflightCommand: CommandSpec = {
  name: 'preflight',
  summary: 'runbook 3.3/4.1/4.4, read-only: inputs, hashes, compat, trucks waiting, activity, drift against the staging baseline',
  details:
    'Every input is validated before the database is opened. Exit 0 PASS, 1 FAIL (incompatible target, drift),\n' +
    '2 bad input. --baseline takes a fingerprint (astm53b fingerprint) or the apply result of the staging run.',
  options: {
    url: urlOption,
    golden: { type: 'string', valueName: 'FILE', description: 'golden cases (CSV or JSON), validated' },
    change: {
      type: 'string',
      multiple: true,
      valueName: 'FILE',
      description: 'change file to be applied (SHA-256 recorded, objects it touches listed)',
    },
    baseline: { type: 'string', valueName: 'FILE', description: 'catalog fingerprint recorded by the staging run before the change' },
    'flutter-commit': { type: 'string', valueName: 'SHA', description: 'the deployed Flutter commit (runbook 4.4)' },
    'flutter-repository': {
      type: 'string',
      valueName: 'OWNER/REPO',
      description:
        "confirm --flutter-commit (the full 40-hex SHA) there through GitHub's API before the database is opened (GITHUB_API_URL, GITHUB_TOKEN from the environment)",
    },
    'astm-flag': { type: 'string', valueName: 'on|off', description: 'the ASTM flag state of the deployed build, as declared' },
    'activity-minutes': { type: 'string', valueName: 'N', description: 'window for "the app is writing"', default: '15' },
    out: { type: 'string', valueName: 'FILE', description: 'also write the result JSON there' },
    json: { type: 'boolean', description: 'print the result as JSON' },
  },
  async run(ctx) {
    const golden = stringOption(ctx, 'golden');
    if (!golden) throw new UserError('MISSING_INPUT', '--golden FILE is required', { where: { field: 'golden' } });
    const minutes = integerOption(ctx, 'activity-minutes', { min: 1, max: 1440, unit: 'minutes' }) ?? 15;
    const baseline = stringOption(ctx, 'baseline');
    const flutterCommit = stringOption(ctx, 'flutter-commit');
    const astmFlag = stringOption(ctx, 'astm-flag');
    const repository = stringOption(ctx, 'flutter-repository');
    const inputs = await loadPreflightInputs(
      {
        golden: ref(ctx, golden),
        changeFiles: listOption(ctx, 'change').map((c) => ref(ctx, c)),
        ...(baseline ? { baseline: ref(ctx, baseline) } : {}),
        deployment: { ...(flutterCommit ? { flutterCommit } : {}), ...(astmFlag ? { astmFlag: astmFlag as 'on' | 'off' } : {}) },
        activityWindowMinutes: minutes,
        ...(repository
          ? {
              flutterRepository: {
                repository,
                apiUrl: ctx.env.GITHUB_API_URL || 'https://api.github.com',
                ...(ctx.env.GITHUB_TOKEN ? { token: ctx.env.GITHUB_TOKEN } : {}),
              },
            }
          : {}),
      },
      ctx.log,
    );
    return withDb(targetOf(ctx), async (db) => {
      const r = await preflight(db, inputs, ctx.log);
      const out = stringOption(ctx, 'out');
      if (out) await writeFile(path.resolve(ctx.cwd, out), jsonText(r));
      ctx.out(flagOption(ctx, 'json') ? jsonText(r) : renderPreflightText(r));
      return r.passed ? 0 : 1;
    });
  },
};

export const fingerprintCommand: CommandSpec = {
  name: 'fingerprint',
  summary: 'record the catalog fingerprint (functions, triggers, policies, RLS, grants) of the app schemas, e.g. as the staging baseline',
  options: {
    url: urlOption,
    out: { type: 'string', valueName: 'FILE', description: 'write it there instead of stdout' },
  },
  async run(ctx) {
    return withDb(targetOf(ctx), async (db) => {
      const fp = await db.withTransaction((q) => readFingerprint(q), { readOnly: true });
      const text = jsonText(fp);
      const out = stringOption(ctx, 'out');
      if (out) {
        await writeFile(path.resolve(ctx.cwd, out), text);
        ctx.log.info(`fingerprint ${fp.sha256} (${fp.entries.length} objects) written to ${out}`);
      } else ctx.out(text);
    });
  },
};

export const preflightCommands: CommandSpec[] = [preflightCommand, fingerprintCommand];
