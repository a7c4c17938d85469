import path from 'node:path';
import { UserError } from '../../errors.js';
import { secretsOf } from '../../db/secrets.js';
import { buildBundle, changelogEntryFromResults } from '../../evidence/bundle.js';
import { insertChangelogFile, type HeadingTarget } from '../../evidence/changelog.js';
import { runInfoFrom } from '../../evidence/run-info.js';
import { verifyBundle } from '../../evidence/verify.js';
import { renderVerifyText } from '../../report/evidence.js';
import type { CommandContext, CommandSpec, OptionSpec } from '../command.js';
import { resolveUrlOption } from '../url-option.js';
import { flagOption, integerOption, listOption, pathOption, stringOption } from '../options.js';
import { readPublicKey, readSigningKey } from '../../crypto/signing.js';
import { DEFAULT_ZIP_LIMITS, type ZipLimits } from '../../evidence/zip-safety.js';
import { jsonText } from '../../results/io.js';
import { DEFAULT_RESULTS_DIR } from '../../results/files.js';

/** Runbook 5.7: the evidence bundle, its verification, and the CHANGELOG entry. */
const abs = (ctx: CommandContext, p: string) => path.resolve(ctx.cwd, p);

/** Secrets to keep out of the bundle: DATABASE_URL's when set, and those of every --redact-url. */
function secretsFrom(ctx: CommandContext): string[] {
  const urls = [
    ...(ctx.env.DATABASE_URL ? [ctx.env.DATABASE_URL] : []),
    ...listOption(ctx, 'redact-url').map((u) => resolveUrlOption(u, ctx.env)),
  ];
  return urls.flatMap(secretsOf);
}

function headingTarget(ctx: CommandContext): HeadingTarget {
  const under = stringOption(ctx, 'under');
  if (!under)
    throw new UserError(
      'MISSING_OPTION',
      '--changelog needs --under HEADING (e.g. "## [Unreleased]"): the entry goes into one specific heading section',
      { where: { field: 'under' } },
    );
  const occ = stringOption(ctx, 'occurrence');
  if (occ === undefined) return under;
  if (!/^[1-9]\d*$/.test(occ)) throw new UserError('BAD_OPTION', `--occurrence ${occ} must be 1, 2, …`, { where: { field: 'occurrence' } });
  return { heading: under, occurrence: Number(occ) };
}

const runOptions: Record<string, OptionSpec> = {
  'run-id': {
    type: 'string',
    valueName: 'ID',
    description: 'run id (default: GITHUB_REPOSITORY#GITHUB_RUN_ID.ATTEMPT, else local-<time>)',
  },
  actor: { type: 'string', valueName: 'NAME', description: 'who ran the migration (default: GITHUB_ACTOR, else the OS user)' },
  'pipeline-commit': {
    type: 'string',
    valueName: 'SHA',
    description: "this pipeline's commit (default: GITHUB_SHA, else git rev-parse HEAD, else unknown)",
  },
};
const entryOptions: Record<string, OptionSpec> = {
  sep: {
    type: 'string',
    multiple: true,
    valueName: 'FILE',
    description: 'SEP field confirmation (mail / WhatsApp export, committed under evidence/); repeatable',
  },
  date: { type: 'string', valueName: 'YYYY-MM-DD', description: "the migration date (default: sql-apply.json's timestamp, else today)" },
  title: { type: 'string', valueName: 'TEXT', description: 'title of the CHANGELOG entry' },
  changelog: {
    type: 'string',
    valueName: 'FILE',
    description: "insert the entry into this CHANGELOG.md (ML_PP's), at the end of the --under section, once per run",
  },
  under: { type: 'string', valueName: 'HEADING', description: 'the heading whose section the entry closes, e.g. "## [Unreleased]"' },
  'changelog-pr': {
    type: 'string',
    valueName: 'URL',
    description:
      "the pull request carrying the entry into ML_PP's CHANGELOG.md: with it (or --changelog) runbook 5.7's CHANGELOG item counts as done",
  },
  occurrence: {
    type: 'string',
    valueName: 'N',
    description: 'which one when the heading is not unique (ML_PP has four "## [Unreleased]")',
  },
  'redact-url': {
    type: 'string',
    multiple: true,
    valueName: 'URL',
    description: 'a connection string (or env:NAME) whose secrets must appear nowhere in the output; DATABASE_URL is always included',
  },
};

