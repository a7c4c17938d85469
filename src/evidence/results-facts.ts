import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import type { Logger } from '../logger.js';
import { Manifest, MANIFEST_FORMAT, Verification } from '../results/backup.js';
import type { ArchiveItem, BackupFacts, EvidenceFacts, GoldenFacts, SepFacts, StepOutcome } from '../results/evidence.js';
import { BACKUP_FILES, RESULTS, type ResultKind, type ResultOf } from '../results/files.js';
import { describeIssue } from '../results/io.js';
import { isoOf, restateFacts, signoffFacts, smokeFacts, timelineOf } from './report-facts.js';
import { quoteSepFile } from './sep-quote.js';

/**
 * What the evidence bundle and the CHANGELOG entry state, read from the results folder the
 * steps wrote. Every file the contract (src/results) names is checked against its schema; a
 * file that does not satisfy it is reported as such and listed and hashed only, never fatal:
 * the bundle of a failed run is the one that matters most. Other JSON files (a depot's own
 * notes) are read only for the top-level fields that say how a step ended (`passed`, `ok`,
 * `decision`) and when (ISO timestamps).
 */
export interface CollectedFile {
  /** path inside the bundle, '/'-separated */
  path: string;
  abs: string;
  bytes: number;
  sha256: string;
  source: 'results' | 'sep';
}

const JSON_LIMIT = 64 * 1024 * 1024; // a results JSON larger than this is listed and hashed, not parsed
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() ? v : null);
const bool = (v: unknown): boolean | null => (typeof v === 'boolean' ? v : null);
const base = (p: string) => p.slice(p.lastIndexOf('/') + 1);

function latestTimestamp(o: Json): string | null {
  let best: string | null = null;
  for (const v of Object.values(o)) {
    if (typeof v === 'string' && ISO.test(v) && (best === null || Date.parse(v) > Date.parse(best))) best = v;
  }
  return best;
}

function detailOf(name: string, o: Json): string | null {
  if (name === RESULTS.decision.file) return str(o.decision);
  const status = str(o.status);
  if (status) return status;
  if (Array.isArray(o.failures) && o.failures.length) return `${o.failures.length} failure(s)`;
  return null;
}

export interface FactsOptions {
  /** the migration date the operator states (YYYY-MM-DD or ISO time); wins over what the files say */
  migrationDate?: string;
  /**
   * where the CHANGELOG change was written: a CHANGELOG.md the entry was inserted into, or a pull
   * request carrying it. Without it the runbook 5.7 item is not done: an entry generated into the
   * bundle is not the CHANGELOG updated.
   */
  changelogWritten?: string;
}

