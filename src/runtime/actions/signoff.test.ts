import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { leaks, runActionWith } from '../../testing/action.js';
import { signoffAction } from './signoff.js';

/** GitHub's API replaced by a local server speaking its real endpoint. */
describe('actions/signoff against a local GitHub API', () => {
  let server: Server;
  let seen: { url?: string; auth?: string } = {};
  let reply: { status: number; body: unknown } = { status: 200, body: [] };
  const saved = { ...process.env };

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen = { url: req.url ?? '', auth: req.headers.authorization ?? '' };
      res.writeHead(reply.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(reply.body));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  afterEach(() => {
    process.env = { ...saved };
    process.exitCode = undefined;
    vi.restoreAllMocks();
  });

  const run = () =>
    runActionWith(
      signoffAction,
      { 'github-token': 'ghs_testtoken123', environment: 'prod-go', 'output-dir': '$DIR' },
      {
        GITHUB_REPOSITORY: 'depot/astm53b-pipeline',
        GITHUB_RUN_ID: '4242',
        GITHUB_ACTOR: 'ops-engineer',
        GITHUB_API_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      },
    );

  it("writes the depot manager's approval of the GO gate as signoff.json", async () => {
    reply = {
      status: 200,
      body: [
        { environments: [{ id: 1, name: 'prod-go' }], state: 'approved', comment: 'Validé, écarts < 5 L', user: { login: 'chef-depot' } },
      ],
    };
    const r = await run();
    expect(process.exitCode).toBeUndefined();
    expect(seen.url).toBe('/repos/depot/astm53b-pipeline/actions/runs/4242/approvals');
    expect(seen.auth).toMatch(/ghs_testtoken123/);
    const s = JSON.parse(await readFile(path.join(r.dir, 'signoff.json'), 'utf8'));
    expect(s).toMatchObject({
      who: 'chef-depot',
      decision: 'GO',
      role: 'responsable dépôt',
      runId: 'depot/astm53b-pipeline#4242.1',
      environment: 'prod-go',
      triggeredBy: { actor: 'ops-engineer', triggeringActor: 'ops-engineer' },
    });
    const a = JSON.parse(await readFile(path.join(r.dir, 'approvals.json'), 'utf8'));
    expect(a.reviews).toEqual([
      {
        environment: 'prod-go',
        via: 'environment-review',
        state: 'approved',
        who: 'chef-depot',
        comment: 'Validé, écarts < 5 L',
        at: null,
      },
    ]);
    expect(r.output).toMatch(/decision<<.*\nGO\n/s);
    expect(leaks(r.stdout, 'ghs_testtoken123')).toEqual([]);
  });

  it('fails clearly when the API refuses, naming the run', async () => {
    reply = { status: 403, body: { message: 'Resource not accessible by integration' } };
    const r = await run();
    expect(process.exitCode).toBe(1);
    expect(r.stdout).toMatch(/::error::signoff: GITHUB_API: cannot read the reviews of run 4242 of depot\/astm53b-pipeline: HTTP 403/);
  });

  it('records a rejected start gate in approvals.json, and invents no sign-off when nobody reviewed the GO gate', async () => {
    reply = {
      status: 200,
      body: [{ environments: [{ name: 'prod-start' }], state: 'rejected', comment: 'Pas ce soir', user: { login: 'ops-lead' } }],
    };
    const r = await run();
    expect(process.exitCode).toBeUndefined();
    expect(r.stdout).toMatch(/::warning::.*no review of environment "prod-go" in run 4242: no sign-off recorded/);
    const a = JSON.parse(await readFile(path.join(r.dir, 'approvals.json'), 'utf8'));
    expect(a.reviews).toEqual([
      { environment: 'prod-start', via: 'environment-review', state: 'rejected', who: 'ops-lead', comment: 'Pas ce soir', at: null },
    ]);
    await expect(readFile(path.join(r.dir, 'signoff.json'), 'utf8')).rejects.toThrow(/ENOENT/);
  });
});
