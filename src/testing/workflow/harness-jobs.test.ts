import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureRepo, type FixtureRepo } from './fixture-repo.js';
import { ScenarioError } from './types.js';

/** The harness's job semantics, on small workflows: what GitHub does, pinned. */
// each run spawns a node or bash process per step: seconds on a busy machine, not milliseconds
describe('workflow harness: jobs, conditions, environments, the API', { timeout: 60_000 }, () => {
  let repo: FixtureRepo;
  beforeAll(async () => {
    repo = await fixtureRepo();
  });
  afterAll(() => repo?.remove());

  it('orders jobs by needs, passes outputs, skips what a failure or a skip cuts off, runs always() and failure() jobs', async () => {
    const r = await repo.run(`
on: workflow_dispatch
jobs:
  last:
    needs: [middle]
    if: always()
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
      - id: p
        uses: ./actions/probe
        with: { value: "\${{ needs.middle.result }}/\${{ needs.middle.outputs.got }}" }
  middle:
    needs: first
    runs-on: ubuntu-24.04
    outputs:
      got: \${{ steps.p.outputs.echo }}
    steps:
      - uses: actions/checkout@v4
      - id: p
        uses: ./actions/probe
        with: { value: "from-first=\${{ needs.first.outputs.word }}", mode: fail }
  first:
    runs-on: ubuntu-24.04
    outputs:
      word: \${{ steps.p.outputs.echo }}
    steps:
      - uses: actions/checkout@v4
      - id: p
        uses: ./actions/probe
        with: { value: hello }
  cut-off:
    needs: middle
    runs-on: ubuntu-24.04
    steps:
      - run: echo never
  on-failure:
    needs: last
    if: failure()
    runs-on: ubuntu-24.04
    steps:
      - run: echo "an ancestor failed"
  transitive:
    needs: last
    runs-on: ubuntu-24.04
    steps:
      - run: echo "last succeeded but middle, two hops up, failed"
  no-checkout:
    runs-on: ubuntu-24.04
    steps:
      - id: p
        uses: ./actions/probe
        with: { value: x }
`);
    expect(r.jobs.map((j) => [j.id, j.result])).toEqual([
      ['first', 'success'],
      ['middle', 'failure'],
      ['last', 'success'],
      ['cut-off', 'skipped'],
      ['on-failure', 'success'],
      ['transitive', 'skipped'],
      ['no-checkout', 'failure'],
    ]);
    expect(r.job('middle').outputs).toEqual({ got: 'from-first=hello' });
    expect(r.step('last', 'p').outputs.echo).toBe('failure/from-first=hello');
    // the workspace is empty until a checkout fills it
    expect(r.step('no-checkout', 'p').annotations[0]!.message).toMatch(/Can't find 'action.yml'/);
    expect(r.step('middle', 'p').annotations).toContainEqual({
      level: 'error',
      message: 'it failed\non two lines',
      properties: { file: 'x.csv', line: '3', title: 'probe' },
    });
  });

  it('gives each job the runner environment, typed inputs, INPUT_ names as GitHub mangles them, action defaults and GITHUB_ENV', async () => {
    const r = await repo.run(
      `
on:
  workflow_dispatch:
    inputs:
      word: { description: w, required: true }
      flag: { description: f, type: boolean, default: false }
env:
  CUSTOM: wf-\${{ inputs.word }}
jobs:
  one:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
      - run: |
          mkdir -p deep/er
          echo "FROM_ENV_FILE=set by a step" >> "$GITHUB_ENV"
      - run: pwd > ../../where.txt && test "\${{ inputs.flag }}" = true && test "\${{ github.event.inputs.flag }}" = true
        working-directory: deep/er
      - id: p
        uses: ./actions/probe
        with:
          value: \${{ inputs.flag && 'typed' || 'untyped' }}
          my input-name: odd
          not-declared: x
`,
      { inputs: { word: 'w1', flag: true }, actor: 'ops-lead' },
    );
    expect(r.job('one').result).toBe('success');
    const p = r.step('one', 'p');
    expect(p.outputs.echo).toBe('typed');
    expect(JSON.parse(p.outputs.seen!)).toMatchObject({
      cwdIsWorkspace: true,
      ci: 'true',
      actor: 'ops-lead',
      triggeringActor: 'ops-lead',
      runId: String(r.runId),
      repository: 'depot/astm53b-pipeline',
      runnerTemp: true,
      oddInput: 'odd',
      defaulted: 'the-default',
      custom: 'wf-w1',
      fromEnvFile: 'set by a step',
      token: null,
    });
    expect(p.unexpectedInputs).toEqual(['not-declared']);
    expect(p.annotations.find((a) => a.level === 'warning')!.message).toMatch(
      /^Unexpected input\(s\) 'not-declared', valid inputs are \['value'/,
    );
    expect(p.summary).toBe('probe summary \n');
  });

  it('refuses a dispatch the form would refuse: a missing required input, a choice not offered, an unknown input', async () => {
    const wf = `
on:
  workflow_dispatch:
    inputs:
      word: { description: w, required: true }
      pick: { description: p, type: choice, options: [a, b], default: a }
jobs:
  one:
    runs-on: ubuntu-24.04
    steps: [{ run: 'true' }]
`;
    await expect(repo.run(wf)).rejects.toThrow(/input word is required/);
    await expect(repo.run(wf, { inputs: { word: 'x', pick: 'c' } })).rejects.toThrow(/pick: c is not one of a, b/);
    await expect(repo.run(wf, { inputs: { word: 'x', nope: '1' } })).rejects.toThrow(ScenarioError);
  });

  it('refuses a workflow that uses what it does not emulate, rather than run it differently', async () => {
    const matrix = `
on: workflow_dispatch
defaults: { run: { shell: sh } }
jobs:
  one:
    runs-on: ubuntu-24.04
    strategy: { matrix: { n: [1, 2] } }
    steps: [{ run: 'true' }]
`;
    await expect(repo.run(matrix)).rejects.toThrow(/does not emulate defaults, one\.strategy/);
  });

  it('runs a matrix of calls to a reusable workflow in one run: each leg its inputs, environments and artifacts; a shared name is a conflict', async () => {
    await repo.write(
      '.github/workflows/called.yml',
      `
on:
  workflow_call:
    inputs:
      site: { type: string, required: true }
      prefix: { type: boolean, default: true }
jobs:
  work:
    runs-on: ubuntu-24.04
    environment: \${{ format('prod-{0}', inputs.site) }}
    steps:
      - uses: actions/checkout@v4
      - id: p
        uses: ./actions/probe
        with: { value: "\${{ inputs.site }}:\${{ secrets.DB }}" }
      - run: mkdir out && echo "\${{ inputs.site }}" > out/site.txt
      - uses: actions/upload-artifact@v4
        with: { name: "\${{ inputs.prefix && format('{0}.', inputs.site) || '' }}result", path: out/ }
  after:
    needs: work
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/download-artifact@v4
        with: { pattern: "\${{ inputs.prefix && format('{0}.', inputs.site) || '' }}*", path: got, merge-multiple: true }
      - run: test "$(cat got/site.txt)" = "\${{ inputs.site }}"
`,
    );
    const caller = (prefix: boolean) => `
on: workflow_dispatch
jobs:
  migrate:
    strategy:
      fail-fast: false
      matrix:
        site: [north, south]
    uses: ./.github/workflows/called.yml
    with:
      site: \${{ matrix.site }}
      prefix: ${prefix}
    secrets: inherit
  report:
    needs: migrate
    if: always()
    runs-on: ubuntu-24.04
    steps:
      - run: echo "\${{ needs.migrate.result }}"
`;
    const environments = { 'prod-north': { secrets: { DB: 'db-north' } }, 'prod-south': { secrets: { DB: 'db-south' } } };
    const r = await repo.run(caller(true), { environments });
    expect(
      r.jobs.map((j) => `${j.id}: ${j.result}${j.environment ? ` [${j.environment}]` : ''}`),
      r.describe(),
    ).toEqual([
      'migrate (north) / work: success [prod-north]',
      'migrate (north) / after: success',
      'migrate (south) / work: success [prod-south]',
      'migrate (south) / after: success',
      'migrate: success',
      'report: success',
    ]);
    expect(r.step('migrate (north) / work', 'p').outputs.echo).toBe('north:db-north');
    expect(r.step('migrate (south) / work', 'p').outputs.echo).toBe('south:db-south');
    expect([...r.artifacts.keys()].sort()).toEqual(['north.result', 'south.result']);
    // without the leg in the name the second leg's upload is refused, as GitHub refuses a name taken in the run
    const clash = await repo.run(caller(false), { environments });
    expect(clash.job('migrate (north) / work').result).toBe('success');
    expect(clash.job('migrate (south) / work').result).toBe('failure');
    expect(
      clash
        .job('migrate (south) / work')
        .steps.flatMap((x) => x.annotations.map((a) => a.message))
        .join('\n'),
    ).toMatch(/\(409\) Conflict: an artifact with this name already exists/);
    expect(clash.job('migrate').result).toBe('failure');
    expect(clash.job('migrate').note).toMatch(/failed: migrate \(south\)/);
  });

  it('refuses the whole run, as GitHub does, when a called job asks for more than the caller grants, even a job that would be skipped', async () => {
    await repo.write(
      '.github/workflows/needs-issues.yml',
      `
on: workflow_call
jobs:
  asks:
    if: false
    runs-on: ubuntu-24.04
    permissions: { issues: write }
    steps: [{ run: 'true' }]
`,
    );
    const caller = (grant: string) => `
on: workflow_dispatch
permissions: { contents: read${grant} }
jobs:
  call:
    uses: ./.github/workflows/needs-issues.yml
    secrets: inherit
`;
    await expect(repo.run(caller(''))).rejects.toThrow(
      "startup_failure: The nested job 'asks' is requesting 'issues: write', but is only allowed 'issues: none'.",
    );
    expect((await repo.run(caller(', issues: write'))).job('call').result).toBe('success');
  });

  it('refuses a call it does not emulate: fail-fast left on, named secrets', async () => {
    const call = (extra: string) => `
on: workflow_dispatch
jobs:
  migrate:
${extra}
    uses: ./.github/workflows/called.yml
    with: { site: x }
`;
    await expect(repo.run(call('    strategy: { matrix: { n: [1, 2] } }\n    secrets: inherit'))).rejects.toThrow(
      /does not emulate migrate\.strategy\.fail-fast \(only false\)/,
    );
    await expect(repo.run(call('    secrets: { DB: x }'))).rejects.toThrow(/does not emulate migrate\.secrets \(only inherit\)/);
  });

  it("gives an environment's secrets only to its jobs, masks them, and never passes one on as a job output", async () => {
    const r = await repo.run(
      `
on: workflow_dispatch
jobs:
  inside:
    runs-on: ubuntu-24.04
    environment: vault
    outputs:
      leak: \${{ steps.p.outputs.echo }}
      fine: ok
    steps:
      - uses: actions/checkout@v4
      - id: p
        uses: ./actions/probe
        with: { value: "\${{ secrets.KEY }}", mask: "derived-\${{ secrets.KEY }}" }
  outside:
    runs-on: ubuntu-24.04
    steps:
      - run: test -z "\${{ secrets.KEY }}" && echo "repo=\${{ secrets.REPO_WIDE }} var=\${{ vars.COLOUR }}"
`,
      { environments: { vault: { secrets: { KEY: 's3cr3t-v4lue' } } }, secrets: { REPO_WIDE: 'everyone' }, vars: { COLOUR: 'blue' } },
    );
    expect(r.jobs.map((j) => j.result)).toEqual(['success', 'success']);
    expect(r.job('inside').outputs).toEqual({ fine: 'ok' });
    expect(r.job('inside').note).toMatch(/Skip output 'leak' since it may contain secret/);
    const log = r.step('inside', 'p').log;
    expect(log).toContain('the masked value is ***');
    expect(log).not.toContain('s3cr3t-v4lue');
    expect(r.job('outside').steps[0]!.log).toContain('repo=*** var=blue');
  });

  it('holds a job behind required reviewers: approved, it runs and the API reports the review; rejected, it fails and always() jobs still run', async () => {
    const wf = `
on: workflow_dispatch
jobs:
  gated:
    runs-on: ubuntu-24.04
    environment: prod-go
    steps: [{ run: echo deploying }]
  reader:
    needs: gated
    if: always()
    runs-on: ubuntu-24.04
    permissions: { actions: read }
    steps:
      - uses: actions/checkout@v4
      - id: api
        uses: ./actions/probe
        with: { value: x, mode: api }
      - id: api-no-perm
        uses: ./actions/probe
        with: { value: x, mode: api, token: not-a-token }
  no-permission:
    needs: gated
    if: always()
    runs-on: ubuntu-24.04
    permissions: { contents: read }
    steps:
      - uses: actions/checkout@v4
      - id: api
        uses: ./actions/probe
        with: { value: x, mode: api }
`;
    const environments = { 'prod-go': { reviewers: ['chef-depot'] } };
    await expect(repo.run(wf, { environments })).rejects.toThrow(/waits for a review of environment prod-go/);
    await expect(repo.run(wf, { environments, reviews: { 'prod-go': { state: 'approved', by: 'intruder' } } })).rejects.toThrow(
      /intruder is not a required reviewer/,
    );

    const ok = await repo.run(wf, { environments, reviews: { 'prod-go': { state: 'approved', by: 'chef-depot', comment: 'Validé' } } });
    expect(ok.job('gated').result).toBe('success');
    const body = JSON.parse(ok.step('reader', 'api').outputs.body!);
    expect(ok.step('reader', 'api').outputs.status).toBe('200');
    expect(body).toHaveLength(1);
    expect(body[0]).toMatchObject({ state: 'approved', comment: 'Validé', user: { login: 'chef-depot', type: 'User' } });
    expect(body[0].environments[0]).toMatchObject({
      name: 'prod-go',
      id: expect.any(Number),
      html_url: expect.stringContaining('prod-go'),
    });
    expect(ok.step('reader', 'api-no-perm').outputs.status).toBe('401');
    expect(ok.step('no-permission', 'api').outputs.status).toBe('403');
    expect(JSON.parse(ok.step('no-permission', 'api').outputs.body!).message).toBe('Resource not accessible by integration');

    const no = await repo.run(wf, {
      environments,
      reviews: { 'prod-go': { state: 'rejected', by: 'chef-depot', comment: 'écarts > 5 L' } },
    });
    expect(no.job('gated')).toMatchObject({ result: 'failure', steps: [], note: 'rejected by chef-depot' });
    expect(no.job('reader').result).toBe('success');
    expect(JSON.parse(no.step('reader', 'api').outputs.body!)[0]).toMatchObject({ state: 'rejected', comment: 'écarts > 5 L' });
  });
});
