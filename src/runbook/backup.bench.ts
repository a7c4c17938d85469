import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bench, describe } from 'vitest';
import { PgDb } from '../db/pg.js';
import { findPgTool, runPgTool } from '../db/pg-tools.js';
import { SCRATCH_PREFIX, createScratchDatabase, type ScratchDatabase } from '../db/scratch.js';
import { silentLogger } from '../logger.js';
import { PACKAGE_ROOT } from '../paths.js';
import { backup } from './backup.js';
import { initFixture } from './db-init.js';

/**
 * `astm53b backup` (dump, companions, scratch restore and full comparison) on the demo depot
 * at --scale N on real PostgreSQL, against its floor measured in the same run on the same
 * database: raw `pg_dump -Fc` to a file, then `pg_restore` into a new, empty database. vitest
 * reports the ratio between the two. Needs TEST_DATABASE_URL (a superuser: scale.sql sets
 * session_replication_role); without it the group is skipped. ASTM53B_BENCH_SCALE overrides N.
 */
const SERVER = process.env.TEST_DATABASE_URL;
const SCALE = Number(process.env.ASTM53B_BENCH_SCALE ?? 20);
const describeIfPg = SERVER ? describe : describe.skip;

// vitest's bench mode runs no beforeAll/afterAll: the source database is prepared by the
// first task's setup hook (memoised) and dropped by the last task's teardown
interface Source {
  scratch: ScratchDatabase;
  db: PgDb;
  major: number;
  work: string;
}
let prepared: Promise<Source> | undefined;
let ready: Source | undefined;
function prepare(): Promise<Source> {
  prepared ??= (async () => {
    const scratch = await createScratchDatabase(SERVER!, 'bench_backup');
    const db = new PgDb(scratch.url);
    await initFixture(db, { scale: SCALE, seed: 1 }, silentLogger);
    await db.query('VACUUM ANALYZE');
    baseRss = process.memoryUsage().rss;
    ready = { scratch, db, major: (await db.server()).major, work: mkdtempSync(path.join(tmpdir(), 'astm53b-bench-backup-')) };
    return ready;
  })();
  return prepared;
}

let run = 0;
let peakRss = 0;
/** RSS when the source is ready, before any backup: what the worker (vitest, pg, the fixture load) holds anyway */
let baseRss = 0;

/**
 * tinybench 2.9 calls teardown without awaiting it and the worker ends right after: the
 * source database is dropped by a child process run synchronously (the URL travels in its
 * environment, never on argv).
 */
function cleanUpSync(): void {
  const s = ready;
  if (!s) return;
  ready = undefined;
  void s.db.close().catch(() => {});
  const drop = `import pg from 'pg'; const c = new pg.Client(process.env.SERVER_URL); await c.connect();
    await c.query('DROP DATABASE IF EXISTS "' + process.env.DB_NAME + '" WITH (FORCE)'); await c.end();`;
  if (s.scratch.name.startsWith(SCRATCH_PREFIX)) {
    spawnSync(process.execPath, ['--input-type=module', '-e', drop], { cwd: PACKAGE_ROOT, env: { ...process.env, SERVER_URL: SERVER, DB_NAME: s.scratch.name }, stdio: 'ignore' });
  }
  rmSync(s.work, { recursive: true, force: true });
  // not a vitest figure: the process's resident memory, sampled while our backup ran
  const mb = (n: number) => `${(n / 1048576).toFixed(0)} MB`;
  process.stderr.write(`backup bench: peak RSS during astm53b backup ${mb(peakRss)}, ${mb(baseRss)} before the first backup (scale ${SCALE})\n`);
}

describeIfPg(`backup with verification, demo depot at --scale ${SCALE}, real PostgreSQL`, () => {
  bench(
    'floor: pg_dump -Fc, then pg_restore into an empty database',
    async () => {
      const { scratch: source, major, work } = await prepare();
      const file = path.join(work, `raw-${++run}.dump`);
      const dump = await findPgTool('pg_dump', major);
      const restore = await findPgTool('pg_restore', major);
      await runPgTool({ tool: dump, args: ['--format=custom', '--no-password', `--file=${file}`], url: source.url });
      const target = await createScratchDatabase(SERVER!, 'bench_floor');
      try {
        await runPgTool({ tool: restore, args: ['--exit-on-error', '--no-password', file], url: target.url });
      } finally {
        await target.drop();
        rmSync(file, { force: true });
      }
    },
    { iterations: 3, warmupIterations: 1, throws: true, setup: async () => void (await prepare()) },
  );

  bench(
    'astm53b backup (dump + functions + CSV snapshots + checksums, scratch restore, full comparison)',
    async () => {
      const { db, work } = await prepare();
      const out = path.join(work, `ours-${++run}`);
      const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
      try {
        const r = await backup(db, { outDir: out }, silentLogger);
        if (!r.ok) throw new Error(`the benchmarked backup did not verify: ${r.verification.failures[0]}`);
      } finally {
        clearInterval(sampler);
        rmSync(out, { recursive: true, force: true });
      }
    },
    {
      iterations: 3,
      warmupIterations: 1,
      throws: true,
      teardown: (_task, mode) => {
        if (mode === 'run') cleanUpSync();
      },
    },
  );
});
