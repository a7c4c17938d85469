import { mkdir, readdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../../errors.js';
import { asWriteFailure } from '../../write-error.js';
import type { Logger } from '../../logger.js';
import { CHECKSUM_ALGORITHM } from '../../db/checksum.js';
import { COMPRESSION_PATTERN, urlOf } from '../../db/dump.js';
import { findPgTool } from '../../db/pg-tools.js';
import type { Db } from '../../db/types.js';
import { projectRefOf } from '../environment.js';
import { parseRecipients } from '../../crypto/age.js';
import { encryptBackup, plaintextWorkDir, removeWorkDir } from './encrypt.js';
import { checkFileHashes, MANIFEST_FORMAT, writeManifest, writeVerification } from './manifest.js';
import { openScratch } from './scratch.js';
import { takeEmbeddedSnapshot } from './take-embedded.js';
import { takePgSnapshot } from './take-pg.js';
import type { TakenSnapshot } from './taken.js';
import { verifyAgainstRestore } from './verify.js';
import type { Manifest, Verification } from '../../results/backup.js';

export { verifyBackup } from './verify.js';

/**
 * Runbook 3.1 / 4.2, "aucune modification PROD sans dump vérifié". One REPEATABLE READ
 * transaction exports its snapshot; pg_dump dumps that snapshot while the same transaction
 * reads the table checksums, the two functions, the three table snapshots, the auth.users rows
 * the application references and the catalog fingerprint, so every file describes one instant.
 * Then, always, the proof: the archive is restored into a scratch database and compared.
 *
 * The freeze window is the depot's downtime, so on PostgreSQL the proof overlaps the dump:
 * pg_dump's output goes to the archive file and, byte for byte, into a pg_restore of the scratch
 * database; each restored table is checksummed as soon as its data is in, while the next one
 * loads, and the three CSV snapshots are written from that copy once its primary keys are built
 * (so the source is read by pg_dump and the checksums only; take-pg.ts). The archive file is then
 * proven to be those bytes (its SHA-256 re-read from disk), its table of contents read and every
 * block of it decompressed. `backup verify` restores the file itself, any time later.
 *
 * The embedded database (PGlite) takes the same reads and the same proof with its own dump
 * tool (plain SQL, restored into a fresh in-memory PGlite); the manifest says which made it.
 *
 * With recipients (`encryptTo`), all of it happens in a private temporary folder and only the
 * ciphertext of the files holding rows reaches `outDir` (encrypt.ts).
 */
export interface BackupOptions {
  outDir: string;
  /** an empty database to restore into; default: one created (and dropped) on the source's server */
  scratchUrl?: string;
  /** how long the snapshot reads and pg_dump wait for a table lock (default 60 s) */
  lockTimeoutMs?: number;
  /** pg_dump --compress (default DEFAULT_COMPRESSION) */
  compress?: string;
  /** age recipients (age1…; a value may hold several, newline or comma separated): the data files reach outDir encrypted only */
  encryptTo?: readonly string[];
  /** where the plaintext is taken and verified before it is encrypted (default RUNNER_TEMP, else the system's temporary folder) */
  tempDir?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * Tests only: called once the output folder exists, empty, before anything is written into
   * it, to put a failing file where the backup will write one (a link to /dev/full) where no
   * small file system can be mounted.
   */
  onOutDir?: (dir: string) => Promise<void>;
  /**
   * Failure drills only (`rehearse --drill corrupt-dump`): called once the dump and the manifest
   * are written and before the proof, as a disk or a hand could damage the file then.
   */
  beforeProof?: (dir: string, dumpFile: string) => Promise<void>;
}

export interface BackupResult {
  dir: string;
  manifest: Manifest;
  verification: Verification;
  ok: boolean;
  ms: { snapshot: number; verify: number; total: number };
  warnings: string[];
}

const LOCAL_HOSTS = new Set(['', 'localhost', '127.0.0.1', '::1', '[::1]']);

export function sourceHost(url: string): string {
  try {
    return new URL(url).hostname || 'localhost (socket)';
  } catch {
    return 'unknown';
  }
}

async function prepareOutDir(outDir: string, work?: string): Promise<string> {
  const dir = path.resolve(outDir);
  const existing = await readdir(dir).catch(() => undefined);
  if (existing && existing.length > 0) {
    throw new UserError('OUT_DIR_NOT_EMPTY', `${dir} is not empty; a backup goes into a new folder`, { where: { field: 'out' } });
  }
  await mkdir(dir, { recursive: true }).catch((e: unknown) => {
    throw asWriteFailure(e, dir);
  });
  for (const sub of ['functions', 'tables']) {
    const at = path.join(work ?? dir, sub);
    await mkdir(at, { recursive: true }).catch((e: unknown) => {
      throw asWriteFailure(e, at);
    });
  }
  return dir;
}

export async function backup(db: Db, opts: BackupOptions, log: Logger): Promise<BackupResult> {
  const t0 = Date.now();
  const startedAt = new Date().toISOString();
  const embedded = db.kind === 'pglite';
  const url = embedded ? undefined : urlOf(db);
  const server = await db.server();
  const env = opts.env ?? process.env;
  if (opts.compress !== undefined && !COMPRESSION_PATTERN.test(opts.compress)) {
    throw new UserError(
      'BAD_OPTION',
      `--compress ${opts.compress}: expected a level 0-9, or on pg_dump 16+ gzip|lz4|zstd[:level] or none`,
      { where: { field: 'compress' } },
    );
  }
  const recipients = parseRecipients(opts.encryptTo ?? []);
  // both clients are needed: find them before anything is written
  const restoreTool = url ? await findPgTool('pg_restore', server.major, env) : undefined;
  if (url) await findPgTool('pg_dump', server.major, env);
  const lockTimeoutMs = opts.lockTimeoutMs ?? 60_000;
  const work = recipients.length ? await plaintextWorkDir(opts.tempDir, env) : undefined;
  try {
    const dir = await prepareOutDir(opts.outDir, work);
    await opts.onOutDir?.(dir);
    log.info(
      `backup: ${db.label} (${embedded ? 'PGlite' : 'PostgreSQL'} ${server.version}) → ${dir}${work ? ` (data files age-encrypted to ${recipients.length} recipient(s); plaintext only in ${work} until then)` : ''}`,
    );
    return await takeAndVerify(db, { ...opts, dir, work, recipients, url, server, env, lockTimeoutMs, restoreTool, t0, startedAt }, log);
  } finally {
    if (work) await removeWorkDir(work, log);
  }
}

async function takeAndVerify(
  db: Db,
  ctx: BackupOptions & {
    dir: string;
    /** the private plaintext folder of an encrypted backup, else undefined (everything goes to dir) */
    work: string | undefined;
    recipients: string[];
    url: string | undefined;
    server: { version: string; major: number };
    env: NodeJS.ProcessEnv;
    lockTimeoutMs: number;
    restoreTool: Awaited<ReturnType<typeof findPgTool>> | undefined;
    t0: number;
    startedAt: string;
  },
  log: Logger,
): Promise<BackupResult> {
  const { dir, url, server, env, lockTimeoutMs, restoreTool, t0 } = ctx;
  const at = ctx.work ?? dir;
  // the scratch database is created while the snapshot's first reads run
  const scratch = url
    ? openScratch(url, ctx.scratchUrl).then((x) => {
        log.info(`backup: the proof restores into ${x.label}`);
        return x;
      })
    : undefined;
  scratch?.catch(() => {}); // awaited below; an early failure elsewhere must not leave it unhandled
  let taken: TakenSnapshot | undefined;
  try {
    taken =
      url && scratch && restoreTool
        ? await takePgSnapshot(
            db,
            { url, serverMajor: server.major, dir: at, lockTimeoutMs, compress: ctx.compress, env, scratch, restoreTool },
            log,
          )
        : await takeEmbeddedSnapshot(db, at, log);
    const { facts, reads } = taken;
    const snapshotMs = Date.now() - t0;
    const main = taken.dumpFiles[0]!;
    log.info(
      `backup: ${main.path} ${main.bytes} bytes (pg_dump ${taken.tool.version}), ${reads.tables.length} tables checksummed in ${snapshotMs} ms`,
    );

    const host = url ? sourceHost(url) : 'localhost (embedded, in process)';
    const sameHost = !url || LOCAL_HOSTS.has(host) || host === os.hostname();
    const manifest: Manifest = {
      format: MANIFEST_FORMAT,
      startedAt: ctx.startedAt,
      finishedAt: new Date().toISOString(),
      source: {
        label: db.label,
        database: taken.identity.database,
        host,
        serverVersion: server.version,
        serverMajor: server.major,
        systemIdentifier: taken.identity.systemIdentifier,
        databaseOid: taken.identity.databaseOid,
        projectRef: (url && projectRefOf(url)) ?? null,
      },
      written: { host: os.hostname(), dir, sameHostAsDatabase: sameHost },
      snapshot: taken.snapshot,
      dump: taken.dump,
      tools: { pg_dump: taken.tool },
      schemas: facts.schemas,
      files: [...taken.dumpFiles, ...facts.files, ...(reads.authUsers.file ? [reads.authUsers.file] : []), ...reads.csvFiles],
      checksumAlgorithm: CHECKSUM_ALGORITHM,
      tables: reads.tables,
      functions: facts.functions,
      authUsers: reads.authUsers.entry,
      fingerprint: reads.fingerprint,
      structure: reads.structure,
      encryption: null,
    };
    // in clear, the manifest is written before the proof: a folder whose proof never ended has no verification.json
    const manifestSha256 = ctx.work ? '' : await writeManifest(dir, manifest);
    await ctx.beforeProof?.(at, manifest.dump.file);
    const warnings: string[] = [];
    // the embedded database is a laptop rehearsal: there is no PROD server to keep the dump off
    if (url && sameHost) {
      warnings.push(
        `the dump was written on the database's own host (${host}); runbook 4.2 wants it stored off the PROD server: copy the folder elsewhere (the workflow uploads it as an artifact)`,
      );
    }
    for (const w of warnings) log.warn(`backup: ${w}`);

    const t1 = Date.now();
    let verification = await verifyAgainstRestore(
      at,
      manifest,
      manifestSha256,
      { env, ...(taken.streamed ? { streamed: taken.streamed } : {}) },
      log,
    );
    let final = manifest;
    if (ctx.work) {
      // the proof read the plaintext; now the ciphertext goes to dir, bound to it in the manifest, re-hashed from disk
      final = await encryptBackup(ctx.work, dir, manifest, ctx.recipients, log);
      const sha256 = await writeManifest(dir, final);
      const { hashes, files } = await checkFileHashes(dir, final);
      const failures = [...verification.failures, ...hashes.problems.map((p) => `${p.path}: ${p.problem}`)];
      verification = { ...verification, manifestSha256: sha256, hashes, files, failures, ok: verification.ok && hashes.ok };
    }
    await writeVerification(dir, verification);
    return {
      dir,
      manifest: final,
      verification,
      ok: verification.ok,
      ms: { snapshot: snapshotMs, verify: Date.now() - t1, total: Date.now() - t0 },
      warnings,
    };
  } finally {
    // the streamed restore outlives takePgSnapshot; a failure after it (a full disk at
    // manifest.json) must not leave pg_restore writing into a scratch that is being dropped
    taken?.streamed?.kill();
    await taken?.streamed?.outcome;
    await (await scratch?.catch(() => undefined))?.release(log);
  }
}
