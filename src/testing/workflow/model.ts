import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  convertWorkflowTemplate,
  isMapping,
  isSequence,
  isString,
  NoOperationTraceWriter,
  parseWorkflow,
  type WorkflowTemplate,
} from '@actions/workflow-parser';
import { convertActionTemplate, parseAction, type ActionRuns } from '@actions/workflow-parser/actions/index';
import type { Job, Step } from '@actions/workflow-parser/model/workflow-template';
import type { TemplateParseResult } from '@actions/workflow-parser/templates/template-parse-result';
import type { MappingToken, ScalarToken, TemplateToken } from '@actions/workflow-parser/templates/tokens/index';

/**
 * A workflow and its local actions as GitHub's own parser reads them (@actions/workflow-parser,
 * the parser of GitHub's language services): YAML, schema validation, `${{ }}` recognised and
 * turned into expression tokens, the implicit `success() &&` of an `if:`, generated step ids.
 * The converted template drops the keys it does not model (a step's `with`, `timeout-minutes`,
 * `working-directory`; a job's `permissions`, `timeout-minutes`), so those are read from the
 * parsed token tree of the same job, never from a YAML parse of our own.
 */
export interface WorkflowModel {
  file: string;
  name: string;
  template: WorkflowTemplate;
  dispatchInputs: Record<string, DispatchInput>;
  env: MappingToken | undefined;
  permissions: Permissions | undefined;
  jobs: JobModel[];
  /** keys the harness does not emulate, as `job.key` or `key`: running such a workflow is refused */
  unsupported: string[];
}

/** What would make a run here differ from GitHub's without it: the harness refuses rather than guess. */
const UNSUPPORTED_JOB_KEYS = ['strategy', 'container', 'continue-on-error', 'defaults'];

export interface DispatchInput {
  type: 'string' | 'choice' | 'boolean' | 'environment' | 'number';
  required: boolean;
  default?: string | boolean | number;
  options?: string[];
}

/** GITHUB_TOKEN scopes; a scope not listed is `none`. */
export type Permissions = Record<string, 'read' | 'write' | 'none'>;
export const PERMISSION_SCOPES = [
  'actions',
  'attestations',
  'checks',
  'contents',
  'deployments',
  'discussions',
  'id-token',
  'issues',
  'models',
  'packages',
  'pages',
  'pull-requests',
  'repository-projects',
  'security-events',
  'statuses',
] as const;

/** A job that calls a reusable workflow (`uses:` at job level), as far as the harness emulates it. */
export interface CallModel {
  /** `./.github/workflows/x.yml` or `owner/repo/.github/workflows/x.yml@ref` */
  uses: string;
  with: MappingToken | undefined;
  /** `strategy.matrix`: each key's values (include, exclude and expressions are not emulated) */
  matrix: Record<string, unknown[]> | undefined;
}

export interface JobModel {
  id: string;
  /** set when the job calls a reusable workflow: it has no steps of its own */
  call?: CallModel;
  needs: string[];
  /** the condition with GitHub's implicit `success() &&` when it names no status function */
  if: string;
  environment: TemplateToken | undefined;
  permissions: Permissions | undefined;
  timeoutMinutes: TemplateToken | undefined;
  env: MappingToken | undefined;
  outputs: MappingToken | undefined;
  services: ServiceModel[];
  steps: StepModel[];
}

export interface ServiceModel {
  id: string;
  image: string;
  /** `HOST:CONTAINER` or `CONTAINER` as written */
  ports: string[];
  env: Record<string, string>;
}

export interface StepModel {
  index: number;
  /** the step's id, or the one GitHub generates (`__actions_checkout`, `__self_2`, `__run`) */
  id: string;
  explicitId: boolean;
  /** what the log calls it: its name, else `uses`, else `Run <first line>` */
  label: string;
  if: string;
  uses?: string;
  run?: ScalarToken;
  with: Map<string, TemplateToken>;
  env: MappingToken | undefined;
  continueOnError: TemplateToken | undefined;
  timeoutMinutes: TemplateToken | undefined;
  workingDirectory: TemplateToken | undefined;
  shell: string | undefined;
  line: number | undefined;
}

export interface ActionModel {
  dir: string;
  name: string;
  inputs: { id: string; required: boolean; default: ScalarToken | undefined }[];
  outputs: string[];
  runs: ActionRuns;
}

