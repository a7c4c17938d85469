import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { PACKAGE_ROOT } from '../../paths.js';
import { PIPELINE_RELEASE } from './own-actions.js';
import { ArtifactStore } from './artifacts.js';
import { evaluateCondition, evaluateToken } from './expressions.js';
import { FakeGitHub, type RunState } from './github-api.js';
import { newRepoContents } from './github-repo.js';
import { runJob } from './job.js';
import { loadWorkflow, type JobModel, type Permissions, type WorkflowModel } from './model.js';
import type { Attestation } from './stand-ins.js';
import { ScenarioError, type JobReport, type Result, type RunReport, type Scenario } from './types.js';

/**
 * A workflow_dispatch run of one workflow, as GitHub runs it: inputs checked and typed as the
 * dispatch form does, jobs in `needs` order (one at a time), each job's `if:` evaluated against
 * the results and outputs of the jobs it needs, environments that hold secrets and make a job
 * wait for its required reviewers (the scenario's review is recorded where the REST API reports
 * it; a rejected job fails without running), artifacts the only thing passed between jobs.
 */
const execFileP = promisify(execFile);

/** Typed as the `inputs` context has them; refused as the dispatch form refuses them. */
export function dispatchInputs(wf: WorkflowModel, given: Record<string, string | boolean> = {}): Record<string, string | boolean | number> {
  const out: Record<string, string | boolean | number> = {};
  for (const k of Object.keys(given)) if (!(k in wf.dispatchInputs)) throw new ScenarioError(`${wf.file} has no input ${k}`);
  for (const [k, def] of Object.entries(wf.dispatchInputs)) {
    const v = k in given ? given[k]! : def.default;
    if (v === undefined || v === '') {
      if (def.required) throw new ScenarioError(`input ${k} is required`);
      out[k] = def.type === 'boolean' ? false : '';
      continue;
    }
    if (def.type === 'boolean') out[k] = v === true || v === 'true';
    else if (def.type === 'number') out[k] = Number(v);
    else out[k] = String(v);
    if (def.type === 'choice' && !def.options?.includes(String(v)))
      throw new ScenarioError(`input ${k}: ${String(v)} is not one of ${def.options?.join(', ')}`);
  }
  return out;
}

/** Jobs in an order where each comes after everything it needs; ties keep the file's order. */
export function jobOrder(jobs: readonly JobModel[]): JobModel[] {
  const done = new Set<string>();
  const out: JobModel[] = [];
  while (out.length < jobs.length) {
    const next = jobs.find((j) => !done.has(j.id) && j.needs.every((n) => done.has(n)));
    if (!next)
      throw new ScenarioError(
        `needs form a cycle among ${jobs
          .filter((j) => !done.has(j.id))
          .map((j) => j.id)
          .join(', ')}`,
      );
    done.add(next.id);
    out.push(next);
  }
  return out;
}

/** Every job a job depends on, directly or not: a job-level success() asks all of them. */
export function ancestors(jobs: readonly JobModel[], id: string): string[] {
  const byId = new Map(jobs.map((j) => [j.id, j]));
  const seen = new Set<string>();
  const visit = (j: string) => {
    for (const n of byId.get(j)?.needs ?? []) if (!seen.has(n)) (seen.add(n), visit(n));
  };
  visit(id);
  return [...seen];
}

/** A job's `if:` with the status functions of a job: success() when every ancestor succeeded, failure() when one failed. */
export function jobCondition(
  wf: WorkflowModel,
  job: JobModel,
  results: ReadonlyMap<string, { result: Result; outputs: Record<string, string> }>,
  ctx: { github: unknown; inputs: unknown; vars: unknown },
): boolean {
  const up = ancestors(wf.jobs, job.id).map((a) => results.get(a)?.result ?? 'skipped');
  const needs = Object.fromEntries(job.needs.map((n) => [n, results.get(n) ?? { result: 'skipped', outputs: {} }]));
  return evaluateCondition(
    job.if,
    { ...ctx, needs },
    { success: () => up.every((r) => r === 'success'), failure: () => up.includes('failure'), cancelled: () => false },
  );
}

