import path from 'node:path';
import { Readable } from 'node:stream';
import { UserError } from '../../errors.js';
import type { AgeIdentities } from '../../crypto/age.js';
import type { Logger } from '../../logger.js';
import { listArchive, readArchiveBlocks, restoreArchive } from '../../db/dump.js';
import { openScratchPglite, readSqlDumpToc, restoreSqlDump } from '../../db/pglite-dump.js';
import { compareSnapshots, compareWithManifest, describeMismatches, describeSnapshotMismatches } from './compare.js';
import { checkFileHashes, readManifest, writeVerification } from './manifest.js';
import { BackupPlaintext } from './plaintext.js';
import { openScratch, prepareScratch, restoredSchemas, settled, type StreamedRestore } from './scratch.js';
import type { CsvExport } from '../../db/csv-export.js';
import type { Queryable } from '../../db/types.js';
import type { TableChecksum } from '../../results/common.js';
import { VERIFICATION_FORMAT, type Manifest, type Verification } from '../../results/backup.js';

/**
 * `astm53b backup verify DIR`: hashes again, then a fresh restore of the archive file into a
 * scratch database. An encrypted folder needs `identity`: its files are decrypted as they are
 * read (never to disk), each checked against the plaintext hash the manifest recorded.
 */
export async function verifyBackup(
  dir: string,
  opts: { serverUrl?: string; scratchUrl?: string; env?: NodeJS.ProcessEnv; identity?: AgeIdentities },
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
  const plain = await BackupPlaintext.open(abs, manifest, opts.identity, log);
  const v = await verifyAgainstRestore(abs, manifest, sha256, { ...opts, env: opts.env ?? process.env, plain }, log);
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
  opts: {
    serverUrl?: string | undefined;
    scratchUrl?: string | undefined;
    env: NodeJS.ProcessEnv;
    streamed?: StreamedRestore;
    /** how to read the files (an encrypted folder: decrypted as read); default: in clear */
    plain?: BackupPlaintext;
  },
  log: Logger,
): Promise<Verification> {
  const failures: string[] = [];
  const plain = opts.plain ?? (await BackupPlaintext.open(dir, manifest, undefined, log));
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
  const found = await plaintextDigests(plain, v);
  if (manifest.dump.format === 'plain') return verifyPlainRestore(plain, v, found, log);

  const name = manifest.dump.file;
  const archive = plain.input(name);
  try {
    const toc = await listArchive({ file: archive, serverMajor: manifest.source.serverMajor, env: opts.env });
    v.archive = { readable: true, entries: toc.entries.length, dumpedBy: toc.dumpedBy ?? null };
    if (toc.entries.length === 0) failures.push(`${name}: the table of contents is empty`);
  } catch (e) {
    v.archive = { readable: false, entries: 0, dumpedBy: null, error: describe(e) };
    failures.push(`${name}: pg_restore --list failed: ${describe(e)}`);
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
      await prepareScratch(scratch.db, manifest.schemas.application, log, { schemas, authUsers: await recordedAuthUsers(plain) });
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
    await compareRestored(scratch.db, manifest, v, found, known, streamed ? await settled(streamed.csv) : undefined);
  } catch (e) {
    const why = describe(e);
    if (v.restore) v.restore.error = why;
    failures.push(`restore into ${scratch.label} failed: ${why}`);
  } finally {
    // a streamed restore's scratch belongs to the backup step, which releases it
    if (!streamed) await scratch.release(log);
  }
  const unreadable = await wholeRead;
  if (unreadable) {
    v.archive = { ...v.archive, readable: false, error: describe(unreadable) };
    failures.push(
      `${name}: reading the blocks of ${manifest.schemas.excluded.join(', ') || 'the other schemas'} failed: ${describe(unreadable)}`,
    );
  }
  v.ok = failures.length === 0 && v.comparison?.ok === true;
  log.info(`verify: ${v.ok ? 'the restored copy equals the source' : `FAILED (${failures.length} problem(s))`}`);
  return v;
}

const describe = (e: unknown): string => (e instanceof UserError ? e.describe() : (e as Error).message);

/**
 * The plaintext name and SHA-256 of every file, as the snapshot comparison needs them: the
 * re-hash on disk for a folder in clear, the decrypted stream's for an encrypted one (checked
 * against the manifest's plaintext record on the way: a mismatch is a failure, and the file is
 * left out of the comparison).
 */
