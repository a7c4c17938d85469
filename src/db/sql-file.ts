import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import { splitSql, type SqlStatement } from './sql-split.js';
import type { Db, Queryable } from './types.js';

export interface RunSqlOptions {
  /** session settings applied before the first statement (e.g. seed parameters) */
  settings?: Record<string, string>;
  /** drop or rewrite statements before they run (e.g. PG 17-only settings in a dump) */
  filter?: (stmt: SqlStatement) => SqlStatement | undefined;
  /** psql meta-commands (\restrict …): refuse them unless the caller knows they are harmless */
  allowMetaCommands?: (command: string) => boolean;
  /** shown in errors instead of the absolute path */
  displayName?: string;
  log?: Logger;
}

export interface SqlRunReport {
  file: string;
  statements: number;
  skipped: number;
  ms: number;
}

interface DriverError {
  code?: string;
  message?: string;
  detail?: string;
  hint?: string;
}

/** The error for a failed statement: file:line, SQLSTATE, the server's message. */
export function statementError(file: string, stmt: SqlStatement, e: unknown): UserError {
  const err = e as DriverError;
  const first = stmt.sql.split('\n')[0]!.slice(0, 100);
  const detail = [err.detail, err.hint].filter(Boolean).join('; ');
  return new UserError(
    'SQL_FAILED',
    `${err.code ? `[${err.code}] ` : ''}${err.message ?? String(e)}${detail ? ` — ${detail}` : ''} (statement: ${first})`,
    {
      where: { file, line: stmt.line },
      cause: e,
    },
  );
}

/**
 * Runs a script statement by statement on one session and stops at the first error, naming
 * file and line. The caller owns the session (and any transaction around it).
 */
export async function runStatements(c: Queryable, text: string, file: string, opts: RunSqlOptions = {}): Promise<SqlRunReport> {
  const started = Date.now();
  const { statements, metaCommands } = splitSql(text);
  for (const m of metaCommands) {
    if (!opts.allowMetaCommands?.(m.command)) {
      throw new UserError('SQL_META_COMMAND', `psql meta-command "${m.command.slice(0, 40)}" cannot run outside psql`, {
        where: { file, line: m.line },
        hint: 'remove it, or load the file with psql',
      });
    }
  }
  let ran = 0;
  let skipped = 0;
  for (const [k, v] of Object.entries(opts.settings ?? {})) {
    await c.query('SELECT set_config($1, $2, false)', [k, v]);
  }
  for (const raw of statements) {
    const stmt = opts.filter ? opts.filter(raw) : raw;
    if (!stmt) {
      skipped++;
      continue;
    }
    try {
      await c.query(stmt.sql);
      ran++;
    } catch (e) {
      throw statementError(file, stmt, e);
    }
  }
  const report = { file, statements: ran, skipped, ms: Date.now() - started };
  opts.log?.debug(`${file}: ${ran} statements in ${report.ms} ms${skipped ? `, ${skipped} skipped` : ''}`);
  return report;
}

/**
 * A script with its own transaction control (the runbook's change files carry BEGIN/COMMIT)
 * on a connection of its own. A failure inside the script's BEGIN is rolled back before the
 * connection is dropped, so the database is left as the script's last COMMIT made it.
 */
export async function runSqlText(db: Db, text: string, file: string, opts: RunSqlOptions = {}): Promise<SqlRunReport> {
  return db.withClient(
    async (c) => {
      try {
        return await runStatements(c, text, file, opts);
      } catch (e) {
        await c.query('ROLLBACK').catch(() => {});
        throw e;
      }
    },
    { discard: true },
  );
}

export async function readSqlFile(file: string, displayName?: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new UserError('FILE_NOT_FOUND', `cannot read SQL file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      where: { file: displayName ?? file },
    });
  }
}

export async function runSqlFile(db: Db, file: string, opts: RunSqlOptions = {}): Promise<SqlRunReport> {
  const name = opts.displayName ?? displayPath(file);
  return runSqlText(db, await readSqlFile(file, name), name, opts);
}

/** Paths inside the package are shown relative to it (sql/…), others as given. */
export function displayPath(file: string): string {
  const rel = path.relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
}
