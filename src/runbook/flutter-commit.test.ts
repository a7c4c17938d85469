import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../errors.js';
import { memoryLogger } from '../logger.js';
import { PACKAGE_ROOT } from '../paths.js';
import { FakeGitHub } from '../testing/workflow/github-api.js';
import { confirmFlutterCommit } from './flutter-commit.js';
import { loadPreflightInputs } from './preflight.js';

/**
 * The deployed app's commit confirmed through GitHub's REST API, here the workflow harness's
 * local server (src/testing/workflow/github-api.ts): real paths, real response shapes, real
 * refusals for a token it did not issue.
 */
const APP = 'VALERYkal/ml_pp_mvp';
const SHA = '5b1f0c2d9e8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c';
let api: FakeGitHub;
let token: string;

beforeAll(async () => {
  api = await FakeGitHub.start({
    owner: 'depot',
    repo: 'astm53b-pipeline',
    runId: 1,
    environments: new Map(),
    reviews: [],
    issues: [],
    issueReplies: [],
    commits: new Map([
      [
        APP,
        [
          {
            sha: SHA,
            message: 'feat(astm): ASTM 53B engine behind the flag\n\nRefs #210',
            date: '2026-03-10T16:20:00Z',
            author: 'VALERYkal',
          },
        ],
      ],
    ]),
  });
  token = api.issueToken('preflight', { contents: 'read' });
});
afterAll(() => api.close());

const err = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as UserError,
  );

describe('confirmFlutterCommit', () => {
  it('records the commit GitHub returns: full SHA, first line of its message, committer date, page', async () => {
    const log = memoryLogger();
    const c = await confirmFlutterCommit(
      { sha: SHA.toUpperCase(), repository: APP, apiUrl: api.url, token, now: new Date('2026-03-11T19:01:58Z') },
      log,
    );
    expect(c).toEqual({
      repository: APP,
      sha: SHA,
      message: 'feat(astm): ASTM 53B engine behind the flag',
      date: '2026-03-10T16:20:00Z',
      url: `https://github.com/${APP}/commit/${SHA}`,
      checkedAt: '2026-03-11T19:01:58.000Z',
    });
    expect(api.requests.at(-1)).toMatchObject({ method: 'GET', path: `/repos/${APP}/commits/${SHA}`, status: 200 });
    // the token is never printed
    expect(JSON.stringify(log.lines)).not.toContain(token);
  });

  it('refuses a commit GitHub does not know, an abbreviated one (before asking), a token it refuses, and no answer', async () => {
    const unknown = await err(confirmFlutterCommit({ sha: 'f'.repeat(40), repository: APP, apiUrl: api.url, token }, memoryLogger()));
    expect(unknown).toBeInstanceOf(UserError);
    expect(unknown!.code).toBe('FLUTTER_COMMIT_UNKNOWN');
    expect(unknown!.message).toBe(`${'f'.repeat(40)} is not a commit of ${APP} (GitHub answered 422)`);
    const otherRepo = await err(confirmFlutterCommit({ sha: SHA, repository: 'someone/else', apiUrl: api.url, token }, memoryLogger()));
    expect(otherRepo!.message).toMatch(/is not a commit of someone\/else \(GitHub answered 404\)/);

    const before = api.requests.length;
    const short = await err(confirmFlutterCommit({ sha: SHA.slice(0, 7), repository: APP, apiUrl: api.url, token }, memoryLogger()));
    expect(short!.code).toBe('BAD_INPUT');
    expect(short!.where?.field).toBe('flutter-commit');
    expect(api.requests.length).toBe(before);

    const refused = await err(confirmFlutterCommit({ sha: SHA, repository: APP, apiUrl: api.url, token: 'ghs_forged' }, memoryLogger()));
    expect(refused!.code).toBe('GITHUB_REFUSED');
    const gone = await err(confirmFlutterCommit({ sha: SHA, repository: APP, apiUrl: 'http://127.0.0.1:9', token }, memoryLogger()));
    expect(gone!.code).toBe('GITHUB_UNREACHABLE');
  });

  it('stops preflight before any database work: the inputs are refused, no database was ever given', async () => {
    const opts = {
      golden: { path: path.join(PACKAGE_ROOT, 'golden', 'demo-golden-cases.csv'), display: 'golden/demo-golden-cases.csv' },
      changeFiles: [{ path: path.join(PACKAGE_ROOT, 'sql/docs/DB_CHANGES/2026-12-04_validate_sortie_p0_1.sql'), display: 'p0_1.sql' }],
      flutterRepository: { repository: APP, apiUrl: api.url, token },
    };
    const e = await err(loadPreflightInputs({ ...opts, deployment: { flutterCommit: 'a'.repeat(40) } }));
    expect(e!.code).toBe('FLUTTER_COMMIT_UNKNOWN');
    const ok = await loadPreflightInputs({ ...opts, deployment: { flutterCommit: SHA } });
    expect(ok.flutterCheck).toMatchObject({ sha: SHA, repository: APP });
    // without a repository the commit is only recorded, unconfirmed
    const { flutterRepository: _, ...unchecked } = opts;
    expect((await loadPreflightInputs({ ...unchecked, deployment: { flutterCommit: 'c4b55ea' } })).flutterCheck).toBeNull();
  });
});
