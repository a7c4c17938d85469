import type { Writable } from 'node:stream';
import type { ServerInfo } from '../results/common.js';
export type { ServerInfo };

/**
 * The one interface the rest of the code sees over `pg` and PGlite. Rows come back with
 * types normalised once here (int8 → number, date → 'YYYY-MM-DD', numeric → string), so a
 * check computed on the embedded database and on real PostgreSQL compares equal.
 */
export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
  fields: string[];
}

export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
  /**
   * The rows of `select` as PostgreSQL's own CSV with a header line (`COPY (…) TO … (FORMAT csv,
   * HEADER)`), written into `sink`, which is then ended. Resolves with the row count.
   */
  copyCsvTo(select: string, sink: Writable): Promise<number>;
}

/** The COPY statement behind `copyCsvTo`; `target` is STDOUT on a server, '/dev/blob' in PGlite. */
export const copyCsvStatement = (select: string, target: string): string => `COPY (${select}) TO ${target} WITH (FORMAT csv, HEADER)`;

export interface ClientOptions {
  /** the callback changes session state (SET, search_path): never reuse this connection */
  discard?: boolean;
}

export interface TxOptions {
  /** SET LOCAL lock_timeout; default 5 s: a runbook step must not queue behind the app */
  lockTimeoutMs?: number;
  /** SET LOCAL statement_timeout; default 60 s */
  statementTimeoutMs?: number;
  readOnly?: boolean;
}

/** The two DB-STRICT personas a check can take, besides the owner. */
export type AppIdentity = { role: 'anon' } | { role: 'authenticated'; userId: string; email?: string };

export interface Db extends Queryable {
  readonly kind: 'pg' | 'pglite';
  /** masked description of the target, safe to print */
  readonly label: string;
  /** One connection for the whole callback, released in finally (destroyed after an error or with `discard`). */
  withClient<T>(fn: (c: Queryable) => Promise<T>, opts?: ClientOptions): Promise<T>;
  /** BEGIN … COMMIT with lock/statement timeouts; ROLLBACK on any throw. */
  withTransaction<T>(fn: (tx: Queryable) => Promise<T>, opts?: TxOptions): Promise<T>;
  server(): Promise<ServerInfo>;
  close(): Promise<void>;
}

export const DEFAULT_TX: Required<Omit<TxOptions, 'readOnly'>> = {
  lockTimeoutMs: 5_000,
  statementTimeoutMs: 60_000,
};
