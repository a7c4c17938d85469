import { execFile } from 'node:child_process';
import { lstat, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import { PACKAGE_ROOT } from '../paths.js';
import { maskConnectionString, redact } from '../db/secrets.js';
import { DEFAULT_CHANGELOG_TITLE, renderChangelogEntry } from '../report/changelog.js';
import { renderEvidenceHtml, renderEvidenceMarkdown } from '../report/evidence.js';
import { describeTarget, insertChangelogEntry, insertChangelogFile, readChangelog, type HeadingTarget } from './changelog.js';
import { hashFile, sha256Text } from '../hash.js';
import {
  BUNDLE_FORMAT,
  CHANGELOG_ENTRY,
  MANIFEST_NAME,
  renderSums,
  REPORT_HTML,
  REPORT_MD,
  REPRODUCIBILITY,
  RESULTS_PREFIX,
  SEP_PREFIX,
  SIGNATURE_NAME,
  SUMS_NAME,
} from './manifest.js';
import { readEvidenceFacts, type CollectedFile } from './results-facts.js';
import { SecretScanner, textHasSecret } from './secret-scan.js';
import type { BundleFile, BundleManifest, RunInfo, EvidenceFacts } from '../results/evidence.js';
import { isIsoDate } from '../dates.js';
import { SIGNATURE_ALGORITHM, signText, type SigningKey } from '../crypto/signing.js';
import { writeZip } from './zip-writer.js';

/**
 * Runbook 5.7 and DESIGN §6: one zip per run with every file the steps wrote (results folder,
 * backup folder included), the SEP field evidence, manifest.json, SHA256SUMS, report.md,
 * report.html and the CHANGELOG entry. Everything is validated and hashed before the zip is
 * opened; the zip is streamed (archiver) to a temporary name and renamed when complete, so a
 * fault never leaves a half bundle under the final name.
 */
export interface BuildBundleOptions {
  resultsDir: string;
  out: string;
  run?: { repository?: string; runId?: string; runUrl?: string; pipelineCommit?: string; actor?: string };
  changelog?: {
    /** YYYY-MM-DD of the entry's heading; default: the migration date, else the bundle date */
    date?: string;
    title?: string;
    /** also insert the entry into this CHANGELOG.md, right after this heading */
    insertInto?: { file: string; under: HeadingTarget };
    /** the pull request that carries the entry into ML_PP's CHANGELOG.md (its URL), when the change is made there */
    pullRequest?: string;
  };
  /** SEP field confirmation (mail / WhatsApp exports), bundled under sep/ */
  sepEvidence?: string[];
  /** raw secrets (e.g. secretsOf(databaseUrl)): redacted from every generated file; a collected file carrying one is refused */
  secrets?: string[];
  /** the depot's Ed25519 key: manifest.json is signed into manifest.json.sig, and names the key's fingerprint */
  signingKey?: SigningKey;
  /** the bundle time; fixed in tests to show the zip is reproducible */
  now?: Date;
  env?: NodeJS.ProcessEnv;
  /** where `git rev-parse HEAD` runs when GITHUB_SHA is not set (default: this package) */
  gitCwd?: string;
}

export interface BundleResult {
  out: string;
  sha256: string;
  bytes: number;
  manifest: BundleManifest;
  facts: EvidenceFacts;
  changelogEntry: string;
  changelogInsertion: { file: string; headingLine: number; markerLine: number; already: boolean } | null;
  /** runbook 5.7 archives missing: a GO without them is not a valid migration */
  incomplete: string[];
}

const pathOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

async function walk(dir: string, rel: string, skip: Set<string>, log: Logger, out: { abs: string; rel: string }[]): Promise<void> {
  const names = (await readdir(dir)).sort(pathOrder);
  for (const name of names) {
    const abs = path.join(dir, name);
    const r = rel ? `${rel}/${name}` : name;
    if (skip.has(abs)) continue;
    const s = await lstat(abs);
    if (s.isDirectory()) await walk(abs, r, skip, log, out);
    else if (s.isFile()) out.push({ abs, rel: r });
    else log.warn(`${r}: not a regular file (symlink or special), left out of the bundle`);
  }
}

function checkName(p: string, file: string): void {
  // SHA256SUMS cannot express these without sha256sum's escaping, which auditors' tools differ on
  if (/[\n\r\\]/.test(p))
    throw new UserError(
      'BAD_FILE_NAME',
      `${JSON.stringify(p)}: a newline or backslash in a file name cannot be listed in SHA256SUMS; rename it`,
      { where: { file } },
    );
}

export function validateChangelogDate(date: string, field = 'date'): string {
  const d = date.trim();
  if (!isIsoDate(d)) {
    throw new UserError('BAD_OPTION', `--${field} ${JSON.stringify(date)} is not a date YYYY-MM-DD`, { where: { field } });
  }
  return d;
}

/** Resolves and checks everything the bundle needs before anything is read at length or written. */
async function collect(
  opts: { resultsDir: string; sepEvidence?: string[] | undefined; exclude?: string },
  log: Logger,
): Promise<{ abs: string; path: string; source: 'results' | 'sep' }[]> {
  const resultsDir = path.resolve(opts.resultsDir);
  const s = await stat(resultsDir).catch(() => null);
  if (!s?.isDirectory()) {
    throw new UserError('RESULTS_MISSING', `results folder ${opts.resultsDir} does not exist: nothing to bundle`, {
      where: { file: opts.resultsDir },
      hint: 'give the output-dir the steps wrote into (default astm53b-results)',
    });
  }
  const found: { abs: string; rel: string }[] = [];
  // the bundle may be written inside the results folder: it never contains itself
  await walk(resultsDir, '', new Set(opts.exclude ? [path.resolve(opts.exclude)] : []), log, found);
  const files: { abs: string; path: string; source: 'results' | 'sep' }[] = found.map((f) => ({
    abs: f.abs,
    path: `${RESULTS_PREFIX}${f.rel}`,
    source: 'results',
  }));
  const sepNames = new Map<string, string>();
  for (const given of opts.sepEvidence ?? []) {
    const abs = path.resolve(given);
    const st = await stat(abs).catch(() => null);
    if (!st?.isFile()) {
      throw new UserError('SEP_FILE_MISSING', `SEP confirmation file ${given} does not exist or is not a file`, {
        where: { file: given, field: 'sep' },
        hint: 'runbook 5.7: the SEP mail / WhatsApp export, committed under evidence/',
      });
    }
    const name = path.basename(abs);
    if (sepNames.has(name))
      throw new UserError('SEP_FILE_DUPLICATE', `two SEP files named ${name} (${sepNames.get(name)} and ${given}): rename one`, {
        where: { file: given, field: 'sep' },
      });
    sepNames.set(name, given);
    files.push({ abs, path: `${SEP_PREFIX}${name}`, source: 'sep' });
  }
  for (const f of files) checkName(f.path, f.abs);
  if (!files.some((f) => f.source === 'results')) log.warn(`results folder ${opts.resultsDir} is empty`);
  return files;
}

async function pipelineCommit(
  given: string | undefined,
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<{ pipeline: string; pipelineFrom: BundleManifest['commits']['pipelineFrom'] }> {
  if (given?.trim()) return { pipeline: given.trim(), pipelineFrom: 'option' };
  // run from another repository (a reusable workflow's `owner/name/actions/x@ref`): GITHUB_SHA is the caller's
  // commit, the pipeline is the action's repository at the ref the step ran
  const actionRepo = env.GITHUB_ACTION_REPOSITORY?.trim();
  if (actionRepo && env.GITHUB_ACTION_REF?.trim() && actionRepo !== env.GITHUB_REPOSITORY) {
    return { pipeline: `${actionRepo}@${env.GITHUB_ACTION_REF.trim()}`, pipelineFrom: 'GITHUB_ACTION_REF' };
  }
  if (env.GITHUB_SHA?.trim()) return { pipeline: env.GITHUB_SHA.trim(), pipelineFrom: 'GITHUB_SHA' };
  try {
    const { stdout } = await promisify(execFile)('git', ['rev-parse', 'HEAD'], { cwd, timeout: 10_000 });
    const sha = stdout.trim();
    if (/^[0-9a-f]{40,64}$/.test(sha)) return { pipeline: sha, pipelineFrom: 'git' };
  } catch {
    // no git, or not a checkout: recorded as unknown, never a reason to lose the bundle
  }
  return { pipeline: 'unknown', pipelineFrom: 'unknown' };
}

function redactDeep<T>(value: T, secrets: readonly string[]): T {
  if (typeof value === 'string') return redact(value, secrets) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, secrets)) as T;
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactDeep(v, secrets)])) as T;
  return value;
}

