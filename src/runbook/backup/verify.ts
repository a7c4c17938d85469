import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { listArchive, readArchiveBlocks, restoreArchive } from '../../db/dump.js';
import { openScratchPglite, readSqlDumpToc, restoreSqlDump } from '../../db/pglite-dump.js';
import { compareSnapshots, compareWithManifest, describeMismatches, describeSnapshotMismatches } from './compare.js';
import { ARCHIVE_FILE, checkFileHashes, readManifest, writeVerification } from './manifest.js';
import { openScratch, prepareScratch, restoredSchemas, settled, type StreamedRestore } from './scratch.js';
import type { Queryable } from '../../db/types.js';
import type { TableChecksum } from '../../results/common.js';
import { VERIFICATION_FORMAT, type Manifest, type Verification } from '../../results/backup.js';

/** `astm53b backup verify DIR`: hashes again, then a fresh restore of the archive file into a scratch database. */
export async function verifyBackup(
  dir: string,
  opts: { serverUrl?: string; scratchUrl?: string; env?: NodeJS.ProcessEnv },
  log: Logger,
): Promise<Verification> {
  const abs = path.resolve(dir);
  const { manifest, sha256 } = await readManifest(abs);
  if (manifest.dump.format === 'custom' && !opts.serverUrl && !opts.scratchUrl) {
    throw new UserError(
      'MISSING_OPTION',
      'verification restores the backup: give --url (a server where a scratch database can be created) or --scratch-url',
      {
        where: { field: 'url' },
      },
    );
  }
  const v = await verifyAgainstRestore(abs, manifest, sha256, { ...opts, env: opts.env ?? process.env }, log);
  await writeVerification(abs, v);
  return v;
}

const NOT_COMPARED_NOTE =
  'Supabase-managed and other non-application schemas are kept in the archive but are neither restored into the scratch database nor compared; ' +
  'only the auth.users rows the application references are loaded there, so that its foreign keys hold.';

const EMBEDDED_NOT_COMPARED_NOTE =
  "The embedded dump holds the application schemas (and, apart, the pipeline schema) only; the shim's auth schema is recreated in the scratch copy " +
  'and only the auth.users rows the application references are loaded there, so that its foreign keys hold.';

export async function verifyAgainstRestore(
  dir: string,
  manifest: Manifest,
  manifestSha256: string,
  opts: { serverUrl?: string | undefined; scratchUrl?: string | undefined; env: NodeJS.ProcessEnv; streamed?: StreamedRestore },
  log: Logger,
): Promise<Verification> {
  const failures: string[] = [];
  const { hashes, files } = await checkFileHashes(dir, manifest);
  const v: Verification = {
    format: VERIFICATION_FORMAT,
    ok: false,
    checkedAt: new Date().toISOString(),
    manifestSha256,
    hashes,
    files,
    archive: { readable: false, entries: 0, dumpedBy: null },
    restore: null,
    comparison: null,
    snapshots: null,
    notCompared: {
      schemas: manifest.schemas.excluded,
      note: manifest.dump.format === 'plain' ? EMBEDDED_NOT_COMPARED_NOTE : NOT_COMPARED_NOTE,
    },
    failures,
  };
  const streamed = opts.streamed;
  // a streamed restore that cannot prove anything is stopped rather than waited for
  const abandon = async () => {
    streamed?.kill();
    await streamed?.outcome;
    return v;
  };
  for (const p of v.hashes.problems) failures.push(`${p.path}: ${p.problem}`);
  if (!v.hashes.ok) return abandon();
  if (manifest.dump.format === 'plain') return verifyPlainRestore(dir, manifest, v, log);

  const archive = path.join(dir, ARCHIVE_FILE);
  try {
    const toc = await listArchive({ file: archive, serverMajor: manifest.source.serverMajor, env: opts.env });
    v.archive = { readable: true, entries: toc.entries.length, dumpedBy: toc.dumpedBy ?? null };
    if (toc.entries.length === 0) failures.push(`${ARCHIVE_FILE}: the table of contents is empty`);
  } catch (e) {
    v.archive = { readable: false, entries: 0, dumpedBy: null, error: (e as Error).message };
    failures.push(`${ARCHIVE_FILE}: pg_restore --list failed: ${(e as Error).message}`);
    return abandon();
  }

  const schemas = restoredSchemas(manifest.schemas);
  // no scratch database (no CREATEDB, unreachable): the user's to fix, said before any work
  const scratch = streamed ? streamed.scratch : await openScratch(opts.serverUrl, opts.scratchUrl);
  // the blocks the restore does not read are read apart, while the restore and the comparison go on
  const wholeRead = readArchiveBlocks({
    file: archive,
    serverMajor: manifest.source.serverMajor,
    excludeSchemas: schemas,
    env: opts.env,
  }).then(
    () => undefined,
    (e: Error) => e,
  );
  const started = Date.now();
  try {
    if (streamed) {
      v.restore = { into: scratch.label, from: 'dump stream', schemas, ms: 0 };
      const error = await streamed.outcome;
      v.restore.ms = (streamed.endedAt ?? Date.now()) - streamed.startedAt;
      if (error) throw error;
    } else {
      v.restore = { into: scratch.label, from: 'archive file', schemas, ms: 0 };
      const server = await scratch.db.server();
      await prepareScratch(scratch.db, manifest.schemas.application, log, { schemas, authUsers: await recordedAuthUsers(dir, manifest) });
      log.info(`verify: restoring ${schemas.join(', ')} into ${scratch.label}`);
      await restoreArchive({
        url: scratch.url,
        file: archive,
        serverMajor: Math.max(server.major, manifest.source.serverMajor),
        schemas,
        env: opts.env,
      });
      v.restore.ms = Date.now() - started;
    }
    const known = streamed ? await settled(streamed.early) : undefined;
    if (known) v.restore.checkedAsLoaded = [...known.keys()].sort();
    await compareRestored(scratch.db, manifest, v, known);
  } catch (e) {
    const why = (e as Error).message;
    if (v.restore) v.restore.error = why;
    failures.push(`restore into ${scratch.label} failed: ${why}`);
  } finally {
    // a streamed restore's scratch belongs to the backup step, which releases it
    if (!streamed) await scratch.release(log);
  }
  const unreadable = await wholeRead;
  if (unreadable) {
    v.archive = { ...v.archive, readable: false, error: unreadable.message };
    failures.push(
      `${ARCHIVE_FILE}: reading the blocks of ${manifest.schemas.excluded.join(', ') || 'the other schemas'} failed: ${unreadable.message}`,
    );
  }
  v.ok = failures.length === 0 && v.comparison?.ok === true;
  log.info(`verify: ${v.ok ? 'the restored copy equals the source' : `FAILED (${failures.length} problem(s))`}`);
  return v;
}