export async function readEvidenceFacts(files: readonly CollectedFile[], opts: FactsOptions, log: Logger): Promise<EvidenceFacts> {
  const warnings: string[] = [];
  const warn = (m: string) => {
    warnings.push(m);
    log.warn(m);
  };
  const parsed = new Map<string, Json>();
  for (const f of files) {
    if (f.source !== 'results' || !f.path.endsWith('.json')) continue;
    if (f.bytes > JSON_LIMIT) {
      warn(`${f.path}: ${f.bytes} bytes, listed and hashed but not read`);
      continue;
    }
    try {
      const v: unknown = JSON.parse(await readFile(f.abs, 'utf8'));
      // an array (auth-users.json) is data, not a step's result: listed and hashed only
      if (isObject(v)) parsed.set(f.path, v);
    } catch (e) {
      warn(`${f.path}: not valid JSON (${(e as Error).message}), listed and hashed only`);
    }
  }
  /** a file of the contract, checked against its schema; the first by path when several share the name */
  function checked<S extends z.ZodType>(name: string, schema: S, what: string): [string, z.infer<S>] | undefined {
    const hits = [...parsed].filter(([p]) => base(p) === name);
    if (hits.length > 1) warn(`${hits.length} files named ${name}; using ${hits[0]![0]}`);
    const hit = hits[0];
    if (!hit) return undefined;
    const r = schema.safeParse(hit[1]);
    if (!r.success) {
      warn(`${hit[0]}: not a valid ${what} (${describeIssue(r.error)}); listed and hashed only`);
      return undefined;
    }
    return [hit[0], r.data];
  }
  const result = <K extends ResultKind>(kind: K): [string, ResultOf<K>] | undefined =>
    checked(RESULTS[kind].file, RESULTS[kind].schema, `${RESULTS[kind].file} result`) as [string, ResultOf<K>] | undefined;

  const steps: StepOutcome[] = [...parsed].map(([p, o]) => ({
    file: p,
    passed: bool(o.passed) ?? bool(o.ok),
    detail: detailOf(base(p), o),
    at: latestTimestamp(o),
  }));

  const decision = result('decision')?.[1].decision ?? 'NONE';
  const preflight = result('preflight')?.[1];
  const target = [...parsed.values()].map((o) => str(o.target)).find((t) => t !== null) ?? null;

  const applyEntry = result('sqlApply');
  const apply = applyEntry?.[1];
  const applied = apply ? { file: apply.file.name, sha256: apply.file.sha256, status: apply.status, ok: apply.ok } : null;
  let migrationAt: string | null = null;
  let migrationAtSource: EvidenceFacts['migrationAtSource'] = null;
  if (opts.migrationDate) {
    migrationAt = opts.migrationDate;
    migrationAtSource = 'option';
  } else if (apply) {
    migrationAt = apply.at;
    migrationAtSource = 'sql-apply.json';
  }

  const backup = readBackupFacts(parsed, files, warn);
  const golden = readGoldenFacts(result('golden'));
  const decisionEntry = result('decision');
  const rawSignoff = [...parsed].find(([p]) => base(p) === RESULTS.signoff.file);
  const signoff = signoffFacts(rawSignoff, decisionEntry?.[1]);
  // the chat's messages quoted are those of the day the depot manager signed, else of the migration
  const signedAt = signoff?.fields.find((x) => x.field === 'at')?.value;
  const day = (signedAt && isoOf(signedAt)?.slice(0, 10)) ?? migrationAt?.slice(0, 10) ?? null;
  const sep: SepFacts[] = [];
  for (const f of files.filter((x) => x.source === 'sep')) {
    const q = await quoteSepFile(f.abs, base(f.path), f.bytes, day);
    sep.push({ path: f.path, bytes: f.bytes, sha256: f.sha256, ...q });
  }
  const flutterCommit = preflight?.deployment.flutterCommit ?? null;

  const mlppCompared = golden?.cases.filter((c) => c.mlpp_deviation_l !== null).length ?? 0;
  const flutterCheck = preflight?.deployment.flutterCommitCheck ?? null;
  // the changelog job's record: a pull request opened (or found) on the app's repository, or the entry already merged
  const cl = result('changelog')?.[1];
  const changelogWritten =
    opts.changelogWritten ??
    (cl
      ? cl.pull_request
        ? `pull request #${cl.pull_request.number} ${cl.pull_request.url} on ${cl.repository} (${cl.status})`
        : `${cl.file} of ${cl.repository}@${cl.base} already holds this run's entry (${cl.marker})`
      : undefined);
  const archives: ArchiveItem[] = [
    {
      item: 'Mettre à jour CHANGELOG.md (section [Unreleased] → PROD)',
      present: changelogWritten !== undefined,
      evidence: changelogWritten
        ? `written: ${changelogWritten}`
        : 'NOT written: the entry is generated (CHANGELOG-entry.md) but no CHANGELOG.md was changed and no pull request given',
    },
    {
      item: 'Documenter date exacte de migration',
      present: migrationAt !== null,
      evidence: migrationAt
        ? `${migrationAt} (${migrationAtSource === 'option' ? 'stated by the operator' : RESULTS.sqlApply.file})`
        : 'no date given and no timestamp in sql-apply.json',
    },
    {
      item: 'Archiver hash commit Flutter déployé',
      present: flutterCheck !== null && flutterCheck.sha === flutterCommit,
      evidence: flutterCheck
        ? `${flutterCheck.sha} in ${flutterCheck.repository}, confirmed by GitHub's API at ${flutterCheck.checkedAt}: “${flutterCheck.message}”${flutterCheck.date ? ` (${flutterCheck.date})` : ''}`
        : flutterCommit
          ? `${flutterCommit} as given, NOT confirmed through GitHub's API (a full 40-hex SHA checked against the app's repository)`
          : 'preflight.json has no deployment.flutterCommit',
    },
    {
      item: 'Archiver dump backup PROD utilisé',
      present: backup !== null && backup.dumpMatchesManifest && backup.verified === true,
      evidence: backup
        ? `${backup.dumpFile} ${backup.sha256}${backup.dumpMatchesManifest ? '' : ' (NOT the file in the bundle: hash differs or file missing)'}${backup.verified === true ? ', restore test passed' : backup.verified === false ? ', restore test FAILED' : ', restore test not recorded'}`
        : `no backup folder (manifest.json of format ${MANIFEST_FORMAT}) in the results`,
    },
    {
      item: 'Archiver confirmation terrain SEP (mail / WhatsApp export)',
      present: sep.length > 0,
      evidence: sep.length ? sep.map((s) => s.path).join(', ') : 'no SEP file given',
    },
    {
      item: 'Noter écarts mesurés (ML_PP vs SEP)',
      present: mlppCompared > 0,
      evidence: golden
        ? `${golden.file}: ${golden.cases.length} case(s), ${mlppCompared} compared with ML_PP's stored value`
        : 'no golden.json in the results',
    },
  ];

  const smokeEntry = result('smoke');
  const restateEntry = result('restate');
  const goldenEntry = result('golden');
  const timeline = timelineOf({
    preflight,
    freezeOn: result('freezeOn')?.[1],
    freezeOff: result('freezeOff')?.[1],
    backup,
    apply,
    restate: restateEntry?.[1],
    golden: goldenEntry?.[1],
    smoke: smokeEntry?.[1],
    signoff,
    decision: decisionEntry?.[1],
    rollback: result('rollback')?.[1],
  });
  const runOf = [smokeEntry?.[1].run, restateEntry?.[1].run, apply?.run].find((r) => r !== undefined);

  return {
    steps,
    decision,
    reasons: decisionEntry?.[1].reasons ?? [],
    decidedAt: decisionEntry?.[1].at ?? null,
    signoff,
    triggeredBy: runOf?.actor ?? null,
    timeline,
    smoke: smokeEntry ? smokeFacts(smokeEntry[0], smokeEntry[1]) : null,
    restate: restateEntry ? restateFacts(restateEntry[0], restateEntry[1]) : null,
    target,
    flutterCommit,
    astmFlag: preflight?.deployment.astmFlag ?? null,
    migrationAt,
    migrationAtSource,
    applied,
    backup,
    golden,
    sep,
    archives,
    warnings,
  };
}