function earliestLatest(times: (string | null)[]): [string | null, string | null] {
  const ts = times.filter((t): t is string => t !== null).sort((a, b) => Date.parse(a) - Date.parse(b));
  return [ts[0] ?? null, ts[ts.length - 1] ?? null];
}

/** Hashes every collected file, refusing one that carries a raw secret (hash and scan in one read). */
async function hashEvidence(
  inputs: { abs: string; path: string; source: 'results' | 'sep' }[],
  secrets: readonly string[],
): Promise<CollectedFile[]> {
  const files: CollectedFile[] = [];
  for (const f of inputs) {
    const scan = new SecretScanner(secrets);
    const d = await hashFile(f.abs, scan.active ? scan.feed : undefined);
    if (scan.found) {
      throw new UserError(
        'SECRET_IN_EVIDENCE',
        `${f.path} contains a secret in clear (a database password or connection string): it is not bundled`,
        {
          where: { file: f.abs },
          hint: 'evidence files are hashed as they are and never rewritten; re-run the step that wrote it (steps mask their targets) or remove the secret at its source',
        },
      );
    }
    files.push({ ...f, ...d });
  }
  return files;
}

export interface EntryOptions {
  resultsDir: string;
  sepEvidence?: string[];
  date?: string;
  title?: string;
  run?: { runId?: string; actor?: string; pipelineCommit?: string };
  secrets?: string[];
  env?: NodeJS.ProcessEnv;
  /** where the entry is being written (the pull request that proposes it): its checklist then counts the CHANGELOG as updated */
  changelogWritten?: string;
}

