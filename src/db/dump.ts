import { createHash } from 'node:crypto';
import { UserError } from '../errors.js';
import { PgDb } from './pg.js';
import { findPgTool, runPgTool, type PgTool } from './pg-tools.js';
import type { Db } from './types.js';

/**
 * pg_dump / pg_restore for the backup and rollback steps. The archive is streamed from
 * pg_dump's stdout to the file and hashed on the way, so a dump of any size costs a few
 * buffers of memory and is never read twice.
 */

export const DUMP_APP_NAME = 'astm53b-backup-pg_dump';
export const RESTORE_APP_NAME = 'astm53b-pg_restore';

/** The connection string behind a Db: only a real server can be dumped with pg_dump. */
export function urlOf(db: Db): string {
  if (db instanceof PgDb) return db.url;
  throw new UserError('EMBEDDED_NOT_SUPPORTED', `${db.label}: pg_dump/pg_restore need a real PostgreSQL server`, {
    hint: 'pass --url postgresql://… (the embedded database is backed up by the rehearsal with its own dump tool)',
  });
}

export interface ArchiveFile {
  bytes: number;
  sha256: string;
}

/** Full dump (schema, data, privileges, owners) in pg_dump's custom format, from an exported snapshot. */
export async function dumpArchive(opts: {
  url: string;
  serverMajor: number;
  file: string;
  snapshot?: string;
  lockWaitTimeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}): Promise<ArchiveFile & { tool: PgTool }> {
  const tool = await findPgTool('pg_dump', opts.serverMajor, opts.env);
  const hash = createHash('sha256');
  let bytes = 0;
  const args = ['--format=custom', '--no-password'];
  if (opts.snapshot) args.push(`--snapshot=${opts.snapshot}`);
  if (opts.lockWaitTimeoutMs) args.push(`--lock-wait-timeout=${Math.trunc(opts.lockWaitTimeoutMs)}`);
  await runPgTool({
    tool,
    args,
    url: opts.url,
    appName: DUMP_APP_NAME,
    stdoutFile: opts.file,
    onStdout: (chunk) => {
      bytes += chunk.length;
      hash.update(chunk);
    },
  });
  return { tool, bytes, sha256: hash.digest('hex') };
}

/** One line of `pg_restore --list`: "3472; 2620 39835 TRIGGER public receptions trg_x postgres". */
export interface TocEntry {
  id: number;
  type: string;
  schema: string;
  /** the rest after the schema: name (and owner) */
  tag: string;
}

// pg_restore writes descriptions that contain spaces; the longest must be tried first
const MULTI_WORD = ['MATERIALIZED VIEW DATA', 'SEQUENCE OWNED BY', 'MATERIALIZED VIEW', 'TABLE DATA', 'ROW SECURITY', 'DEFAULT ACL', 'SEQUENCE SET', 'FK CONSTRAINT', 'EVENT TRIGGER', 'FOREIGN TABLE', 'LARGE OBJECT', 'BLOB DATA', 'USER MAPPING', 'PUBLICATION TABLE'];

export function parseTocLine(line: string): TocEntry | undefined {
  const m = /^(\d+);\s+\d+\s+\d+\s+(.*)$/.exec(line.trim());
  if (!m) return undefined;
  const rest = m[2]!;
  const type = MULTI_WORD.find((t) => rest.startsWith(`${t} `)) ?? rest.split(' ')[0]!;
  const [schema = '', ...tag] = rest.slice(type.length + 1).split(' ');
  return { id: Number(m[1]), type, schema, tag: tag.join(' ') };
}

export interface ArchiveToc {
  entries: TocEntry[];
  /** "15.20" from "Dumped by pg_dump version: 15.20 (…)" */
  dumpedBy: string | undefined;
  dumpedFrom: string | undefined;
  tool: PgTool;
}

/** `pg_restore --list`: proves the archive's table of contents reads, and says what it holds. */
export async function listArchive(opts: { file: string; serverMajor: number; schemas?: readonly string[]; env?: NodeJS.ProcessEnv }): Promise<ArchiveToc> {
  const tool = await findPgTool('pg_restore', opts.serverMajor, opts.env);
  const args = ['--list', ...(opts.schemas ?? []).map((s) => `--schema=${s}`), opts.file];
  const r = await runPgTool({ tool, args, maxStdout: 64 * 1024 * 1024 });
  const version = (label: string) => new RegExp(`;\\s+${label}:\\s+(\\d+(?:\\.\\d+)?)`).exec(r.stdout)?.[1];
  const entries = r.stdout
    .split('\n')
    .map(parseTocLine)
    .filter((e): e is TocEntry => e !== undefined);
  return { entries, dumpedBy: version('Dumped by pg_dump version'), dumpedFrom: version('Dumped from database version'), tool };
}

/**
 * Reads every block of the archive, data included, and throws it away (`pg_restore
 * --file=/dev/null`): zlib's checksum catches a damaged block even in the schemas the scratch
 * restore leaves out (auth, storage).
 */
export async function readWholeArchive(opts: { file: string; serverMajor: number; env?: NodeJS.ProcessEnv }): Promise<void> {
  const tool = await findPgTool('pg_restore', opts.serverMajor, opts.env);
  await runPgTool({ tool, args: ['--file=/dev/null', opts.file] });
}

/**
 * Restores the named schemas of an archive. `clean` drops each archived object first (no
 * CASCADE: an outside object depending on one makes the restore fail rather than vanish);
 * `singleTransaction` makes the whole restore atomic. Triggers are created by pg_restore
 * after the data is loaded, so no trigger fires during COPY and no write guard is touched.
 */
export async function restoreArchive(opts: {
  url: string;
  file: string;
  serverMajor: number;
  schemas: readonly string[];
  clean?: boolean;
  singleTransaction?: boolean;
  jobs?: number;
  env?: NodeJS.ProcessEnv;
}): Promise<{ tool: PgTool }> {
  const tool = await findPgTool('pg_restore', opts.serverMajor, opts.env);
  const args = ['--exit-on-error', '--no-password', ...opts.schemas.map((s) => `--schema=${s}`)];
  if (opts.clean) args.push('--clean', '--if-exists');
  if (opts.singleTransaction) args.push('--single-transaction');
  else if (opts.jobs && opts.jobs > 1) args.push(`--jobs=${Math.trunc(opts.jobs)}`);
  args.push(opts.file);
  await runPgTool({ tool, args, url: opts.url, appName: RESTORE_APP_NAME });
  return { tool };
}
