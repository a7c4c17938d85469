import { randomUUID } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ArtifactStore, StandInResult } from './artifacts.js';
import { evaluateCondition, evaluateMap, evaluateString, evaluateToken, type Contexts, type StatusFunctions } from './expressions.js';
import { maskLog, parseKeyValueFile, parseStdoutCommands, type Annotation } from './file-commands.js';
import type { FakeGitHub } from './github-api.js';
import { loadLocalAction, type JobModel, type Permissions, type StepModel, type WorkflowModel } from './model.js';
import { ownAction } from './own-actions.js';
import { runProcess } from './process.js';
import { redirectToServices, servicesContext, startServices, type ServiceStandIn } from './services.js';
import { packageInstallReason, runStandIn, type Attestation } from './stand-ins.js';
import type { JobReport, Result, Scenario, StepReport } from './types.js';

/**
 * One job on a fresh runner: an empty workspace (checkout fills it), its own RUNNER_TEMP and
 * HOME, its own GITHUB_TOKEN, the secrets and variables of the repository and of its
 * environment only, stand-ins for its service containers. Steps run in order; each `if:` sees
 * the job's status so far; a step's outcome is what it did, its conclusion what counts after
 * continue-on-error. Jobs run one after another here (GitHub may run independent ones at once).
 */
export interface JobRun {
  wf: WorkflowModel;
  job: JobModel;
  /** how the run lists it: the job's id, or `caller (leg) / id` inside a called workflow */
  label?: string;
  scenario: Scenario;
  runDir: string;
  github: Record<string, unknown>;
  inputs: Record<string, unknown>;
  needs: Record<string, { result: Result; outputs: Record<string, string> }>;
  secrets: Record<string, string>;
  vars: Record<string, string>;
  environment: string | undefined;
  api: FakeGitHub;
  artifacts: ArtifactStore;
  attestations: Attestation[];
  repoDir: string;
}

/** What a job's token may do when neither the job nor the workflow says (a repository's permissive default). */
const DEFAULT_PERMISSIONS: Permissions = {
  actions: 'write',
  contents: 'write',
  issues: 'write',
  'pull-requests': 'write',
  statuses: 'write',
};
const DEFAULT_JOB_TIMEOUT_MINUTES = 360;

interface Running {
  r: JobRun;
  workspace: string;
  temp: string;
  baseEnv: Record<string, string>;
  addedEnv: Record<string, string>;
  addedPath: string[];
  masks: string[];
  steps: Record<string, { outcome: Result; conclusion: Result; outputs: Record<string, string> }>;
  status: 'success' | 'failure' | 'cancelled';
  services: ServiceStandIn[];
  deadline: number;
  minuteMs: number;
}

function contexts(x: Running, extraEnv: Record<string, string> = {}): Contexts {
  return {
    github: x.r.github,
    env: { ...x.baseEnv, ...x.addedEnv, ...extraEnv },
    inputs: x.r.inputs,
    secrets: x.r.secrets,
    vars: x.r.vars,
    needs: x.r.needs,
    steps: x.steps,
    job: { status: x.status, services: servicesContext(x.services) },
    runner: { os: 'Linux', arch: 'X64', name: 'GitHub Actions 1', temp: x.temp, environment: 'github-hosted' },
    strategy: {},
    matrix: {},
  };
}

const stepStatus = (x: Running): StatusFunctions => ({
  success: () => x.status === 'success',
  failure: () => x.status === 'failure',
  cancelled: () => x.status === 'cancelled',
});