/** `astm53b changelog entry`: the same entry the bundle carries, from the same facts, without building a bundle. */
export async function changelogEntryFromResults(
  opts: EntryOptions,
  log: Logger,
): Promise<{ entry: string; facts: EvidenceFacts; date: string }> {
  const secrets = opts.secrets ?? [];
  const givenDate = opts.date ? validateChangelogDate(opts.date) : undefined;
  const files = await hashEvidence(await collect({ resultsDir: opts.resultsDir, sepEvidence: opts.sepEvidence }, log), secrets);
  const facts = redactDeep(
    await readEvidenceFacts(
      files,
      { ...(givenDate ? { migrationDate: givenDate } : {}), ...(opts.changelogWritten ? { changelogWritten: opts.changelogWritten } : {}) },
      log,
    ),
    secrets,
  );
  const date = givenDate ?? facts.migrationAt?.slice(0, 10) ?? new Date().toISOString().slice(0, 10);
  const commit = await pipelineCommit(opts.run?.pipelineCommit, opts.env ?? process.env, PACKAGE_ROOT);
  const run = { runId: opts.run?.runId ?? null, actor: opts.run?.actor ?? null, pipelineCommit: commit.pipeline };
  const entry = redact(renderChangelogEntry(facts, { date, title: opts.title?.trim() || DEFAULT_CHANGELOG_TITLE, run }), secrets);
  return { entry, facts, date };
}