export class WorkflowParseError extends Error {}

function failOnErrors(file: string, result: TemplateParseResult): void {
  const errors = result.context.errors.getErrors();
  if (errors.length || !result.value) {
    throw new WorkflowParseError(`${file}: GitHub's parser refuses it:\n${errors.map((e) => `  ${e.message}`).join('\n')}`);
  }
}

const field = (m: MappingToken | undefined, key: string): TemplateToken | undefined => m?.find(key);

export function readPermissions(token: TemplateToken | undefined): Permissions | undefined {
  if (!token) return undefined;
  const all = (level: 'read' | 'write' | 'none'): Permissions =>
    Object.fromEntries(PERMISSION_SCOPES.map((s) => [s, s === 'id-token' && level === 'read' ? 'none' : level]));
  if (isString(token)) {
    if (token.value === 'read-all') return all('read');
    if (token.value === 'write-all') return all('write');
    throw new WorkflowParseError(`permissions: ${token.value} is neither read-all nor write-all`);
  }
  const out: Permissions = all('none');
  for (const pair of token.assertMapping('permissions')) {
    out[pair.key.assertString('permission scope').value] = pair.value.assertString('permission level').value as Permissions[string];
  }
  return out;
}

function readServices(token: TemplateToken | undefined): ServiceModel[] {
  if (!token) return [];
  const out: ServiceModel[] = [];
  for (const pair of token.assertMapping('services')) {
    const m = pair.value.assertMapping('service');
    const ports = field(m, 'ports');
    const env = field(m, 'env');
    out.push({
      id: pair.key.assertString('service id').value,
      image: field(m, 'image')!.assertString('service image').value,
      ports: ports && isSequence(ports) ? [...ports].map((p) => p.toString()) : [],
      env: env && isMapping(env) ? Object.fromEntries([...env].map((e) => [e.key.toString(), e.value.toString()])) : {},
    });
  }
  return out;
}

function stepLabel(step: Step, raw: MappingToken): string {
  const name = field(raw, 'name');
  if (name) return name.toString();
  if ('uses' in step) return step.uses.value;
  if ('run' in step) return `Run ${step.run.toString().split('\n')[0]}`;
  return step.id;
}

function readStep(index: number, step: Step, raw: MappingToken): StepModel {
  const withToken = field(raw, 'with');
  const id = field(raw, 'id');
  return {
    index,
    id: step.id,
    explicitId: id !== undefined,
    label: stepLabel(step, raw),
    if: 'if' in step && step.if ? step.if.expression : 'success()',
    ...('uses' in step ? { uses: step.uses.value } : {}),
    ...('run' in step ? { run: step.run } : {}),
    with: new Map(withToken && isMapping(withToken) ? [...withToken].map((p) => [p.key.toString(), p.value]) : []),
    env: field(raw, 'env')?.assertMapping('step env'),
    continueOnError: field(raw, 'continue-on-error'),
    timeoutMinutes: field(raw, 'timeout-minutes'),
    workingDirectory: field(raw, 'working-directory'),
    shell: field(raw, 'shell')?.toString(),
    line: raw.line,
  };
}

/**
 * A reusable workflow call: its inputs, `secrets: inherit` (named secrets are not emulated), and a
 * matrix of literal values with `fail-fast: false` (each leg runs to its end here, one after the
 * other, as GitHub's legs would side by side; cancelling the others on a failure is not emulated).
 */
function readCall(id: string, raw: MappingToken, unsupported: string[]): CallModel {
  const secrets = field(raw, 'secrets');
  if (!secrets || !isString(secrets) || secrets.value !== 'inherit') unsupported.push(`${id}.secrets (only inherit)`);
  const strategy = field(raw, 'strategy');
  let matrix: Record<string, unknown[]> | undefined;
  if (strategy) {
    const m = strategy.assertMapping('strategy');
    const failFast = field(m, 'fail-fast');
    if (!failFast || failFast.toString() !== 'false') unsupported.push(`${id}.strategy.fail-fast (only false)`);
    const rawMatrix = field(m, 'matrix');
    matrix = {};
    for (const pair of rawMatrix?.assertMapping('matrix') ?? []) {
      const key = pair.key.assertString('matrix key').value;
      if (key === 'include' || key === 'exclude' || !isSequence(pair.value)) {
        unsupported.push(`${id}.strategy.matrix.${key}`);
        continue;
      }
      matrix[key] = [...pair.value].map((v) => (isString(v) ? v.value : v.toString()));
    }
  }
  return {
    uses: field(raw, 'uses')!.assertString('uses').value,
    with: field(raw, 'with')?.assertMapping('with'),
    matrix,
  };
}

