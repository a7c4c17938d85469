import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { REPO_ROUTES, type RepoContents } from './github-repo.js';
import type { Permissions } from './model.js';

/**
 * GitHub's REST API for one workflow run, on 127.0.0.1: the real paths, the real response
 * shapes (docs.github.com/rest), the real refusals (401 Bad credentials for a token it did not
 * issue, 403 "Resource not accessible by integration" when the job's GITHUB_TOKEN lacks the
 * permission the endpoint needs, 404 for another repository or run). Each job gets its own
 * token carrying that job's `permissions:`. A route is one entry of ROUTES: its method, its
 * path with {placeholders}, the permission it needs and what it answers from the run's state.
 */
export interface ApiRequest {
  method: string;
  path: string;
  status: number;
  job: string | undefined;
}

export interface EnvironmentReview {
  environment: string;
  state: 'approved' | 'rejected';
  login: string;
  comment: string;
  at: Date;
}

export interface FakeComment {
  /** given by the API when it posts one; a scenario's issues may leave it out */
  id?: number;
  login: string;
  body: string;
  at: Date;
}

export interface FakeIssue {
  number: number;
  title: string;
  body: string | null;
  labels: string[];
  /** who opened it: the job's GITHUB_TOKEN acts as github-actions[bot] */
  login: string;
  state: 'open' | 'closed';
  stateReason?: string | null;
  createdAt: Date;
  closedAt?: Date | null;
  comments: FakeComment[];
}

/** A comment people post on an issue the run opens, as soon as it is opened (the scenario's approvers answering). */
export interface IssueReply {
  by: string;
  body: string;
  /** posted only on issues whose title contains this text (a run that opens several issues); absent: on every one */
  onTitle?: string;
}

export interface RunState {
  owner: string;
  repo: string;
  runId: number;
  /** environment name -> id, in the order the run first met them */
  environments: Map<string, number>;
  reviews: EnvironmentReview[];
  /** the repository's issues: the scenario's (complaints already there) and those the run opens, with their comments */
  issues: FakeIssue[];
  /** posted on every issue the run opens (or those their onTitle names), in this order, right after it is opened */
  issueReplies: IssueReply[];
  /** the repository's branches, files and pull requests, for the contents, git and pulls endpoints */
  contents?: RepoContents;
  /** commits of other (public) repositories GitHub knows, by owner/name: the app's, whose commit preflight confirms */
  commits: Map<string, PublicCommit[]>;
}

export interface PublicCommit {
  sha: string;
  message: string;
  /** ISO, as the committer dated it */
  date: string;
  author: string;
}

export interface RouteRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
}

export interface Route {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** e.g. /repos/{owner}/{repo}/actions/runs/{run_id}/approvals */
  path: string;
  permission: [scope: string, level: 'read' | 'write'];
  handle(req: RouteRequest, state: RunState): { status: number; body: unknown };
}

const API = 'https://api.github.com';

export function simpleUser(login: string): Record<string, unknown> {
  const id = [...login].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 9_000_000, 7) + 1_000_000;
  const url = `${API}/users/${login}`;
  return {
    login,
    id,
    node_id: Buffer.from(`04:User${id}`).toString('base64'),
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
    gravatar_id: '',
    url,
    html_url: `https://github.com/${login}`,
    followers_url: `${url}/followers`,
    following_url: `${url}/following{/other_user}`,
    gists_url: `${url}/gists{/gist_id}`,
    starred_url: `${url}/starred{/owner}{/repo}`,
    subscriptions_url: `${url}/subscriptions`,
    organizations_url: `${url}/orgs`,
    repos_url: `${url}/repos`,
    events_url: `${url}/events{/privacy}`,
    received_events_url: `${url}/received_events`,
    type: 'User',
    user_view_type: 'public',
    site_admin: false,
  };
}

