import path from 'node:path';
import type { Logger } from '../../logger.js';
import { dumpArchive } from '../../db/dump.js';
import type { PgTool } from '../../db/pg-tools.js';
import type { Db } from '../../db/types.js';
import { ARCHIVE_FILE } from './manifest.js';
import { gateAuthUsers, prepareScratch, startScratchRestore, type Scratch } from './scratch.js';
import { readSnapshot, readSourceFacts, type SnapshotReads, type SnapshotSession } from './source-reads.js';
import type { TakenSnapshot } from './taken.js';

/**
 * Real PostgreSQL: one REPEATABLE READ transaction exports its snapshot; pg_dump (custom
 * format, whole database) dumps that snapshot into the file and the scratch restore while the
 * same transaction does the reads. The scratch database is made ready meanwhile (`scratch`).
 */
export async function takePgSnapshot(
  db: Db,
  ctx: {
    url: string;
    serverMajor: number;
    dir: string;
    lockTimeoutMs: number;
    compress: string | undefined;
    env: NodeJS.ProcessEnv;
    scratch: Promise<Scratch>;
    restoreTool: PgTool;
  },
  log: Logger,
): Promise<TakenSnapshot> {
  const { url, dir, lockTimeoutMs } = ctx;
  return db.withClient(
    async (c) => {
      // On failure there is no ROLLBACK: a snapshot read may still be waiting on this
      // connection and a ROLLBACK would queue behind it. withClient destroys a connection that
      // saw an error, which ends the read-only transaction on the server.
      await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await c.query(`SET LOCAL lock_timeout = ${Math.trunc(lockTimeoutMs)}`);
      await c.query('SET LOCAL statement_timeout = 0');
      const s = await c.query<{ id: string; db: string }>('SELECT pg_export_snapshot() AS id, current_database() AS db');
      const snapshot = s.rows[0]!.id;
      const facts = await readSourceFacts(c, dir);
      const scratch = await ctx.scratch;
      await prepareScratch(scratch.db, facts.schemas.application, log);
      const gate = await gateAuthUsers(scratch.db);
      log.info(`backup: snapshot ${snapshot} exported; pg_dump, the scratch restore and the snapshot reads run side by side`);
      // a second connection imports the same snapshot for the CSV snapshots
      const csvSession: SnapshotSession = (fn) =>
        db.withClient(
          async (c2) => {
            await c2.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
            await c2.query(`SET TRANSACTION SNAPSHOT '${snapshot.replace(/'/g, "''")}'`);
            await c2.query(`SET LOCAL lock_timeout = ${Math.trunc(lockTimeoutMs)}`);
            await c2.query('SET LOCAL statement_timeout = 0');
            const out = await fn(c2);
            await c2.query('COMMIT');
            return out;
          },
          { discard: true },
        );
      const { restore, streamed } = startScratchRestore(scratch, ctx.restoreTool, facts);
      const stop = new AbortController();
      // pg_dump imports the snapshot while this transaction holds it open
      const dumping = dumpArchive({
        url,
        serverMajor: ctx.serverMajor,
        file: path.join(dir, ARCHIVE_FILE),
        snapshot,
        lockWaitTimeoutMs: lockTimeoutMs,
        compress: ctx.compress,
        follower: restore.stdin,
        signal: stop.signal,
        env: ctx.env,
      });
      let dump: Awaited<typeof dumping>;
      let reads: SnapshotReads;
      try {
        [dump, reads] = await Promise.all([
          dumping,
          readSnapshot(c, facts, dir, log, { csvSession, onAuthUsers: gate.load }),
          gate.done,
        ]).then(([d, r]) => [d, r] as const);
      } catch (e) {
        // whichever part failed, the others stop: no pg_dump or pg_restore outlives the step
        stop.abort();
        gate.load(e instanceof Error ? e : new Error(String(e)));
        restore.kill();
        await Promise.all([dumping.catch(() => {}), streamed.outcome, gate.done.catch(() => {})]);
        throw e;
      }
      await c.query('COMMIT');
      return {
        facts,
        reads,
        dumpFiles: [{ path: ARCHIVE_FILE, kind: 'archive', bytes: dump.bytes, sha256: dump.sha256 }],
        dump: {
          engine: 'postgresql',
          format: 'custom',
          file: ARCHIVE_FILE,
          schemas: null,
          pipelineFile: null,
          compression: dump.compress,
          consistency: `pg_dump --snapshot=${snapshot}, exported by the transaction that did the reads`,
        },
        tool: { path: dump.tool.path, version: dump.tool.version },
        snapshot,
        database: s.rows[0]!.db,
        streamed,
      };
    },
    { discard: true },
  );
}
