import path from 'node:path';
import { UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import { listArchive, restoreArchive, urlOf, type TocEntry } from '../db/dump.js';
import { readSqlDumpToc, restoreSqlDump } from '../db/pglite-dump.js';
import type { Db } from '../db/types.js';
import { assertVerifiedBackup } from './backup/manifest.js';
import { compareWithManifest, describeMismatches } from './backup/compare.js';
import type { RollbackResult } from '../results/rollback.js';
import type { Manifest } from '../results/backup.js';
import { maxOf, minOf } from '../lists.js';

/**
 * Runbook 6.2: "restaurer dump complet PROD", then "vérifier stocks_journaliers, sorties_produit,
 * receptions cohérents". Only from a verified, unchanged backup folder. Only the application
 * schemas are restored (never auth, storage or any other Supabase-managed schema), in ONE
 * transaction (pg_restore --single-transaction --clean): a failure leaves the target as it was.
 *
 * No DB-STRICT protection is disabled: the archived tables are dropped and recreated, their rows
 * loaded by COPY into tables that have no trigger yet, and the triggers created afterwards
 * (FACTS §1.12 item 7). No allow-write flag, no session_replication_role, no DISABLE TRIGGER.
 * The archive's own order proves it, and the result records that proof.
 * A backup of the embedded database (plain SQL from the PGlite dump tool, with DROP … IF EXISTS
 * first) is run the same way, in one transaction, on the embedded database only.
 */
export interface RollbackOptions {
  backupDir: string;
  env?: NodeJS.ProcessEnv;
}

export const ROLLBACK_TODOS = [
  'Runbook 6.2 step 4: redeploy the legacy app build (feature flag ASTM OFF, USE_ASTM53B_15C=false) and record its commit',
  'Runbook 6.2 step 5: inform the depot team (équipe terrain) that entries are back on the legacy computation',
  'Runbook 6.2 step 1: keep reception/sortie entry frozen until both are done, then lift the freeze',
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
  'pg_restore ran without --disable-triggers and without session settings; tables were recreated, loaded, then their triggers created: no write guard was set or bypassed';
const SQL_DUMP_NOTE =
  'the plain SQL dump ran in one transaction without session_replication_role, DISABLE TRIGGER or any allow-write setting; tables were dropped, recreated, loaded, then their triggers created: no write guard was set or bypassed';

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

export async function rollback(db: Db, opts: RollbackOptions, log: Logger): Promise<RollbackResult> {
  const dir = path.resolve(opts.backupDir);
  // the gate comes first: nothing touches the target unless the backup is verified and intact
  const manifest = await assertVerifiedBackup(dir);
  assertSameEngine(db, manifest);
  const plain = manifest.dump.format === 'plain';
  const env = opts.env ?? process.env;
  const server = await db.server();
  const schemas = manifest.schemas.application;
  const archive = path.join(dir, manifest.dump.file);
  const toolMajor = Math.max(server.major, manifest.source.serverMajor);

  const warnings: string[] = [];
  const current = await db.query<{ db: string }>('SELECT current_database() AS db');
  if (current.rows[0]?.db !== manifest.source.database) {
    warnings.push(`the backup was taken from database "${manifest.source.database}", the target is "${current.rows[0]?.db}"`);
  }

  const failures: string[] = [];
  let entries: TocEntry[];
  if (plain) {
    const toc = await readSqlDumpToc(archive);
    if (!toc.complete) failures.push(`${manifest.dump.file}: pg_dump's closing line is missing`);
    entries = toc.entries;
  } else {
    entries = (await listArchive({ file: archive, serverMajor: toolMajor, schemas, env })).entries;
  }
  const order = triggersAfterData(entries);
  if (!order.ok) failures.push('the archive creates a trigger before loading table data; restoring it could fire DB-STRICT guards');

  log.info(`rollback: restoring ${schemas.join(', ')} of ${db.label} from ${dir} (taken ${manifest.finishedAt})`);
  const t0 = Date.now();
  if (failures.length === 0) {
    if (plain) await restoreSqlDump(db, archive, manifest.dump.file);
    else
      await restoreArchive({ url: urlOf(db), file: archive, serverMajor: toolMajor, schemas, clean: true, singleTransaction: true, env });
  }
  const restoreMs = Date.now() - t0;

  const t1 = Date.now();
  const comparison = await compareWithManifest(db, manifest);
  describeMismatches(comparison, failures);
  const ok = failures.length === 0 && comparison.ok;
  log.info(`rollback: ${ok ? `restored and proven equal to the backup in ${restoreMs} ms` : `FAILED: ${failures.length} problem(s)`}`);
  for (const w of warnings) log.warn(`rollback: ${w}`);
  return {
    ok,
    target: db.label,
    backupDir: dir,
    backupTakenAt: manifest.finishedAt,
    restoredSchemas: schemas,
    notRestored: [...manifest.schemas.excluded, ...manifest.schemas.pipeline],
    ms: { restore: restoreMs, proof: Date.now() - t1 },
    protections: {
      triggersCreatedAfterData: order.ok,
      tableDataEntries: order.tableData,
      triggerEntries: order.triggers,
      note: plain ? SQL_DUMP_NOTE : PG_RESTORE_NOTE,
    },
    comparison,
    failures,
    warnings,
    todos: [...ROLLBACK_TODOS],
  };
}