function environmentOf(state: RunState, name: string, at: Date): Record<string, unknown> {
  const id = state.environments.get(name) ?? 0;
  return {
    id,
    node_id: Buffer.from(`011:Environment${id}`).toString('base64'),
    name,
    url: `${API}/repos/${state.owner}/${state.repo}/environments/${encodeURIComponent(name)}`,
    html_url: `https://github.com/${state.owner}/${state.repo}/deployments/activity_log?environments_filter=${encodeURIComponent(name)}`,
    created_at: '2026-01-05T09:00:00Z',
    updated_at: at.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
}

const sameRun = (p: Record<string, string>, s: RunState): boolean =>
  p.owner === s.owner && p.repo === s.repo && (p.run_id === undefined || p.run_id === String(s.runId));

const NOT_FOUND = { message: 'Not Found', documentation_url: 'https://docs.github.com/rest', status: '404' };

/** The login a job's GITHUB_TOKEN writes as. */
export const ACTIONS_BOT = 'github-actions[bot]';

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

function userOf(login: string): Record<string, unknown> {
  return login === ACTIONS_BOT ? { ...simpleUser(login), id: 41898282, type: 'Bot' } : simpleUser(login);
}

function issueJson(state: RunState, i: FakeIssue): Record<string, unknown> {
  const url = `${API}/repos/${state.owner}/${state.repo}/issues/${i.number}`;
  const updated = [i.createdAt, i.closedAt, ...i.comments.map((c) => c.at)]
    .filter((d): d is Date => !!d)
    .sort((a, b) => +a - +b)
    .at(-1)!;
  return {
    id: 2_100_000_000 + i.number,
    node_id: Buffer.from(`05:Issue${2_100_000_000 + i.number}`).toString('base64'),
    url,
    repository_url: `${API}/repos/${state.owner}/${state.repo}`,
    labels_url: `${url}/labels{/name}`,
    comments_url: `${url}/comments`,
    events_url: `${url}/events`,
    html_url: `https://github.com/${state.owner}/${state.repo}/issues/${i.number}`,
    number: i.number,
    state: i.state,
    state_reason: i.stateReason,
    title: i.title,
    body: i.body,
    user: userOf(i.login),
    labels: i.labels.map((name, k) => ({ id: 100 + k, name, color: 'd73a4a', default: false })),
    assignee: null,
    assignees: [],
    milestone: null,
    locked: false,
    active_lock_reason: null,
    comments: i.comments.length,
    closed_at: i.closedAt ? iso(i.closedAt) : null,
    created_at: iso(i.createdAt),
    updated_at: iso(updated),
    closed_by: i.closedAt ? userOf(ACTIONS_BOT) : null,
    author_association: 'NONE',
  };
}

function commentJson(state: RunState, i: FakeIssue, c: FakeComment): Record<string, unknown> {
  // a comment the scenario wrote has no id of its own: one derived from its place
  const id = c.id ?? 2_400_000_000 + i.number * 1000 + i.comments.indexOf(c);
  return {
    id,
    node_id: Buffer.from(`012:IssueComment${id}`).toString('base64'),
    url: `${API}/repos/${state.owner}/${state.repo}/issues/comments/${id}`,
    html_url: `https://github.com/${state.owner}/${state.repo}/issues/${i.number}#issuecomment-${id}`,
    body: c.body,
    user: userOf(c.login),
    created_at: iso(c.at),
    updated_at: iso(c.at),
    issue_url: `${API}/repos/${state.owner}/${state.repo}/issues/${i.number}`,
    author_association: c.login === ACTIONS_BOT ? 'NONE' : 'COLLABORATOR',
    performed_via_github_app: null,
  };
}

const validationFailed = (field: string, code: string) => ({
  status: 422,
  body: {
    message: 'Validation Failed',
    errors: [{ resource: 'Issue', code, field }],
    documentation_url: 'https://docs.github.com/rest',
    status: '422',
  },
});

let nextCommentId = 2_500_000_000;
const addComment = (i: FakeIssue, login: string, body: string, at = new Date()): FakeComment => {
  const c = { id: nextCommentId++, login, body, at };
  i.comments.push(c);
  return c;
};

const issueOf = (p: Record<string, string>, s: RunState) =>
  sameRun(p, s) ? s.issues.find((i) => String(i.number) === p.issue_number) : undefined;
const bodyField = (body: unknown, k: string): unknown =>
  body && typeof body === 'object' ? (body as Record<string, unknown>)[k] : undefined;

const sameRepo = (p: Record<string, string>, s: RunState) => p.owner === s.owner && p.repo === s.repo;

function commitOf(owner: string, repo: string, c: PublicCommit): Record<string, unknown> {
  const url = `${API}/repos/${owner}/${repo}/commits/${c.sha}`;
  const who = { name: c.author, email: `${c.author}@users.noreply.github.com`, date: c.date };
  return {
    sha: c.sha,
    node_id: Buffer.from(`06:Commit${c.sha}`).toString('base64'),
    commit: {
      author: who,
      committer: who,
      message: c.message,
      tree: {
        sha: c.sha.split('').reverse().join(''),
        url: `${API}/repos/${owner}/${repo}/git/trees/${c.sha.split('').reverse().join('')}`,
      },
      url: `${API}/repos/${owner}/${repo}/git/commits/${c.sha}`,
      comment_count: 0,
      verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
    },
    url,
    html_url: `https://github.com/${owner}/${repo}/commit/${c.sha}`,
    comments_url: `${url}/comments`,
    author: simpleUser(c.author),
    committer: simpleUser(c.author),
    parents: [],
    stats: { total: 0, additions: 0, deletions: 0 },
    files: [],
  };
}

export const ROUTES: Route[] = [
  {
    // "Get a commit": a ref may be a full SHA or a unique prefix of one; 422 when it names nothing git could resolve
    method: 'GET',
    path: '/repos/{owner}/{repo}/commits/{ref}',
    permission: ['contents', 'read'],
    handle: ({ params }, state) => {
      const known = state.commits.get(`${params.owner}/${params.repo}`);
      if (!known) return { status: 404, body: NOT_FOUND };
      const hits = /^[0-9a-f]{4,40}$/.test(params.ref!) ? known.filter((c) => c.sha.startsWith(params.ref!)) : [];
      if (hits.length === 1) return { status: 200, body: commitOf(params.owner!, params.repo!, hits[0]!) };
      return {
        status: 422,
        body: {
          message: `No commit found for SHA: ${params.ref}`,
          documentation_url: 'https://docs.github.com/rest/commits/commits#get-a-commit',
          status: '422',
        },
      };
    },
  },
  {
    // "Get the review history for a workflow run": oldest review first
    method: 'GET',
    path: '/repos/{owner}/{repo}/actions/runs/{run_id}/approvals',
    permission: ['actions', 'read'],
    handle: ({ params }, state) =>
      sameRun(params, state)
        ? {
            status: 200,
            body: state.reviews.map((r) => ({
              environments: [environmentOf(state, r.environment, r.at)],
              state: r.state,
              user: simpleUser(r.login),
              comment: r.comment,
            })),
          }
        : { status: 404, body: NOT_FOUND },
  },
  {
    // "List repository issues": labels (all of them), state, since (updated at or after); newest first unless direction=asc
    method: 'GET',
    path: '/repos/{owner}/{repo}/issues',
    permission: ['issues', 'read'],
    handle: ({ params, query }, state) => {
      if (!sameRepo(params, state)) return { status: 404, body: NOT_FOUND };
      const labels = (query.get('labels') ?? '').split(',').filter(Boolean);
      const st = query.get('state') ?? 'open';
      const since = query.get('since');
      const list = state.issues
        .filter((i) => labels.every((l) => i.labels.includes(l)))
        .filter((i) => st === 'all' || i.state === st)
        .filter((i) => !since || (i.comments.at(-1)?.at ?? i.createdAt) >= new Date(since))
        .sort((a, b) => (query.get('direction') === 'asc' ? 1 : -1) * (a.createdAt.getTime() - b.createdAt.getTime()));
      return { status: 200, body: list.map((i) => issueJson(state, i)) };
    },
  },
  {
    // "Create an issue": 201 and the issue; the scenario's replies are posted on it at once
    method: 'POST',
    path: '/repos/{owner}/{repo}/issues',
    permission: ['issues', 'write'],
    handle: ({ params, body }, state) => {
      if (!sameRepo(params, state)) return { status: 404, body: NOT_FOUND };
      const title = bodyField(body, 'title');
      if (typeof title !== 'string' || !title) return validationFailed('title', 'missing_field');
      const text = bodyField(body, 'body');
      if (typeof text === 'string' && text.length > 65_536) return validationFailed('body', 'custom');
      const issue: FakeIssue = {
        // the next number of a repository with a history: after its issues, and after 100 when the scenario gives none
        number: Math.max(100, ...state.issues.map((i) => i.number)) + 1,
        title,
        body: typeof text === 'string' ? text : null,
        labels: ((bodyField(body, 'labels') as string[] | undefined) ?? []).map(String),
        login: ACTIONS_BOT,
        state: 'open',
        stateReason: null,
        createdAt: new Date(),
        closedAt: null,
        comments: [],
      };
      state.issues.push(issue);
      // one second apart, after the issue: the order people answered in
      state.issueReplies
        .filter((r) => r.onTitle === undefined || issue.title.includes(r.onTitle))
        .forEach((r, k) => addComment(issue, r.by, r.body, new Date(issue.createdAt.getTime() + (k + 1) * 1000)));
      return { status: 201, body: issueJson(state, issue) };
    },
  },
  {
    // "List issue comments": oldest first
    method: 'GET',
    path: '/repos/{owner}/{repo}/issues/{issue_number}/comments',
    permission: ['issues', 'read'],
    handle: ({ params, query }, state) => {
      const issue = issueOf(params, state);
      if (!issue) return { status: 404, body: NOT_FOUND };
      const perPage = Math.min(Number(query.get('per_page') ?? 30) || 30, 100);
      const page = Math.max(Number(query.get('page') ?? 1) || 1, 1);
      const all = issue.comments.map((c) => commentJson(state, issue, c));
      return { status: 200, body: all.slice((page - 1) * perPage, page * perPage) };
    },
  },
  {
    // "Create an issue comment"
    method: 'POST',
    path: '/repos/{owner}/{repo}/issues/{issue_number}/comments',
    permission: ['issues', 'write'],
    handle: ({ params, body }, state) => {
      const issue = issueOf(params, state);
      if (!issue) return { status: 404, body: NOT_FOUND };
      const text = bodyField(body, 'body');
      if (typeof text !== 'string' || !text) return validationFailed('body', 'missing_field');
      return { status: 201, body: commentJson(state, issue, addComment(issue, ACTIONS_BOT, text)) };
    },
  },
  {
    // "Update an issue": here, closing it with a state_reason
    method: 'PATCH',
    path: '/repos/{owner}/{repo}/issues/{issue_number}',
    permission: ['issues', 'write'],
    handle: ({ params, body }, state) => {
      const issue = issueOf(params, state);
      if (!issue) return { status: 404, body: NOT_FOUND };
      const next = bodyField(body, 'state');
      const reason = bodyField(body, 'state_reason');
      if (next !== undefined && next !== 'open' && next !== 'closed') return validationFailed('state', 'invalid');
      if (reason !== undefined && !['completed', 'not_planned', 'reopened', null].includes(reason as string))
        return validationFailed('state_reason', 'invalid');
      if (next === 'closed' && issue.state === 'open') {
        issue.state = 'closed';
        issue.closedAt = new Date();
        issue.stateReason = (reason as string | undefined) ?? 'completed';
      } else if (next === 'open') {
        issue.state = 'open';
        issue.closedAt = null;
        issue.stateReason = 'reopened';
      }
      return { status: 200, body: issueJson(state, issue) };
    },
  },
  ...REPO_ROUTES,
];

function compile(route: Route): RegExp {
  const names: string[] = [];
  // {+name} matches the rest of the path, slashes included (a file path, heads/<branch>)
  const re = route.path.replace(/\{(\+?)(\w+)\}/g, (_, rest: string, n: string) => {
    names.push(n);
    return rest ? '(.+)' : '([^/]+)';
  });
  return Object.assign(new RegExp(`^${re}$`), { names });
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as unknown) : undefined;
}

