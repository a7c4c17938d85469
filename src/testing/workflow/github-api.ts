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
  /** the repository's issues (the watch's complaints and incident), with their comments; absent: none */
  issues?: FakeIssue[];
}

export interface FakeIssue {
  number: number;
  title: string;
  body: string | null;
  labels: string[];
  state: 'open' | 'closed';
  login: string;
  createdAt: Date;
  comments: { login: string; body: string; at: Date }[];
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

function issueJson(state: RunState, i: FakeIssue): Record<string, unknown> {
  const url = `${API}/repos/${state.owner}/${state.repo}/issues/${i.number}`;
  return {
    id: 1_000_000 + i.number,
    number: i.number,
    url,
    html_url: `https://github.com/${state.owner}/${state.repo}/issues/${i.number}`,
    title: i.title,
    body: i.body,
    state: i.state,
    labels: i.labels.map((name, k) => ({ id: 100 + k, name, color: 'd73a4a', default: false })),
    user: simpleUser(i.login),
    comments: i.comments.length,
    created_at: i.createdAt.toISOString(),
    updated_at: (i.comments.at(-1)?.at ?? i.createdAt).toISOString(),
  };
}

const sameRepo = (p: Record<string, string>, s: RunState) => p.owner === s.owner && p.repo === s.repo;
/** the token's bot, as GitHub names the author of what GITHUB_TOKEN writes */
const BOT = 'github-actions[bot]';

export const ROUTES: Route[] = [
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
      const list = (state.issues ?? [])
        .filter((i) => labels.every((l) => i.labels.includes(l)))
        .filter((i) => st === 'all' || i.state === st)
        .filter((i) => !since || (i.comments.at(-1)?.at ?? i.createdAt) >= new Date(since))
        .sort((a, b) => (query.get('direction') === 'asc' ? 1 : -1) * (a.createdAt.getTime() - b.createdAt.getTime()));
      return { status: 200, body: list.map((i) => issueJson(state, i)) };
    },
  },
  {
    method: 'POST',
    path: '/repos/{owner}/{repo}/issues',
    permission: ['issues', 'write'],
    handle: ({ params, body }, state) => {
      if (!sameRepo(params, state)) return { status: 404, body: NOT_FOUND };
      const b = body as { title?: string; body?: string; labels?: string[] };
      if (!b?.title) return { status: 422, body: { message: 'Validation Failed', status: '422' } };
      state.issues ??= [];
      const issue: FakeIssue = {
        number: state.issues.length + 1,
        title: b.title,
        body: b.body ?? null,
        labels: b.labels ?? [],
        state: 'open',
        login: BOT,
        createdAt: new Date(),
        comments: [],
      };
      state.issues.push(issue);
      return { status: 201, body: issueJson(state, issue) };
    },
  },
  {
    method: 'POST',
    path: '/repos/{owner}/{repo}/issues/{number}/comments',
    permission: ['issues', 'write'],
    handle: ({ params, body }, state) => {
      const issue = sameRepo(params, state) ? state.issues?.find((i) => i.number === Number(params.number)) : undefined;
      if (!issue) return { status: 404, body: NOT_FOUND };
      const text = (body as { body?: string })?.body ?? '';
      issue.comments.push({ login: BOT, body: text, at: new Date() });
      return {
        status: 201,
        body: {
          id: 5_000_000 + issue.comments.length,
          body: text,
          user: simpleUser(BOT),
          html_url: `https://github.com/${state.owner}/${state.repo}/issues/${issue.number}#issuecomment-${issue.comments.length}`,
        },
      };
    },
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
