import { readFile } from 'node:fs/promises';
import { UserError } from '../errors.js';
import { silentLogger, type Logger } from '../logger.js';
import { confirmFlutterCommit, type FlutterCommitOptions } from './flutter-commit.js';
import { diffFingerprints, readFingerprint } from '../db/fingerprint.js';
import { parseRows } from '../db/rows.js';
import type { Db } from '../db/types.js';
import { loadGoldenFile } from '../golden/load.js';
import { readAppActivity } from './app-activity.js';
import { loadChangeFile, sha256Hex, type ChangeFile } from './change-file.js';
import { checkCompat } from './compat.js';
import { readEnvironment } from './environment.js';
import { readStockSummary } from './stock-summary.js';
import { isTouched, touchedObjects } from './touched-objects.js';
import { Fingerprint } from '../results/common.js';
import {
  GasoilReception,
  type FlutterCommitCheck,
  type PreflightFailure,
  type PreflightResult,
  type TouchedObjects,
} from '../results/preflight.js';

/**
 * Preflight (runbook 3.3, 4.1, 4.4): the first job of every run, read-only. Every input is
 * validated before the database is opened; then what the run must know about the target:
 * compat, the trucks waiting (received only after the ASTM validation), the GASOIL
 * receptions already there, app activity, the environment marker, whether the database
 * computes 15 °C values itself, and drift against the staging baseline. The result JSON is
 * what the decision reads.
 */
export interface FileRef {
  path: string;
  /** as the user named it, for messages and the report */
  display: string;
}

export interface Deployment {
  /** the Flutter commit deployed (runbook 4.4, 5.7): it lives outside the database */
  flutterCommit?: string;
  /** the build-time ASTM flag as declared by whoever deployed */
  astmFlag?: 'on' | 'off';
}

export interface PreflightOptions {
  golden: FileRef;
  changeFiles: FileRef[];
  baseline?: FileRef;
  deployment?: Deployment;
  activityWindowMinutes?: number;
  /** ask GitHub's API whether the Flutter commit exists in the app's repository (runbook 5.7); without it the commit is recorded unconfirmed */
  flutterRepository?: Omit<FlutterCommitOptions, 'sha'>;
}

export function validateDeployment(d: Deployment | undefined): Deployment {
  const out: Deployment = {};
  if (d?.flutterCommit !== undefined && d.flutterCommit !== '') {
    const c = d.flutterCommit.trim();
    if (!/^[0-9a-f]{7,40}$/i.test(c)) {
      throw new UserError('BAD_INPUT', `flutter commit "${c.slice(0, 50)}" is not a git commit hash (7 to 40 hex digits)`, {
        where: { field: 'flutter-commit' },
      });
    }
    out.flutterCommit = c.toLowerCase();
  }
  if (d?.astmFlag !== undefined) {
    const f = String(d.astmFlag).toLowerCase();
    if (f !== 'on' && f !== 'off')
      throw new UserError('BAD_INPUT', `ASTM flag must be on or off, got "${String(d.astmFlag)}"`, { where: { field: 'astm-flag' } });
    out.astmFlag = f;
  }
  return out;
}

