import { access, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PGlite } from '@electric-sql/pglite';
import { OID, identity, parseInt8 } from './normalize.js';
import { emptyClusterFromTemplate, writeEmptyCluster } from './pglite-template.js';
import { DEFAULT_TX, copyCsvStatement, type Db, type QueryResult, type Queryable, type TxOptions } from './types.js';
import type { ServerInfo } from '../results/common.js';

const pathExists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/**
 * PGlite in process: one backend, so one caller at a time. Every entry point goes through
 * one queue; inside a callback, use the session it is given (calling the Db itself there
 * would wait on itself).
 */
export class PgliteDb implements Db {
  readonly kind = 'pglite' as const;
  private tail: Promise<unknown> = Promise.resolve();
  private info: ServerInfo | undefined;

  private constructor(
    private readonly pg: PGlite,
    readonly label: string,
  ) {}

  /**
   * `dataDir` undefined means in memory (tests, the scratch copy of a backup's proof). The module is
   * loaded lazily: the action bundles never need it. A new cluster is a copy of the committed empty
   * cluster (src/db/pglite-template.ts) with its own system identifier, not PGlite's initdb, which
   * runs in two more WebAssembly instances beside this one (about 800 MB at that moment); initdb
   * still makes it where the template is not for the installed PGlite. `sharedBuffersMb`: the
   * server's shared_buffers (default PostgreSQL's 128 MB), for a scratch copy held in memory.
   */
  static async open(
    dataDir: string | undefined,
    label = dataDir ? `embedded PGlite (${dataDir})` : 'embedded PGlite (memory)',
    opts: { sharedBuffersMb?: number } = {},
  ): Promise<PgliteDb> {
    if (dataDir) await mkdir(dataDir, { recursive: true });
    const fresh = !dataDir || !(await pathExists(path.join(dataDir, 'PG_VERSION')));
    const { PGlite } = await import('@electric-sql/pglite');
    // on disk, the folder is written before PGlite opens it as an existing cluster; in memory, PGlite
    // loads the tar; either way, where the template is not usable PGlite's initdb makes the cluster
    let template: Blob | undefined;
    if (fresh && dataDir) await writeEmptyCluster(dataDir);
    else if (fresh) template = await emptyClusterFromTemplate();
    // options object form: PGlite ignores the second argument when the first is not a string
    const pg = new PGlite({
      ...(dataDir ? { dataDir } : {}),
      ...(template ? { loadDataDir: template } : {}),
      ...(opts.sharedBuffersMb ? { startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${opts.sharedBuffersMb}MB`] } : {}),
      parsers: {
        [OID.int8]: parseInt8,
        [OID.date]: identity,
        [OID.numeric]: identity,
      },
    });
    await pg.waitReady;
    return new PgliteDb(pg, label);
  }

  /** The underlying instance, for the dump tool (src/db only). */
  get instance(): PGlite {
    return this.pg;
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn, fn);
    this.tail = run.catch(() => {});
    return run;
  }

  private session(): Queryable {
    const pg = this.pg;
    return {
      async query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
        const r = await pg.query<R>(sql, params as unknown[] | undefined);
        return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length, fields: r.fields.map((f) => f.name) };
      },
      async copyCsvTo(select: string, sink: Writable): Promise<number> {
        // PGlite has no COPY protocol: it hands the whole output over as a Blob
        const r = await pg.query(copyCsvStatement(select, "'/dev/blob'"));
        const bytes = r.blob ? Buffer.from(await r.blob.arrayBuffer()) : Buffer.alloc(0);
        await pipeline(Readable.from([bytes]), sink);
        return r.affectedRows ?? 0;
      },
    };
  }

  query<R>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>> {
    return this.exclusive(() => this.session().query<R>(sql, params));
  }

  copyCsvTo(select: string, sink: Writable): Promise<number> {
    return this.exclusive(() => this.session().copyCsvTo(select, sink));
  }

  withClient<T>(fn: (c: Queryable) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      const s = this.session();
      try {
        return await fn(s);
      } finally {
        // a script that failed inside its own BEGIN must not leave the only backend aborted;
        // and session settings (search_path…) must not leak to the next caller
        await this.pg.query('ROLLBACK').catch(() => {});
        await this.pg.query('RESET ALL').catch(() => {});
      }
    });
  }

  withTransaction<T>(fn: (tx: Queryable) => Promise<T>, opts: TxOptions = {}): Promise<T> {
    return this.exclusive(async () => {
      const s = this.session();
      await s.query(opts.readOnly ? 'BEGIN READ ONLY' : 'BEGIN');
      try {
        await s.query(`SET LOCAL lock_timeout = ${Math.trunc(opts.lockTimeoutMs ?? DEFAULT_TX.lockTimeoutMs)}`);
        await s.query(`SET LOCAL statement_timeout = ${Math.trunc(opts.statementTimeoutMs ?? DEFAULT_TX.statementTimeoutMs)}`);
        const out = await fn(s);
        await s.query('COMMIT');
        return out;
      } catch (e) {
        await s.query('ROLLBACK').catch(() => {});
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
      this.info = { major: Math.floor(Number(row.n) / 10000), version: row.v.split(' ')[0]!, engine: 'pglite' };
    }
    return this.info;
  }

  async close(): Promise<void> {
    await this.exclusive(() => this.pg.close());
  }
}
