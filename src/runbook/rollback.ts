import path from 'node:path';
import { Readable } from 'node:stream';
import type { PublicKey } from '../crypto/signing.js';
import { UserError } from '../errors.js';
import type { AgeIdentities } from '../crypto/age.js';
import type { Logger } from '../logger.js';
import { lockPipeline } from '../db/advisory-lock.js';
import { quoteIdent, readTableKeys, tablesChecksums, type TableKey } from '../db/checksum.js';
import { listArchive, urlOf, type TocEntry } from '../db/dump.js';
import { PIPELINE_PREFIX } from '../db/fingerprint.js';
import { readSqlDumpToc, runSqlDumpInSession } from '../db/pglite-dump.js';
import { resetScriptSettings, restoreArchiveInSession } from '../db/restore-script.js';
import type { Db, Queryable } from '../db/types.js';
import type { Manifest } from '../results/backup.js';
import type { DiscardedRows, RollbackResult, UndoneChange } from '../results/rollback.js';
import { runContextFrom, type RunContext } from '../results/run-context.js';
import { assertVerifiedBackup } from './backup/manifest.js';
import { assertGoOfBackup } from './go-bundle.js';
import { BackupPlaintext } from './backup/plaintext.js';
import { readSourceIdentity } from './backup/source-reads.js';
import { projectRefOf } from './environment.js';
import { compareWithManifest, describeMismatches } from './backup/compare.js';
import { freezeInTransaction, reassertFreeze } from './freeze.js';
import { ensureStateSchema, stateExists } from './state-schema.js';
import { STEP_TIMEOUT_DEFAULTS, type StepTimeouts } from './timeouts.js';
import { maxOf, minOf } from '../lists.js';
import { discardedOf, exportSince, finishLateRollback, stockLines, type SinceBackup } from './late-rollback/index.js';

/**
 * Runbook 6.2: "désactiver toute saisie", "restaurer dump complet PROD", then "vérifier
 * stocks_journaliers, sorties_produit, receptions cohérents". Only from a verified, unchanged
 * backup of THIS database. Only the application schemas are restored (never auth, storage or any
 * other Supabase-managed schema, nor the pipeline's own records).
 *
 * Everything happens in ONE transaction on one connection, under the pipeline's lock, with
 * bounded waits: the freeze (set here if it was not on), a note of every table whose content
 * differs from the backup, the restore itself (pg_restore only writes the archive's SQL; it runs
 * on our session), the freeze put back on the recreated tables, the proof that every table,
 * function, trigger, policy and the structure equal the backup, and the change files marked
 * undone. The proof comes BEFORE COMMIT: if it fails, or a lock cannot be had, or anything
 * breaks, the transaction rolls back and the database is exactly as it was.
 *
 * No DB-STRICT protection is disabled: the archived tables are dropped and recreated, their rows
 * loaded by COPY into tables that have no trigger yet, and the triggers created afterwards
 * (FACTS §1.12 item 7). No allow-write flag, no session_replication_role, no DISABLE TRIGGER.
 * The archive's own order proves it, and the result records that proof.
 */
export interface RollbackOptions extends Partial<StepTimeouts> {
  backupDir: string;
  /** recorded with the freeze and the ledger entries the rollback changes; default from the environment */
  run?: RunContext;
  /** restore a backup of another database (e.g. a PROD dump into a copy of PROD): the reason, recorded */
  allowOtherSource?: string;
  /** the depot's age identity: an encrypted backup is decrypted as it is restored, its plaintext hash checked before COMMIT */
  identity?: AgeIdentities;
  env?: NodeJS.ProcessEnv;
  /**
   * The results folder: the movements made since the backup are exported into its late-rollback/
   * folder before COMMIT (encrypted to the backup's recipients when it has any). Without it they
   * are still listed in rollback.json, but not exported, and --replay is refused.
   */
  resultsDir?: string;
  /** after the proven restore, re-enter every exported movement through the app's paths (late-rollback/replay.ts) */
  replay?: boolean;
  /**
   * A late rollback's GO: that run's evidence bundle, which must verify (signed by the depot with
   * publicKey), record GO and hold this backup's manifest; checked before the target is touched.
   */
  goBundle?: { file: string; publicKey?: PublicKey };
}

