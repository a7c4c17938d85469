import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statfsSync } from 'node:fs';
import { mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DUMP_APP_NAME, RESTORE_APP_NAME } from '../../db/dump.js';
import { UserError } from '../../errors.js';
import { memoryLogger, silentLogger } from '../../logger.js';
import { partialFileOf } from '../../results/io.js';
import { expectFailure } from '../../testing/command.js';
import { describePg, useFreshDatabase } from '../../testing/pg.js';
import { ARCHIVE_FILE, MANIFEST_FILE } from './manifest.js';
import { backup, type BackupResult } from './index.js';

/**
 * A backup whose disk fills up stops within seconds with one line naming the file and the errno,
 * and leaves nothing running: no pg_dump or pg_restore, no source session holding the snapshot
 * and its locks, no scratch database, and no manifest.json (never a truncated one).
 *
 * The disk: a real 2 MB tmpfs, filled up to what the scenario needs, where this machine lets us
 * mount one (root, outside a locked-down container). Where it does not (GitHub's runner: the
 * tests do not run as root), the file the scenario fills is made a link to /dev/full, whose
 * every write fails with ENOSPC from the kernel, through the step's `onOutDir` test hook: the
 * same system error on the same write path, only without a file system to fill. Skipped only
 * where there is no /dev/full (not Linux), and never in CI.
 */

const MOUNT_SIZE = '2m';