/** The restored copy against the manifest, and the CSV snapshots against the restored copy (both engines). */
async function compareRestored(q: Queryable, manifest: Manifest, v: Verification, known?: Map<string, TableChecksum>): Promise<void> {
  const [comparison, snapshots] = await Promise.all([compareWithManifest(q, manifest, known), compareSnapshots(q, manifest, v.files)]);
  v.comparison = comparison;
  v.snapshots = snapshots;
  describeMismatches(comparison, v.failures);
  describeSnapshotMismatches(snapshots, manifest, v.failures);
}

async function recordedAuthUsers(dir: string, manifest: Manifest): Promise<{ entry: Manifest['authUsers']; json: string | null }> {
  return { entry: manifest.authUsers, json: manifest.authUsers ? await readFile(path.join(dir, manifest.authUsers.file), 'utf8') : null };
}

/**
 * The embedded counterpart of the pg_restore test: pg_dump's closing line proves the script is
 * whole (the role of `pg_restore --list`), then it is run into a fresh in-memory PGlite (the
 * shim and the referenced auth.users first, the pipeline schema before the application's,
 * whose freeze triggers call it) and compared exactly as a PostgreSQL restore is.
 */
async function verifyPlainRestore(dir: string, manifest: Manifest, v: Verification, log: Logger): Promise<Verification> {
  const failures = v.failures;
  const scripts = [manifest.dump.pipelineFile, manifest.dump.file].filter((f): f is string => f !== null);
  let entries = 0;
  let dumpedBy: string | null = null;
  for (const file of scripts) {
    const toc = await readSqlDumpToc(path.join(dir, file));
    if (file === manifest.dump.file) {
      entries = toc.entries.length;
      dumpedBy = toc.dumpedBy ?? null;
    }
    if (!toc.complete) failures.push(`${file}: pg_dump's opening or closing line is missing: the script is truncated or not a dump`);
    else if (toc.entries.length === 0) failures.push(`${file}: the script lists no object`);
  }
  v.archive = { readable: failures.length === 0, entries, dumpedBy };
  if (failures.length) return v;

  const started = Date.now();
  const sdb = await openScratchPglite();
  v.restore = { into: sdb.label, from: 'archive file', schemas: restoredSchemas(manifest.schemas), ms: 0 };
  try {
    await prepareScratch(sdb, manifest.schemas.application, log, { authUsers: await recordedAuthUsers(dir, manifest) });
    log.info(`verify: running ${scripts.join(', ')} into ${sdb.label}`);
    for (const file of scripts) await restoreSqlDump(sdb, path.join(dir, file), file);
    v.restore.ms = Date.now() - started;
    await compareRestored(sdb, manifest, v);
  } catch (e) {
    // a failing statement is named file:line
    const why = e instanceof UserError ? e.describe() : (e as Error).message;
    v.restore.error = why;
    failures.push(`restore into ${sdb.label} failed: ${why}`);
  } finally {
    await sdb.close().catch(() => {});
  }
  v.ok = failures.length === 0 && v.comparison?.ok === true;
  log.info(`verify: ${v.ok ? 'the restored copy equals the source' : `FAILED (${failures.length} problem(s))`}`);
  return v;
}