function processEnv(x: Running, step: StepModel, files: Record<string, string>, env: Record<string, string>): Record<string, string> {
  const g = x.r.github as Record<string, string>;
  return {
    PATH: [...x.addedPath, process.env.PATH ?? '/usr/bin:/bin'].join(':'),
    HOME: path.join(x.temp, '..', 'home'),
    LANG: 'C.UTF-8',
    ...x.r.scenario.runnerEnv,
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: x.workspace,
    GITHUB_RUN_ID: String(g.run_id),
    GITHUB_RUN_NUMBER: String(g.run_number),
    GITHUB_RUN_ATTEMPT: String(g.run_attempt),
    GITHUB_ACTOR: g.actor!,
    GITHUB_TRIGGERING_ACTOR: g.triggering_actor!,
    GITHUB_REPOSITORY: g.repository!,
    GITHUB_REPOSITORY_OWNER: g.repository_owner!,
    GITHUB_API_URL: g.api_url!,
    GITHUB_SERVER_URL: g.server_url!,
    GITHUB_GRAPHQL_URL: g.graphql_url!,
    GITHUB_SHA: g.sha!,
    GITHUB_REF: g.ref!,
    GITHUB_REF_NAME: g.ref_name!,
    GITHUB_REF_TYPE: 'branch',
    GITHUB_EVENT_NAME: g.event_name!,
    GITHUB_EVENT_PATH: path.join(x.temp, '..', 'event.json'),
    GITHUB_WORKFLOW: g.workflow!,
    GITHUB_WORKFLOW_REF: g.workflow_ref!,
    GITHUB_JOB: x.r.job.id,
    GITHUB_ACTION: step.id,
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_NAME: 'GitHub Actions 1',
    RUNNER_ENVIRONMENT: 'github-hosted',
    RUNNER_TEMP: x.temp,
    RUNNER_TOOL_CACHE: path.join(x.temp, '..', 'toolcache'),
    ...files,
    ...env,
  };
}

async function actionProcess(x: Running, step: StepModel, ctx: Contexts, env: Record<string, string>) {
  // ./actions/x runs from the checked-out workspace; this repository's action at its release (what a
  // reusable workflow references) from the tree under test, which stands for that release
  const own = ownAction(step.uses)!;
  const root = step.uses!.startsWith('./') ? x.workspace : x.r.repoDir;
  const action = await loadLocalAction(root, own).catch((e: Error) => e);
  if (action instanceof Error) return { error: `Can't find 'action.yml' under '${path.join(root, own)}': ${action.message}` };
  if (!('main' in action.runs) || action.runs.pre || action.runs.post) {
    return { error: `the harness runs JavaScript actions without pre/post steps; ${step.uses} is ${action.runs.using}` };
  }
  const given: Record<string, string> = {};
  for (const [k, t] of step.with) given[k] = redirectToServices(evaluateString(t, ctx), x.services);
  const inputs: Record<string, string> = {};
  const missing: string[] = [];
  for (const i of action.inputs) {
    const v = i.id in given ? given[i.id]! : i.default ? evaluateString(i.default, ctx) : '';
    if (i.required && v === '' && !(i.id in given)) missing.push(i.id);
    inputs[`INPUT_${i.id.replace(/ /g, '_').toUpperCase()}`] = v;
  }
  const declared = new Set(action.inputs.map((i) => i.id));
  const unexpected = Object.keys(given).filter((k) => !declared.has(k));
  const main = path.join(action.dir, action.runs.main);
  const child = { ...env, ...inputs, GITHUB_ACTION_PATH: action.dir };
  return { command: process.execPath, args: [main], childEnv: child, unexpected, missing, valid: [...declared] };
}

const SHELLS: Record<string, (file: string) => string[]> = {
  default: (f) => ['bash', '-e', f],
  bash: (f) => ['bash', '--noprofile', '--norc', '-eo', 'pipefail', f],
  sh: (f) => ['sh', '-e', f],
};

