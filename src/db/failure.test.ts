import { describe, expect, it } from 'vitest';
import { UserError } from '../errors.js';
import { annotateDbError, classifyFailure } from './failure.js';

/** What the two top-level catches make of server and network failures (real ones: src/cli/failures.pg.test.ts). */
const dbError = (code: string, message: string) => Object.assign(new Error(message), { code, severity: 'ERROR' });
const facts = { target: 'postgresql://u:***@db.example:5432/app' };
const cli = { step: 'sql-apply', setting: (n: string) => (n === 'lock-timeout-ms' ? `--${n}` : undefined) };

describe('classifyFailure', () => {
  it('a lock timeout says how long, on what, where, and what to do', () => {
    const e = annotateDbError(dbError('55P03', 'canceling statement due to lock timeout'), {
      ...facts,
      statement: 'SELECT schemaname, policyname FROM pg_policies WHERE schemaname = ANY($1)',
      lockTimeoutMs: 5000,
    });
    const u = classifyFailure(e, cli)!;
    expect(u).toBeInstanceOf(UserError);
    expect(u.describe()).toBe(
      'DB_LOCK_TIMEOUT: sql-apply: lock timeout after 5000 ms waiting for a lock (statement on pg_policies) in postgresql://u:***@db.example:5432/app: another session holds it (see pg_stat_activity for who holds it, then re-run the step, or raise --lock-timeout-ms; its transaction was rolled back)',
    );
    expect(u.cause).toBe(e);
  });

  it('names no option the entry point does not have', () => {
    const u = classifyFailure(dbError('57014', 'canceling statement due to statement timeout'), cli)!;
    expect(u.code).toBe('DB_STATEMENT_TIMEOUT');
    expect(u.describe()).not.toContain('raise');
  });

  it.each([
    ['57014', 'canceling statement due to user request', 'DB_CANCELLED'],
    ['57P01', 'terminating connection due to administrator command', 'DB_CONNECTION_LOST'],
    ['57P02', 'terminating connection because of crash of another server process', 'DB_CONNECTION_LOST'],
    ['57P03', 'the database system is shutting down', 'DB_CONNECTION_LOST'],
    ['08006', 'connection failure', 'DB_CONNECTION_LOST'],
    ['08P01', 'protocol violation', 'DB_CONNECTION_LOST'],
    ['40001', 'could not serialize access due to concurrent update', 'DB_CONFLICT'],
    ['40P01', 'deadlock detected', 'DB_CONFLICT'],
    ['ECONNRESET', 'read ECONNRESET', 'DB_CONNECTION_LOST'],
    ['EPIPE', 'write EPIPE', 'DB_CONNECTION_LOST'],
    ['ETIMEDOUT', 'read ETIMEDOUT', 'DB_CONNECTION_LOST'],
  ])('%s (%s) is %s, one line', (code, message, expected) => {
    const u = classifyFailure(dbError(code, `${message}\nDETAIL: more`), cli)!;
    expect(u.code).toBe(expected);
    expect(u.describe()).toMatch(/^[A-Z_]+: sql-apply: /);
    expect(u.describe()).not.toContain('\n');
  });

  it.each(['Connection terminated unexpectedly', 'timeout expired', 'timeout exceeded when trying to connect'])(
    'pg\'s codeless "%s" is a lost connection',
    (message) => {
      expect(classifyFailure(new Error(message), {})?.code).toBe('DB_CONNECTION_LOST');
    },
  );

  it('finds the failure under a step that wrapped it, and returns a UserError as it is', () => {
    const wrapped = new Error('smoke 5.4 failed', { cause: dbError('57P01', 'terminating connection due to administrator command') });
    expect(classifyFailure(wrapped, {})?.code).toBe('DB_CONNECTION_LOST');
    const own = new UserError('BAD_OPTION', 'x');
    expect(classifyFailure(own, cli)).toBe(own);
  });

  it('leaves bugs and ordinary SQL errors alone (exit 3, or the step handles them)', () => {
    expect(classifyFailure(new TypeError("Cannot read properties of undefined (reading 'x')"), cli)).toBeUndefined();
    expect(classifyFailure(dbError('42703', 'column "x" does not exist'), cli)).toBeUndefined();
    expect(classifyFailure(dbError('P0001', 'DB-STRICT: sortie déjà validée'), cli)).toBeUndefined();
  });

  it('annotating keeps the error the driver made: same object, class, code and message, nothing enumerable added', () => {
    const e = dbError('55P03', 'canceling statement due to lock timeout');
    const keys = Object.keys(e);
    expect(annotateDbError(e, { ...facts, statement: 'SELECT 1' })).toBe(e);
    expect(e).toBeInstanceOf(Error);
    expect(e).toMatchObject({ code: '55P03', message: 'canceling statement due to lock timeout' });
    expect(Object.keys(e)).toEqual(keys);
    expect(JSON.stringify(e)).not.toContain('SELECT 1');
  });
});
