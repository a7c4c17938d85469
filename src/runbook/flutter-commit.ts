import { UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { FlutterCommitCheck } from '../results/preflight.js';

/**
 * Runbook 4.4 and 5.7 ("Archiver hash commit Flutter déployé"): the deployed app's commit counts
 * only as a full 40-hex SHA that GitHub confirms exists in the app's repository, through
 * `GET /repos/{owner}/{repo}/commits/{sha}`; its message and date are recorded. A commit GitHub
 * does not know, or an abbreviated one, stops preflight before the database is opened.
 */
export interface FlutterCommitOptions {
  sha: string;
  /** owner/name of the app's repository, e.g. VALERYkal/ml_pp_mvp */
  repository: string;
  /** GitHub's REST API (GITHUB_API_URL; https://api.github.com by default) */
  apiUrl: string;
  /** a token (the workflow's GITHUB_TOKEN), for a private repository or the rate limit; never logged */
  token?: string;
  now?: Date;
}

const FIELD = { field: 'flutter-commit' };

export function validateFlutterCommitOptions(o: { sha: string; repository: string }): { sha: string; owner: string; repo: string } {
  const sha = o.sha.trim().toLowerCase();
  if (!/^[0-9a-f]{40}$/.test(sha))
    throw new UserError(
      'BAD_INPUT',
      `flutter commit "${o.sha.trim().slice(0, 50)}" is not a full commit SHA (40 hex digits): an abbreviated hash may name another commit tomorrow`,
      { where: FIELD, hint: 'git rev-parse HEAD in the app checkout that was built gives it' },
    );
  const m = /^([A-Za-z0-9][A-Za-z0-9-]{0,38})\/([A-Za-z0-9._-]{1,100})$/.exec(o.repository.trim());
  if (!m)
    throw new UserError('BAD_INPUT', `flutter repository "${o.repository.slice(0, 80)}" is not owner/name`, {
      where: { field: 'flutter-repository' },
    });
  return { sha, owner: m[1]!, repo: m[2]! };
}

interface CommitBody {
  sha?: unknown;
  html_url?: unknown;
  commit?: { message?: unknown; committer?: { date?: unknown } | null; author?: { date?: unknown } | null };
}

export async function confirmFlutterCommit(o: FlutterCommitOptions, log: Logger): Promise<FlutterCommitCheck> {
  const { sha, owner, repo } = validateFlutterCommitOptions(o);
  const repository = `${owner}/${repo}`;
  const url = `${o.apiUrl.replace(/\/+$/, '')}/repos/${owner}/${repo}/commits/${sha}`;
  let res: Response;
  try {
    res = await fetch(url, {
      headers: {
        accept: 'application/vnd.github+json',
        'x-github-api-version': '2022-11-28',
        'user-agent': 'astm53b-pipeline',
        ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
      },
      signal: AbortSignal.timeout(30_000),
    });
  } catch (e) {
    throw new UserError('GITHUB_UNREACHABLE', `could not ask GitHub whether ${sha} is a commit of ${repository}: ${(e as Error).message}`, {
      where: FIELD,
      hint: 'nothing was touched; run preflight again once GitHub answers',
    });
  }
  const body = (await res.json().catch(() => ({}))) as CommitBody;
  if (res.status === 404 || res.status === 422)
    throw new UserError('FLUTTER_COMMIT_UNKNOWN', `${sha} is not a commit of ${repository} (GitHub answered ${res.status})`, {
      where: FIELD,
      hint: 'give the commit the deployed app was built from; nothing was touched',
    });
  if (!res.ok)
    throw new UserError('GITHUB_REFUSED', `GitHub refused to show ${repository}@${sha} (HTTP ${res.status})`, {
      where: FIELD,
      hint: 'a private repository needs a token that may read it (github-token); nothing was touched',
    });
  if (body.sha !== sha)
    throw new UserError('FLUTTER_COMMIT_UNKNOWN', `GitHub answered for ${String(body.sha).slice(0, 40)}, not ${sha}`, { where: FIELD });
  const message = typeof body.commit?.message === 'string' ? body.commit.message.split('\n')[0]!.trim() : '';
  const date = body.commit?.committer?.date ?? body.commit?.author?.date;
  const check: FlutterCommitCheck = {
    repository,
    sha,
    message,
    date: typeof date === 'string' ? date : null,
    url: typeof body.html_url === 'string' ? body.html_url : null,
    checkedAt: (o.now ?? new Date()).toISOString(),
  };
  log.info(`flutter commit ${sha} confirmed in ${repository}: “${message}” (${check.date ?? 'no date'})`);
  return check;
}