export const evidenceBuild: CommandSpec = {
  name: 'evidence build',
  summary:
    'runbook 5.7: zip every result, the backup and the SEP evidence with manifest.json, SHA256SUMS, report.md/.html and the CHANGELOG entry',
  details:
    'Exit code 0 when written, 1 when the decision is GO but an archive runbook 5.7 requires is missing\n' +
    '("Aucune migration ASTM53B ne sera considérée valide sans ces archives"): the bundle is written anyway.',
  options: {
    results: { type: 'string', valueName: 'DIR', default: 'astm53b-results', description: 'the folder the steps wrote their results into' },
    out: { type: 'string', valueName: 'FILE.zip', description: 'the bundle to write' },
    ...entryOptions,
    ...runOptions,
    repository: { type: 'string', valueName: 'OWNER/NAME', description: 'default: GITHUB_REPOSITORY' },
    'run-url': { type: 'string', valueName: 'URL', description: 'default: the GitHub run page when running in Actions' },
    'signing-key': {
      type: 'string',
      valueName: 'FILE',
      description: "the depot's Ed25519 private key (signing.key, PEM): manifest.json is signed into manifest.json.sig",
    },
    json: { type: 'boolean', description: 'print the manifest as JSON' },
  },
  async run(ctx) {
    const out = stringOption(ctx, 'out');
    if (!out) throw new UserError('MISSING_OPTION', 'evidence build needs --out FILE.zip', { where: { field: 'out' } });
    const changelog = stringOption(ctx, 'changelog');
    const changelogPr = stringOption(ctx, 'changelog-pr');
    const date = stringOption(ctx, 'date');
    const title = stringOption(ctx, 'title');
    const keyFile = pathOption(ctx, 'signing-key');
    const signingKey = keyFile ? await readSigningKey(keyFile) : undefined;
    const r = await buildBundle(
      {
        resultsDir: abs(ctx, stringOption(ctx, 'results') ?? DEFAULT_RESULTS_DIR),
        out: abs(ctx, out),
        run: runInfoFrom(ctx.env, {
          ...pick(ctx, { runId: 'run-id', actor: 'actor', pipelineCommit: 'pipeline-commit', repository: 'repository', runUrl: 'run-url' }),
        }),
        sepEvidence: listOption(ctx, 'sep').map((f) => abs(ctx, f)),
        changelog: {
          ...(date ? { date } : {}),
          ...(title ? { title } : {}),
          ...(changelog ? { insertInto: { file: abs(ctx, changelog), under: headingTarget(ctx) } } : {}),
          ...(changelogPr ? { pullRequest: changelogPr } : {}),
        },
        secrets: secretsFrom(ctx),
        ...(signingKey ? { signingKey } : {}),
        env: ctx.env,
      },
      ctx.log,
    );
    if (flagOption(ctx, 'json')) ctx.out(jsonText(r.manifest));
    else {
      ctx.out(`bundle      ${r.out}\n`);
      ctx.out(`sha256      ${r.sha256} (${r.bytes} bytes, ${r.manifest.files.length + 2} files)\n`);
      ctx.out(`decision    ${r.manifest.decision}\n`);
      ctx.out(
        `signature   ${r.manifest.signature ? `manifest.json signed by ${r.manifest.signature.publicKeyFingerprint}` : 'NOT signed (no --signing-key): authenticity cannot be checked'}\n`,
      );
      ctx.out(`runbook 5.7 ${r.incomplete.length ? `INCOMPLETE: ${r.incomplete.join('; ')}` : 'all archives present'}\n`);
      if (r.changelogInsertion)
        ctx.out(
          r.changelogInsertion.already
            ? `changelog   entry already in ${r.changelogInsertion.file} at line ${r.changelogInsertion.markerLine}: unchanged\n`
            : `changelog   entry inserted into ${r.changelogInsertion.file} at line ${r.changelogInsertion.markerLine}\n`,
        );
    }
    return r.manifest.decision === 'GO' && r.incomplete.length ? 1 : 0;
  },
};

