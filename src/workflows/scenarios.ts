import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { newDepotKeys } from '../crypto/keys.js';
import { readTableKeys, tablesChecksums } from '../db/checksum.js';
import { PIPELINE_PREFIX } from '../db/fingerprint.js';
import { PgDb } from '../db/pg.js';
import { createScratchDatabase, type ScratchDatabase } from '../db/scratch.js';
import { readZipDirectory, openZipEntry } from '../evidence/zip-reader.js';
import { silentLogger } from '../logger.js';
import { PACKAGE_ROOT } from '../paths.js';
import type { Manifest } from '../results/backup.js';
import type { VerifyResult } from '../results/evidence.js';
import { initFixture } from '../runbook/db-init.js';
import { freezeStatus } from '../runbook/freeze.js';
import type { Review, RunReport, Scenario } from '../testing/workflow/types.js';

/**
 * The depot and the repository settings the PROD and STAGING workflows run against in the
 * scenarios (`*.e2e.test.ts`). A scenario is one dispatch: the demo depot on a fresh database,
 * the environments as the README asks for them, the reviews the scenario decides. A new one
 * (the GO run, once the corrected change file and the restatement land) is one more
 * runWorkflow(prodScenario(depot, { go, inputs })) with its own assertions on the end state.
 */
export const PROD_WORKFLOW = '.github/workflows/astm53b-prod.yml';
export const STAGING_WORKFLOW = '.github/workflows/astm53b-staging.yml';
export const DEMO_GOLDEN = 'golden/demo-golden-cases.csv';
export const LEAD = 'ops-lead';
export const MANAGER = 'chef-depot';

const server = (): string => {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) throw new Error('TEST_DATABASE_URL is not set: the workflow scenarios run on a real PostgreSQL');
  return url;
};

export interface Depot {
  /** the connection string the workflow gets as its secret: with a password, as Supabase's always has (the test server trusts, so it is not checked) */
  url: string;
  db: PgDb;
  scratch: ScratchDatabase;
  close(): Promise<void>;
}

/**
 * ML_PP's demo depot (db init) on a fresh database, quiet: its movements and log entries moved an
 * hour back, as at the runbook's slot when the depot has stopped entering them (freeze on refuses
 * a database the app wrote to in the last 15 minutes, and db init has just written everything).
 * The fixture's own DB-STRICT triggers refuse such an update, hence replica mode for this one
 * transaction of the test's set-up.
 */
export async function demoDepot(purpose: string): Promise<Depot> {
  const scratch = await createScratchDatabase(server(), purpose);
  const db = new PgDb(scratch.url);
  await initFixture(db, { scale: 1, seed: 1 }, silentLogger);
  await db.withTransaction(async (tx) => {
    await tx.query('SET LOCAL session_replication_role = replica');
    for (const t of ['receptions', 'sorties_produit', 'log_actions']) {
      await tx.query(`UPDATE public.${t} SET created_at = created_at - interval '1 hour'`);
    }
  });
  const url = new URL(scratch.url);
  url.password = 'scenario-db-password';
  return {
    url: url.toString(),
    db,
    scratch,
    close: async () => {
      await db.close().catch(() => {});
      await scratch.drop();
    },
  };
}

/**
 * The app's last log entry moved to `minutes` ago: a depot the app wrote to that recently, which the
 * freeze's activity window sees (replica mode for this one set-up transaction, as in demoDepot).
 */
export async function appWroteMinutesAgo(depot: Depot, minutes: number): Promise<void> {
  await depot.db.withTransaction(async (tx) => {
    await tx.query('SET LOCAL session_replication_role = replica');
    await tx.query(
      `UPDATE public.log_actions SET created_at = now() - make_interval(mins => $1::int)
        WHERE id = (SELECT id FROM public.log_actions ORDER BY created_at DESC LIMIT 1)`,
      [minutes],
    );
  });
}

/** Count and checksum of every application table (src/db/checksum.ts), as the backup's manifest has them. */
export async function applicationChecksums(db: PgDb): Promise<Record<string, string>> {
  const keys = await readTableKeys(db, ['public', 'astm'], PIPELINE_PREFIX);
  return Object.fromEntries((await tablesChecksums(db, keys)).map((t) => [t.table, `${t.rows}:${t.checksum}`]));
}

export const manifestChecksums = (m: Manifest): Record<string, string> =>
  Object.fromEntries(m.tables.map((t) => [t.table, `${t.rows}:${t.checksum}`]));

export const isFrozen = async (db: PgDb): Promise<boolean> => (await freezeStatus(db)).frozen;

/** The depot's keys as `astm53b keys new` makes them: the texts that go into the repository's variable and secrets. */
export interface ScenarioKeys {
  /** AGE_RECIPIENT (repository variable) */
  recipient: string;
  /** AGE_IDENTITY (secret of prod) */
  ageIdentity: string;
  /** EVIDENCE_SIGNING_KEY (secret of prod, of staging) */
  signingKey: string;
  /** signing.pub: what the auditor verifies a bundle with */
  signingPub: string;
}

