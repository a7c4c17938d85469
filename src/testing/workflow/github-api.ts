import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
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

export interface RunState {
  owner: string;
  repo: string;
  runId: number;
  /** environment name -> id, in the order the run first met them */
  environments: Map<string, number>;
  reviews: EnvironmentReview[];
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
];

function compile(route: Route): RegExp {
  const names: string[] = [];
  const re = route.path.replace(/\{(\w+)\}/g, (_, n: string) => {
    names.push(n);
    return '([^/]+)';
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
      const granted = holder.permissions[scope] ?? 'none';
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
