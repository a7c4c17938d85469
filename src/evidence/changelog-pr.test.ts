import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getOctokit } from '@actions/github';
import { afterEach, describe, expect, it } from 'vitest';
import { UserError } from '../errors.js';
import { FakeGitHub, type RunState } from '../testing/workflow/github-api.js';
import { newRepoContents } from '../testing/workflow/github-repo.js';
import { changelogBranch, openChangelogPullRequest } from './changelog-pr.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const excerpt = readFileSync(path.join(here, '__fixtures__', 'CHANGELOG.excerpt.md'), 'utf8');
const entry = '## [2026-12-04] — Migration ASTM 53B (PROD)\n\n### 🚀 Déploiement PROD — GO contrôlé\n\n- Décision GO/NO-GO : **GO**\n';
const RUN = 'depot/ml_pp_mvp#7001.1';

let api: FakeGitHub | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

async function github(
  files: Record<string, string>,
  permissions: Record<string, 'read' | 'write'> = { contents: 'write', 'pull-requests': 'write' },
) {
  const state: RunState = {
    owner: 'depot',
    repo: 'ml_pp_mvp',
    runId: 7001,
    environments: new Map(),
    reviews: [],
    issues: [],
    issueReplies: [],
    contents: newRepoContents(files),
    commits: new Map(),
  };
  api = await FakeGitHub.start(state);
  return { gh: getOctokit(api.issueToken('changelog', permissions), { baseUrl: api.url }), repo: state.contents! };
}

const options = {
  repository: 'depot/ml_pp_mvp',
  file: 'CHANGELOG.md',
  under: { heading: '## [Unreleased]', occurrence: 1 },
  entry,
  runId: RUN,
};