export async function buildBundle(opts: BuildBundleOptions, log: Logger): Promise<BundleResult> {
  const env = opts.env ?? process.env;
  const secrets = opts.secrets ?? [];
  const now = opts.now ?? new Date();
  const createdAt = now.toISOString();
  const givenDate = opts.changelog?.date ? validateChangelogDate(opts.changelog.date) : undefined;
  const title = opts.changelog?.title?.trim() || DEFAULT_CHANGELOG_TITLE;
  const inputs = await collect({ resultsDir: opts.resultsDir, sepEvidence: opts.sepEvidence, exclude: opts.out }, log);

  // the CHANGELOG is read and its heading checked now: an ambiguous heading stops the bundle before it is written
  const insertInto = opts.changelog?.insertInto;
  let changelogText: string | undefined;
  if (insertInto) {
    changelogText = await readChangelog(insertInto.file);
    insertChangelogEntry(changelogText, '', { under: insertInto.under, file: insertInto.file });
  }

  const files = await hashEvidence(inputs, secrets);
  log.info(`${files.length} file(s) hashed (${files.reduce((n, f) => n + f.bytes, 0)} bytes)`);

  // runbook 5.7 "Mettre à jour CHANGELOG.md" is done only by a change written: into a file (below, before the zip) or a
  // pull request (given here, or the changelog job's changelog.json among the results, which the facts read)
  const pr = opts.changelog?.pullRequest?.trim();
  const changelogWritten = insertInto
    ? `${path.basename(insertInto.file)}, under ${describeTarget(insertInto.under)}`
    : pr
      ? `pull request ${pr}`
      : undefined;
  const facts = await readEvidenceFacts(
    files,
    { ...(givenDate ? { migrationDate: givenDate } : {}), ...(changelogWritten ? { changelogWritten } : {}) },
    log,
  );
  const commits = {
    ...(await pipelineCommit(opts.run?.pipelineCommit, env, opts.gitCwd ?? PACKAGE_ROOT)),
    flutterApp: facts.flutterCommit,
  };
  const run: RunInfo = {
    repository: opts.run?.repository ?? null,
    runId: opts.run?.runId ?? null,
    runUrl: opts.run?.runUrl ?? null,
    actor: opts.run?.actor ?? null,
  };
  const date = givenDate ?? facts.migrationAt?.slice(0, 10) ?? createdAt.slice(0, 10);
  const [firstStepAt, lastStepAt] = earliestLatest(facts.steps.map((s) => s.at));
  const inputEntries: BundleFile[] = files.map((f) => ({ path: f.path, bytes: f.bytes, sha256: f.sha256, source: f.source }));

  // outside the redaction: a fingerprint is hex, and a short secret must never rewrite it
  const signature: BundleManifest['signature'] = opts.signingKey
    ? { algorithm: SIGNATURE_ALGORITHM, publicKeyFingerprint: opts.signingKey.fingerprint, file: SIGNATURE_NAME }
    : null;
  const manifest: BundleManifest = {
    ...redactDeep(
      {
        format: BUNDLE_FORMAT,
        createdAt,
        run,
        commits,
        target: facts.target === null ? null : maskConnectionString(facts.target),
        times: { createdAt, migrationAt: facts.migrationAt, firstStepAt, lastStepAt },
        decision: facts.decision,
        runbook57: { complete: facts.archives.every((a) => a.present), items: facts.archives },
        steps: facts.steps,
        changelog: {
          entryFile: CHANGELOG_ENTRY,
          date,
          title,
          insertedInto: insertInto ? path.basename(insertInto.file) : null,
          under: insertInto ? describeTarget(insertInto.under) : null,
        },
        warnings: facts.warnings,
        reproducibility: REPRODUCIBILITY,
        files: inputEntries,
      },
      secrets,
    ),
    signature,
  };
  const safeFacts = redactDeep(facts, secrets);
  const entry = redact(
    renderChangelogEntry(safeFacts, { date, title, run: { runId: run.runId, actor: run.actor, pipelineCommit: commits.pipeline } }),
    secrets,
  );
  const generated: { path: string; text: string }[] = [
    { path: REPORT_HTML, text: redact(renderEvidenceHtml({ manifest, facts: safeFacts }), secrets) },
    { path: REPORT_MD, text: redact(renderEvidenceMarkdown({ manifest, facts: safeFacts }), secrets) },
    { path: CHANGELOG_ENTRY, text: entry },
  ];
  const finalManifest: BundleManifest = {
    ...manifest,
    files: [
      ...generated.map((g) => ({
        path: g.path,
        bytes: Buffer.byteLength(g.text),
        sha256: sha256Text(g.text),
        source: 'generated' as const,
      })),
      ...inputEntries,
    ].sort((a, b) => pathOrder(a.path, b.path)),
  };
  const manifestText = `${JSON.stringify(finalManifest, null, 2)}\n`;
  // the signature covers manifest.json byte for byte, and so every file hash it lists
  const sig = opts.signingKey ? signText(manifestText, opts.signingKey) : undefined;
  const sums = renderSums([
    ...finalManifest.files,
    { path: MANIFEST_NAME, sha256: sha256Text(manifestText) },
    ...(sig ? [{ path: SIGNATURE_NAME, sha256: sha256Text(sig) }] : []),
  ]);
  for (const g of [...generated, { path: MANIFEST_NAME, text: manifestText }]) {
    if (textHasSecret(g.text, secrets)) throw new Error(`${g.path}: a secret survived redaction`);
  }

  // written before the zip, so that the report saying it was written is true
  let changelogInsertion: BundleResult['changelogInsertion'] = null;
  if (insertInto && changelogText !== undefined) {
    const ins = await insertChangelogFile(insertInto.file, entry, insertInto.under, {
      text: changelogText,
      runId: opts.run?.runId ?? null,
    });
    changelogInsertion = { file: insertInto.file, headingLine: ins.headingLine, markerLine: ins.markerLine, already: ins.already };
    log.info(
      ins.already
        ? `CHANGELOG entry already in ${insertInto.file} (${ins.marker}, line ${ins.markerLine}): left as it is`
        : `CHANGELOG entry inserted into ${insertInto.file} at line ${ins.markerLine}, in the section of line ${ins.headingLine} (${describeTarget(insertInto.under)})`,
    );
  }

  const out = path.resolve(opts.out);
  await writeZip(
    out,
    [
      { name: MANIFEST_NAME, text: manifestText },
      ...(sig ? [{ name: SIGNATURE_NAME, text: sig }] : []),
      { name: SUMS_NAME, text: sums },
      ...generated.map((g) => ({ name: g.path, text: g.text })),
      ...files.filter((f) => f.source === 'results').map((f) => ({ name: f.path, file: f.abs })),
      ...files.filter((f) => f.source === 'sep').map((f) => ({ name: f.path, file: f.abs })),
    ],
    now,
  );
  const digest = await hashFile(out);
  log.info(
    `bundle ${opts.out}: ${digest.bytes} bytes, SHA-256 ${digest.sha256}${sig ? `, manifest signed by ${opts.signingKey!.fingerprint}` : ', NOT signed'}`,
  );

  const incomplete = facts.archives.filter((a) => !a.present).map((a) => a.item);
  if (incomplete.length) log.warn(`runbook 5.7 archives missing: ${incomplete.join('; ')}`);
  return {
    out,
    sha256: digest.sha256,
    bytes: digest.bytes,
    manifest: finalManifest,
    facts: safeFacts,
    changelogEntry: entry,
    changelogInsertion,
    incomplete,
  };
}
