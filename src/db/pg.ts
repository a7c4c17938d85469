import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import pgCopy from 'pg-copy-streams';
import { UserError } from '../errors.js';
import { annotateDbError } from './failure.js';
import { redact, secretsOf, maskConnectionString } from './secrets.js';
import { DEFAULT_CONNECT_TIMEOUT_MS } from './target.js';
import { OID, identity, parseInt8 } from './normalize.js';
import { DEFAULT_TX, copyCsvStatement, type ClientOptions, type Db, type QueryResult, type Queryable, type TxOptions } from './types.js';
import type { ServerInfo } from '../results/common.js';

const typeParsers = {
  getTypeParser(oid: number, format?: string) {
    if (oid === OID.int8) return parseInt8;
    if (oid === OID.date || oid === OID.numeric) return identity;
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

/** SQLSTATE classes and errno codes that mean "could not reach or log into the server". */
const CONNECT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNRESET',
  'EPIPE',
  '28P01',
  '28000',
  '3D000',
  '57P03',
  '53300',
]);
/**
 * What pg says, with no code, when the socket closed before the server answered (a firewall that
 * accepts then resets) or when its connect timer fired ("timeout expired" from the client,
 * the other two from the pool).
 */
const CONNECT_MESSAGES =
  /^(Connection terminated unexpectedly|Connection terminated due to connection timeout|timeout expired|timeout exceeded when trying to connect)$/;

export function connectError(e: unknown, label: string, secrets: readonly string[], timeoutMs?: number): UserError | undefined {
  const err = e as { code?: string; message?: string };
  const first = String(err.message ?? err.code ?? '').split('\n')[0] ?? '';
  const timedOut = /timeout/i.test(first);
  if (!(err.code && CONNECT_CODES.has(err.code)) && !CONNECT_MESSAGES.test(first)) return undefined;
  // one line, never the password: the label is masked and the driver text is redacted
  const reason = redact(first, secrets);
  const hint = timedOut
    ? `no answer${timeoutMs ? ` within ${timeoutMs / 1000} s` : ''}: check the host, the port and the firewall (connect_timeout in the URL or PGCONNECT_TIMEOUT sets the wait)`
    : undefined;
  return new UserError('DB_CONNECT', `cannot connect to ${label}: ${reason}`, hint ? { hint } : {});
}

/** lock_timeout and statement_timeout as the pipeline sets them (plain milliseconds), so a timeout can say how long it waited. */
const SET_TIMEOUT = /^\s*SET\s+(LOCAL\s+|SESSION\s+)?(lock_timeout|statement_timeout)\s*(?:=|TO)\s*'?(\d+)'?\s*;?\s*$/i;
const TX_END = /^\s*(COMMIT|ROLLBACK|END|ABORT)\b/i;
type Timeouts = { lockTimeoutMs?: number; statementTimeoutMs?: number };

function adapt<R>(result: pg.QueryResult | pg.QueryResult[]): QueryResult<R> {
  // several statements in one simple query (a restore script's batch) answer with one result each: the last one counts
  const r = Array.isArray(result) ? result[result.length - 1]! : result;
  return { rows: r.rows as R[], rowCount: r.rowCount ?? r.rows.length, fields: r.fields.map((f) => f.name) };
}

class PgSession implements Queryable {
  private readonly session: Timeouts = {};
  private local: Timeouts = {};

  constructor(
    private readonly client: pg.PoolClient | pg.Client,
    private readonly label: string,
  ) {}