async function runStep(x: Running, step: StepModel, report: StepReport): Promise<void> {
  const ctx0 = contexts(x);
  const stepEnv = step.env ? evaluateMap(step.env, ctx0) : {};
  const env = Object.fromEntries(
    Object.entries({ ...x.baseEnv, ...x.addedEnv, ...stepEnv }).map(([k, v]) => [k, redirectToServices(v, x.services)]),
  );
  const ctx = contexts(x, stepEnv);
  const stepMinutes = step.timeoutMinutes ? Number(evaluateToken(step.timeoutMinutes, ctx)) : Infinity;
  // after the job's own timeout cancelled it, an always() step still gets a few minutes, as on GitHub
  const left = x.status === 'cancelled' ? 5 * x.minuteMs : x.deadline - Date.now();
  const timeoutMs = Math.max(0, Math.min(stepMinutes * x.minuteMs, left));
  const fail = (error: string) => {
    report.outcome = 'failure';
    report.annotations.push({ level: 'error', message: error, properties: {} });
  };

  if (step.uses && !ownAction(step.uses)) {
    const inputs: Record<string, string> = {};
    for (const [k, t] of step.with) inputs[k] = evaluateString(t, ctx);
    const ws = step.workingDirectory ? path.resolve(x.workspace, evaluateString(step.workingDirectory, ctx)) : x.workspace;
    const res: StandInResult = await runStandIn(
      step.uses,
      {
        job: x.r.label ?? x.r.job.id,
        workspace: ws,
        repoDir: x.r.repoDir,
        commitFiles: x.r.scenario.commitFiles ?? {},
        repository: (x.r.github as { repository: string }).repository,
        artifacts: x.r.artifacts,
        attestations: x.r.attestations,
      },
      inputs,
    );
    report.log = res.log.join('\n');
    report.outputs = res.outputs;
    for (const w of res.warnings) report.annotations.push({ level: 'warning', message: w, properties: {} });
    if (res.ok) report.outcome = 'success';
    else fail(res.error ?? `${step.uses} failed`);
    return;
  }

  const dir = path.join(x.temp, '_runner_file_commands');
  await mkdir(dir, { recursive: true });
  const tag = randomUUID();
  const files = Object.fromEntries(
    ['GITHUB_OUTPUT', 'GITHUB_ENV', 'GITHUB_STATE', 'GITHUB_PATH', 'GITHUB_STEP_SUMMARY'].map((k) => [
      k,
      path.join(dir, `${k.toLowerCase()}_${tag}`),
    ]),
  );
  for (const f of Object.values(files)) await writeFile(f, '');
  const penv = processEnv(x, step, files, env);
  let spawnArgs: { command: string; args: string[]; env: Record<string, string>; cwd: string };
  if (step.uses) {
    const a = await actionProcess(x, step, ctx, penv);
    if ('error' in a) return fail(a.error!);
    report.unexpectedInputs = a.unexpected;
    report.missingInputs = a.missing;
    if (a.unexpected.length) {
      report.annotations.push({
        level: 'warning',
        message: `Unexpected input(s) '${a.unexpected.join("', '")}', valid inputs are ['${a.valid.join("', '")}']`,
        properties: {},
      });
    }
    spawnArgs = { command: a.command, args: a.args, env: a.childEnv, cwd: x.workspace };
  } else {
    const script = redirectToServices(evaluateString(step.run!, ctx), x.services);
    const install = packageInstallReason(script);
    if (install) {
      report.skippedInstall = install;
      report.outcome = 'success';
      report.log = `skipped by the harness (installs packages): ${install}`;
      return;
    }
    const shell = SHELLS[step.shell ?? 'default'];
    if (!shell) return fail(`the harness runs bash and sh steps, not shell: ${step.shell}`);
    const file = path.join(x.temp, `${tag}.sh`);
    await writeFile(file, script);
    const cwd = step.workingDirectory ? path.resolve(x.workspace, evaluateString(step.workingDirectory, ctx)) : x.workspace;
    if (!(await stat(cwd).catch(() => undefined))?.isDirectory()) return fail(`working-directory ${cwd} does not exist`);
    const [command, ...args] = shell(file);
    spawnArgs = { command: command!, args, env: penv, cwd };
  }

  const p = await runProcess(spawnArgs.command, spawnArgs.args, { cwd: spawnArgs.cwd, env: spawnArgs.env, timeoutMs });
  const cmds = parseStdoutCommands(p.stdout);
  x.masks.push(...cmds.masks);
  report.problems = cmds.problems;
  report.annotations.push(...cmds.annotations.map((a): Annotation => ({ ...a, message: maskLog(a.message, allSecrets(x)) })));
  report.log = maskLog(p.stdout + p.stderr, allSecrets(x));
  report.summary = await readFile(files.GITHUB_STEP_SUMMARY!, 'utf8');
  report.outputs = parseKeyValueFile(await readFile(files.GITHUB_OUTPUT!, 'utf8'), 'GITHUB_OUTPUT');
  Object.assign(x.addedEnv, parseKeyValueFile(await readFile(files.GITHUB_ENV!, 'utf8'), 'GITHUB_ENV'));
  x.addedPath.unshift(...(await readFile(files.GITHUB_PATH!, 'utf8')).split('\n').filter(Boolean).reverse());
  if (p.timedOut) {
    report.timedOut = true;
    const jobOut = x.status !== 'cancelled' && Date.now() >= x.deadline;
    if (jobOut) x.status = 'cancelled';
    fail(jobOut ? `The job has exceeded the maximum execution time of its timeout-minutes` : 'The action has timed out.');
    return;
  }
  report.outcome = p.exitCode === 0 ? 'success' : 'failure';
  if (p.exitCode !== 0 && !cmds.annotations.some((a) => a.level === 'error')) fail(`Process completed with exit code ${p.exitCode}.`);
}

