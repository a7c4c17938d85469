import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { writeResult } from '../../results/io.js';
import { leaks, runActionWith } from '../../testing/action.js';
import { rehearsedResult } from '../../testing/results.js';
import { FakeGitHub, ROUTES, type IssueReply, type Route, type RunState } from '../../testing/workflow/github-api.js';
import { approvalGateAction } from './approval-gate.js';

/** actions/approval-gate against the local GitHub API, outside a workflow: its own failures and refusals. */
describe('actions/approval-gate against a local GitHub API', () => {
  const saved = { ...process.env };
  let api: FakeGitHub | undefined;
  afterEach(async () => {
    process.env = { ...saved };
    process.exitCode = undefined;
    vi.restoreAllMocks();
    await api?.close();
  });

  async function gate(
    replies: IssueReply[],
    inputs: Record<string, string>,
    routes: Route[] = ROUTES,
    scopes: Record<string, 'read' | 'write'> = { issues: 'write' },
    env: Record<string, string> = {},
  ) {
    const state: RunState = {
      owner: 'depot',
      repo: 'app',
      runId: 4242,
      environments: new Map(),
      reviews: [],
      issues: [],
      issueReplies: replies,
      commits: new Map(),
    };
    api = await FakeGitHub.start(state, routes);
    const token = api.issueToken('go-gate-issue', scopes);
    const r = await runActionWith(
      approvalGateAction,
      { 'github-token': token, 'results-dir': '$DIR/none', 'output-dir': '$DIR', 'poll-seconds': '1', ...inputs },
      { GITHUB_REPOSITORY: 'depot/app', GITHUB_RUN_ID: '4242', GITHUB_ACTOR: 'ops-engineer', GITHUB_API_URL: api.url, ...env },
    );
    return { r, state, token };
  }

  it('reads the comments again after a server error, then records the approver’s GO; the token never shows', async () => {
    let failures = 1;
    const flaky = ROUTES.map((route) =>
      route.method === 'GET' && route.path.endsWith('/comments')
        ? {
            ...route,
            handle: (req: Parameters<Route['handle']>[0], s: RunState) =>
              failures-- > 0 ? { status: 502, body: { message: 'Bad Gateway' } } : route.handle(req, s),
          }
        : route,
    );
    const { r, state, token } = await gate([{ by: 'chef-depot', body: 'GO' }], { approvers: 'chef-depot' }, flaky);
    expect(process.exitCode).toBeUndefined();
    expect(r.stdout).toMatch(/::warning::.*cannot read the comments of approval issue #101: HTTP 502.*reading again in 1 s/);
    expect(JSON.parse(await readFile(path.join(r.dir, 'signoff.json'), 'utf8'))).toMatchObject({
      who: 'chef-depot',
      decision: 'GO',
      runId: 'depot/app#4242.1',
    });
    // the results were not there: the issue says so rather than show nothing
    expect(state.issues[0]!.body).toMatch(/_golden\.json no such file_/);
    expect(leaks(r.stdout, token)).toEqual([]);
  });

  it('refuses, before opening any issue, a list of approvers that holds nobody but the actor, and a wait beyond 340 min', async () => {
    const self = await gate([], { approvers: '@ops-engineer' });
    expect(process.exitCode).toBe(1);
    expect(self.r.stdout).toMatch(/BAD_INPUT: field approvers: every listed approver \(ops-engineer\) started this run/);
    expect(self.state.issues).toEqual([]);
    await api!.close();
    process.exitCode = undefined;
    const long = await gate([], { approvers: 'chef-depot', 'timeout-minutes': '600' });
    expect(process.exitCode).toBe(1);
    expect(long.r.stdout).toMatch(/BAD_INPUT: field timeout-minutes: input timeout-minutes: must be at most 340/);
    expect(long.state.issues).toEqual([]);
    api = undefined;
  });

  it('holds the start gate: shows preflight and the dispatch inputs, a GO passes without a sign-off, a NO-GO fails the step', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'astm53b-start-gate-'));
    await writeResult(dir, 'preflight', await rehearsedResult('preflight'));
    const event = path.join(dir, 'event.json');
    await writeFile(event, JSON.stringify({ inputs: { 'change-file': 'docs/DB_CHANGES/p0_1.sql', restate: 'true', baseline: '' } }));
    const start = (replies: IssueReply[]) =>
      gate(
        replies,
        { approvers: 'ops-lead', gate: 'start', 'results-dir': dir },
        ROUTES,
        { issues: 'write' },
        { GITHUB_EVENT_PATH: event },
      );
    const go = await start([{ by: 'ops-lead', body: 'GO créneau validé, équipe informée' }]);
    expect(process.exitCode).toBeUndefined();
    const issue = go.state.issues[0]!;
    expect(issue.title).toBe('astm53b: start the migration? run 4242 (prod-start, runbook 3.4)');
    expect(issue.body).toContain('| change-file | `docs/DB_CHANGES/p0_1.sql` |');
    expect(issue.body).toContain('| baseline | _(empty)_ |');
    expect(issue.body).toMatch(/<summary>Preflight \(runbook 3\.1–3\.4\)<\/summary>/);
    expect(issue.comments.at(-1)!.body).toMatch(/The migration starts\.$/);
    await expect(readFile(path.join(go.r.dir, 'signoff.json'))).rejects.toThrow(/ENOENT/);
    expect(JSON.parse(await readFile(path.join(go.r.dir, 'approval-issue-start.json'), 'utf8'))).toMatchObject({
      environment: 'prod-start',
      outcome: 'approved',
      decidedBy: { who: 'ops-lead', comment: 'créneau validé, équipe informée' },
    });
    await api!.close();
    const no = await start([{ by: 'ops-lead', body: 'NO-GO pas ce soir' }]);
    expect(process.exitCode).toBe(1);
    expect(no.r.stdout).toMatch(/::error::.*prod-start: NO-GO by ops-lead on issue #101: pas ce soir; the migration does not start/);
    expect(no.state.issues[0]!.comments.at(-1)!.body).toMatch(/The migration does not start: nothing was frozen or changed\.$/);
    await rm(dir, { recursive: true, force: true });
  });

  it('names the permission when the token may not open issues', async () => {
    const { r } = await gate([], { approvers: 'chef-depot' }, ROUTES, { contents: 'read' });
    expect(process.exitCode).toBe(1);
    expect(r.stdout).toMatch(
      /GITHUB_API: cannot open the approval issue in depot\/app: HTTP 403 .*\(the job needs permissions: issues: write\)/,
    );
  });
});