export async function loadWorkflow(repoDir: string, file: string): Promise<WorkflowModel> {
  const content = await readFile(path.join(repoDir, file), 'utf8');
  const parsed = parseWorkflow({ name: file, content }, new NoOperationTraceWriter());
  failOnErrors(file, parsed);
  const template = await convertWorkflowTemplate(parsed.context, parsed.value!);
  if (template.errors?.length) throw new WorkflowParseError(`${file}: ${template.errors.map((e) => e.Message).join('; ')}`);
  const root = parsed.value!.assertMapping('workflow');
  const rawJobs = field(root, 'jobs')!.assertMapping('jobs');
  const jobs: JobModel[] = [];
  const unsupported = field(root, 'defaults') ? ['defaults'] : [];
  for (const job of template.jobs) {
    const raw = rawJobs.find(job.id.value)!.assertMapping('job');
    if (job.type !== 'job') {
      const call = readCall(job.id.value, raw, unsupported);
      jobs.push({
        id: job.id.value,
        call,
        needs: (job.needs ?? []).map((n) => n.value),
        if: job.if.expression,
        environment: undefined,
        permissions: readPermissions(field(raw, 'permissions')),
        timeoutMinutes: undefined,
        env: undefined,
        outputs: undefined,
        services: [],
        steps: [],
      });
      continue;
    }
    unsupported.push(...UNSUPPORTED_JOB_KEYS.filter((k) => field(raw, k)).map((k) => `${job.id.value}.${k}`));
    const rawSteps = [...field(raw, 'steps')!.assertSequence('steps')];
    const steps = (job as Job).steps;
    if (steps.length !== rawSteps.length) throw new WorkflowParseError(`${file}: job ${job.id.value}: a step did not convert`);
    jobs.push({
      id: job.id.value,
      needs: (job.needs ?? []).map((n) => n.value),
      if: job.if.expression,
      environment: (job as Job).environment,
      permissions: readPermissions(field(raw, 'permissions')),
      timeoutMinutes: field(raw, 'timeout-minutes'),
      env: (job as Job).env,
      outputs: job.outputs,
      services: readServices(field(raw, 'services')),
      steps: steps.map((s, i) => readStep(i, s, rawSteps[i]!.assertMapping('step'))),
    });
  }
  // a reusable workflow (workflow_call) is run as its caller would call it: its typed call inputs
  const dispatch = template.events.workflow_dispatch?.inputs ?? template.events.workflow_call?.inputs ?? {};
  return {
    file,
    name: field(root, 'name')?.toString() ?? file,
    template,
    dispatchInputs: Object.fromEntries(
      Object.entries(dispatch).map(([k, v]) => [
        k,
        {
          type: v.type,
          required: v.required ?? false,
          ...(v.default !== undefined ? { default: v.default } : {}),
          ...(v.options ? { options: v.options } : {}),
        } as DispatchInput,
      ]),
    ),
    env: field(root, 'env')?.assertMapping('env'),
    permissions: readPermissions(field(root, 'permissions')),
    jobs,
    unsupported,
  };
}

/** A local action (`uses: ./actions/x`): its action.yml through the same parser. */
export async function loadLocalAction(repoDir: string, uses: string): Promise<ActionModel> {
  const dir = path.join(repoDir, uses);
  const file = path.join(dir, 'action.yml');
  const parsed = parseAction({ name: path.relative(repoDir, file), content: await readFile(file, 'utf8') }, new NoOperationTraceWriter());
  failOnErrors(file, parsed);
  const t = convertActionTemplate(parsed.context, parsed.value!);
  return {
    dir,
    name: t.name,
    inputs: (t.inputs ?? []).map((i) => ({ id: i.id, required: i.required ?? false, default: i.default })),
    outputs: (t.outputs ?? []).map((o) => o.id),
    runs: t.runs,
  };
}
