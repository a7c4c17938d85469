import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Lexer } from '@actions/expressions';
import { minimatch } from 'minimatch';
import { TokenType } from '@actions/expressions/lexer';
import { isBasicExpression } from '@actions/workflow-parser';
import { TemplateToken } from '@actions/workflow-parser/templates/tokens/template-token';
import { PACKAGE_ROOT } from '../paths.js';
import { findFilesToUpload } from '../testing/workflow/artifacts.js';
import { evaluateMap, evaluateString } from '../testing/workflow/expressions.js';
import { loadLocalAction, loadWorkflow, type JobModel, type StepModel, type WorkflowModel } from '../testing/workflow/model.js';
import { ownAction } from '../testing/workflow/own-actions.js';

/**
 * What the structural tests read from the parsed workflows (no database, nothing run): local
 * action inputs against their action.yml, the secrets each job names, the GITHUB_TOKEN scopes
 * each job's steps need, and which artifacts end up carrying the plaintext dump.
 */
export async function loadRepoWorkflows(repoDir = PACKAGE_ROOT): Promise<WorkflowModel[]> {
  const dir = path.join(repoDir, '.github/workflows');
  const files = (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort();
  return Promise.all(files.map((f) => loadWorkflow(repoDir, `.github/workflows/${f}`)));
}

// a reusable workflow references this repository's actions at their release: the same actions
const isLocal = (s: StepModel): boolean => ownAction(s.uses) !== undefined;
const usesAction = (s: StepModel, name: string): boolean => (s.uses ?? '').split('@')[0] === name;

/** Every `with:` key of a local action that its action.yml does not declare, and every required input not given. */
export async function localInputProblems(wf: WorkflowModel, repoDir = PACKAGE_ROOT): Promise<string[]> {
  const out: string[] = [];
  for (const job of wf.jobs) {
    for (const step of job.steps.filter(isLocal)) {
      const action = await loadLocalAction(repoDir, ownAction(step.uses)!);
      const declared = new Map(action.inputs.map((i) => [i.id, i]));
      const where = `${wf.file} ${job.id}/${step.label} (line ${step.line})`;
      for (const k of step.with.keys()) if (!declared.has(k)) out.push(`${where}: ${step.uses} has no input ${k}`);
      for (const i of action.inputs) {
        if (i.required && !i.default && !step.with.has(i.id)) out.push(`${where}: required input ${i.id} of ${step.uses} is not given`);
      }
    }
  }
  return out;
}

/** The names a job reads from one context (`secrets.X`, `secrets['X']`), anywhere in its steps, env and outputs. */
export function contextNames(job: JobModel, context: string): string[] {
  const roots: TemplateToken[] = [
    ...job.steps.flatMap((s) => [...s.with.values(), ...(s.env ? [s.env] : []), ...(s.run ? [s.run] : [])]),
    ...(job.env ? [job.env] : []),
    ...(job.outputs ? [job.outputs] : []),
  ];
  const names = new Set<string>();
  for (const root of roots) {
    for (const [, token] of TemplateToken.traverse(root)) {
      if (!isBasicExpression(token)) continue;
      const t = new Lexer(token.expression).lex().tokens;
      for (let i = 0; i + 2 < t.length; i++) {
        if (t[i]!.type !== TokenType.IDENTIFIER || t[i]!.lexeme !== context) continue;
        if (t[i + 1]!.type === TokenType.DOT && t[i + 2]!.type === TokenType.IDENTIFIER) names.add(t[i + 2]!.lexeme);
        if (t[i + 1]!.type === TokenType.LEFT_BRACKET && t[i + 2]!.type === TokenType.STRING) names.add(String(t[i + 2]!.value));
      }
    }
  }
  return [...names].sort();
}

/** The environment a job runs in, for a run given these inputs (PROD's `depot` names its environments). */
export const environmentOf = (job: JobModel, inputs: Record<string, unknown> = {}): string | undefined =>
  job.environment ? evaluateString(job.environment, { inputs }) : undefined;

/**
 * The GITHUB_TOKEN scopes a step needs. A local action that takes a github-token must be listed
 * here with what its API calls need: a new one fails the test until it is.
 */
const LOCAL_ACTION_SCOPES: Record<string, Record<string, 'read' | 'write'>> = {
  './actions/signoff': { actions: 'read' },
  './actions/approval-gate': { issues: 'write' },
  './actions/changelog-pr': { contents: 'write', 'pull-requests': 'write' },
  // the watch reads the complaint issues and opens or comments on the incident issue
  './actions/watch': { issues: 'write' },
  // GET /repos/{owner}/{repo}/commits/{sha} of the app's repository (flutter-repository)
  './actions/preflight': { contents: 'read' },
};
const THIRD_PARTY_SCOPES: Record<string, Record<string, 'read' | 'write'>> = {
  'actions/checkout': { contents: 'read' },
  // artifacts go through ACTIONS_RUNTIME_TOKEN, not GITHUB_TOKEN
  'actions/upload-artifact': {},
  'actions/download-artifact': {},
  'actions/setup-node': {},
  'actions/attest-build-provenance': { 'id-token': 'write', attestations: 'write' },
};

export async function neededScopes(job: JobModel, repoDir = PACKAGE_ROOT): Promise<Record<string, 'read' | 'write'>> {
  const out: Record<string, 'read' | 'write'> = {};
  const add = (scopes: Record<string, 'read' | 'write'>) => {
    for (const [k, v] of Object.entries(scopes)) if (out[k] !== 'write') out[k] = v;
  };
  for (const step of job.steps) {
    if (!step.uses) continue;
    if (isLocal(step)) {
      const own = ownAction(step.uses)!;
      const action = await loadLocalAction(repoDir, own);
      const known = LOCAL_ACTION_SCOPES[own];
      if (action.inputs.some((i) => i.id === 'github-token') && !known)
        throw new Error(`${step.uses} takes a github-token: list its scopes`);
      add(known ?? {});
    } else {
      const known = THIRD_PARTY_SCOPES[step.uses.split('@')[0]!];
      if (!known) throw new Error(`${step.uses}: list the GITHUB_TOKEN scopes it needs`);
      add(known);
      // another run's artifact is read through the REST API with the given token
      if (usesAction(step, 'actions/download-artifact') && step.with.has('run-id')) add({ actions: 'read' });
    }
  }
  return out;
}

/** The scopes a job's token gets: its own `permissions:`, else the workflow's; undefined = the repository default. */
export function grantedScopes(wf: WorkflowModel, job: JobModel): Record<string, string> | undefined {
  const p = job.permissions ?? wf.permissions;
  return p ? Object.fromEntries(Object.entries(p).filter(([, v]) => v !== 'none')) : undefined;
}

const STORED_DUMP = 'database.dump';

/**
 * Which artifacts carry the backup's dump (`database.dump`, the plaintext, or `database.dump.age`,
 * what an encrypting backup leaves), directly (an upload whose paths cover it) or inside another
 * file (the evidence bundle zips its results folder), following downloads from job to job.
 * Decided with the harness's own upload-artifact@v4 path rules on a workspace holding the dump
 * where each step would leave it.
 */

export async function dumpCarriers(wf: WorkflowModel, dumpName: string = STORED_DUMP): Promise<string[]> {
  const carriers = new Map<string, string[]>(); // artifact -> the dump's paths inside it
  const env = evaluateMap(wf.env, { inputs: {}, github: {}, vars: {}, secrets: {} });
  const ctx = { env, inputs: {}, github: { run_id: 'RUN' }, steps: {}, needs: {}, secrets: {}, vars: {} };
  const str = (s: StepModel, k: string, fallback = ''): string => (s.with.has(k) ? evaluateString(s.with.get(k)!, ctx) : fallback);
  for (const job of wf.jobs) {
    const ws = await mkdtemp(path.join(tmpdir(), 'astm53b-dump-flow-'));
    const at = new Set<string>(); // workspace-relative paths holding the dump, or a file with it inside
    try {
      for (const step of job.steps) {
        // with encrypt-to the plaintext stays in a private folder under RUNNER_TEMP: only `<dump>.age` lands in output-dir
        if (ownAction(step.uses) === './actions/backup') {
          const encrypts = (step.with.get('encrypt-to')?.toString().trim() ?? '') !== '';
          const written = encrypts ? `${path.basename(STORED_DUMP)}.age` : path.basename(STORED_DUMP);
          if (written === dumpName) at.add(path.join(str(step, 'output-dir', 'astm53b-results/backup'), dumpName));
        }
        if (usesAction(step, 'actions/download-artifact')) {
          const name = str(step, 'name');
          const pattern = str(step, 'pattern');
          for (const [artifact, inside] of carriers) {
            const match = name ? artifact === name : !pattern || minimatch(artifact, pattern);
            if (!match) continue;
            const base =
              name || str(step, 'merge-multiple') === 'true' ? str(step, 'path', '.') : path.join(str(step, 'path', '.'), artifact);
            for (const p of inside) at.add(path.normalize(path.join(base, p)));
          }
        }
        if (ownAction(step.uses) === './actions/evidence') {
          const results = str(step, 'results-dir', 'astm53b-results');
          if ([...at].some((p) => !path.relative(results, p).startsWith('..'))) at.add(str(step, 'output', 'astm53b-evidence.zip'));
        }
        if (usesAction(step, 'actions/upload-artifact')) {
          for (const p of at) {
            await mkdir(path.dirname(path.join(ws, p)), { recursive: true });
            await writeFile(path.join(ws, p), '');
          }
          const found = await findFilesToUpload(ws, str(step, 'path'), str(step, 'include-hidden-files') === 'true');
          const inside = found.files.filter((f) => at.has(path.relative(ws, f))).map((f) => path.relative(found.root, f));
          if (inside.length) carriers.set(str(step, 'name', 'artifact'), inside);
        }
      }
    } finally {
      await rm(ws, { recursive: true, force: true });
    }
  }
  return [...carriers.keys()].sort();
}