export const ROLLBACK_TODOS = [
  'Runbook 6.2 step 4: redeploy the legacy app build (feature flag ASTM OFF, USE_ASTM53B_15C=false) and record its commit',
  'Runbook 6.2 step 5: inform the depot team (équipe terrain) that entries are back on the legacy computation',
  'Runbook 6.2 step 1: entries stay frozen until both are done; then lift the freeze (astm53b freeze off)',
  'Runbook 6.3: log the incident, document the root cause, update the runbook; no new deployment before the audit',
];

/** Every TABLE DATA entry precedes every TRIGGER entry: COPY ran before any trigger existed. */
export function triggersAfterData(entries: readonly TocEntry[]): { ok: boolean; tableData: number; triggers: number } {
  const data = entries.map((e, i) => (e.type === 'TABLE DATA' ? i : -1)).filter((i) => i >= 0);
  const triggers = entries.map((e, i) => (e.type === 'TRIGGER' ? i : -1)).filter((i) => i >= 0);
  const ok = data.length === 0 || triggers.length === 0 || maxOf(data) < minOf(triggers);
  return { ok, tableData: data.length, triggers: triggers.length };
}

const PG_RESTORE_NOTE =
  'the archive ran through the pipeline session (pg_restore only wrote its SQL) without --disable-triggers, session_replication_role, DISABLE TRIGGER or any allow-write setting; tables were dropped, recreated, loaded, then their triggers created: no write guard was set or bypassed';
const SQL_DUMP_NOTE =
  "the plain SQL dump ran in one transaction (the rollback's) without session_replication_role, DISABLE TRIGGER or any allow-write setting; tables were dropped, recreated, loaded, then their triggers created: no write guard was set or bypassed";

/** Refuses a backup made by the other engine before anything is touched. */
function assertSameEngine(db: Db, manifest: Manifest): void {
  const embedded = db.kind === 'pglite';
  if (embedded === (manifest.dump.engine === 'pglite')) return;
  throw new UserError(
    'ENGINE_MISMATCH',
    `the backup was made on ${manifest.dump.engine === 'pglite' ? 'the embedded database (PGlite, plain SQL)' : 'PostgreSQL (pg_dump custom archive)'}; ${db.label} is ${embedded ? 'the embedded database' : 'a PostgreSQL server'}`,
    { hint: embedded ? 'pass --url of the server the backup was taken from' : 'run the rollback without --url, on the embedded database' },
  );
}

/**
 * The backup must be of this very database: a rollback restores PROD's own dump. What the
 * manifest recorded of its source (cluster system identifier where the role could read it,
 * database OID and name, Supabase project) is compared with the target before anything is touched.
 */
async function assertSameSource(
  db: Db,
  manifest: Manifest,
  url: string | undefined,
  override: string | undefined,
): Promise<RollbackResult['source']> {
  const now = await db.withTransaction((tx) => readSourceIdentity(tx), { readOnly: true });
  const src = manifest.source;
  const projectRef = url ? (projectRefOf(url) ?? null) : null;
  const differences: string[] = [];
  const sameCluster = src.systemIdentifier !== null && now.systemIdentifier !== null ? src.systemIdentifier === now.systemIdentifier : null;
  if (sameCluster === false) differences.push(`cluster ${src.systemIdentifier}, the target's is ${now.systemIdentifier}`);
  if (src.projectRef && projectRef && src.projectRef !== projectRef)
    differences.push(`Supabase project ${src.projectRef}, the target is ${projectRef}`);
  if (src.databaseOid !== now.databaseOid || src.database !== now.database) {
    differences.push(`database "${src.database}" (OID ${src.databaseOid}), the target is "${now.database}" (OID ${now.databaseOid})`);
  }
  const matched = [
    `database "${now.database}" (OID ${now.databaseOid})`,
    sameCluster ? `cluster ${now.systemIdentifier}` : 'cluster identifier not readable',
    ...(projectRef ? [`project ${projectRef}`] : []),
  ].join(', ');
  if (!differences.length) return { matched, override: null };
  const what = `the backup is of another database: ${differences.join('; ')}`;
  if (override?.trim()) return { matched: `NOT the backup's source (${what})`, override: override.trim() };
  throw new UserError('BACKUP_OF_ANOTHER_DATABASE', `refusing to restore: ${what}`, {
    hint: 'restore a backup of this database; to load a PROD dump into a copy of PROD on purpose, pass --allow-other-source "why" (recorded)',
  });
}