const allSecrets = (x: Running): string[] => [...Object.values(x.r.secrets), ...x.masks];

export async function runJob(r: JobRun): Promise<JobReport> {
  const label = r.label ?? r.job.id;
  const jobDir = path.join(r.runDir, 'jobs', label.replace(/[^\w.-]+/g, '_'));
  const workspace = path.join(jobDir, 'work', String((r.github as { repository: string }).repository).split('/')[1]!);
  const temp = path.join(jobDir, 'temp');
  for (const d of [workspace, temp, path.join(jobDir, 'home'), path.join(jobDir, 'toolcache')]) await mkdir(d, { recursive: true });
  await writeFile(path.join(jobDir, 'event.json'), JSON.stringify((r.github as { event: unknown }).event));
  const minuteMs = r.scenario.minuteMs ?? 60_000;
  const token = r.api.issueToken(label, r.job.permissions ?? r.wf.permissions ?? DEFAULT_PERMISSIONS);
  r.secrets = { ...r.secrets, GITHUB_TOKEN: token };
  r.github = { ...r.github, token, workspace, job: r.job.id };
  const x: Running = {
    r,
    workspace,
    temp,
    baseEnv: {},
    addedEnv: {},
    addedPath: [],
    masks: [],
    steps: {},
    status: 'success',
    services: await startServices(r.job, r.scenario.serviceServer, r.scenario.refuseServices ?? []),
    deadline: 0,
    minuteMs,
  };
  const report: JobReport = { id: label, result: 'success', outputs: {}, steps: [], workspace };
  if (r.environment) report.environment = r.environment;
  try {
    const wfEnv = evaluateMap(r.wf.env, { github: r.github, inputs: r.inputs, secrets: r.secrets, vars: r.vars });
    x.baseEnv = { ...wfEnv, ...evaluateMap(r.job.env, { ...contexts(x), env: wfEnv }) };
    const jobMinutes = r.job.timeoutMinutes ? Number(evaluateToken(r.job.timeoutMinutes, contexts(x))) : DEFAULT_JOB_TIMEOUT_MINUTES;
    x.deadline = Date.now() + jobMinutes * minuteMs;
    for (const step of r.job.steps) {
      const s: StepReport = {
        job: label,
        id: step.id,
        label: step.label,
        ...(step.uses ? { uses: step.uses } : {}),
        outcome: 'skipped',
        conclusion: 'skipped',
        outputs: {},
        annotations: [],
        log: '',
        summary: '',
        ms: 0,
        unexpectedInputs: [],
        missingInputs: [],
        problems: [],
      };
      report.steps.push(s);
      x.r.github = { ...x.r.github, action: step.id };
      if (evaluateCondition(step.if, contexts(x), stepStatus(x))) {
        const t0 = Date.now();
        await runStep(x, step, s);
        s.ms = Date.now() - t0;
        const coe = step.continueOnError !== undefined && Boolean(evaluateToken(step.continueOnError, contexts(x)));
        s.conclusion = s.outcome === 'failure' && coe ? 'success' : s.outcome;
        if (s.conclusion === 'failure' && x.status === 'success') x.status = 'failure';
      }
      if (step.explicitId) x.steps[step.id] = { outcome: s.outcome, conclusion: s.conclusion, outputs: s.outputs };
    }
    if (r.job.outputs) {
      for (const [k, v] of Object.entries(evaluateMap(r.job.outputs, contexts(x)))) {
        // the runner drops a job output that carries a secret rather than pass it on
        if (allSecrets(x).some((sec) => sec && v.includes(sec)))
          report.note = `${report.note ?? ''}Skip output '${k}' since it may contain secret. `;
        else report.outputs[k] = v;
      }
    }
    report.result = x.status;
    if (x.status === 'cancelled') report.note = `${report.note ?? ''}exceeded timeout-minutes (${jobMinutes})`;
  } finally {
    await Promise.all(x.services.map((s) => s.drop()));
  }
  return report;
}
