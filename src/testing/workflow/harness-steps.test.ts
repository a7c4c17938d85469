import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureRepo, type FixtureRepo } from './fixture-repo.js';
import { packageInstallReason } from './stand-ins.js';

/** The harness's step semantics: outcome and conclusion, timeouts, skipped installs, workflow commands. */
// each run spawns a node or bash process per step: seconds on a busy machine, not milliseconds
describe('workflow harness: steps', { timeout: 60_000 }, () => {
  let repo: FixtureRepo;
  beforeAll(async () => {
    repo = await fixtureRepo();
  });
  afterAll(() => repo?.remove());

  it('tells outcome from conclusion under continue-on-error, and each if: sees the job status so far', async () => {
    const r = await repo.run(`
on: workflow_dispatch
jobs:
  j:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
      - id: tolerated
        continue-on-error: true
        uses: ./actions/probe
        with: { value: x, mode: fail }
      - id: still-green
        if: success() && steps.tolerated.outcome == 'failure' && steps.tolerated.conclusion == 'success'
        run: echo "a tolerated failure leaves the job green"
      - id: breaks
        run: exit 3
      - id: skipped
        run: echo never
      - id: after-failure
        if: failure() && steps.skipped.outcome == 'skipped'
        run: echo "failure() sees the failed step"
      - id: always
        if: always()
        run: echo "always"
`);
    const steps = Object.fromEntries(r.job('j').steps.map((s) => [s.id, [s.outcome, s.conclusion]]));
    expect(steps).toMatchObject({
      tolerated: ['failure', 'success'],
      'still-green': ['success', 'success'],
      breaks: ['failure', 'failure'],
      skipped: ['skipped', 'skipped'],
      'after-failure': ['success', 'success'],
      always: ['success', 'success'],
    });
    expect(r.job('j').result).toBe('failure');
    expect(r.step('j', 'breaks').annotations[0]!.message).toBe('Process completed with exit code 3.');
  });

  it('kills a step past its timeout-minutes, and a job past its own, whose always() steps still run', async () => {
    const r = await repo.run(
      `
on: workflow_dispatch
jobs:
  step-timeout:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
      - id: slow
        timeout-minutes: 1
        uses: ./actions/probe
        with: { value: x, mode: sleep }
      - if: always()
        run: echo "after the kill"
  job-timeout:
    runs-on: ubuntu-24.04
    timeout-minutes: 2
    steps:
      - id: slow
        run: sleep 30
      - id: cleanup
        if: always()
        run: echo cleaning
      - id: normal
        run: echo never
`,
      { minuteMs: 400 },
    );
    const slow = r.step('step-timeout', 'slow');
    expect([slow.outcome, slow.timedOut, slow.annotations[0]!.message]).toEqual(['failure', true, 'The action has timed out.']);
    expect(slow.ms).toBeLessThan(10_000);
    expect(r.job('step-timeout').result).toBe('failure');
    expect(r.job('job-timeout').result).toBe('cancelled');
    expect(r.job('job-timeout').note).toMatch(/exceeded timeout-minutes \(2\)/);
    expect(r.step('job-timeout', 'cleanup').outcome).toBe('success');
    expect(r.step('job-timeout', 'normal').outcome).toBe('skipped');
  });

  it('skips and lists package installs, runs other scripts with bash -e, and reads GITHUB_PATH', async () => {
    const r = await repo.run(`
on: workflow_dispatch
jobs:
  j:
    runs-on: ubuntu-24.04
    steps:
      - name: PostgreSQL client
        run: |
          sudo curl -fsSo /usr/share/keyrings/pg.asc https://example.invalid/key.asc
          sudo apt-get update -qq && sudo apt-get install -y -qq postgresql-client-17
      - run: |
          mkdir -p "$RUNNER_TEMP/bin" && printf '#!/bin/sh\\necho tool-ran\\n' > "$RUNNER_TEMP/bin/mytool" && chmod +x "$RUNNER_TEMP/bin/mytool"
          echo "$RUNNER_TEMP/bin" >> "$GITHUB_PATH"
      - id: uses-path
        run: mytool
      - id: bash-e
        run: |
          false
          echo "not reached"
`);
    expect(r.skippedInstalls).toEqual([
      { job: 'j', step: 'PostgreSQL client', reason: expect.stringMatching(/^apt-get: sudo apt-get update/) },
    ]);
    expect(r.step('j', 'uses-path').log).toContain('tool-ran');
    expect(r.step('j', 'bash-e').outcome).toBe('failure');
    expect(r.step('j', 'bash-e').log).not.toContain('not reached');
  });

  it('refuses ::set-output on stdout, a missing working-directory and a third-party action it has no stand-in for', async () => {
    const r = await repo.run(`
on: workflow_dispatch
jobs:
  j:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
      - id: old
        uses: ./actions/probe
        with: { value: x, mode: set-output }
      - id: nowhere
        if: always()
        working-directory: no/such/dir
        run: echo hi
      - id: unknown
        if: always()
        uses: actions/setup-node@v4
      - id: old-major
        if: always()
        uses: actions/upload-artifact@v3
        with: { name: a, path: . }
`);
    expect(r.step('j', 'old').problems).toEqual(['::set-output:: on stdout (use the GITHUB_* files)']);
    expect(r.step('j', 'nowhere').annotations[0]!.message).toMatch(/working-directory .*no\/such\/dir does not exist/);
    expect(r.step('j', 'unknown').annotations[0]!.message).toBe('the harness has no stand-in for actions/setup-node@v4');
    expect(r.step('j', 'old-major').outcome).toBe('failure');
  });

  it('names why a script installs packages, and leaves other scripts alone', () => {
    expect(packageInstallReason('sudo apt-get install -y -qq postgresql-client-17')).toMatch(/^apt-get/);
    expect(packageInstallReason('echo "deb …" | sudo tee /etc/apt/sources.list.d/pgdg.list')).toMatch(/^tee into \/etc/);
    expect(packageInstallReason('curl -fsSL https://x.invalid/install.sh | bash')).toMatch(/^curl into the system/);
    expect(packageInstallReason('npx astm53b evidence verify bundle.zip\ncurl -fsS "$URL" -o out.json')).toBeUndefined();
  });
});
