import { z } from 'zod';
import { UserError } from '../../errors.js';
import type { Complaint } from '../../results/watch.js';

/**
 * The repository's issues through GitHub's REST API (plain fetch, no SDK): the field complaints
 * (issues carrying the complaint label, opened since the GO) and the incident issue the watch
 * opens or comments on (runbook 6.3 "Journaliser incident"). The token needs `issues: read` to
 * read complaints and `issues: write` for the incident; it is never printed.
 */
export interface GitHubRepo {
  apiUrl: string;
  /** owner/name */
  repository: string;
  token: string;
}

const Issue = z.object({
  number: z.number().int(),
  html_url: z.string(),
  title: z.string(),
  body: z.string().nullable().optional(),
  created_at: z.string(),
  user: z.object({ login: z.string() }).nullable(),
  pull_request: z.unknown().optional(),
});

async function call(gh: GitHubRepo, method: string, path: string, body?: unknown): Promise<unknown> {
  const res = await fetch(`${gh.apiUrl.replace(/\/$/, '')}/repos/${gh.repository}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${gh.token}`,
      accept: 'application/vnd.github+json',
      'x-github-api-version': '2022-11-28',
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (!res.ok) {
    const message = (() => {
      try {
        return (JSON.parse(text) as { message?: string }).message ?? text;
      } catch {
        return text;
      }
    })();
    throw new UserError('GITHUB_API', `GitHub API ${method} /repos/${gh.repository}${path.split('?')[0]}: ${res.status} ${message}`, {
      hint: res.status === 403 ? 'the workflow job needs permissions: issues: write (read for complaints only)' : undefined,
    });
  }
  return text ? (JSON.parse(text) as unknown) : undefined;
}

/**
 * Issues with `label` opened since `since` (pull requests left out), oldest first, as complaints.
 * GitHub dates an issue to the second: one opened in the second the GO was decided, after it,
 * reads as earlier than the GO's milliseconds, so the comparison is to the whole second (a
 * complaint of that second counts rather than is missed).
 */
export async function complaintsFromIssues(gh: GitHubRepo, label: string, since: string): Promise<Complaint[]> {
  const from = Math.floor(Date.parse(since) / 1000) * 1000;
  const sinceSecond = new Date(from).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const q = new URLSearchParams({ labels: label, state: 'all', since: sinceSecond, per_page: '100', sort: 'created', direction: 'asc' });
  const list = z.array(Issue).parse(await call(gh, 'GET', `/issues?${q.toString()}`));
  return list
    .filter((i) => i.pull_request === undefined && Date.parse(i.created_at) >= from)
    .map((i) => ({
      source: 'issue' as const,
      who: i.user?.login ?? 'unknown',
      what: `${i.title}${i.body ? `: ${i.body.trim().slice(0, 500)}` : ''}`,
      when: i.created_at,
      issue: { number: i.number, url: i.html_url },
    }));
}

/** Opens the incident issue of this GO, or comments on it when one is already open (its title names the GO run). */
export async function reportIncident(
  gh: GitHubRepo,
  opts: { label: string; title: string; body: string },
): Promise<{ action: 'opened' | 'commented'; number: number; url: string }> {
  const q = new URLSearchParams({ labels: opts.label, state: 'open', per_page: '100' });
  const open = z
    .array(Issue)
    .parse(await call(gh, 'GET', `/issues?${q.toString()}`))
    .find((i) => i.pull_request === undefined && i.title === opts.title);
  if (open) {
    await call(gh, 'POST', `/issues/${open.number}/comments`, { body: opts.body });
    return { action: 'commented', number: open.number, url: open.html_url };
  }
  const made = Issue.parse(await call(gh, 'POST', '/issues', { title: opts.title, body: opts.body, labels: [opts.label] }));
  return { action: 'opened', number: made.number, url: made.html_url };
}
