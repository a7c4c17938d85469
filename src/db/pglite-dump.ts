import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { UserError } from '../errors.js';
import type { TocEntry } from './dump.js';
import { HashedFileSink } from './file-sink.js';
import { PgliteDb } from './pglite.js';
import { readSqlFile, runStatements } from './sql-file.js';
import type { Db, Queryable } from './types.js';

/**
 * The embedded database's backup: pg_dump compiled to WebAssembly
 * (@electric-sql/pglite-tools), which talks to the PGlite instance over its wire protocol and
 * writes a plain SQL script. What it can and cannot do (0.4.8):
 *  - plain format only: it reads its output back as UTF-8 text, so -Fc would be mangled;
 *    `--inserts` is forced, so the script loads with any driver (no COPY FROM stdin);
 *  - it cannot run inside a transaction of ours (its SET TRANSACTION ISOLATION fails there),
 *    and it leaves its own REPEATABLE READ transaction and settings (extra_float_digits=3…)
 *    open on the single backend, so they are rolled back and reset right after it;
 *  - it holds the whole script in memory before handing it over (the wasm file system): the
 *    embedded database is the laptop rehearsal, bounded memory is the real-PostgreSQL path's.
 * Consistency: PGlite has one backend and every caller goes through PgliteDb's queue; holding
 * it (withClient) for the reads and the dumps means nothing can write in between, which is
 * what pg_export_snapshot gives the PostgreSQL path.
 */
export const PGLITE_DUMP_TOOL = '@electric-sql/pglite-tools/pg_dump';

export interface SqlDumpFile {
  bytes: number;
  sha256: string;
}

export interface EmbeddedHold {
  /** the held session: reads here and the dumps see the same data */
  q: Queryable;
  /** one plain SQL dump of the named schemas, streamed to `file` and hashed */
  dump(opts: { file: string; schemas: readonly string[]; clean: boolean }): Promise<SqlDumpFile>;
}

export function asEmbedded(db: Db): PgliteDb {
  if (db instanceof PgliteDb) return db;
  throw new UserError('ENGINE_MISMATCH', `${db.label} is a PostgreSQL server: the PGlite dump tool only serves the embedded database`);
}

export async function withEmbeddedHold<T>(db: PgliteDb, fn: (hold: EmbeddedHold) => Promise<T>): Promise<T> {
  return db.withClient(async (q) =>
    fn({
      q,
      dump: async (opts) => {
        try {
          return await dumpSchemas(db, opts);
        } finally {
          await q.query('ROLLBACK').catch(() => {});
          await q.query('RESET ALL').catch(() => {});
        }
      },
    }),
  );
}

async function dumpSchemas(db: PgliteDb, opts: { file: string; schemas: readonly string[]; clean: boolean }): Promise<SqlDumpFile> {
  const { pgDump } = await import('@electric-sql/pglite-tools/pg_dump');
  // --rows-per-insert: one INSERT per 1000 rows instead of one per row (pgDump forces --inserts)
  const args = [...opts.schemas.map((s) => `--schema=${s}`), '--rows-per-insert=1000'];
  if (opts.clean) args.push('--clean', '--if-exists');
  let out: File;
  try {
    out = await pgDump({ pg: db.instance, args });
  } catch (e) {
    throw new UserError('PG_TOOL_FAILED', `${PGLITE_DUMP_TOOL} failed: ${(e as Error).message.split('\n').slice(-3).join(' | ')}`);
  }
  // the sink turns a failed write (full disk…) into an error naming the file, and stops the copy there
  const sink = new HashedFileSink(opts.file);
  await pipeline(Readable.from(out.stream() as unknown as AsyncIterable<Uint8Array>), sink);
  return sink.digest();
}

/**
 * What a plain SQL dump holds, read from the comment pg_dump writes before every object
 * ("-- Name: t; Type: TRIGGER; Schema: public; Owner: postgres"): the plain-format
 * counterpart of `pg_restore --list`, so the same checks (data before triggers) serve both.
 * `complete` is pg_dump's closing line: a truncated script lacks it.
 */
export interface SqlDumpToc {
  entries: TocEntry[];
  dumpedBy: string | undefined;
  dumpedFrom: string | undefined;
  complete: boolean;
}

const HEADER = /^-- (?:Data for )?Name: (.*); Type: ([^;]+); Schema: ([^;]*); Owner: ?(.*)$/;

/** `input`: the script's file, or its text as a stream (an encrypted dump, decrypted as it is read). */
export async function readSqlDumpToc(input: string | Readable): Promise<SqlDumpToc> {
  const entries: TocEntry[] = [];
  let dumpedBy: string | undefined;
  let dumpedFrom: string | undefined;
  let first: string | undefined;
  let last = '';
  const lines = createInterface({ input: typeof input === 'string' ? createReadStream(input) : input, crlfDelay: Infinity });
  for await (const line of lines) {
    if (first === undefined && line.trim() !== '' && line !== '--') first = line;
    if (line.trim() !== '' && line !== '--') last = line;
    if (!line.startsWith('-- ')) continue;
    const h = HEADER.exec(line);
    if (h) {
      entries.push({ id: entries.length + 1, type: h[2]!, schema: h[3]!, tag: `${h[1]} ${h[4]}`.trim() });
      continue;
    }
    dumpedBy ??= /^-- Dumped by pg_dump version (\d+(?:\.\d+)?)/.exec(line)?.[1];
    dumpedFrom ??= /^-- Dumped from database version (\d+(?:\.\d+)?)/.exec(line)?.[1];
  }
  const complete = first === '-- PostgreSQL database dump' && last === '-- PostgreSQL database dump complete';
  return { entries, dumpedBy, dumpedFrom, complete };
}

/** A dump's file, or its text already in memory (decrypted, its hash checked). */
export type SqlDumpSource = string | { text: string };

/** Runs a plain SQL dump on the caller's session, inside the caller's transaction; a failing statement is named file:line. */
export async function runSqlDumpInSession(c: Queryable, source: SqlDumpSource, display: string): Promise<{ statements: number }> {
  const text = typeof source === 'string' ? await readSqlFile(source, display) : source.text;
  const r = await runStatements(c, text, display);
  return { statements: r.statements };
}

/**
 * Runs a plain SQL dump on one session inside ONE transaction: any failing statement (named
 * file:line) rolls everything back. The dump's session settings (search_path '', row_security
 * off…) die with the session: PGlite's withClient resets them, a pg connection is discarded.
 */
export async function restoreSqlDump(db: Db, file: SqlDumpSource, display: string): Promise<{ statements: number }> {
  return db.withClient(
    async (c) => {
      await c.query('BEGIN');
      try {
        const r = await runSqlDumpInSession(c, file, display);
        await c.query('COMMIT');
        return r;
      } catch (e) {
        await c.query('ROLLBACK').catch(() => {});
        throw e;
      }
    },
    { discard: true },
  );
}

/**
 * A throwaway in-memory PGlite (an empty cluster of its own): where an embedded backup proves it
 * restores. Its files live in memory already (PGlite's in-memory file system), so PostgreSQL's
 * default 128 MB of shared buffers would be a second copy of the same pages, beside the rehearsal's
 * own database: 16 MB keeps about 90 MB off the rehearsal's peak (bench/README.md). What it proves
 * does not depend on it: the restore runs the same statements, the checksums read the same rows.
 */
export const SCRATCH_SHARED_BUFFERS_MB = 16;

export function openScratchPglite(): Promise<PgliteDb> {
  return PgliteDb.open(undefined, 'scratch PGlite in memory (discarded)', { sharedBuffersMb: SCRATCH_SHARED_BUFFERS_MB });
}
