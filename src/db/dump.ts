import type { Readable, Writable } from 'node:stream';
import { UserError } from '../errors.js';
import { HashedFileSink } from './file-sink.js';
import { PgDb } from './pg.js';
import { findPgTool, runPgTool, startPgTool, type PgTool, type ProcessResult, type ToolRun } from './pg-tools.js';
import { feedStdin } from './stdin-feed.js';
import type { Db } from './types.js';

/**
 * pg_dump / pg_restore for the backup and rollback steps. The archive is streamed from
 * pg_dump's stdout to the file (and, during a backup, to the scratch restore) and hashed on the
 * way, so a dump of any size costs a few buffers of memory and is never read twice.
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

/** pg_dump's compression when none is asked for: gzip level 1 dumps about 40 % faster than the default 6 for a 12 % larger file (bench/). */
export const DEFAULT_COMPRESSION = '1';

/** What `--compress` accepts on every pg_dump we support (a level) and on 16+ (a method, with an optional level). */
export const COMPRESSION_PATTERN = /^(\d|none|gzip(:\d)?|lz4(:\d{1,2})?|zstd(:\d{1,2})?)$/;

/**
 * Full dump (schema, data, privileges, owners) in pg_dump's custom format, from an exported
 * snapshot. With `follower`, every byte written to the file is also fed to it (a streaming restore).
 */
export async function dumpArchive(opts: {
  url: string;
  serverMajor: number;
  file: string;
  snapshot?: string;
  lockWaitTimeoutMs?: number;
  compress?: string;
  follower?: Writable;
  /** aborting it stops pg_dump (the step failed elsewhere) */
  signal?: AbortSignal;
  env?: NodeJS.ProcessEnv;
}): Promise<ArchiveFile & { tool: PgTool; compress: string }> {
  const tool = await findPgTool('pg_dump', opts.serverMajor, opts.env);
  const compress = opts.compress ?? DEFAULT_COMPRESSION;
  const args = ['--format=custom', '--no-password', `--compress=${compress}`];
  if (opts.snapshot) args.push(`--snapshot=${opts.snapshot}`);
  if (opts.lockWaitTimeoutMs) args.push(`--lock-wait-timeout=${Math.trunc(opts.lockWaitTimeoutMs)}`);
  const sink = new HashedFileSink(opts.file, opts.follower);
  await runPgTool({ tool, args, url: opts.url, appName: DUMP_APP_NAME, stdoutTo: sink, ...(opts.signal ? { signal: opts.signal } : {}) });
  return { tool, compress, ...sink.digest() };
}

/**
 * What pg_restore reads: the archive file by its path, or a stream of it (an age-encrypted
 * archive decrypted as it is read) fed to its stdin. A custom archive that pg_dump wrote to a
 * pipe, as the backup step has it write, has no data offsets and is read front to back either
 * way, so the stream restores exactly what the file would.
 */
export type ArchiveInput = string | ArchiveStream;
export interface ArchiveStream {
  /** the file on disk, for messages */
  display: string;
  /** a fresh stream of the archive's bytes; it fails at its end if they are not the recorded ones */
  open(): Promise<Readable>;
}

export const archiveDisplay = (a: ArchiveInput): string => (typeof a === 'string' ? a : a.display);

/**
 * Runs a pg_restore on the archive. A stream is fed to its stdin; with `drain` it is read to
 * its end even when pg_restore stops early, so its end-of-stream check runs. A failure of the
 * stream (a damaged or swapped ciphertext) wins over pg_restore's own complaint about the
 * input it cut short: it is the cause.
 */
