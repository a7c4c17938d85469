import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import pgCopy from 'pg-copy-streams';
import { UserError } from '../errors.js';
import { redact, secretsOf, maskConnectionString } from './secrets.js';
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
  'ECONNRESET',
  '28P01',
  '28000',
  '3D000',
  '57P03',
]);

export function connectError(e: unknown, label: string, secrets: readonly string[]): UserError | undefined {
  const err = e as { code?: string; message?: string };
  const timeout = /timeout/i.test(err.message ?? '') && /connect/i.test(err.message ?? '');
  if (!err.code && !timeout) return undefined;
  if (err.code && !CONNECT_CODES.has(err.code) && !timeout) return undefined;
  // one line, never the password: the label is masked and the driver text is redacted
  const reason = redact(String(err.message ?? err.code).split('\n')[0] ?? '', secrets);
  return new UserError('DB_CONNECT', `cannot connect to ${label}: ${reason}`);
}

function adapt<R>(result: pg.QueryResult | pg.QueryResult[]): QueryResult<R> {
  // several statements in one simple query (a restore script's batch) answer with one result each: the last one counts
  const r = Array.isArray(result) ? result[result.length - 1]! : result;
  return { rows: r.rows as R[], rowCount: r.rowCount ?? r.rows.length, fields: r.fields.map((f) => f.name) };
}

class PgSession implements Queryable {
  constructor(private readonly client: pg.PoolClient | pg.Client) {}
  async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    return adapt<R>(await this.client.query(sql, params as unknown[] | undefined));
  }
  async copyCsvTo(select: string, sink: Writable): Promise<number> {
    // streamed from the socket to the sink: a table of any size costs a few buffers
    const rows = this.client.query(pgCopy.to(copyCsvStatement(select, 'STDOUT')));
    await pipeline(rows, sink);
    return rows.rowCount;
  }
  /** COPY … FROM STDIN fed with text-format rows, with backpressure; resolves with the rows loaded. */
  async copyIn(statement: string, rows: AsyncIterable<string>): Promise<number> {
    const sink = this.client.query(pgCopy.from(statement));
    await pipeline(
      Readable.from(
        (async function* () {
          for await (const row of rows) yield `${row}\n`;
        })(),
      ),
      sink,
    );
    return sink.rowCount;
  }
}

export class PgDb implements Db {
  readonly kind = 'pg' as const;
  readonly label: string;
  private readonly pool: pg.Pool;
  private readonly secrets: string[];
  private info: ServerInfo | undefined;

  constructor(
    readonly url: string,
    opts: { max?: number; applicationName?: string } = {},
  ) {
    this.label = maskConnectionString(url);
    this.secrets = secretsOf(url);
    this.pool = new pg.Pool({
      connectionString: url,
      max: opts.max ?? 4,
      connectionTimeoutMillis: 10_000,
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
      throw connectError(e, this.label, this.secrets) ?? e;
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
      return await fn(new PgSession(client));
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