export class FakeGitHub {
  readonly requests: ApiRequest[] = [];
  private readonly tokens = new Map<string, { job: string; permissions: Permissions }>();
  private readonly compiled: { route: Route; re: RegExp & { names?: string[] } }[];

  private constructor(
    private readonly server: Server,
    readonly state: RunState,
    routes: Route[],
  ) {
    this.compiled = routes.map((route) => ({ route, re: compile(route) }));
  }

  static async start(state: RunState, routes: Route[] = ROUTES): Promise<FakeGitHub> {
    let api: FakeGitHub | undefined;
    const server = createServer((req, res) => {
      void api!.answer(req).then(({ status, body }) => {
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'x-github-api-version-selected': '2022-11-28' });
        res.end(JSON.stringify(body));
      });
    });
    api = new FakeGitHub(server, state, routes);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return api;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The GITHUB_TOKEN of one job: what it may do is that job's `permissions:`. */
  issueToken(job: string, permissions: Permissions): string {
    const token = `ghs_${randomBytes(18).toString('base64url')}`;
    this.tokens.set(token, { job, permissions });
    return token;
  }

  private async answer(req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const auth = /^(?:token|bearer) (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const holder = auth ? this.tokens.get(auth) : undefined;
    const log = (status: number) => this.requests.push({ method: req.method ?? '', path: url.pathname, status, job: holder?.job });
    if (!holder) {
      log(401);
      return { status: 401, body: { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' } };
    }
    for (const { route, re } of this.compiled) {
      const m = re.exec(url.pathname);
      if (!m || route.method !== req.method) continue;
      const [scope, level] = route.permission;
      // every GITHUB_TOKEN may read the repository's metadata, whatever its permissions say
      const granted = scope === 'metadata' ? 'read' : (holder.permissions[scope] ?? 'none');
      if (granted === 'none' || (level === 'write' && granted !== 'write')) {
        log(403);
        return {
          status: 403,
          body: { message: 'Resource not accessible by integration', documentation_url: 'https://docs.github.com/rest', status: '403' },
        };
      }
      const params = Object.fromEntries((re.names ?? []).map((n, i) => [n, decodeURIComponent(m[i + 1]!)]));
      const r = route.handle({ params, query: url.searchParams, body: await readBody(req) }, this.state);
      log(r.status);
      return r;
    }
    log(404);
    return { status: 404, body: NOT_FOUND };
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}
