import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeGitHub, type RunState } from '../../testing/workflow/github-api.js';
import { complaintsFromIssues } from './github-issues.js';

/** The complaints the watch reads from GitHub's issues, on the local API (second-precision dates, as GitHub's). */
describe('complaintsFromIssues', () => {
  let api: FakeGitHub;
  let state: RunState;
  const decidedAt = '2026-12-05T10:00:00.700Z';
  beforeAll(async () => {
    state = {
      owner: 'depot',
      repo: 'app',
      runId: 1,
      environments: new Map(),
      reviews: [],
      issues: [
        {
          number: 1,
          title: 'avant le GO',
          body: null,
          labels: ['reclamation'],
          state: 'open',
          login: 'a',
          createdAt: new Date('2026-12-05T09:59:59.000Z'),
          comments: [],
        },
        // opened 0.2 s after the GO, in the same second: GitHub says 10:00:00Z, before the GO's 10:00:00.700
        {
          number: 2,
          title: 'même seconde',
          body: 'écart 40 L',
          labels: ['reclamation'],
          state: 'open',
          login: 'b',
          createdAt: new Date('2026-12-05T10:00:00.900Z'),
          comments: [],
        },
        {
          number: 3,
          title: 'plus tard',
          body: null,
          labels: ['reclamation'],
          state: 'closed',
          login: 'c',
          createdAt: new Date('2026-12-05T11:00:00.000Z'),
          comments: [],
        },
        {
          number: 4,
          title: 'autre label',
          body: null,
          labels: ['bug'],
          state: 'open',
          login: 'd',
          createdAt: new Date('2026-12-05T11:00:00.000Z'),
          comments: [],
        },
      ],
      issueReplies: [],
      commits: new Map(),
    };
    api = await FakeGitHub.start(state);
  });
  afterAll(() => api?.close());

  it('counts every labelled issue opened since the GO, one opened in the GO’s own second included, oldest first', async () => {
    const token = api.issueToken('watch', { issues: 'read' });
    const got = await complaintsFromIssues({ apiUrl: api.url, repository: 'depot/app', token }, 'reclamation', decidedAt);
    expect(got.map((c) => [c.issue?.number, c.who, c.when])).toEqual([
      [2, 'b', '2026-12-05T10:00:00Z'],
      [3, 'c', '2026-12-05T11:00:00Z'],
    ]);
    expect(got[0]!.what).toBe('même seconde: écart 40 L');
  });
});