function tryMount(dir: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${MOUNT_SIZE}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const probeDir = path.join(tmpdir(), `astm53b-mount-probe-${process.pid}`);
execFileSync('mkdir', ['-p', probeDir]);
const canMount = tryMount(probeDir);
if (canMount) execFileSync('umount', [probeDir]);
execFileSync('rmdir', [probeDir]);
const hasDevFull = existsSync('/dev/full');
const disk: 'tmpfs' | 'dev-full' | undefined = hasDevFull ? (canMount ? 'tmpfs' : 'dev-full') : undefined;
if (!disk && process.env.CI) throw new Error('CI: there is no /dev/full: the full-disk tests must run here');
if (!disk) console.warn('full-disk backup tests skipped: this machine has no /dev/full');
else if (disk === 'dev-full')
  console.warn('full-disk backup tests: no tmpfs can be mounted here (not root?); /dev/full stands in for the full disk');
const describeDisk = disk ? describePg : describe.skip;

/** The programs this test process has spawned that are still running. */
function runningChildren(): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const m = /^\d+ \((.*)\) (\S) (\d+)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'));
      if (m && Number(m[3]) === process.pid && m[2] !== 'Z') out.push(m[1]!);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Fills the tmpfs at `dir` until `free` bytes are left. */
async function leaveFree(dir: string, free: number): Promise<void> {
  const s = statfsSync(dir);
  const avail = s.bavail * s.bsize;
  if (avail > free) await writeFile(path.join(dir, 'filler'), Buffer.alloc(avail - free));
}

const pageRounded = (n: number) => Math.ceil(n / 4096) * 4096;

describeDisk('backup on a full disk (real PostgreSQL)', () => {
  const fx = useFreshDatabase('backup_disk_full', { fixture: true });
  let work: string;
  let mount: string | undefined;
  let reference: BackupResult;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'astm53b-backup-disk-'));
    // the sizes of a whole backup of this database, to fill the disk at a chosen file
    reference = await backup(fx().db, { outDir: path.join(work, 'reference') }, silentLogger);
    expect(reference.ok).toBe(true);
  });
  afterEach(() => {
    if (mount) execFileSync('umount', ['-l', mount]);
    mount = undefined;
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  /** An output folder on a disk that fails at `failing` (tmpfs: by filling it to `free` bytes). */
  async function fullDisk(
    name: string,
    failing: (dir: string) => string,
    free: number,
  ): Promise<{ outDir: string; onOutDir?: (dir: string) => Promise<void> }> {
    if (disk === 'tmpfs') {
      mount = path.join(work, `mnt-${name}`);
      execFileSync('mkdir', ['-p', mount]);
      expect(tryMount(mount)).toBe(true);
      await leaveFree(mount, free);
      return { outDir: path.join(mount, 'b') };
    }
    return { outDir: path.join(work, name), onOutDir: (dir) => symlink('/dev/full', failing(dir)) };
  }

  /** Runs the backup, which must fail on the full disk, and checks that it left nothing behind. */
  async function failsCleanly(opts: { outDir: string; onOutDir?: (dir: string) => Promise<void> }): Promise<UserError> {
    const log = memoryLogger();
    const t0 = Date.now();
    const step = backup(fx().db, { ...opts, lockTimeoutMs: 600_000 }, log);
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('the backup did not end within 60 s on a full disk')), 60_000).unref(),
    );
    const err = await expectFailure(Promise.race([step, timeout]));
    expect(err, err.stack).toBeInstanceOf(UserError);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(runningChildren().filter((p) => /pg_dump|pg_restore/.test(p))).toEqual([]);
    const db = fx().db;
    const left = await db.query<{ state: string; app: string }>(
      `SELECT state, application_name AS app FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid()
          AND (state LIKE 'idle in transaction%' OR application_name IN ($1, $2))`,
      [DUMP_APP_NAME, RESTORE_APP_NAME],
    );
    expect(left.rows).toEqual([]);
    const scratchName = /scratch database (astm53b_backup_verify_\w+)/.exec(log.lines.join('\n'))?.[1];
    expect(scratchName).toBeDefined();
    const scratch = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_database WHERE datname = $1', [scratchName]);
    expect(scratch.rows[0]!.n).toBe(0);
    const written = await readdir(opts.outDir);
    expect(written).not.toContain(MANIFEST_FILE);
    expect(written.filter((f) => f.startsWith(`${MANIFEST_FILE}.`))).toEqual([]);
    return err as UserError;
  }

  it('fills up while pg_dump streams: WRITE_FAILED naming the file and ENOSPC within seconds, nothing left running, no manifest', async () => {
    // 64 kB: the function exports fit, the archive (about 150 kB) does not
    const opts = await fullDisk('mid-dump', (dir) => path.join(dir, ARCHIVE_FILE), 64 * 1024);
    const err = await failsCleanly(opts);
    expect(err.code).toBe('WRITE_FAILED');
    expect(err.message).toMatch(/^no space left on device \(ENOSPC\) while writing .+: free space or choose another --out$/);
    const file = err.where!.file!;
    expect(path.dirname(file).startsWith(path.resolve(opts.outDir))).toBe(true);
    expect(path.relative(opts.outDir, file)).toMatch(/^(database\.dump|auth-users\.json|tables\/public\.\w+\.csv)$/);
    if (disk === 'dev-full') expect(file).toBe(path.join(path.resolve(opts.outDir), ARCHIVE_FILE));
  });

  it('fills up at manifest.json: WRITE_FAILED naming it, and no manifest.json at all, not even a truncated one', async () => {
    // every file of the backup fits, with 32 kB to spare; the manifest (over 100 kB) does not
    const files = reference.manifest.files.reduce((n, f) => n + pageRounded(f.bytes), 0);
    const opts = await fullDisk('at-manifest', (dir) => partialFileOf(path.join(dir, MANIFEST_FILE)), files + 32 * 1024);
    const err = await failsCleanly(opts);
    expect(err.code).toBe('WRITE_FAILED');
    expect(err.where!.file).toBe(path.join(path.resolve(opts.outDir), MANIFEST_FILE));
    expect(err.message).toMatch(/^no space left on device \(ENOSPC\) while writing .+manifest\.json: free space or choose another --out$/);
  });

  it('a CSV snapshot that cannot be written stops the COPY, pg_dump and the restore alike', async () => {
    const opts = {
      outDir: path.join(work, 'csv'),
      onOutDir: (dir: string) => symlink('/dev/full', path.join(dir, 'tables/public.receptions.csv')),
    };
    const err = await failsCleanly(opts);
    expect(err).toMatchObject({
      code: 'WRITE_FAILED',
      where: { file: path.join(path.resolve(opts.outDir), 'tables/public.receptions.csv') },
    });
  });
});
