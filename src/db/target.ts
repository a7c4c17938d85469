import path from 'node:path';
import { UserError } from '../errors.js';
import { maskConnectionString } from './secrets.js';

/**
 * Where the pipeline runs: a real PostgreSQL reached by URL, or the embedded PGlite database
 * kept in a git-ignored folder of the working directory (local rehearsal, quick start).
 */
export type Target =
  { kind: 'pg'; url: string; label: string; connectTimeoutMs?: number } | { kind: 'embedded'; dataDir: string; label: string };

export const EMBEDDED_DIR = '.astm53b/pgdata';

/** How long a connection attempt may take when neither the URL nor the environment says. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export function resolveTarget(opts: {
  url?: string | undefined;
  cwd: string;
  embeddedDir?: string | undefined;
  /** where PGCONNECT_TIMEOUT is read (the CLI's environment); default process.env */
  env?: NodeJS.ProcessEnv;
}): Target {
  if (opts.url !== undefined && opts.url !== '') {
    const url = opts.url.trim();
    if (!/^postgres(ql)?:\/\//i.test(url)) {
      throw new UserError('BAD_URL', `--url must be a postgresql:// connection string, got "${maskConnectionString(url).slice(0, 60)}"`, {
        where: { field: 'url' },
      });
    }
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new UserError('BAD_URL', 'the connection string is not a valid URL (percent-encode special characters in the password)', {
        where: { field: 'url' },
      });
    }
    return { kind: 'pg', url, label: maskConnectionString(url), connectTimeoutMs: connectTimeoutOf(parsed, opts.env ?? process.env) };
  }
  const dataDir = path.resolve(opts.cwd, opts.embeddedDir ?? EMBEDDED_DIR);
  return { kind: 'embedded', dataDir, label: `embedded PGlite (${path.relative(opts.cwd, dataDir) || dataDir})` };
}

/**
 * The connect timeout as libpq users set it, so the same setting serves psql, pg_dump and the
 * pipeline: `connect_timeout` in the URL, else PGCONNECT_TIMEOUT, in whole seconds; 0 or less
 * waits for ever, and (as in libpq) 1 counts as 2.
 */
export function connectTimeoutOf(url: URL, env: NodeJS.ProcessEnv): number {
  const inUrl = url.searchParams.get('connect_timeout');
  const raw = (inUrl ?? env.PGCONNECT_TIMEOUT ?? '').trim();
  if (raw === '') return DEFAULT_CONNECT_TIMEOUT_MS;
  if (!/^-?\d{1,6}$/.test(raw)) {
    const field = inUrl !== null ? 'url' : 'PGCONNECT_TIMEOUT';
    throw new UserError(
      'BAD_CONNECT_TIMEOUT',
      `${inUrl !== null ? 'connect_timeout in the URL' : 'PGCONNECT_TIMEOUT'} must be whole seconds, got "${raw.slice(0, 20)}"`,
      {
        where: { field },
      },
    );
  }
  const s = Number(raw);
  return s <= 0 ? 0 : Math.max(2, s) * 1000;
}

/**
 * Supabase's transaction pooler (port 6543, or a `pooler.supabase.com` host with that port)
 * hands each statement to any backend: session state (SET, advisory locks, prepared
 * statements, temp tables) is silently lost. Steps that need it must refuse it.
 */
export function isTransactionPooler(url: string): boolean {
  try {
    const u = new URL(url);
    return u.port === '6543';
  } catch {
    return false;
  }
}

export function assertSessionCapable(target: Target, step: string): void {
  if (target.kind === 'pg' && isTransactionPooler(target.url)) {
    throw new UserError(
      'TRANSACTION_POOLER',
      `${step} needs session state (advisory locks, SET) but ${target.label} is Supabase's transaction pooler (port 6543)`,
      { hint: 'use the session pooler (port 5432 on the pooler host) or the direct connection db.<project-ref>.supabase.co:5432' },
    );
  }
}