export async function runOnArchive(run: ToolRun, input: ArchiveInput, drain: boolean): Promise<ProcessResult> {
  if (typeof input === 'string') return runPgTool({ ...run, args: [...run.args, input] });
  const source = await input.open();
  const child = startPgTool({ ...run, stdin: true });
  const feeding = feedStdin(source, child.stdin!, { drain });
  try {
    const [r] = await Promise.all([child.done, feeding]);
    return r;
  } catch (e) {
    child.kill();
    await child.done.catch(() => {});
    throw (
      (await feeding.then(
        () => undefined,
        (x: unknown) => x,
      )) ?? e
    );
  }
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
const MULTI_WORD = [
  'MATERIALIZED VIEW DATA',
  'SEQUENCE OWNED BY',
  'MATERIALIZED VIEW',
  'TABLE DATA',
  'ROW SECURITY',
  'DEFAULT ACL',
  'SEQUENCE SET',
  'FK CONSTRAINT',
  'EVENT TRIGGER',
  'FOREIGN TABLE',
  'LARGE OBJECT',
  'BLOB DATA',
  'USER MAPPING',
  'PUBLICATION TABLE',
];

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
export async function listArchive(opts: {
  file: ArchiveInput;
  serverMajor: number;
  schemas?: readonly string[];
  env?: NodeJS.ProcessEnv;
}): Promise<ArchiveToc> {
  const tool = await findPgTool('pg_restore', opts.serverMajor, opts.env);
  const args = ['--list', ...(opts.schemas ?? []).map((s) => `--schema=${s}`)];
  // the table of contents is at the front: no need to read (and decrypt) the rest
  const r = await runOnArchive({ tool, args, maxStdout: 64 * 1024 * 1024 }, opts.file, false);
  const version = (label: string) => new RegExp(`;\\s+${label}:\\s+(\\d+(?:\\.\\d+)?)`).exec(r.stdout)?.[1];
  const entries = r.stdout
    .split('\n')
    .map(parseTocLine)
    .filter((e): e is TocEntry => e !== undefined);
  return { entries, dumpedBy: version('Dumped by pg_dump version'), dumpedFrom: version('Dumped from database version'), tool };
}

/**
 * Reads and decompresses every block of the archive outside the named schemas, and throws it
 * away (`pg_restore --file=/dev/null --exclude-schema=…`): zlib's checksum catches a damaged
 * block in the schemas the scratch restore leaves out (auth, storage). The restore itself
 * decompresses the blocks of the schemas it restores, so between them every block is read once.
 */
export async function readArchiveBlocks(opts: {
  file: ArchiveInput;
  serverMajor: number;
  excludeSchemas: readonly string[];
  env?: NodeJS.ProcessEnv;
}): Promise<void> {
  const tool = await findPgTool('pg_restore', opts.serverMajor, opts.env);
  await runOnArchive({ tool, args: ['--file=/dev/null', ...opts.excludeSchemas.map((s) => `--exclude-schema=${s}`)] }, opts.file, true);
}

/**
 * Restores the named schemas of an archive. `clean` drops each archived object first (no
 * CASCADE: an outside object depending on one makes the restore fail rather than vanish);
 * `singleTransaction` makes the whole restore atomic. Triggers are created by pg_restore
 * after the data is loaded, so no trigger fires during COPY and no write guard is touched.
 */
export async function restoreArchive(opts: {
  url: string;
  file: ArchiveInput;
  serverMajor: number;
  schemas: readonly string[];
  clean?: boolean;
  singleTransaction?: boolean;
  env?: NodeJS.ProcessEnv;
}): Promise<{ tool: PgTool }> {
  const tool = await findPgTool('pg_restore', opts.serverMajor, opts.env);
  const args = ['--exit-on-error', '--no-password', ...opts.schemas.map((s) => `--schema=${s}`)];
  if (opts.clean) args.push('--clean', '--if-exists');
  if (opts.singleTransaction) args.push('--single-transaction');
  await runOnArchive({ tool, args, url: opts.url, appName: RESTORE_APP_NAME }, opts.file, true);
  return { tool };
}

/** "pg_restore: processing data for table "public.receptions"": the table whose COPY starts. */
const DATA_LINE = /^pg_restore: processing data for table "(.*)"$/;
/** "pg_restore: creating CONSTRAINT "public.receptions receptions_pkey"": a primary key, unique or exclusion constraint (not an FK CONSTRAINT). */
const CONSTRAINT_LINE = /^pg_restore: creating CONSTRAINT "/;
/** pg_restore's --verbose progress: no level word after the program name (errors say "error:", …). */
const PROGRESS_LINE = /^pg_restore: (?!(?:error|warning|detail|hint|fatal):)/;

export interface StreamingRestore {
  /** feed the archive here (dumpArchive's follower) */
  stdin: Writable;
  done: Promise<void>;
  kill(): void;
}

/**
 * A pg_restore of the named schemas that reads the archive from its stdin while pg_dump is
 * still writing it. Custom-format archives are written sequentially when pg_dump's output is a
 * pipe, and pg_restore reads them the same way, so restoring the stream is restoring the file.
 * `onTableLoaded` hears of each table as soon as its data is in (its COPY ended, which pg_restore
 * makes known by starting the next entry), so the caller can check it while the rest loads.
 */
export function startStreamingRestore(opts: {
  url: string;
  tool: PgTool;
  schemas: readonly string[];
  onTableLoaded?: (qualified: string) => void;
  /**
   * Once: pg_restore has moved past its run of CONSTRAINT entries (every primary key built, after
   * all the data), or has ended. A read of a table from then on neither sorts it without its key's
   * index nor holds up the ACCESS EXCLUSIVE lock that adding the key takes.
   */
  onKeysBuilt?: () => void;
}): StreamingRestore {
  let loading: string | undefined;
  let constraints = false;
  let keysBuilt = false;
  const built = () => {
    if (!keysBuilt) opts.onKeysBuilt?.();
    keysBuilt = true;
  };
  const finished = () => {
    if (loading !== undefined) opts.onTableLoaded?.(loading);
    loading = undefined;
  };
  const started = startPgTool({
    tool: opts.tool,
    args: ['--exit-on-error', '--no-password', '--verbose', ...opts.schemas.map((s) => `--schema=${s}`)],
    url: opts.url,
    appName: RESTORE_APP_NAME,
    stdin: true,
    onStderrLine: (line) => {
      if (!PROGRESS_LINE.test(line)) return false;
      finished();
      loading = DATA_LINE.exec(line)?.[1];
      if (CONSTRAINT_LINE.test(line)) constraints = true;
      else if (constraints) built();
      return true;
    },
  });
  const done = started.done.then(() => {
    finished();
    built();
  });
  return { stdin: started.stdin!, done, kill: started.kill };
}