export async function runWorkflow(s: Scenario): Promise<RunReport> {
  const repoDir = s.repoDir ?? PACKAGE_ROOT;
  const wf = await loadWorkflow(repoDir, s.workflow);
  if (wf.unsupported.length) throw new ScenarioError(`${wf.file}: the harness does not emulate ${wf.unsupported.join(', ')}`);
  const repository = s.repository ?? 'depot/astm53b-pipeline';
  const [owner = '', repo = ''] = repository.split('/');
  const runId = 7_000_000_000 + Math.floor(Math.random() * 999_999_999);
  const actor = s.actor ?? 'ops-engineer';
  const ref = s.ref ?? 'refs/heads/main';
  const inputs = dispatchInputs(wf, s.inputs);
  const sha = (await execFileP('git', ['rev-parse', 'HEAD'], { cwd: repoDir }).catch(() => ({ stdout: '0'.repeat(40) }))).stdout.trim();
  const dir = await mkdtemp(path.join(tmpdir(), 'astm53b-wf-'));
  const state: RunState = {
    owner,
    repo,
    runId,
    environments: new Map(),
    reviews: [],
    contents: newRepoContents(s.repositoryFiles ?? {}),
    issues: s.issues ?? [],
    issueReplies: s.issueReplies ?? [],
    commits: new Map(Object.entries(s.publicCommits ?? {})),
  };
  const api = await FakeGitHub.start(state);
  const artifacts = new ArtifactStore(path.join(dir, 'artifacts'), s.earlierRuns);
  const attestations: Attestation[] = [];
  const github = {
    run_id: String(runId),
    run_number: '1',
    run_attempt: '1',
    actor,
    triggering_actor: actor,
    repository,
    repository_owner: owner,
    sha,
    ref,
    ref_name: ref.replace(/^refs\/(?:heads|tags)\//, ''),
    event_name: 'workflow_dispatch',
    event: {
      inputs: Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, String(v)])),
      ref,
      repository: { full_name: repository, default_branch: 'main' },
    },
    workflow: wf.name,
    workflow_ref: `${repository}/${s.workflow}@${ref}`,
    server_url: 'https://github.com',
    api_url: api.url,
    graphql_url: `${api.url}/graphql`,
    retention_days: '90',
  };
  const shared: Shared = { s, repoDir, dir, github, api, artifacts, attestations, state, reports: [] };
  try {
    await runJobs(shared, wf, inputs, '');
  } finally {
    await api.close();
  }
  const reports = shared.reports;
  return makeReport(s, runId, dir, reports, artifacts, attestations, api, state);
}

/** What every job of one run shares, called workflows' jobs included: the run's id, API, artifacts and reviews. */
interface Shared {
  s: Scenario;
  repoDir: string;
  dir: string;
  github: Record<string, unknown>;
  api: FakeGitHub;
  artifacts: ArtifactStore;
  attestations: Attestation[];
  state: RunState;
  reports: JobReport[];
}

type JobResults = Map<string, { result: Result; outputs: Record<string, string> }>;

