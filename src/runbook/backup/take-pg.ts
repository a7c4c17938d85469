import path from 'node:path';
import type { Logger } from '../../logger.js';
import { DUMP_APP_NAME, dumpArchive } from '../../db/dump.js';
import type { PgTool } from '../../db/pg-tools.js';
import type { Db, Queryable } from '../../db/types.js';
import type { ManifestFile } from '../../results/backup.js';
import { ARCHIVE_FILE, SNAPSHOT_TABLES, snapshotFileOf } from './manifest.js';
import { gateAuthUsers, prepareScratch, restoredSchemas, startScratchRestore, type Scratch } from './scratch.js';
import { exportSnapshotTable, readSnapshot, readSourceFacts, readSourceIdentity, snapshotFile } from './source-reads.js';
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
  // the source sessions of this snapshot, ended on the server if the step fails (see endSessions)
  const sessions: number[] = [];
  return db.withClient(
    async (c) => {
      // On failure there is no ROLLBACK: a snapshot read may still be waiting on this
      // connection and a ROLLBACK would queue behind it. withClient destroys a connection that
      // saw an error, and endSessions ends its transaction on the server at once.
      await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await c.query(`SET LOCAL lock_timeout = ${Math.trunc(lockTimeoutMs)}`);
      await c.query('SET LOCAL statement_timeout = 0');
      // the checksums run beside pg_dump and the scratch restore: one process each, not a gather of
      // workers competing with them for the cores (they end before pg_dump does either way)
      await c.query('SET LOCAL max_parallel_workers_per_gather = 0');
      const s = await c.query<{ id: string; pid: number; since: string }>(
        'SELECT pg_export_snapshot() AS id, pg_backend_pid() AS pid, now()::text AS since',
      );
      const snapshot = s.rows[0]!.id;
      sessions.push(s.rows[0]!.pid);
      let parts: { stop: AbortController; kill(): void; settled: Promise<unknown> } | undefined;
      try {
        const identity = await readSourceIdentity(c);
        const facts = await readSourceFacts(c, dir);
        const scratch = await ctx.scratch;
        await prepareScratch(scratch.db, facts.schemas.application, log, { schemas: restoredSchemas(facts.schemas) });
        const gate = await gateAuthUsers(scratch.db);
        log.info(`backup: snapshot ${snapshot} exported; pg_dump, the scratch restore and the snapshot reads run side by side`);
        // a second connection imports the same snapshot: a CSV snapshot the scratch copy cannot give
        const csvSession = <T>(fn: (q: Queryable) => Promise<T>): Promise<T> =>
          db.withClient(
            async (c2) => {
              await c2.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
              await c2.query(`SET TRANSACTION SNAPSHOT '${snapshot.replace(/'/g, "''")}'`);
              await c2.query(`SET LOCAL lock_timeout = ${Math.trunc(lockTimeoutMs)}`);
              await c2.query('SET LOCAL statement_timeout = 0');
              sessions.push((await c2.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);
              const out = await fn(c2);
              await c2.query('COMMIT');
              return out;
            },
            { discard: true },
          );
        const { restore, streamed } = startScratchRestore(scratch, ctx.restoreTool, facts, {
          tables: SNAPSHOT_TABLES,
          fileOf: (qualified) => path.join(dir, snapshotFileOf(qualified)),
        });
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
        parts = {
          stop,
          kill: () => {
            gate.load(new Error('the backup stopped'));
            restore.kill();
          },
          settled: Promise.all([
            dumping.catch(() => {}),
            streamed.outcome,
            gate.done.catch(() => {}),
            ...[...streamed.csv.values()].map((x) => x.catch(() => {})),
          ]),
        };
        // The CSV snapshots come from the scratch copy as soon as its keys are built (scratch.ts):
        // the source's rows are read by pg_dump alone. One the copy cannot give (its restore
        // failed) is read from this snapshot, still open until then, so the folder is whole and
        // `backup verify` can prove it later.
        const origins: string[] = [];
        let fromCopy = 0;
        const csvFiles = async (): Promise<ManifestFile[]> => {
          const files: ManifestFile[] = [];
          for (const qualified of SNAPSHOT_TABLES) {
            const copied = await streamed.csv.get(qualified);
            // one wording for the log and the manifest
            const from = copied ? 'the scratch restore of this dump' : 'this transaction (the source)';
            origins.push(`${qualified} from ${from}`);
            if (copied) fromCopy++;
            const csv = copied ?? (await csvSession((q) => exportSnapshotTable(q, facts.keys, qualified, dir)));
            files.push(snapshotFile(qualified, csv, `from ${from}`, log));
          }
          return files;
        };
        const [dump, reads, , snapshots] = await Promise.all([
          dumping,
          readSnapshot(c, facts, dir, log, { csvElsewhere: true, onAuthUsers: gate.load }),
          gate.done,
          csvFiles(),
        ]);
        await c.query('COMMIT');
        reads.csvFiles = snapshots;
        return {
          facts,
          reads,
          dumpFiles: [{ path: ARCHIVE_FILE, kind: 'archive', bytes: dump.bytes, sha256: dump.sha256, plaintext: null }],
          dump: {
            engine: 'postgresql',
            format: 'custom',
            file: ARCHIVE_FILE,
            schemas: null,
            pipelineFile: null,
            compression: dump.compress,
            // where each CSV came from, said as a fact: a copy's rows are the source's only once the verification
            // (verification.json) has found every restored table equal to that transaction's checksums
            consistency:
              `pg_dump --snapshot=${snapshot}, exported by the transaction that did the reads; CSV snapshots: ${origins.join(', ')}` +
              (fromCopy
                ? '; those from the scratch restore are the source rows once verification.json shows every restored table equal to the checksums read in that transaction'
                : ''),
          },
          tool: { path: dump.tool.path, version: dump.tool.version },
          snapshot,
          identity,
          streamed,
        };
      } catch (e) {
        // whichever part failed, the others stop: no pg_dump or pg_restore outlives the step,
        // and no session of it is left holding the snapshot and its locks
        parts?.stop.abort();
        parts?.kill();
        await Promise.all([parts?.settled, endSessions(db, sessions, ctx.serverMajor)]);
        if (parts) await dumpSessionsGone(db, s.rows[0]!.since);
        throw e;
      }
    },
    { discard: true },
  );
}