function readBackupFacts(parsed: Map<string, Json>, files: readonly CollectedFile[], warn: (m: string) => void): BackupFacts | null {
  const manifests = [...parsed].filter(([p, o]) => base(p) === BACKUP_FILES.manifest.file && o.format === MANIFEST_FORMAT);
  if (!manifests.length) return null;
  if (manifests.length > 1) warn(`${manifests.length} backup folders in the results; the CHANGELOG names ${manifests[0]![0]}`);
  const [manifestPath, raw] = manifests[0]!;
  const m = Manifest.safeParse(raw);
  if (!m.success) {
    warn(`${manifestPath}: not a backup manifest this version understands (${describeIssue(m.error)})`);
    return null;
  }
  const dir = path.posix.dirname(manifestPath);
  const archive = m.data.files.find((f) => f.kind === 'archive');
  if (!archive) {
    warn(`${manifestPath} lists no archive`);
    return null;
  }
  const dumpFile = `${dir}/${archive.path}`;
  const inBundle = files.find((f) => f.path === dumpFile);
  const verificationPath = `${dir}/${BACKUP_FILES.verification.file}`;
  const rawVerification = parsed.get(verificationPath);
  let verified: boolean | null = null;
  let verifiedAt: string | null = null;
  if (rawVerification) {
    const v = Verification.safeParse(rawVerification);
    if (v.success) {
      verified = v.data.ok;
      verifiedAt = v.data.checkedAt;
    } else warn(`${verificationPath}: not a verification record (${describeIssue(v.error)}); the dump counts as unverified`);
  }
  return {
    dir,
    dumpFile,
    sha256: archive.sha256,
    bytes: archive.bytes,
    dumpMatchesManifest: inBundle !== undefined && inBundle.sha256 === archive.sha256,
    plaintextSha256: archive.plaintext?.sha256 ?? null,
    takenAt: m.data.startedAt,
    finishedAt: m.data.finishedAt,
    verifiedAt,
    verified: rawVerification && verified === null ? false : verified,
  };
}

function readGoldenFacts(entry: [string, ResultOf<'golden'>] | undefined): GoldenFacts | null {
  if (!entry) return null;
  const [file, g] = entry;
  return {
    file,
    passed: g.passed,
    tolerance_l: g.tolerance_l,
    profile: g.profile,
    max_deviation_l: g.max_deviation_l,
    cases: g.cases.map((c) => ({
      reference: c.reference,
      sep_l: c.sep_volume_15c_l,
      engine_l: c.engine_volume_15c_l,
      // the value its deviation is of: stored plus any restatement (`astm53b restate`)
      mlpp_l: c.mlpp_effective_15c_l,
      engine_deviation_l: c.deviation_l,
      mlpp_deviation_l: c.mlpp_deviation_l,
      verdict: c.verdict,
      fault: c.verdict === 'FAIL' ? (c.diagnosis?.fault ?? null) : null,
      explanation: c.verdict === 'FAIL' ? (c.diagnosis?.explanation ?? null) : null,
    })),
  };
}
