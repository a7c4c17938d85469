import { createHash } from 'node:crypto';
import type { Route, RunState } from './github-api.js';

/**
 * The repository behind the run's REST API: branches holding files, and pull requests, for the
 * endpoints a CHANGELOG pull request goes through (docs.github.com/rest: repos, git references,
 * repository contents, pulls). Answers carry the fields GitHub documents for them, and GitHub's
 * refusals: 404 for a missing file or branch, 409 when a file's `sha` is not its current blob,
 * 422 for a branch or a pull request that already exists.
 */
export interface RepoContents {
  defaultBranch: string;
  /** branch → files (path → content) and the branch's head commit */
  branches: Map<string, { sha: string; files: Map<string, string> }>;
  pulls: PullRequest[];
  /** every commit made through the contents API, oldest first */
  commits: { branch: string; path: string; message: string; sha: string }[];
}

export interface PullRequest {
  number: number;
  title: string;
  body: string;
  head: string;
  base: string;
  state: 'open' | 'closed';
  merged: boolean;
}

export function newRepoContents(files: Record<string, string>, defaultBranch = 'main'): RepoContents {
  const f = new Map(Object.entries(files));
  return { defaultBranch, branches: new Map([[defaultBranch, { sha: commitSha('init', f), files: f }]]), pulls: [], commits: [] };
}