/**
 * Ends the snapshot's sessions on the server. Closing the socket is not enough: a backend busy
 * with a long read (a checksum of a large table) notices only when the read is over, and keeps
 * its transaction and locks until then.
 */
async function endSessions(db: Db, pids: readonly number[], serverMajor: number): Promise<void> {
  if (!pids.length) return;
  // PostgreSQL 14+ waits (up to 5 s) for the backends to be gone
  const call = serverMajor >= 14 ? 'pg_terminate_backend(pid, 5000)' : 'pg_terminate_backend(pid)';
  await db.query(`SELECT ${call} FROM unnest($1::int[]) pid WHERE pid <> pg_backend_pid()`, [pids]).then(
    () => undefined,
    () => undefined,
  );
}

/**
 * A killed pg_dump cancels its own query on the way out (its SIGTERM handler), and its backend
 * leaves once it finds the client gone: waited for (up to 5 s), so that nothing of the step, not
 * even pg_dump's own snapshot and locks, outlives it. Only sessions that started after this
 * step's snapshot transaction are looked at.
 */
async function dumpSessionsGone(db: Db, since: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const left = await db
      .query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND application_name = $1 AND backend_start >= $2::timestamptz',
        [DUMP_APP_NAME, since],
      )
      .then(
        (r) => r.rows[0]?.n ?? 0,
        () => 0,
      );
    if (left === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
}