/** A baseline is a fingerprint JSON (`astm53b fingerprint`) or a staging apply result (its fingerprint before the change). */
export async function loadBaseline(ref: FileRef): Promise<{ fingerprint: Fingerprint; sha256: string }> {
  let text: string;
  try {
    text = await readFile(ref.path, 'utf8');
  } catch (e) {
    throw new UserError('FILE_NOT_FOUND', `cannot read the baseline: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      where: { file: ref.display },
    });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UserError('BAD_BASELINE', `not JSON: ${(e as Error).message}`, { where: { file: ref.display } });
  }
  const candidate =
    doc && typeof doc === 'object' && 'fingerprintBefore' in doc ? (doc as { fingerprintBefore: unknown }).fingerprintBefore : doc;
  const r = Fingerprint.safeParse(candidate);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new UserError('BAD_BASELINE', `not a catalog fingerprint (nor an apply result holding one): ${issue.message}`, {
      where: { file: ref.display, field: issue.path.join('.') || '(document)' },
    });
  }
  return { fingerprint: r.data, sha256: sha256Hex(text) };
}

/** Every input, read and validated: built before the database is opened, so a bad one touches nothing. */
export interface PreflightInputs {
  opts: PreflightOptions;
  deployment: Deployment;
  golden: { cases: number; sha256: string; bytes: number };
  changes: ChangeFile[];
  baseline: { fingerprint: Fingerprint; sha256: string } | undefined;
  /** the Flutter commit as GitHub confirmed it; null when no repository was given to check it in */
  flutterCheck: FlutterCommitCheck | null;
}

export async function loadPreflightInputs(opts: PreflightOptions, log: Logger = silentLogger): Promise<PreflightInputs> {
  const deployment = validateDeployment(opts.deployment);
  const golden = await loadGoldenFile(opts.golden.path, opts.golden.display);
  const goldenBytes = await readFile(opts.golden.path);
  if (!opts.changeFiles.length)
    throw new UserError('MISSING_INPUT', 'at least one change file is required', { where: { field: 'change' } });
  const changes: ChangeFile[] = [];
  for (const f of opts.changeFiles) changes.push(await loadChangeFile(f.path, f.display));
  const baseline = opts.baseline ? await loadBaseline(opts.baseline) : undefined;
  // last of the inputs, still before any database work: a commit GitHub does not know stops here
  if (opts.flutterRepository && !deployment.flutterCommit)
    throw new UserError('MISSING_INPUT', 'a Flutter repository to confirm the commit in, but no flutter commit', {
      where: { field: 'flutter-commit' },
    });
  const flutterCheck =
    opts.flutterRepository && deployment.flutterCommit
      ? await confirmFlutterCommit({ ...opts.flutterRepository, sha: deployment.flutterCommit }, log)
      : null;
  return {
    flutterCheck,
    opts,
    deployment,
    golden: { cases: golden.cases.length, sha256: sha256Hex(goldenBytes), bytes: goldenBytes.length },
    changes,
    baseline,
  };
}

export async function preflight(db: Db, inputs: PreflightInputs, log: Logger): Promise<PreflightResult> {
  const { opts, deployment, golden, changes, baseline } = inputs;
  const touched = changes.map((c) => touchedObjects(c.statements));
  const union: TouchedObjects = {
    functions: [...new Set(touched.flatMap((t) => t.functions))],
    triggers: [...new Set(touched.flatMap((t) => t.triggers))],
    policies: [...new Set(touched.flatMap((t) => t.policies))],
    tables: [...new Set(touched.flatMap((t) => t.tables))],
  };

  log.info(`preflight: ${golden.cases} golden cases, ${changes.length} change file(s); reading ${db.label}`);
  const server = await db.server();
  const compat = await checkCompat(db, log);
  const read = await db.withTransaction(
    async (q) => {
      const summary = await readStockSummary(q);
      const rec = await q.query(
        `SELECT r.id::text, r.date_reception::text, c.nom AS citerne, r.proprietaire_type, r.volume_ambiant, r.volume_corrige_15c,
                r.volume_15c, r.temperature_ambiante_c, r.densite_a_15
           FROM receptions r JOIN citernes c ON c.id = r.citerne_id JOIN produits p ON p.id = r.produit_id
          WHERE p.code IN ('G.O', 'GO', 'GASOIL', 'AGO') OR p.nom ILIKE '%gasoil%'
          ORDER BY r.date_reception, r.created_at`,
      );
      const compute = await q.query<{ name: string }>(
        `SELECT t.tgname AS name FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
          WHERE t.tgrelid = 'public.receptions'::regclass AND NOT t.tgisinternal
            AND (t.tgtype & 2) = 2 AND (t.tgtype & 4) = 4 AND (p.proname ~* '(15c|volumetr|astm|lookup)')
          ORDER BY 1`,
      );
      return {
        pendingTrucks: summary.waitingTrucks,
        gasoilReceptions: parseRows(GasoilReception.strip(), rec.rows, 'GASOIL receptions'),
        computeTriggers: compute.rows.map((r) => r.name),
        activity: await readAppActivity(q, opts.activityWindowMinutes === undefined ? {} : { windowMinutes: opts.activityWindowMinutes }),
        environment: await readEnvironment(q),
        fingerprint: baseline ? await readFingerprint(q) : undefined,
      };
    },
    { readOnly: true },
  );

  const failures: PreflightFailure[] = [];
  const warnings: string[] = [];
  if (!compat.compatible) {
    failures.push({
      code: 'INCOMPATIBLE',
      message: `the target lacks or differs on ${compat.counts.missing + compat.counts.different} object(s) the pipeline relies on (see compat)`,
    });
  }
  for (const f of compat.security) warnings.push(`security: ${f.name}: ${f.finding}`);
  let drift: PreflightResult['drift'] = null;
  if (baseline && read.fingerprint) {
    const pick = (f: Fingerprint): Fingerprint => ({ ...f, entries: f.entries.filter((e) => isTouched(e, union)) });
    const base = pick(baseline.fingerprint);
    const now = pick(read.fingerprint);
    const diff = diffFingerprints(base, now);
    drift = {
      baseline: opts.baseline!.display,
      baselineSha256: baseline.sha256,
      objectsCompared: new Set([...base.entries, ...now.entries].map((e) => `${e.kind} ${e.name}`)).size,
      changes: diff,
    };
    if (diff.length) {
      failures.push({
        code: 'DRIFT',
        message: `the target differs from the staging baseline on what the change files touch: ${diff.map((d) => `${d.kind} ${d.name} (${d.change})`).join('; ')}`,
      });
    }
  } else {
    warnings.push('no --baseline: drift against the staging run was not checked');
  }
  if (read.activity.writing) warnings.push(`the app is active: ${read.activity.seen.join('; ')} (freeze before changing anything)`);
  if (read.pendingTrucks.length) {
    warnings.push(
      `${read.pendingTrucks.length} truck(s) arrived but not received (${read.pendingTrucks.map((t) => t.plaque_camion).join(', ')}): receive them only after the ASTM validation (runbook 3.3)`,
    );
  }
  if (read.environment.env === 'unmarked' || read.environment.env === 'conflict')
    warnings.push(`environment: ${read.environment.explanation}`);

  const result: PreflightResult = {
    step: 'preflight',
    passed: failures.length === 0,
    failures,
    warnings,
    target: db.label,
    server,
    at: new Date().toISOString(),
    golden: { file: opts.golden.display, ...golden },
    changeFiles: changes.map((c, i) => ({
      name: c.name,
      file: c.display,
      sha256: c.sha256,
      bytes: c.bytes,
      statements: c.statements.length,
      touches: touched[i]!,
    })),
    deployment: {
      flutterCommit: deployment.flutterCommit ?? null,
      flutterCommitCheck: inputs.flutterCheck,
      astmFlag: deployment.astmFlag ?? null,
      databaseComputes15c: read.computeTriggers.length > 0,
      computeTriggers: read.computeTriggers,
    },
    environment: read.environment,
    compat,
    pendingTrucks: read.pendingTrucks,
    gasoilReceptions: read.gasoilReceptions,
    activity: read.activity,
    drift,
  };
  log.info(`preflight: ${result.passed ? 'PASS' : `FAIL (${failures.map((f) => f.code).join(', ')})`}`);
  return result;
}