const API = 'https://api.github.com';
const NOT_FOUND = { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' };
const blobSha = (content: string): string =>
  createHash('sha1')
    .update(`blob ${Buffer.byteLength(content)}\0${content}`)
    .digest('hex');
function commitSha(parent: string, files: Map<string, string>): string {
  const h = createHash('sha1').update(parent);
  for (const [p, c] of [...files].sort()) h.update(`${p}\0${blobSha(c)}\0`);
  return h.digest('hex');
}

const ours = (p: Record<string, string>, s: RunState): boolean => p.owner === s.owner && p.repo === s.repo;
const repoOf = (s: RunState): RepoContents | undefined => s.contents;
const unprocessable = (message: string, errors?: unknown[]) => ({
  status: 422,
  body: { message, ...(errors ? { errors } : {}), documentation_url: 'https://docs.github.com/rest', status: '422' },
});

function fileBody(s: RunState, path: string, content: string, ref: string) {
  const url = `${API}/repos/${s.owner}/${s.repo}/contents/${path}?ref=${ref}`;
  return {
    type: 'file',
    encoding: 'base64',
    size: Buffer.byteLength(content),
    name: path.split('/').pop(),
    path,
    content: Buffer.from(content).toString('base64').replace(/.{60}/g, '$&\n'),
    sha: blobSha(content),
    url,
    git_url: `${API}/repos/${s.owner}/${s.repo}/git/blobs/${blobSha(content)}`,
    html_url: `https://github.com/${s.owner}/${s.repo}/blob/${ref}/${path}`,
    download_url: `https://raw.githubusercontent.com/${s.owner}/${s.repo}/${ref}/${path}`,
    _links: {
      self: url,
      git: `${API}/repos/${s.owner}/${s.repo}/git/blobs/${blobSha(content)}`,
      html: `https://github.com/${s.owner}/${s.repo}/blob/${ref}/${path}`,
    },
  };
}

function pullBody(s: RunState, p: PullRequest) {
  return {
    url: `${API}/repos/${s.owner}/${s.repo}/pulls/${p.number}`,
    id: 900_000 + p.number,
    number: p.number,
    state: p.state,
    title: p.title,
    body: p.body,
    html_url: `https://github.com/${s.owner}/${s.repo}/pull/${p.number}`,
    merged_at: p.merged ? '2026-12-04T12:00:00Z' : null,
    head: { label: `${s.owner}:${p.head}`, ref: p.head, sha: s.contents!.branches.get(p.head)?.sha ?? '' },
    base: { label: `${s.owner}:${p.base}`, ref: p.base, sha: s.contents!.branches.get(p.base)?.sha ?? '' },
  };
}

export const REPO_ROUTES: Route[] = [
  {
    method: 'GET',
    path: '/repos/{owner}/{repo}',
    permission: ['metadata', 'read'],
    handle: ({ params }, s) =>
      ours(params, s)
        ? {
            status: 200,
            body: {
              id: 4242,
              name: s.repo,
              full_name: `${s.owner}/${s.repo}`,
              private: true,
              default_branch: repoOf(s)?.defaultBranch ?? 'main',
              html_url: `https://github.com/${s.owner}/${s.repo}`,
            },
          }
        : { status: 404, body: NOT_FOUND },
  },
  {
    // "Get repository content": ref defaults to the default branch
    method: 'GET',
    path: '/repos/{owner}/{repo}/contents/{+path}',
    permission: ['contents', 'read'],
    handle: ({ params, query }, s) => {
      const r = repoOf(s);
      const ref = query.get('ref') || r?.defaultBranch || 'main';
      const content = ours(params, s) ? r?.branches.get(ref)?.files.get(params.path!) : undefined;
      return content === undefined ? { status: 404, body: NOT_FOUND } : { status: 200, body: fileBody(s, params.path!, content, ref) };
    },
  },
  {
    // "Create or update file contents": sha is required to update a file, and must be its current blob
    method: 'PUT',
    path: '/repos/{owner}/{repo}/contents/{+path}',
    permission: ['contents', 'write'],
    handle: ({ params, body }, s) => {
      const r = repoOf(s);
      const b = body as { message?: string; content?: string; sha?: string; branch?: string };
      const branch = r?.branches.get(b.branch || r.defaultBranch);
      if (!ours(params, s) || !r || !branch) return { status: 404, body: NOT_FOUND };
      if (!b.message || typeof b.content !== 'string') return unprocessable('Invalid request.\n\n"message" and "content" are required.');
      const current = branch.files.get(params.path!);
      if (current !== undefined && !b.sha) return unprocessable('Invalid request.\n\n"sha" wasn\'t supplied.');
      if (current !== undefined && b.sha !== blobSha(current))
        return {
          status: 409,
          body: { message: `${params.path} does not match ${b.sha}`, documentation_url: 'https://docs.github.com/rest', status: '409' },
        };
      const content = Buffer.from(b.content, 'base64').toString('utf8');
      branch.files.set(params.path!, content);
      branch.sha = commitSha(branch.sha, branch.files);
      r.commits.push({ branch: b.branch || r.defaultBranch, path: params.path!, message: b.message, sha: branch.sha });
      return {
        status: current === undefined ? 201 : 200,
        body: { content: fileBody(s, params.path!, content, b.branch || r.defaultBranch), commit: { sha: branch.sha, message: b.message } },
      };
    },
  },
  {
    // "Get a reference": ref is heads/<branch>
    method: 'GET',
    path: '/repos/{owner}/{repo}/git/ref/{+ref}',
    permission: ['contents', 'read'],
    handle: ({ params }, s) => {
      const name = /^heads\/(.+)$/.exec(params.ref!)?.[1];
      const branch = ours(params, s) && name ? repoOf(s)?.branches.get(name) : undefined;
      if (!branch) return { status: 404, body: NOT_FOUND };
      return {
        status: 200,
        body: {
          ref: `refs/${params.ref}`,
          url: `${API}/repos/${s.owner}/${s.repo}/git/refs/${params.ref}`,
          object: { sha: branch.sha, type: 'commit', url: `${API}/repos/${s.owner}/${s.repo}/git/commits/${branch.sha}` },
        },
      };
    },
  },
  {
    // "Create a reference"
    method: 'POST',
    path: '/repos/{owner}/{repo}/git/refs',
    permission: ['contents', 'write'],
    handle: ({ params, body }, s) => {
      const r = repoOf(s);
      const b = body as { ref?: string; sha?: string };
      if (!ours(params, s) || !r) return { status: 404, body: NOT_FOUND };
      const name = /^refs\/heads\/(.+)$/.exec(b.ref ?? '')?.[1];
      if (!name) return unprocessable(`${b.ref ?? ''} is not a valid ref name.`);
      if (r.branches.has(name)) return unprocessable('Reference already exists');
      const from = [...r.branches.values()].find((x) => x.sha === b.sha);
      if (!from) return unprocessable('Object does not exist');
      r.branches.set(name, { sha: from.sha, files: new Map(from.files) });
      return { status: 201, body: { ref: b.ref, object: { sha: from.sha, type: 'commit' } } };
    },
  },
  {
    // "List pull requests": head is owner:branch
    method: 'GET',
    path: '/repos/{owner}/{repo}/pulls',
    permission: ['pull-requests', 'read'],
    handle: ({ params, query }, s) => {
      const r = repoOf(s);
      if (!ours(params, s) || !r) return { status: 404, body: NOT_FOUND };
      const state = query.get('state') ?? 'open';
      const head = query.get('head')?.replace(/^[^:]+:/, '');
      const base = query.get('base');
      const list = r.pulls.filter(
        (p) => (state === 'all' || p.state === state) && (!head || p.head === head) && (!base || p.base === base),
      );
      return { status: 200, body: list.map((p) => pullBody(s, p)) };
    },
  },
  {
    // "Create a pull request"
    method: 'POST',
    path: '/repos/{owner}/{repo}/pulls',
    permission: ['pull-requests', 'write'],
    handle: ({ params, body }, s) => {
      const r = repoOf(s);
      const b = body as { title?: string; head?: string; base?: string; body?: string };
      if (!ours(params, s) || !r) return { status: 404, body: NOT_FOUND };
      const head = (b.head ?? '').replace(/^[^:]+:/, '');
      if (!b.title || !r.branches.has(head) || !r.branches.has(b.base ?? ''))
        return unprocessable('Validation Failed', [{ resource: 'PullRequest', code: 'invalid' }]);
      if (r.pulls.some((p) => p.head === head && p.base === b.base && p.state === 'open'))
        return unprocessable('Validation Failed', [
          { resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${s.owner}:${head}.` },
        ]);
      const pr: PullRequest = {
        number: r.pulls.length + 1,
        title: b.title,
        body: b.body ?? '',
        head,
        base: b.base!,
        state: 'open',
        merged: false,
      };
      r.pulls.push(pr);
      return { status: 201, body: pullBody(s, pr) };
    },
  },
];
