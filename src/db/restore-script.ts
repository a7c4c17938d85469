import { PassThrough, type Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { UserError } from '../errors.js';
import type { ArchiveInput } from './dump.js';
import { findPgTool, startPgTool } from './pg-tools.js';
import { feedStdin } from './stdin-feed.js';
import type { Queryable } from './types.js';

/**
 * A pg_dump archive restored THROUGH the caller's own session, inside the caller's transaction:
 * pg_restore only turns the archive into its SQL script (`-f -`, it never connects), and each
 * statement and COPY block runs on the session. So the restore, its proof and whatever else the
 * caller does (the freeze put back, the ledger) commit or roll back together, its waits obey the
 * caller's lock_timeout, and a killed caller leaves no process that could still commit.
 */
export interface ArchiveScript {
  /** the archive file, or a stream of it (decrypted as it is read), fed to pg_restore's stdin */
  file: ArchiveInput;
  serverMajor: number;
  schemas: readonly string[];
  env?: NodeJS.ProcessEnv;
}

/** A session that can feed COPY … FROM stdin (a real server; PGlite restores plain dumps with INSERTs). */
export interface CopyInSession extends Queryable {
  copyIn(statement: string, rows: AsyncIterable<string>): Promise<number>;
}

export function canCopyIn(q: Queryable): q is CopyInSession {
  return typeof (q as Partial<CopyInSession>).copyIn === 'function';
}

/** pg_dump's session settings that would lift the caller's bounds on waiting. */
const UNBOUNDING = /^SET (statement_timeout|lock_timeout|transaction_timeout|idle_in_transaction_session_timeout) = 0;$/;
/** psql meta-commands pg_dump writes since 17.6 / 16.10 / 15.14 (\restrict, \unrestrict): not SQL. */
const META = /^\\(restrict|unrestrict)\b/;
const COPY_START = /^COPY .* FROM stdin;$/;

/**
 * The stream's lines, without their '\n'. One decoder for the whole stream: a multibyte UTF-8
 * character that a chunk boundary splits (a 'é' in a function body or a row) is held back until
 * its last byte arrives, never decoded as two replacement characters.
 */
export async function* linesOf(stream: Readable): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  let partial = '';
  for await (const chunk of stream) {
    const lines = (partial + decoder.write(chunk as Buffer)).split('\n');
    partial = lines.pop()!;
    yield* lines;
  }
  partial += decoder.end();
  if (partial) yield partial;
}

export interface ScriptRun {
  /** batches of DDL sent */
  batches: number;
  /** COPY blocks loaded, and their rows */
  tables: number;
  rows: number;
}

/**
 * Runs the script's lines on `session`: DDL is sent in batches between COPY blocks (simple
 * query protocol, several statements at once), each COPY block streams its rows. Lines are
 * kept verbatim (function bodies are compared byte for byte afterwards), but for the settings
 * that would unbound the caller's timeouts and the psql meta-commands.
 */
export async function runScriptLines(session: CopyInSession, lines: AsyncIterable<string>): Promise<ScriptRun> {
  const out: ScriptRun = { batches: 0, tables: 0, rows: 0 };
  let buffer: string[] = [];
  const flush = async () => {
    const sql = buffer.join('\n');
    buffer = [];
    if (sql.trim() === '') return;
    out.batches++;
    await session.query(sql);
  };
  const it = lines[Symbol.asyncIterator]();
  for (let next = await it.next(); !next.done; next = await it.next()) {
    const line = next.value;
    if (UNBOUNDING.test(line) || META.test(line)) continue;
    if (!COPY_START.test(line)) {
      buffer.push(line);
      continue;
    }
    await flush();
    // the rows of this block, up to pg_dump's end-of-data line
    const rows = async function* (): AsyncGenerator<string> {
      for (let r = await it.next(); !r.done; r = await it.next()) {
        if (r.value === '\\.') return;
        yield r.value;
      }
      throw new UserError('BACKUP_CORRUPT', `the archive's script ends inside the data of: ${line}`);
    };
    out.rows += await session.copyIn(line, rows());
    out.tables++;
  }
  await flush();
  return out;
}

/** `pg_restore --clean --if-exists -f -` of the named schemas, run through `session`. */
export async function restoreArchiveInSession(session: Queryable, a: ArchiveScript): Promise<ScriptRun> {
  if (!canCopyIn(session)) throw new Error('restoreArchiveInSession needs a PostgreSQL session (COPY FROM STDIN)');
  const tool = await findPgTool('pg_restore', a.serverMajor, a.env);
  const stdout = new PassThrough();
  const fromFile = typeof a.file === 'string';
  const child = startPgTool({
    tool,
    args: [
      '--file=-',
      '--clean',
      '--if-exists',
      '--exit-on-error',
      ...a.schemas.map((s) => `--schema=${s}`),
      ...(fromFile ? [a.file as string] : []),
    ],
    stdoutTo: stdout,
    stdin: !fromFile,
  });
  // drained to its end: the stream's own check (the plaintext's hash) must have run before the caller commits
  const feeding = typeof a.file === 'string' ? Promise.resolve() : a.file.open().then((s) => feedStdin(s, child.stdin!, { drain: true }));
  feeding.catch(() => child.kill());
  const running = runScriptLines(session, linesOf(stdout));
  try {
    const [run] = await Promise.all([running, child.done, feeding]);
    return run;
  } catch (e) {
    child.kill();
    stdout.destroy();
    await child.done.catch(() => {});
    // no statement of the script may still be on its way when the caller rolls back
    await running.catch(() => {});
    // a stream that failed (a damaged or swapped ciphertext) is the cause of whatever pg_restore said after
    throw (
      (await feeding.then(
        () => undefined,
        (x: unknown) => x,
      )) ?? e
    );
  }
}

/**
 * A dump script sets session settings for itself (search_path '', row_security off…). Reading
 * the catalog afterwards on the same session must see what any other session sees: with an
 * empty search_path, pg_get_functiondef and format_type qualify every name, and a function
 * would look changed. Back to the session defaults, inside the transaction.
 */
export async function resetScriptSettings(session: Queryable): Promise<void> {
  for (const name of [
    'search_path',
    'row_security',
    'check_function_bodies',
    'client_min_messages',
    'xmloption',
    'standard_conforming_strings',
    'default_tablespace',
    'default_table_access_method',
  ]) {
    await session.query(`RESET ${name}`);
  }
}
