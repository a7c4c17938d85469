import { createHash } from 'node:crypto';
import type { getOctokit } from '@actions/github';
import { UserError } from '../errors.js';
import type { ChangelogResult } from '../results/changelog.js';
import { runWithoutAttempt } from '../results/run-context.js';
import { describeTarget, insertChangelogEntry, type HeadingTarget } from './changelog.js';

type GitHub = ReturnType<typeof getOctokit>;

export interface ChangelogPullRequestOptions {
  /** owner/name of the app's repository, where CHANGELOG.md lives */
  repository: string;
  /** the branch the pull request goes into; empty: the repository's default branch */
  base?: string;
  file: string;
  under: HeadingTarget;
  entry: string;
  /** the run the entry belongs to: it names the branch and the entry's marker */
  runId: string;
  /** the run's page, quoted in the pull request's description */
  runUrl?: string;
  now?: Date;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const status = (e: unknown): number | undefined => (e as { status?: number }).status;

/**
 * A branch name from the run id ("depot/app#42.1" → "astm53b/changelog-run-42", "…#42.1@kin" →
 * "astm53b/changelog-run-42-kin"): one per run and depot, so a re-run attempt finds its own.
 */
export function changelogBranch(runId: string): string {
  const id = /#(.+)$/.exec(runWithoutAttempt(runId))?.[1] ?? runId;
  return `astm53b/changelog-run-${id.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '')}`;
}

/**
 * Runbook 5.7 on the app's repository: the CHANGELOG entry goes out as a pull request, once.
 * Idempotent by construction: the base branch already holding this run's entry (merged) or
 * this run's pull request existing (a re-run) changes nothing and says so; a branch left by a
 * run that stopped before its pull request is reused. Refusals of the API are user errors that
 * name the call and the permission it needs.
 */
export async function openChangelogPullRequest(gh: GitHub, o: ChangelogPullRequestOptions): Promise<ChangelogResult> {
  const [owner = '', repo = ''] = o.repository.split('/');
  const apiError = (what: string, need: string, e: unknown) =>
    new UserError('GITHUB_API', `${what} on ${o.repository}: HTTP ${status(e) ?? '?'} ${(e as Error).message.split('\n')[0]}`, {
      hint: `the token needs ${need} on ${o.repository}`,
    });
  const call = async <T>(what: string, need: string, f: () => Promise<T>): Promise<T> => {
    try {
      return await f();
    } catch (e) {
      throw apiError(what, need, e);
    }
  };
  const base =
    o.base || (await call('reading the repository', 'metadata: read', () => gh.rest.repos.get({ owner, repo }))).data.default_branch;
  const branch = changelogBranch(o.runId);
  const result = (s: Pick<ChangelogResult, 'status' | 'pull_request' | 'commit'>, marker: string): ChangelogResult => ({
    ...s,
    repository: o.repository,
    base,
    branch,
    file: o.file,
    under: describeTarget(o.under),
    marker,
    entry_sha256: sha256(o.entry),
    at: (o.now ?? new Date()).toISOString(),
  });
  const readFile = async (ref: string): Promise<{ text: string; sha: string } | undefined> => {
    try {
      const { data } = await gh.rest.repos.getContent({ owner, repo, path: o.file, ref });
      if (Array.isArray(data) || data.type !== 'file' || !('content' in data))
        throw new UserError('CHANGELOG_MISSING', `${o.file} on ${o.repository}@${ref} is not a file`, { where: { file: o.file } });
      return { text: Buffer.from(data.content, 'base64').toString('utf8'), sha: data.sha };
    } catch (e) {
      if (status(e) === 404) return undefined;
      if (e instanceof UserError) throw e;
      throw apiError(`reading ${o.file}@${ref}`, 'contents: read', e);
    }
  };

  const onBase = await readFile(base);
  if (!onBase) throw new UserError('CHANGELOG_MISSING', `no ${o.file} on ${o.repository}@${base}`, { where: { file: o.file } });
  // checks the heading before anything is written: a missing or ambiguous one stops here
  const planned = insertChangelogEntry(onBase.text, o.entry, { under: o.under, file: o.file, runId: o.runId });
  if (planned.already) return result({ status: 'in-changelog', pull_request: null, commit: null }, planned.marker);

  const pulls = await call('listing pull requests', 'pull-requests: read', () =>
    gh.rest.pulls.list({ owner, repo, head: `${owner}:${branch}`, state: 'all' }),
  );
  // an open pull request of this run, or a merged one; one closed unmerged is no CHANGELOG change: propose it again
  const existing = pulls.data.find((p) => p.state === 'open' || p.merged_at);
  const pr = (p: { number: number; html_url: string; state: string; merged_at?: string | null }) => ({
    number: p.number,
    url: p.html_url,
    state: p.state,
    merged: Boolean(p.merged_at),
  });
  if (existing) return result({ status: 'pull-request-exists', pull_request: pr(existing), commit: null }, planned.marker);

  const head = await call(`reading branch ${base}`, 'contents: read', () => gh.rest.git.getRef({ owner, repo, ref: `heads/${base}` }));
  try {
    await gh.rest.git.createRef({ owner, repo, ref: `refs/heads/${branch}`, sha: head.data.object.sha });
  } catch (e) {
    // left by a run of ours that stopped before its pull request: reuse it
    if (!(status(e) === 422 && /already exists/i.test((e as Error).message)))
      throw apiError(`creating branch ${branch}`, 'contents: write', e);
  }
  const onBranch = (await readFile(branch)) ?? onBase;
  const ins = insertChangelogEntry(onBranch.text, o.entry, { under: o.under, file: o.file, runId: o.runId });
  let commit: string | null = null;
  if (!ins.already) {
    const put = await call(`writing ${o.file} on ${branch}`, 'contents: write', () =>
      gh.rest.repos.createOrUpdateFileContents({
        owner,
        repo,
        path: o.file,
        branch,
        sha: onBranch.sha,
        message: `CHANGELOG: ${o.entry.split('\n')[0]!.replace(/^#+\s*/, '')}`,
        content: Buffer.from(ins.text).toString('base64'),
      }),
    );
    commit = put.data.commit.sha ?? null;
  }
  const title = `CHANGELOG: ${o.entry.split('\n')[0]!.replace(/^#+\s*/, '')}`;
  const body = [
    `Runbook 5.7: the PROD entry of this migration, written by astm53b${o.runUrl ? ` in ${o.runUrl}` : ` (run ${o.runId})`}.`,
    '',
    `It goes at the end of the section \`${describeTarget(o.under)}\` of \`${o.file}\`; nothing else in the file changes.`,
  ].join('\n');
  const created = await call('opening the pull request', 'pull-requests: write', () =>
    gh.rest.pulls.create({ owner, repo, title, head: branch, base, body }),
  );
  return result({ status: 'opened', pull_request: pr(created.data), commit }, ins.marker);
}