describe('openChangelogPullRequest (runbook 5.7, on the app repository’s REST API)', () => {
  it('opens one pull request whose branch adds the entry to the first [Unreleased] section, and leaves main alone', async () => {
    const { gh, repo } = await github({ 'CHANGELOG.md': excerpt });
    const r = await openChangelogPullRequest(gh, { ...options, runUrl: 'https://github.com/depot/ml_pp_mvp/actions/runs/7001' });
    expect(r).toMatchObject({
      status: 'opened',
      base: 'main',
      branch: 'astm53b/changelog-run-7001',
      marker: '<!-- astm53b-entry: run depot/ml_pp_mvp#7001 -->',
      pull_request: { number: 1, url: 'https://github.com/depot/ml_pp_mvp/pull/1', state: 'open', merged: false },
    });
    expect(repo.branches.get('main')!.files.get('CHANGELOG.md')).toBe(excerpt);
    const proposed = repo.branches.get(r.branch)!.files.get('CHANGELOG.md')!;
    expect(proposed).toContain(`${r.marker}\n${entry}`);
    expect(proposed.replace(`\n${r.marker}\n${entry}`, '')).toBe(excerpt);
    expect(repo.commits).toEqual([
      { branch: r.branch, path: 'CHANGELOG.md', message: 'CHANGELOG: [2026-12-04] — Migration ASTM 53B (PROD)', sha: r.commit },
    ]);
    expect(repo.pulls[0]!.body).toContain('https://github.com/depot/ml_pp_mvp/actions/runs/7001');
  });

  it('changes nothing on a second attempt of the run, nor once the pull request is merged', async () => {
    const { gh, repo } = await github({ 'CHANGELOG.md': excerpt });
    const first = await openChangelogPullRequest(gh, options);
    const again = await openChangelogPullRequest(gh, { ...options, runId: 'depot/ml_pp_mvp#7001.2' });
    expect(again).toMatchObject({ status: 'pull-request-exists', commit: null, pull_request: { number: 1 } });
    expect(repo.pulls).toHaveLength(1);
    expect(repo.commits).toHaveLength(1);
    // merged: main holds the entry, the branch is gone
    repo.branches.get('main')!.files.set('CHANGELOG.md', repo.branches.get(first.branch)!.files.get('CHANGELOG.md')!);
    repo.branches.delete(first.branch);
    Object.assign(repo.pulls[0]!, { state: 'closed', merged: true });
    const merged = await openChangelogPullRequest(gh, options);
    expect(merged).toMatchObject({ status: 'in-changelog', pull_request: null, commit: null });
    expect(repo.commits).toHaveLength(1);
  });

  it('gives each depot of one matrix run its own branch and marker: the second depot’s entry is not mistaken for the first’s', async () => {
    const { gh, repo } = await github({ 'CHANGELOG.md': excerpt });
    const kin = await openChangelogPullRequest(gh, { ...options, runId: 'depot/ml_pp_mvp#7001.1@kinshasa' });
    const lub = await openChangelogPullRequest(gh, { ...options, runId: 'depot/ml_pp_mvp#7001.1@lubumbashi' });
    expect([kin.branch, lub.branch]).toEqual(['astm53b/changelog-run-7001-kinshasa', 'astm53b/changelog-run-7001-lubumbashi']);
    expect([kin.marker, lub.marker]).toEqual([
      '<!-- astm53b-entry: run depot/ml_pp_mvp#7001@kinshasa -->',
      '<!-- astm53b-entry: run depot/ml_pp_mvp#7001@lubumbashi -->',
    ]);
    expect([kin.status, lub.status]).toEqual(['opened', 'opened']);
    expect(repo.pulls).toHaveLength(2);
  });

  it('proposes the entry again when its pull request was closed without being merged: that is no CHANGELOG change', async () => {
    const { gh, repo } = await github({ 'CHANGELOG.md': excerpt });
    await openChangelogPullRequest(gh, options);
    Object.assign(repo.pulls[0]!, { state: 'closed', merged: false });
    const again = await openChangelogPullRequest(gh, options);
    expect(again).toMatchObject({ status: 'opened', pull_request: { number: 2, state: 'open' }, commit: null });
    expect(repo.commits).toHaveLength(1);
  });

  it('reuses the branch a stopped run left behind, without writing the entry twice', async () => {
    const { gh, repo } = await github({ 'CHANGELOG.md': excerpt });
    await openChangelogPullRequest(gh, options);
    // the run stopped after its commit, before its pull request
    repo.pulls.length = 0;
    const r = await openChangelogPullRequest(gh, options);
    expect(r).toMatchObject({ status: 'opened', commit: null, pull_request: { number: 1 } });
    expect(repo.commits).toHaveLength(1);
    expect(repo.branches.get(changelogBranch(RUN))!.files.get('CHANGELOG.md')!.split('astm53b-entry').length - 1).toBe(1);
  });

  it('refuses an ambiguous heading or a missing CHANGELOG before writing anything', async () => {
    const { gh, repo } = await github({ 'CHANGELOG.md': excerpt });
    const ambiguous = await openChangelogPullRequest(gh, { ...options, under: '## [Unreleased]' }).catch((e: unknown) => e);
    expect(ambiguous).toBeInstanceOf(UserError);
    expect((ambiguous as UserError).code).toBe('CHANGELOG_HEADING_AMBIGUOUS');
    const missing = await openChangelogPullRequest(gh, { ...options, file: 'docs/CHANGELOG.md' }).catch((e: unknown) => e);
    expect((missing as UserError).message).toBe('no docs/CHANGELOG.md on depot/ml_pp_mvp@main');
    expect([...repo.branches.keys()]).toEqual(['main']);
    expect(repo.commits).toEqual([]);
  });

  it('names the permission a token without write access lacks', async () => {
    const { gh, repo } = await github({ 'CHANGELOG.md': excerpt }, { contents: 'read', 'pull-requests': 'read' });
    const e = (await openChangelogPullRequest(gh, options).catch((x: unknown) => x)) as UserError;
    expect(e).toBeInstanceOf(UserError);
    expect(e.message).toMatch(
      /^creating branch astm53b\/changelog-run-7001 on depot\/ml_pp_mvp: HTTP 403 Resource not accessible by integration/,
    );
    expect(e.hint).toBe('the token needs contents: write on depot/ml_pp_mvp');
    expect(repo.pulls).toEqual([]);
  });
});
