import { UserError, isUserError } from '../errors.js';

/**
 * What the server or the network did to a step, told apart from a bug. A lock held by another
 * session, a statement timeout, a backend terminated by an administrator, a failover, a reset
 * connection: none of these is the pipeline's fault, and the person running it needs one line
 * saying what happened and what to do, not a stack trace.
 *
 * Classification happens once, in the two top-level catches (the CLI and the actions), never in
 * steps: steps that catch SQL errors on purpose (the smoke's probes, the advisory lock) must keep
 * seeing the driver's error with its class, code and message. So the database layer only
 * annotates an error with what the session knew (target, statement, timeouts) under a symbol,
 * and leaves the error itself untouched.
 */
export interface DbFacts {
  /** the masked target */
  target: string;
  /** the SQL text that failed (never its parameters) */
  statement?: string;
  /** lock_timeout / statement_timeout of the session when it failed, when the pipeline set them */
  lockTimeoutMs?: number;
  statementTimeoutMs?: number;
}

const FACTS: unique symbol = Symbol.for('astm53b.dbFacts');

export function annotateDbError(e: unknown, facts: DbFacts): unknown {
  if (e && typeof e === 'object' && !(FACTS in e)) {
    try {
      Object.defineProperty(e, FACTS, { value: facts, enumerable: false });
    } catch {
      // a frozen error keeps no facts; the classification still works from its code
    }
  }
  return e;
}

export interface FailureContext {
  /** the command, said first; an action leaves it out because runAction prefixes its own name */
  step?: string;
  /** how this entry point sets a timeout (`--lock-timeout-ms`, `input lock-timeout-ms`), or undefined where it cannot */
  setting?: (name: 'lock-timeout-ms' | 'statement-timeout-ms') => string | undefined;
}

/** SQLSTATEs after which the session is gone: admin_shutdown, crash_shutdown, cannot_connect_now, idle-in-transaction timeout. */
const SESSION_ENDED = new Set(['57P01', '57P02', '57P03', '25P03']);
/** errno codes of a socket that failed under the driver */
const NETWORK = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
/** what pg says when the socket closed or its connect timer fired (these errors carry no code) */
const DRIVER_LOST =
  /^(Connection terminated unexpectedly|Connection terminated due to connection timeout|timeout expired|timeout exceeded when trying to connect|Client has encountered a connection error and is not queryable)$/;

interface Raw {
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  [FACTS]?: DbFacts;
}

/**
 * The UserError to show for `e`: `e` itself when it is one, a one-line UserError when the
 * database or the network failed under the step, undefined for a bug (which keeps its stack).
 * A failure wrapped by a step (as `cause`) is found too.
 */
export function classifyFailure(e: unknown, ctx: FailureContext = {}): UserError | undefined {
  if (isUserError(e)) return e;
  let x: unknown = e;
  for (let depth = 0; depth < 5 && x && typeof x === 'object'; depth++) {
    const found = classifyOne(x as Raw, ctx, e);
    if (found) return found;
    x = (x as Raw).cause;
  }
  return undefined;
}

function classifyOne(err: Raw, ctx: FailureContext, original: unknown): UserError | undefined {
  const code = typeof err.code === 'string' ? err.code : undefined;
  const text = (typeof err.message === 'string' ? err.message : '').split('\n')[0]!.trim();
  const facts = err[FACTS];
  const step = ctx.step ? `${ctx.step}: ` : '';
  const on = facts?.statement ? objectsOf(facts.statement) : undefined;
  const inTarget = facts ? ` in ${facts.target}` : '';
  const make = (c: string, message: string, hint: string) => new UserError(c, `${step}${message}`, { hint, cause: original });
  const raise = (name: 'lock-timeout-ms' | 'statement-timeout-ms') => {
    const how = ctx.setting?.(name);
    return how ? `, or raise ${how}` : '';
  };

  if (code === '55P03') {
    if (/lock timeout/i.test(text)) {
      const ms = facts?.lockTimeoutMs === undefined ? '' : ` after ${facts.lockTimeoutMs} ms`;
      return make(
        'DB_LOCK_TIMEOUT',
        `lock timeout${ms} waiting for a lock${on ? ` (statement on ${on})` : ''}${inTarget}: another session holds it`,
        `see pg_stat_activity for who holds it, then re-run the step${raise('lock-timeout-ms')}; its transaction was rolled back`,
      );
    }
    return make(
      'DB_LOCK_TIMEOUT',
      `${text}${inTarget}: another session holds the lock`,
      'see pg_stat_activity for who holds it, then re-run the step; its transaction was rolled back',
    );
  }
  if (code === '57014') {
    if (/statement timeout/i.test(text)) {
      const ms = facts?.statementTimeoutMs === undefined ? '' : ` after ${facts.statementTimeoutMs} ms`;
      return make(
        'DB_STATEMENT_TIMEOUT',
        `statement timeout${ms}${on ? ` (statement on ${on})` : ''}${inTarget}: the statement ran longer than allowed`,
        `see pg_stat_activity for what it waits on${raise('statement-timeout-ms')}; its transaction was rolled back`,
      );
    }
    return make(
      'DB_CANCELLED',
      `the statement${on ? ` on ${on}` : ''} was cancelled${inTarget}: ${text}`,
      'another session or an administrator cancelled it (pg_cancel_backend); its transaction was rolled back, re-run the step',
    );
  }
  if (code === '40001' || code === '40P01') {
    return make(
      'DB_CONFLICT',
      `${text}${on ? ` on ${on}` : ''}${inTarget}: another session's transaction conflicted with this one`,
      'this transaction was rolled back; keep the app frozen and re-run the step',
    );
  }
  const lost =
    (code !== undefined && (SESSION_ENDED.has(code) || /^08[0-9A-Z]{3}$/.test(code) || NETWORK.has(code))) || DRIVER_LOST.test(text);
  if (lost) {
    return make(
      'DB_CONNECTION_LOST',
      `lost the connection${facts ? ` to ${facts.target}` : ' to the database server'}: ${code && !text.includes(code) ? `${code} ` : ''}${text || 'no reason given'}`,
      'the server rolled back the open transaction; check that the server is up (restart, failover, or a session ended by an administrator with pg_terminate_backend), then re-run the step',
    );
  }
  return undefined;
}

const NAME = String.raw`(?:"[^"]+"|[A-Za-z_][\w$]*)`;
const OBJECT = new RegExp(String.raw`\b(?:FROM|JOIN|UPDATE|INTO|TABLE)\s+(?:ONLY\s+)?(${NAME}(?:\.${NAME})?)(?!\s*\()`, 'gi');
const NOT_A_NAME = /^(select|lateral|only|if|exists|not|unnest|jsonb_to_recordset|generate_series)$/i;

/**
 * The tables and views a statement names. The lock it waited for is gone once the statement is
 * cancelled, so the message names the statement's objects: where to look in pg_locks.
 */
function objectsOf(sql: string): string | undefined {
  const names: string[] = [];
  for (const m of sql.matchAll(OBJECT)) {
    const n = m[1]!;
    if (!NOT_A_NAME.test(n) && !names.includes(n)) names.push(n);
  }
  if (names.length) return names.slice(0, 4).join(', ') + (names.length > 4 ? ', …' : '');
  const head = sql.replace(/\s+/g, ' ').trim();
  return head ? `"${head.length > 60 ? `${head.slice(0, 60)}…` : head}"` : undefined;
}