/** The jobs of one workflow in `needs` order; `prefix` names the calling job's leg (`migrate (kinshasa) / `). */
async function runJobs(sh: Shared, wf: WorkflowModel, inputs: Record<string, unknown>, prefix: string): Promise<JobResults> {
  const { s, state } = sh;
  const results: JobResults = new Map();
  for (const job of jobOrder(wf.jobs)) {
    const ctx = { github: sh.github, inputs, vars: s.vars ?? {} };
    const label = prefix + job.id;
    let report: JobReport;
    if (!jobCondition(wf, job, results, ctx)) {
      report = { id: label, result: 'skipped', outputs: {}, steps: [], note: `if: ${job.if}` };
    } else if (job.call) {
      const ceiling = job.permissions ?? wf.permissions;
      report = await runCall(sh, job, label, ceiling, { ...ctx, needs: Object.fromEntries(job.needs.map((n) => [n, results.get(n)!])) });
    } else {
      const needs = Object.fromEntries(job.needs.map((n) => [n, results.get(n)!]));
      const envToken = job.environment;
      const envValue = envToken ? evaluateToken(envToken, { ...ctx, needs }) : undefined;
      const environment =
        typeof envValue === 'object' && envValue ? String((envValue as { name?: unknown }).name ?? '') : (envValue as string | undefined);
      const config = environment ? (s.environments?.[environment] ?? {}) : {};
      if (environment && !state.environments.has(environment)) state.environments.set(environment, 161_000_000 + state.environments.size);
      const rejected = environment ? reviewFor(s, label, environment, config.reviewers ?? [], state) : undefined;
      if (rejected) {
        report = {
          id: label,
          result: 'failure',
          outputs: {},
          steps: [],
          environment: environment!,
          review: rejected,
          note: `rejected by ${rejected.login}`,
        };
      } else {
        report = await runJob({
          wf,
          job,
          label,
          scenario: s,
          runDir: sh.dir,
          github: sh.github,
          inputs,
          needs,
          secrets: { ...s.secrets, ...config.secrets },
          vars: { ...s.vars, ...config.vars },
          environment,
          api: sh.api,
          artifacts: sh.artifacts,
          attestations: sh.attestations,
          repoDir: sh.repoDir,
        });
        const review = state.reviews.find((r) => r.environment === environment && r.state === 'approved');
        if (review && config.reviewers?.length) report.review = review;
      }
    }
    results.set(job.id, { result: report.result, outputs: report.outputs });
    sh.reports.push(report);
  }
  return results;
}

/** Every combination of a matrix's values, in GitHub's order (the first key varies slowest). */
export function matrixLegs(matrix: Record<string, unknown[]> | undefined): Record<string, unknown>[] {
  if (!matrix) return [{}];
  let legs: Record<string, unknown>[] = [{}];
  for (const [k, values] of Object.entries(matrix)) legs = legs.flatMap((leg) => values.map((v) => ({ ...leg, [k]: v })));
  return legs;
}

/** Where a called workflow's file is: this repository's (`./`), or this repository at its release (the tree under test). */
function calledFile(sh: Shared, uses: string): { root: string; file: string } {
  if (uses.startsWith('./')) return { root: sh.repoDir, file: uses.slice(2) };
  const m = /^([^/]+\/[^/]+)\/(\.github\/workflows\/[^@]+)@(.+)$/.exec(uses);
  if (m && m[1] === PIPELINE_RELEASE.repository && m[3] === PIPELINE_RELEASE.tag) return { root: PACKAGE_ROOT, file: m[2]! };
  throw new ScenarioError(
    `${uses}: the harness calls this repository's workflows only (./… or ${PIPELINE_RELEASE.repository}/…@${PIPELINE_RELEASE.tag})`,
  );
}

/**
 * A job that calls a reusable workflow: per matrix leg, its `with:` evaluated with that leg's
 * `matrix`, typed as the called workflow's inputs, and the called jobs run in this run (the same
 * run id, artifacts, reviews and secrets: `secrets: inherit`). Its result is failure when a called
 * job of any leg failed (GitHub's legs run side by side; here one after the other).
 */
async function runCall(
  sh: Shared,
  job: JobModel,
  label: string,
  ceiling: Permissions | undefined,
  ctx: Record<string, unknown>,
): Promise<JobReport> {
  const { root, file } = calledFile(sh, job.call!.uses);
  const called = await loadWorkflow(root, file);
  if (!called.template.events.workflow_call) throw new ScenarioError(`${file} has no on: workflow_call`);
  if (called.unsupported.length) throw new ScenarioError(`${file}: the harness does not emulate ${called.unsupported.join(', ')}`);
  const over = permissionsOverCeiling(called, ceiling);
  if (over.length) throw new ScenarioError(`startup_failure: ${over.join(' ')}`);
  const legs = matrixLegs(job.call!.matrix);
  const failed: string[] = [];
  for (const leg of legs) {
    const legLabel = job.call!.matrix ? `${label} (${Object.values(leg).join(', ')})` : label;
    const given = job.call!.with ? evaluateToken(job.call!.with, { ...ctx, matrix: leg, strategy: { 'fail-fast': false } }) : {};
    const typed = Object.fromEntries(
      Object.entries((given ?? {}) as Record<string, unknown>).map(([k, v]) => [k, typeof v === 'boolean' ? v : String(v ?? '')]),
    );
    const results = await runJobs(sh, called, dispatchInputs(called, typed), `${legLabel} / `);
    if ([...results.values()].some((r) => r.result === 'failure')) failed.push(legLabel);
  }
  return {
    id: label,
    result: failed.length ? 'failure' : 'success',
    outputs: {},
    steps: [],
    note: `calls ${job.call!.uses}${legs.length > 1 || job.call!.matrix ? ` for ${legs.length} leg(s)` : ''}${failed.length ? `; failed: ${failed.join(', ')}` : ''}`,
  };
}

