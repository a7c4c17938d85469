import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { runWorkflow } from './run.js';
import type { RunReport, Scenario } from './types.js';

/**
 * A throw-away repository for the harness's own tests: one JavaScript action (actions/probe)
 * that reports what the runner gave it (inputs, environment, the API's answer) and can fail,
 * sleep, mask or print a workflow command on request; each test writes its workflow.
 */
const PROBE = String.raw`const fs = require('fs');
const inp = (n) => process.env['INPUT_' + n.replace(/ /g, '_').toUpperCase()] || '';
const out = (k, v) => fs.appendFileSync(process.env.GITHUB_OUTPUT, k + '<<EOF_PROBE\n' + v + '\nEOF_PROBE\n');
const e = process.env;
out('echo', inp('value'));
out('seen', JSON.stringify({
  cwdIsWorkspace: e.GITHUB_WORKSPACE === process.cwd(), ci: e.CI, actor: e.GITHUB_ACTOR, triggeringActor: e.GITHUB_TRIGGERING_ACTOR,
  runId: e.GITHUB_RUN_ID, repository: e.GITHUB_REPOSITORY, sha: e.GITHUB_SHA, runnerTemp: !!e.RUNNER_TEMP,
  oddInput: e['INPUT_MY_INPUT-NAME'] ?? null, defaulted: inp('with-default'), custom: e.CUSTOM ?? null,
  fromEnvFile: e.FROM_ENV_FILE ?? null, token: e.GITHUB_TOKEN ?? null,
}));
if (inp('mask')) { console.log('::add-mask::' + inp('mask')); console.log('the masked value is ' + inp('mask')); }
fs.appendFileSync(e.GITHUB_STEP_SUMMARY, 'probe summary ' + inp('mode') + '\n');
const mode = inp('mode');
if (mode === 'fail') { console.log('::error file=x.csv,line=3,title=probe::it failed%0Aon two lines'); process.exitCode = 1; }
if (mode === 'sleep') setTimeout(() => {}, 60000);
if (mode === 'set-output') console.log('::set-output name=old::style');
if (mode === 'api') {
  fetch(e.GITHUB_API_URL + '/repos/' + e.GITHUB_REPOSITORY + '/actions/runs/' + e.GITHUB_RUN_ID + '/approvals', {
    headers: { authorization: 'token ' + inp('token') },
  }).then(async (r) => { out('status', String(r.status)); out('body', await r.text()); });
}
`;

const PROBE_YML = `name: probe
description: reports what the runner gave it
inputs:
  value:
    description: echoed
    required: true
  mode:
    description: fail, sleep, api, set-output
    required: false
  token:
    description: for mode api
    required: false
    default: \${{ github.token }}
  mask:
    description: a value to mask
    required: false
  my input-name:
    description: a name with a space and dashes
    required: false
  with-default:
    description: defaulted
    required: false
    default: the-default
outputs:
  echo:
    description: the value
runs:
  using: node20
  main: index.cjs
`;

const execFileP = promisify(execFile);

export interface FixtureRepo {
  dir: string;
  run(workflow: string, scenario?: Partial<Scenario>): Promise<RunReport>;
  write(file: string, content: string): Promise<void>;
  remove(): Promise<void>;
}

export async function fixtureRepo(): Promise<FixtureRepo> {
  const dir = await mkdtemp(path.join(tmpdir(), 'astm53b-wf-repo-'));
  const write = async (file: string, content: string) => {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), content);
  };
  await write('actions/probe/action.yml', PROBE_YML);
  await write('actions/probe/index.cjs', PROBE);
  await execFileP('git', ['init', '-q'], { cwd: dir });
  const runs: RunReport[] = [];
  return {
    dir,
    write,
    run: async (workflow, scenario = {}) => {
      await write('.github/workflows/t.yml', workflow);
      const r = await runWorkflow({ name: 'fixture', workflow: '.github/workflows/t.yml', repoDir: dir, ...scenario });
      runs.push(r);
      return r;
    },
    remove: async () => {
      await Promise.all(runs.map((r) => r.dispose()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