/** the deployed app's commit, in the app's repository as GitHub's API knows it */
export const APP_REPOSITORY = 'VALERYkal/ml_pp_mvp';
export const APP_COMMIT = '9c0d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d';

/** A depot's keys, made by the real `keys new` code. */
export async function newScenarioKeys(): Promise<ScenarioKeys> {
  const made = await newDepotKeys(path.join(await mkdtemp(path.join(tmpdir(), 'astm53b-scenario-keys-')), 'keys'));
  const file = (name: string) => made.files.find((f) => path.basename(f.path) === name)!.path;
  return {
    recipient: made.recipient,
    ageIdentity: await readFile(file('age.key'), 'utf8'),
    signingKey: await readFile(file('signing.key'), 'utf8'),
    signingPub: file('signing.pub'),
  };
}

let keys: Promise<ScenarioKeys> | undefined;
/** One set of keys per test file. */
export function scenarioKeys(): Promise<ScenarioKeys> {
  keys ??= newScenarioKeys();
  return keys;
}

/**
 * The repository settings of the README: DATABASE_URL in prod-start and prod, reviewers on
 * prod-start and prod-go, the keys (AGE_RECIPIENT variable, AGE_IDENTITY and EVIDENCE_SIGNING_KEY in prod).
 */
export function prodScenario(depot: Depot, k: ScenarioKeys, s: Partial<Scenario> & { name: string; go?: Review }): Scenario {
  const { go, ...rest } = s;
  return {
    workflow: PROD_WORKFLOW,
    actor: 'ops-engineer',
    inputs: { 'flutter-commit': APP_COMMIT, 'golden-file': DEMO_GOLDEN },
    // the app's repository, where preflight confirms the deployed commit (the workflow's default flutter-repository)
    publicCommits: {
      [APP_REPOSITORY]: [
        { sha: APP_COMMIT, message: 'feat(astm): ASTM 53B engine behind the flag', date: '2026-12-03T17:40:00Z', author: 'VALERYkal' },
      ],
    },
    vars: { AGE_RECIPIENT: k.recipient },
    environments: {
      'prod-start': { secrets: { DATABASE_URL: depot.url }, reviewers: [LEAD] },
      prod: { secrets: { DATABASE_URL: depot.url, AGE_IDENTITY: k.ageIdentity, EVIDENCE_SIGNING_KEY: k.signingKey } },
      'prod-go': { reviewers: [MANAGER] },
    },
    reviews: {
      'prod-start': { state: 'approved', by: LEAD, comment: 'Créneau validé, équipe informée' },
      ...(go ? { 'prod-go': go } : {}),
    },
    serviceServer: server(),
    // a hung step fails the scenario in seconds rather than minutes: 1 min of timeout-minutes = 4 s
    minuteMs: 4_000,
    ...rest,
  };
}

export async function artifactJson<T = Record<string, unknown>>(r: RunReport, artifact: string, file: string): Promise<T> {
  return JSON.parse(await readFile(path.join(r.artifactDir(artifact), file), 'utf8')) as T;
}

/** The job results in the order they ran, as the run's summary page lists them. */
export const jobResults = (r: RunReport): Record<string, string> => Object.fromEntries(r.jobs.map((j) => [j.id, j.result]));

const execFileP = promisify(execFile);

/**
 * The auditor's one command on the uploaded bundle: `astm53b evidence verify FILE.zip --public-key
 * signing.pub --json` (exit 1 on a mismatch or a signature that is missing or not the depot's).
 */
export async function verifyUploadedBundle(r: RunReport, artifact = 'evidence-bundle', signingPub?: string) {
  const a = r.artifacts.get(artifact);
  if (!a) throw new Error(`no ${artifact} artifact:\n${r.describe()}`);
  expect(a.files).toHaveLength(1);
  const zip = path.join(a.dir, a.files[0]!);
  const cli = [
    path.join(PACKAGE_ROOT, 'bin/astm53b.cjs'),
    'evidence',
    'verify',
    zip,
    '--public-key',
    signingPub ?? (await scenarioKeys()).signingPub,
    '--json',
  ];
  const { stdout, code } = await execFileP(process.execPath, cli).then(
    (x) => ({ stdout: x.stdout, code: 0 }),
    (e: { stdout: string; code: number }) => ({ stdout: e.stdout, code: e.code }),
  );
  const v = JSON.parse(stdout) as VerifyResult;
  return {
    zip,
    code,
    ok: v.ok,
    checked: v.checked,
    signedByDepot: v.authenticity.valid,
    decision: v.manifest?.decision ?? null,
    problems: v.problems,
  };
}

/** One file of a bundle, read straight from the zip. */
export async function bundleFile(zip: string, name: string): Promise<string> {
  const entry = (await readZipDirectory(zip)).find((e) => e.name === name);
  if (!entry) throw new Error(`${name} is not in ${path.basename(zip)}`);
  const chunks: Buffer[] = [];
  for await (const c of await openZipEntry(zip, entry)) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