  async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    let r: pg.QueryResult;
    try {
      r = await this.client.query(sql, params as unknown[] | undefined);
    } catch (e) {
      throw this.annotate(e, sql);
    }
    this.track(sql);
    return adapt<R>(r);
  }

  async copyCsvTo(select: string, sink: Writable): Promise<number> {
    // streamed from the socket to the sink: a table of any size costs a few buffers
    const rows = this.client.query(pgCopy.to(copyCsvStatement(select, 'STDOUT')));
    try {
      await pipeline(rows, sink);
    } catch (e) {
      throw this.annotate(e, select);
    }
    return rows.rowCount;
  }
  /** COPY … FROM STDIN fed with text-format rows, with backpressure; resolves with the rows loaded. */
  async copyIn(statement: string, rows: AsyncIterable<string>): Promise<number> {
    const sink = this.client.query(pgCopy.from(statement));
    try {
      await pipeline(
        Readable.from(
          (async function* () {
            for await (const row of rows) yield `${row}\n`;
          })(),
        ),
        sink,
      );
    } catch (e) {
      throw this.annotate(e, statement);
    }
    return sink.rowCount;
  }

  private annotate(e: unknown, statement: string): unknown {
    return annotateDbError(e, { target: this.label, statement, ...this.session, ...this.local });
  }

  private track(sql: string): void {
    if (TX_END.test(sql)) {
      this.local = {};
      return;
    }
    const m = SET_TIMEOUT.exec(sql);
    if (!m) return;
    const key = m[2]!.toLowerCase() === 'lock_timeout' ? 'lockTimeoutMs' : 'statementTimeoutMs';
    (m[1]?.trim().toUpperCase() === 'LOCAL' ? this.local : this.session)[key] = Number(m[3]);
  }
}

export class PgDb implements Db {
  readonly kind = 'pg' as const;
  readonly label: string;
  private readonly pool: pg.Pool;
  private readonly secrets: string[];
  private readonly connectTimeoutMs: number;
  private info: ServerInfo | undefined;

  constructor(
    readonly url: string,
    opts: { max?: number; applicationName?: string; connectTimeoutMs?: number } = {},
  ) {
    this.label = maskConnectionString(url);
    this.secrets = secretsOf(url);
    this.connectTimeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.pool = new pg.Pool({
      connectionString: url,
      max: opts.max ?? 4,
      connectionTimeoutMillis: this.connectTimeoutMs,
      application_name: opts.applicationName ?? 'astm53b-pipeline',
      types: typeParsers,
    });
    // A backend killed under an idle pooled client (pg_terminate_backend, failover) must not
    // crash the process; the next checkout gets a fresh connection.
    this.pool.on('error', () => {});
    // once per physical connection, not per checkout (a listener per checkout leaks)
    this.pool.on('connect', (client) => client.on('error', () => {}));
  }

  private async connect(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (e) {
      throw connectError(e, this.label, this.secrets, this.connectTimeoutMs) ?? e;
    }
  }

  async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    return this.withClient((c) => c.query<R>(sql, params));
  }

  async copyCsvTo(select: string, sink: Writable): Promise<number> {
    return this.withClient((c) => c.copyCsvTo(select, sink));
  }

  async withClient<T>(fn: (c: Queryable) => Promise<T>, opts: ClientOptions = {}): Promise<T> {
    const client = await this.connect();
    let broken: Error | undefined;
    try {
      return await fn(new PgSession(client, this.label));
    } catch (e) {
      broken = e instanceof Error ? e : new Error(String(e));
      throw e;
    } finally {
      // A connection that saw an error, or whose session settings a script may have changed,
      // is destroyed rather than handed to the next caller.
      client.release(broken ?? (opts.discard ? true : undefined));
    }
  }

  async withTransaction<T>(fn: (tx: Queryable) => Promise<T>, opts: TxOptions = {}): Promise<T> {
    return this.withClient(async (c) => {
      await c.query(opts.readOnly ? 'BEGIN READ ONLY' : 'BEGIN');
      try {
        await c.query(`SET LOCAL lock_timeout = ${Math.trunc(opts.lockTimeoutMs ?? DEFAULT_TX.lockTimeoutMs)}`);
        await c.query(`SET LOCAL statement_timeout = ${Math.trunc(opts.statementTimeoutMs ?? DEFAULT_TX.statementTimeoutMs)}`);
        const out = await fn(c);
        await c.query('COMMIT');
        return out;
      } catch (e) {
        await c.query('ROLLBACK').catch(() => {});
        throw e;
      }
    });
  }

  async server(): Promise<ServerInfo> {
    if (!this.info) {
      const r = await this.query<{ v: string; n: string }>(
        "SELECT current_setting('server_version') AS v, current_setting('server_version_num') AS n",
      );
      const row = r.rows[0]!;
      this.info = { major: Math.floor(Number(row.n) / 10000), version: row.v.split(' ')[0]!, engine: 'postgresql' };
    }
    return this.info;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