/** Tables whose count or checksum differs from the backup's: the ones the restore will change. */
async function tablesThatDiffer(tx: Queryable, manifest: Manifest): Promise<TableKey[]> {
  const keys = await readTableKeys(tx, manifest.schemas.application, PIPELINE_PREFIX);
  const sums = await tablesChecksums(tx, keys);
  return keys.filter((k) => {
    const now = sums.find((s) => s.table === `${k.schema}.${k.table}`);
    const then = manifest.tables.find((t) => t.table === `${k.schema}.${k.table}`);
    return !then || !now || then.rows !== now.rows || then.checksum !== now.checksum;
  });
}

const copyName = (i: number) => `astm53b_before_${i}`;

/** Keeps a copy of each differing table (temporary, dropped at commit) to say afterwards what the restore discarded. */
async function keepCopies(tx: Queryable, tables: readonly TableKey[]): Promise<void> {
  for (const [i, t] of tables.entries()) {
    await tx.query(`CREATE TEMP TABLE ${copyName(i)} ON COMMIT DROP AS TABLE ${quoteIdent(t.schema)}.${quoteIdent(t.table)}`);
  }
}

/** The change files applied after the backup was taken: the restore undid them. */
async function markUndone(tx: Queryable, manifest: Manifest, dir: string, run: RunContext): Promise<UndoneChange[]> {
  if (!(await stateExists(tx))) return [];
  const r = await tx.query<{ file_name: string; sha256: string; applied_at: string; run_id: string }>(
    `UPDATE astm53b.apply_ledger SET state = 'undone', undone_at = now(), undone_by = $2, undone_run_id = $3, undone_reason = $4
      WHERE state = 'applied' AND applied_at > $1::timestamptz
      RETURNING file_name, sha256, applied_at::text, run_id`,
    [manifest.startedAt, run.actor, run.runId, `rollback to the backup taken ${manifest.startedAt} (${path.basename(dir)})`],
  );
  for (const u of r.rows) {
    await tx.query(
      `INSERT INTO astm53b.apply_log (file_name, sha256, action, by_whom, run_id, detail) VALUES ($1, $2, 'undone', $3, $4, $5)`,
      [u.file_name, u.sha256, run.actor, run.runId, `rollback to the backup taken ${manifest.startedAt}`],
    );
  }
  return r.rows.map((u) => ({ fileName: u.file_name, sha256: u.sha256, appliedAt: u.applied_at, runId: u.run_id }));
}

class ProofFailed extends Error {}