function pick(ctx: CommandContext, names: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, option] of Object.entries(names)) {
    const v = stringOption(ctx, option);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

export const evidenceVerify: CommandSpec = {
  name: 'evidence verify',
  summary: "the auditor's check: re-hash every file inside a bundle against manifest.json and SHA256SUMS, and its signature",
  details:
    "Reads the zip directly (no unzip needed). With --public-key (the depot's signing.pub), manifest.json must carry a valid\n" +
    'Ed25519 signature by that key; without it the output says authenticity was NOT checked. Refuses, before inflating\n' +
    'anything, an entry named with "..", an absolute path, a duplicate name, data shared with another entry, a declared\n' +
    `total over --max-size (default ${DEFAULT_ZIP_LIMITS.maxTotalBytes / 1024 ** 3} GiB) or a compression ratio over --max-ratio (default ${DEFAULT_ZIP_LIMITS.maxRatio}:1).\n` +
    'Exit code 0 when every file matches (and the signature, when checked), 1 otherwise.',
  positionals: [{ name: 'FILE.zip', description: 'the evidence bundle', required: true }],
  options: {
    'expect-sha256': {
      type: 'string',
      valueName: 'HEX',
      description: "the bundle's SHA-256 as the run published it (the evidence step's output)",
    },
    'public-key': {
      type: 'string',
      valueName: 'FILE',
      description: "the depot's Ed25519 public key (signing.pub, PEM, from the depot's repository): checks the bundle's signature",
    },
    'max-size': {
      type: 'string',
      valueName: 'BYTES',
      description: 'largest total uncompressed size accepted (suffix K, M, G or T for KiB…TiB)',
      default: `${DEFAULT_ZIP_LIMITS.maxTotalBytes / 1024 ** 3}G`,
    },
    'max-ratio': {
      type: 'string',
      valueName: 'N',
      description: 'largest compression ratio accepted for an entry over 1 MiB',
      default: String(DEFAULT_ZIP_LIMITS.maxRatio),
    },
    json: { type: 'boolean', description: 'print the result as JSON' },
  },
  async run(ctx) {
    const file = ctx.positionals[0];
    if (!file)
      throw new UserError('MISSING_ARGUMENT', 'evidence verify needs the bundle: astm53b evidence verify FILE.zip', {
        where: { field: 'FILE.zip' },
      });
    const expect = stringOption(ctx, 'expect-sha256');
    if (expect !== undefined && !/^[0-9a-fA-F]{64}$/.test(expect))
      throw new UserError('BAD_OPTION', '--expect-sha256 must be 64 hexadecimal digits', { where: { field: 'expect-sha256' } });
    const keyFile = pathOption(ctx, 'public-key');
    const publicKey = keyFile ? await readPublicKey(keyFile) : undefined;
    const r = await verifyBundle(
      abs(ctx, file),
      { ...(expect ? { expectSha256: expect } : {}), ...(publicKey ? { publicKey } : {}), limits: zipLimits(ctx) },
      ctx.log,
    );
    ctx.out(flagOption(ctx, 'json') ? jsonText(r) : renderVerifyText(r));
    return r.ok ? 0 : 1;
  },
};

/** "16G", "500M", "1048576": a byte count with an optional binary suffix. */
export function parseByteSize(v: string, field: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(v.trim());
  const n = m ? Number(m[1]) * 1024 ** ' KMGT'.indexOf((m[2] || ' ').toUpperCase()) : NaN;
  if (!m || !Number.isFinite(n) || n < 1 || n > Number.MAX_SAFE_INTEGER)
    throw new UserError('BAD_OPTION', `--${field} ${JSON.stringify(v)}: expected a size such as 16G, 500M or 1048576`, {
      where: { field },
    });
  return Math.floor(n);
}

function zipLimits(ctx: CommandContext): ZipLimits {
  return {
    maxTotalBytes: parseByteSize(stringOption(ctx, 'max-size') ?? String(DEFAULT_ZIP_LIMITS.maxTotalBytes), 'max-size'),
    maxRatio: integerOption(ctx, 'max-ratio', { min: 1, max: 100_000 }) ?? DEFAULT_ZIP_LIMITS.maxRatio,
  };
}

export const changelogEntry: CommandSpec = {
  name: 'changelog entry',
  summary: "runbook 5.7: print ML_PP's CHANGELOG entry for this migration (PROD style, French), or insert it under one heading",
  details:
    'States the migration date, the Flutter commit, the backup used with its SHA-256, the SEP files, the measured deviations and the decision.',
  options: {
    results: { type: 'string', valueName: 'DIR', default: 'astm53b-results', description: 'the folder the steps wrote their results into' },
    ...entryOptions,
    ...runOptions,
  },
  async run(ctx) {
    const changelog = stringOption(ctx, 'changelog');
    const under = changelog ? headingTarget(ctx) : undefined;
    const date = stringOption(ctx, 'date');
    const title = stringOption(ctx, 'title');
    const run = runInfoFrom(ctx.env, pick(ctx, { runId: 'run-id', actor: 'actor', pipelineCommit: 'pipeline-commit' }));
    const { entry } = await changelogEntryFromResults(
      {
        resultsDir: abs(ctx, stringOption(ctx, 'results') ?? DEFAULT_RESULTS_DIR),
        sepEvidence: listOption(ctx, 'sep').map((f) => abs(ctx, f)),
        ...(date ? { date } : {}),
        ...(title ? { title } : {}),
        run: {
          ...(run.runId ? { runId: run.runId } : {}),
          ...(run.actor ? { actor: run.actor } : {}),
          ...(run.pipelineCommit ? { pipelineCommit: run.pipelineCommit } : {}),
        },
        secrets: secretsFrom(ctx),
        env: ctx.env,
      },
      ctx.log,
    );
    if (changelog && under !== undefined) {
      const ins = await insertChangelogFile(abs(ctx, changelog), entry, under, { runId: run.runId ?? null });
      ctx.out(
        ins.already
          ? `entry already in ${changelog} at line ${ins.markerLine} (${ins.marker}): unchanged\n`
          : `entry inserted into ${changelog} at line ${ins.markerLine}, in the section of line ${ins.headingLine}\n`,
      );
      return 0;
    }
    ctx.out(entry);
    return 0;
  },
};

export const evidenceCommands: CommandSpec[] = [evidenceBuild, evidenceVerify, changelogEntry];
