import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { Logger } from '../logger.js';
import { MANIFEST_FORMAT } from '../runbook/backup-manifest.js';

/**
 * What the evidence bundle and the CHANGELOG entry state, read from the results folder the
 * steps wrote. The producers evolve independently (some are written in parallel), so nothing
 * here depends on their internals: every JSON file is read generically for the top-level fields
 * that say how the step ended (`passed`, `ok`, `decision`) and when (ISO timestamps), and only
 * a few well-known facts are picked out where present. A file that does not have the expected
 * shape is reported as such, never fatal.
 */
export interface CollectedFile {
  /** path inside the bundle, '/'-separated */
  path: string;
  abs: string;
  bytes: number;
  sha256: string;
  source: 'results' | 'sep';
}

export interface StepOutcome {
  file: string;
  /** `passed`, else `ok`, else null when the file says neither */
  passed: boolean | null;
  /** decision.json's `decision`, a failure count or a status, when the file has one */
  detail: string | null;
  /** the latest ISO timestamp among the file's top-level fields */
  at: string | null;
}

export interface GoldenDeviation {
  reference: string;
  sep_l: number;
  engine_l: number | null;
  mlpp_l: number | null;
  /** engine − SEP */
  engine_deviation_l: number | null;
  /** ML_PP − SEP */
  mlpp_deviation_l: number | null;
  verdict: string | null;
}

export interface GoldenFacts {
  file: string;
  passed: boolean | null;
  tolerance_l: number;
  profile: string | null;
  max_deviation_l: number | null;
  cases: GoldenDeviation[];
}

export interface BackupFacts {
  dir: string;
  /** the dump inside the bundle, and what the backup's own manifest says of it */
  dumpFile: string;
  sha256: string;
  bytes: number;
  /** the dump in the bundle has the SHA-256 the backup manifest recorded */
  dumpMatchesManifest: boolean;
  takenAt: string | null;
  /** verification.json `ok` (the restore test), null when absent */
  verified: boolean | null;
}

export interface ArchiveItem {
  /** the runbook's own words (5.7) */
  item: string;
  present: boolean;
  evidence: string;
}

export interface EvidenceFacts {
  steps: StepOutcome[];
  decision: string;
  target: string | null;
  flutterCommit: string | null;
  astmFlag: string | null;
  /** the migration's time: the date given by the operator, else sql-apply.json's timestamp */
  migrationAt: string | null;
  migrationAtSource: 'option' | 'sql-apply.json' | null;
  applied: { file: string; sha256: string | null; status: string | null; ok: boolean | null } | null;
  backup: BackupFacts | null;
  golden: GoldenFacts | null;
  sep: { path: string; bytes: number; sha256: string }[];
  /** runbook 5.7: "Aucune migration ASTM53B ne sera considérée valide sans ces archives." */
  archives: ArchiveItem[];
  warnings: string[];
}