async function plaintextDigests(plain: BackupPlaintext, v: Verification): Promise<Verification['files']> {
  if (!plain.encrypted) return v.files;
  const out: Verification['files'] = [];
  for (const f of plain.manifest.files.filter((x) => x.kind === 'table-snapshot' && x.plaintext)) {
    try {
      out.push({ path: f.plaintext!.path, sha256: (await plain.digest(f.path)).sha256 });
    } catch (e) {
      v.failures.push(`${f.path}: ${describe(e)}`);
    }
  }
  return out;
}

/** The restored copy against the manifest, and the CSV snapshots against the restored copy (both engines). */
async function compareRestored(
  q: Queryable,
  manifest: Manifest,
  v: Verification,
  found: Verification['files'],
  known?: Map<string, TableChecksum>,
  knownCsv?: Map<string, CsvExport>,
): Promise<void> {
  const [comparison, snapshots] = await Promise.all([
    compareWithManifest(q, manifest, known),
    compareSnapshots(q, manifest, found, knownCsv),
  ]);
  v.comparison = comparison;
  v.snapshots = snapshots;
  describeMismatches(comparison, v.failures);
  describeSnapshotMismatches(snapshots, manifest, v.failures);
}

async function recordedAuthUsers(plain: BackupPlaintext): Promise<{ entry: Manifest['authUsers']; json: string | null }> {
  const entry = plain.manifest.authUsers;
  return { entry, json: entry ? (await plain.buffer(entry.file)).toString('utf8') : null };
}

/**
 * The embedded counterpart of the pg_restore test: pg_dump's closing line proves the script is
 * whole (the role of `pg_restore --list`), then it is run into a fresh in-memory PGlite (the
 * shim and the referenced auth.users first, the pipeline schema before the application's,
 * whose freeze triggers call it) and compared exactly as a PostgreSQL restore is.
 */
async function verifyPlainRestore(
  plain: BackupPlaintext,
  v: Verification,
  found: Verification['files'],
  log: Logger,
): Promise<Verification> {
  const { dir, manifest } = plain;
  const failures = v.failures;
  const before = failures.length;
  const scripts = [manifest.dump.pipelineFile, manifest.dump.file].filter((f): f is string => f !== null);
  // an encrypted script is decrypted whole, once, its hash checked; PGlite runs it from memory anyway
  const texts = new Map<string, string>();
  let entries = 0;
  let dumpedBy: string | null = null;
  for (const file of scripts) {
    let input: string | Readable = path.join(dir, file);
    if (plain.encrypted) {
      try {
        texts.set(file, (await plain.buffer(file)).toString('utf8'));
      } catch (e) {
        failures.push(`${file}: ${describe(e)}`);
        continue;
      }
      input = Readable.from([texts.get(file)!]);
    }
    const toc = await readSqlDumpToc(input);
    if (file === manifest.dump.file) {
      entries = toc.entries.length;
      dumpedBy = toc.dumpedBy ?? null;
    }
    if (!toc.complete) failures.push(`${file}: pg_dump's opening or closing line is missing: the script is truncated or not a dump`);
    else if (toc.entries.length === 0) failures.push(`${file}: the script lists no object`);
  }
  v.archive = { readable: failures.length === before, entries, dumpedBy };
  if (!v.archive.readable) return v;

  const started = Date.now();
  const sdb = await openScratchPglite();
  v.restore = { into: sdb.label, from: 'archive file', schemas: restoredSchemas(manifest.schemas), ms: 0 };
  try {
    await prepareScratch(sdb, manifest.schemas.application, log, { authUsers: await recordedAuthUsers(plain) });
    log.info(`verify: running ${scripts.join(', ')} into ${sdb.label}`);
    for (const file of scripts) {
      const text = texts.get(file);
      await restoreSqlDump(sdb, text === undefined ? path.join(dir, file) : { text }, file);
    }
    v.restore.ms = Date.now() - started;
    await compareRestored(sdb, manifest, v, found);
  } catch (e) {
    // a failing statement is named file:line
    const why = describe(e);
    v.restore.error = why;
    failures.push(`restore into ${sdb.label} failed: ${why}`);
  } finally {
    await sdb.close().catch(() => {});
  }
  v.ok = failures.length === 0 && v.comparison?.ok === true;
  log.info(`verify: ${v.ok ? 'the restored copy equals the source' : `FAILED (${failures.length} problem(s))`}`);
  return v;
}