export async function rollback(db: Db, opts: RollbackOptions, log: Logger): Promise<RollbackResult> {
  const t0 = Date.now();
  const run = opts.run ?? runContextFrom(opts.env ?? process.env);
  const dir = path.resolve(opts.backupDir);
  const settings = {
    lockTimeoutMs: opts.lockTimeoutMs ?? STEP_TIMEOUT_DEFAULTS.lockTimeoutMs,
    statementTimeoutMs: opts.statementTimeoutMs ?? 15 * 60_000,
    lockWaitMs: opts.lockWaitMs ?? STEP_TIMEOUT_DEFAULTS.lockWaitMs,
  };
  // the gates come first: nothing touches the target unless the backup is verified, intact and its own
  if (opts.replay && !opts.resultsDir)
    throw new UserError(
      'REPLAY_NEEDS_EXPORT',
      'a replay re-enters the movements the rollback exported: give the results folder (--out) too',
      {
        where: { field: 'replay' },
      },
    );
  const manifest = await assertVerifiedBackup(dir);
  const goRun = opts.goBundle ? await assertGoOfBackup(opts.goBundle.file, dir, opts.goBundle.publicKey) : undefined;
  if (goRun) log.info(`the backup is the one the GO of ${goRun.runId} recorded (bundle ${goRun.bundleSha256.slice(0, 12)}…)`);
  assertSameEngine(db, manifest);
  // a wrong or missing identity is refused here, on the archive's header, before the target is read
  const plaintext = await BackupPlaintext.open(dir, manifest, opts.identity, log);
  const source = await assertSameSource(db, manifest, db.kind === 'pg' ? urlOf(db) : undefined, opts.allowOtherSource);
  const plain = manifest.dump.format === 'plain';
  const env = opts.env ?? process.env;
  const server = await db.server();
  const schemas = manifest.schemas.application;
  const archive = plaintext.input(manifest.dump.file);
  // an encrypted plain script is decrypted whole and its hash checked before a statement of it runs
  const script = plain && plaintext.encrypted ? { text: (await plaintext.buffer(manifest.dump.file)).toString('utf8') } : undefined;
  const toolMajor = Math.max(server.major, manifest.source.serverMajor);
  const warnings: string[] = source.override ? [`restoring a backup of another database on purpose: ${source.override}`] : [];
  const failures: string[] = [];

  let entries: TocEntry[];
  if (plain) {
    const toc = await readSqlDumpToc(script ? Readable.from([script.text]) : (archive as string));
    if (!toc.complete) failures.push(`${manifest.dump.file}: pg_dump's closing line is missing`);
    entries = toc.entries;
  } else {
    entries = (await listArchive({ file: archive, serverMajor: toolMajor, schemas, env })).entries;
  }
  const order = triggersAfterData(entries);
  if (!order.ok) failures.push('the archive creates a trigger before loading table data; restoring it could fire DB-STRICT guards');

  const base = {
    target: db.label,
    run: run,
    backupDir: dir,
    backupTakenAt: manifest.finishedAt,
    source,
    restoredSchemas: schemas,
    notRestored: [...manifest.schemas.excluded, ...manifest.schemas.pipeline],
    settings,
    protections: {
      triggersCreatedAfterData: order.ok,
      tableDataEntries: order.tableData,
      triggerEntries: order.triggers,
      note: plain ? SQL_DUMP_NOTE : PG_RESTORE_NOTE,
    },
    todos: [...ROLLBACK_TODOS],
  };
  if (failures.length) {
    return {
      ...base,
      ok: false,
      committed: false,
      ms: { restore: 0, proof: 0, total: Date.now() - t0 },
      at: new Date().toISOString(),
      freeze: { frozenBefore: false, frozenAfter: false, frozenByRollback: false, guardedTables: 0 },
      discarded: [],
      undone: [],
      comparison: null,
      failures,
      warnings,
    };
  }

  /** the dump run on the rollback's session; a statement the target refuses stops it with what it said */
  const restore = async (c: Queryable) => {
    try {
      if (plain) await runSqlDumpInSession(c, script ?? (archive as string), manifest.dump.file);
      else await restoreArchiveInSession(c, { file: archive, serverMajor: toolMajor, schemas, env });
    } catch (e) {
      const sql = e as { code?: string; message?: string };
      // the decrypted archive is not the one the backup verified: nothing of it may be committed
      if (e instanceof UserError && e.code === 'BACKUP_TAMPERED')
        throw new UserError(e.code, `${e.message}; rolled back, the database is exactly as it was`, { where: e.where ?? {}, cause: e });
      if (e instanceof UserError || typeof sql.code !== 'string' || !/^[0-9A-Z]{5}$/.test(sql.code)) throw e;
      throw new UserError(
        'RESTORE_FAILED',
        `restoring ${manifest.dump.file} (${plain ? 'plain SQL dump' : 'pg_restore script'}) failed: [${sql.code}] ${sql.message}; rolled back, the database is exactly as it was`,
        {
          hint:
            sql.code === '2BP01'
              ? 'an object outside the restored schemas depends on a table of the backup: drop it, or restore by hand'
              : undefined,
          cause: e,
        },
      );
    }
  };
  log.info(`rollback: restoring ${schemas.join(', ')} of ${db.label} from ${dir} (taken ${manifest.finishedAt}), in one transaction`);
  let restoreMs = 0;
  let proofMs = 0;
  let freeze: RollbackResult['freeze'] = { frozenBefore: false, frozenAfter: false, frozenByRollback: false, guardedTables: 0 };
  let discarded: DiscardedRows[] = [];
  let since: SinceBackup | undefined;
  let undone: UndoneChange[] = [];
  let comparison: RollbackResult['comparison'] = null;
  let committed = false;
  try {
    await db.withClient(
      async (c) => {
        await c.query('BEGIN');
        try {
          await c.query(`SET LOCAL statement_timeout = ${settings.statementTimeoutMs}`);
          await lockPipeline(c, 'change', settings.lockWaitMs, settings.lockTimeoutMs, 'rollback');
          // runbook 6.2 step 1: no entry while the dump goes back, and none after until people say so
          await ensureStateSchema(c, log, settings.lockTimeoutMs);
          const wasFrozen = (await c.query<{ f: boolean }>('SELECT coalesce((SELECT frozen FROM astm53b.freeze_state), false) AS f'))
            .rows[0]!.f;
          if (!wasFrozen) {
            await freezeInTransaction(c, { reason: `rollback to the backup taken ${manifest.finishedAt}`, run: run, forced: false }, log);
            log.warn('rollback: the database was not frozen; frozen now (runbook 6.2 step 1), and it stays frozen');
          }
          const differing = await tablesThatDiffer(c, manifest);
          await keepCopies(c, differing);
          const stockBefore = await stockLines(c);
          const t1 = Date.now();
          await restore(c);
          await resetScriptSettings(c);
          const after = await reassertFreeze(c);
          restoreMs = Date.now() - t1;
          freeze = { frozenBefore: wasFrozen, frozenAfter: after.frozen, frozenByRollback: !wasFrozen, guardedTables: after.tables };
          const t2 = Date.now();
          comparison = await compareWithManifest(c, manifest);
          proofMs = Date.now() - t2;
          if (!comparison.ok) throw new ProofFailed();
          since = await exportSince(
            c,
            differing.map((key, i) => ({ key, copy: copyName(i) })),
            { resultsDir: opts.resultsDir, recipients: manifest.encryption?.recipients ?? null, stockBefore, env },
            log,
          );
          discarded = discardedOf(since.since, (t) => manifest.tables.find((x) => x.table === t)?.rows ?? 0);
          undone = await markUndone(c, manifest, dir, run);
          await c.query('COMMIT');
          committed = true;
        } catch (e) {
          await c.query('ROLLBACK').catch(() => {});
          throw e;
        }
      },
      { discard: true },
    );
  } catch (e) {
    if (!(e instanceof ProofFailed)) throw e;
    describeMismatches(comparison!, failures);
    failures.unshift('the restored database did not equal the backup: rolled back, the database is exactly as it was before the rollback');
  }
  for (const d of discarded) {
    if (d.writtenSince || d.changedSince || d.deletedSince) {
      log.warn(
        `rollback: ${d.table}: ${d.writtenSince} row(s) written since the backup discarded, ${d.changedSince} changed row(s) back to the backup, ${d.deletedSince} deleted row(s) back`,
      );
    }
  }
  for (const u of undone) log.info(`rollback: ${u.fileName} (applied ${u.appliedAt}, run ${u.runId}) marked undone in the ledger`);
  const ok = committed && failures.length === 0;
  const lateRollback = ok && since ? await finishLateRollback(db, since, opts.replay ?? false, log) : undefined;
  log.info(
    `rollback: ${ok ? `restored and proven equal to the backup in ${restoreMs} ms; entries stay frozen` : `FAILED: ${failures[0]}`}`,
  );
  for (const w of warnings) log.warn(`rollback: ${w}`);
  return {
    ...base,
    ok,
    committed,
    ms: { restore: restoreMs, proof: proofMs, total: Date.now() - t0 },
    at: new Date().toISOString(),
    freeze,
    discarded,
    undone,
    comparison,
    failures,
    warnings,
    ...(lateRollback ? { lateRollback } : {}),
    ...(goRun ? { goRun } : {}),
  };
}