const JSON_LIMIT = 64 * 1024 * 1024; // a results JSON larger than this is listed and hashed, not parsed
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' && v.trim() ? v : null);
const bool = (v: unknown): boolean | null => (typeof v === 'boolean' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const base = (p: string) => p.slice(p.lastIndexOf('/') + 1);

function latestTimestamp(o: Json): string | null {
  let best: string | null = null;
  for (const v of Object.values(o)) {
    if (typeof v === 'string' && ISO.test(v) && (best === null || Date.parse(v) > Date.parse(best))) best = v;
  }
  return best;
}

function detailOf(name: string, o: Json): string | null {
  if (name === 'decision.json') return str(o.decision);
  const status = str(o.status);
  if (status) return status;
  if (Array.isArray(o.failures) && o.failures.length) return `${o.failures.length} failure(s)`;
  return null;
}

const BackupManifestShape = z.object({
  format: z.literal(MANIFEST_FORMAT),
  startedAt: z.string().optional(),
  files: z.array(z.object({ path: z.string(), kind: z.string(), bytes: z.number(), sha256: z.string() })),
});

const GoldenShape = z.object({
  passed: z.boolean().optional(),
  profile: z.string().optional(),
  tolerance_l: z.number(),
  max_deviation_l: z.number().optional(),
  cases: z.array(
    z.object({
      reference: z.string(),
      sep_volume_15c_l: z.number(),
      engine_volume_15c_l: z.number().nullish(),
      mlpp_volume_15c_l: z.number().nullish(),
      deviation_l: z.number().nullish(),
      mlpp_deviation_l: z.number().nullish(),
      verdict: z.string().nullish(),
    }),
  ),
});

export interface FactsOptions {
  /** the migration date the operator states (YYYY-MM-DD or ISO time); wins over what the files say */
  migrationDate?: string;
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
  const byName = (name: string): [string, Json] | undefined => {
    const hits = [...parsed].filter(([p]) => base(p) === name);
    if (hits.length > 1) warn(`${hits.length} files named ${name}; using ${hits[0]![0]}`);
    return hits[0];
  };

  const steps: StepOutcome[] = [...parsed].map(([p, o]) => ({
    file: p,
    passed: bool(o.passed) ?? bool(o.ok),
    detail: detailOf(base(p), o),
    at: latestTimestamp(o),
  }));

  const decisionFile = byName('decision.json');
  let decision = 'NONE';
  if (decisionFile) {
    const d = str(decisionFile[1].decision);
    if (d) decision = d;
    else warn(`${decisionFile[0]} has no "decision" text field; the decision is recorded as NONE`);
  }

  const preflight = byName('preflight.json')?.[1];
  const deployment = isObject(preflight?.deployment) ? preflight.deployment : {};
  const target = [...parsed.values()].map((o) => str(o.target)).find((t) => t !== null) ?? null;

  const applyEntry = byName('sql-apply.json');
  const apply = applyEntry?.[1];
  const applyFile = isObject(apply?.file) ? apply.file : {};
  const applied = applyEntry
    ? {
        file: str(applyFile.name) ?? str(applyFile.display) ?? applyEntry[0],
        sha256: str(applyFile.sha256),
        status: str(apply!.status),
        ok: bool(apply!.ok) ?? bool(apply!.passed),
      }
    : null;
  let migrationAt: string | null = null;
  let migrationAtSource: EvidenceFacts['migrationAtSource'] = null;
  if (opts.migrationDate) {
    migrationAt = opts.migrationDate;
    migrationAtSource = 'option';
  } else if (apply && latestTimestamp(apply)) {
    migrationAt = latestTimestamp(apply);
    migrationAtSource = 'sql-apply.json';
  }

  const backup = readBackupFacts(parsed, files, warn);
  const golden = readGoldenFacts(byName('golden.json'), warn);
  const sep = files.filter((f) => f.source === 'sep').map((f) => ({ path: f.path, bytes: f.bytes, sha256: f.sha256 }));
  const flutterCommit = str(deployment.flutterCommit);

  const mlppCompared = golden?.cases.filter((c) => c.mlpp_deviation_l !== null).length ?? 0;
  const archives: ArchiveItem[] = [
    {
      item: 'Mettre à jour CHANGELOG.md (section [Unreleased] → PROD)',
      present: true,
      evidence: 'CHANGELOG-entry.md (generated from these results)',
    },
    {
      item: 'Documenter date exacte de migration',
      present: migrationAt !== null,
      evidence: migrationAt
        ? `${migrationAt} (${migrationAtSource === 'option' ? 'stated by the operator' : 'sql-apply.json'})`
        : 'no date given and no timestamp in sql-apply.json',
    },
    {
      item: 'Archiver hash commit Flutter déployé',
      present: flutterCommit !== null,
      evidence: flutterCommit ?? 'preflight.json has no deployment.flutterCommit',
    },
    {
      item: 'Archiver dump backup PROD utilisé',
      present: backup !== null && backup.dumpMatchesManifest,
      evidence: backup
        ? `${backup.dumpFile} ${backup.sha256}${backup.dumpMatchesManifest ? '' : ' (NOT the file in the bundle: hash differs or file missing)'}`
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

  return {
    steps,
    decision,
    target,
    flutterCommit,
    astmFlag: str(deployment.astmFlag),
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
  const manifests = [...parsed].filter(([p, o]) => base(p) === 'manifest.json' && o.format === MANIFEST_FORMAT);
  if (!manifests.length) return null;
  if (manifests.length > 1) warn(`${manifests.length} backup folders in the results; the CHANGELOG names ${manifests[0]![0]}`);
  const [manifestPath, raw] = manifests[0]!;
  const m = BackupManifestShape.safeParse(raw);
  if (!m.success) {
    warn(`${manifestPath}: not a backup manifest this version understands (${m.error.issues[0]?.message})`);
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
  const verification = parsed.get(`${dir}/verification.json`);
  return {
    dir,
    dumpFile,
    sha256: archive.sha256,
    bytes: archive.bytes,
    dumpMatchesManifest: inBundle !== undefined && inBundle.sha256 === archive.sha256,
    takenAt: m.data.startedAt ?? null,
    verified: verification ? bool(verification.ok) : null,
  };
}

function readGoldenFacts(entry: [string, Json] | undefined, warn: (m: string) => void): GoldenFacts | null {
  if (!entry) return null;
  const g = GoldenShape.safeParse(entry[1]);
  if (!g.success) {
    const i = g.error.issues[0];
    warn(`${entry[0]}: golden cases not readable (${i?.path.join('.')}: ${i?.message}); listed and hashed only`);
    return null;
  }
  return {
    file: entry[0],
    passed: g.data.passed ?? null,
    tolerance_l: g.data.tolerance_l,
    profile: g.data.profile ?? null,
    max_deviation_l: g.data.max_deviation_l ?? null,
    cases: g.data.cases.map((c) => ({
      reference: c.reference,
      sep_l: c.sep_volume_15c_l,
      engine_l: c.engine_volume_15c_l ?? null,
      mlpp_l: c.mlpp_volume_15c_l ?? null,
      engine_deviation_l: c.deviation_l ?? null,
      mlpp_deviation_l: c.mlpp_deviation_l ?? null,
      verdict: c.verdict ?? null,
    })),
  };
}