const LEVEL = { none: 0, read: 1, write: 2 } as const;

/**
 * GitHub refuses a whole run (startup_failure) whose called workflow has a job asking for more
 * than the calling job may give, whether or not that job would run: the caller's permissions
 * are the ceiling of every job it calls. No ceiling: the repository's default, not checked here.
 */
export function permissionsOverCeiling(called: WorkflowModel, ceiling: Permissions | undefined): string[] {
  if (!ceiling) return [];
  const out: string[] = [];
  for (const j of called.jobs) {
    for (const [scope, level] of Object.entries(j.permissions ?? called.permissions ?? {})) {
      const allowed = ceiling[scope] ?? 'none';
      if (LEVEL[level] > LEVEL[allowed])
        out.push(`The nested job '${j.id}' is requesting '${scope}: ${level}', but is only allowed '${scope}: ${allowed}'.`);
    }
  }
  return out;
}

/** Records the scenario's review of a gated environment; returns it when it rejects the job. */
function reviewFor(s: Scenario, job: string, environment: string, reviewers: string[], state: RunState) {
  if (!reviewers.length) return undefined;
  const review = s.reviews?.[environment];
  if (!review) throw new ScenarioError(`job ${job} waits for a review of environment ${environment}: the scenario gives none`);
  if (!reviewers.includes(review.by))
    throw new ScenarioError(`${review.by} is not a required reviewer of ${environment} (${reviewers.join(', ')})`);
  const r = { environment, state: review.state, login: review.by, comment: review.comment ?? '', at: new Date() };
  state.reviews.push(r);
  return review.state === 'rejected' ? r : undefined;
}

function makeReport(
  s: Scenario,
  runId: number,
  dir: string,
  jobs: JobReport[],
  artifacts: ArtifactStore,
  attestations: Attestation[],
  api: FakeGitHub,
  state: RunState,
): RunReport {
  const job = (id: string) =>
    jobs.find((j) => j.id === id) ??
    (() => {
      throw new Error(`no job ${id}`);
    })();
  return {
    scenario: s.name,
    runId,
    dir,
    jobs,
    artifacts: artifacts.artifacts,
    attestations,
    skippedInstalls: jobs.flatMap((j) =>
      j.steps.filter((x) => x.skippedInstall).map((x) => ({ job: j.id, step: x.label, reason: x.skippedInstall! })),
    ),
    apiRequests: api.requests,
    reviews: state.reviews,
    issues: state.issues,
    repository: state.contents!,
    job,
    step: (j, key) => {
      const found = job(j).steps.find((x) => x.id === key || x.label === key);
      if (!found)
        throw new Error(
          `job ${j} has no step ${key}: ${job(j)
            .steps.map((x) => x.id)
            .join(', ')}`,
        );
      return found;
    },
    artifactDir: (name) => {
      const a = artifacts.artifacts.get(name);
      if (!a) throw new Error(`no artifact ${name}; the run uploaded ${[...artifacts.artifacts.keys()].join(', ')}`);
      return a.dir;
    },
    describe: () =>
      jobs
        .map((j) =>
          [
            `${j.id}: ${j.result}${j.environment ? ` [${j.environment}]` : ''}${j.note ? ` (${j.note.trim()})` : ''}`,
            ...j.steps.map(
              (x) =>
                `  ${x.label}: ${x.outcome}${x.conclusion !== x.outcome ? ` → ${x.conclusion}` : ''}${x.skippedInstall ? ' (install skipped)' : ''}` +
                x.annotations
                  .filter((a) => a.level === 'error')
                  .map((a) => `\n    ! ${a.message.split('\n')[0]}`)
                  .join(''),
            ),
          ].join('\n'),
        )
        .join('\n'),
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}
