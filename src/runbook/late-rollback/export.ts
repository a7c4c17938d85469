import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AGE_SUFFIX, encryptFile } from '../../crypto/age.js';
import { HashedFileSink } from '../../db/file-sink.js';
import type { Queryable } from '../../db/types.js';
import { hashFile } from '../../hash.js';
import type { Logger } from '../../logger.js';
import type { ExportFile, Movement } from '../../results/late-rollback.js';
import { jsonText } from '../../results/io.js';
import { asWriteFailure } from '../../write-error.js';
import { plaintextWorkDir, removeWorkDir } from '../backup/encrypt.js';
import { sinceSelects, type TableRowsSince } from './since.js';

/** The folder of the export, inside the results folder. */
export const LATE_ROLLBACK_DIR = 'late-rollback';
export const MOVEMENTS_FILE = 'movements.json';

/** One CSV per table, in PostgreSQL's own CSV: a first column says whether the row was written, changed (both versions) or deleted since. */
async function csvSelect(tx: Queryable, t: TableRowsSince): Promise<string> {
  if (!t.restored) return `SELECT 'written'::text AS astm53b_since, b.* FROM ${t.copy} b`;
  const cols = (
    await tx.query<{ c: string }>(
      `SELECT string_agg(format('y.%I', attname), ', ' ORDER BY attnum) AS c FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`,
      [t.copy],
    )
  ).rows[0]!.c;
  const q = sinceSelects(t);
  const part = (label: string, sql: string, o: number) =>
    `SELECT ${o} AS astm53b_part, row_number() OVER () AS astm53b_n, '${label}'::text AS astm53b_since, x.* FROM (${sql}) x`;
  return `SELECT y.astm53b_since, ${cols} FROM (${[
    part('written', q.written, 1),
    part('changed: before the rollback', q.changedNow, 2),
    part('changed: in the backup', q.changedThen, 3),
    part('deleted', q.deleted, 4),
  ].join(' UNION ALL ')}) y ORDER BY astm53b_part, astm53b_n`;
}

/**
 * Writes the export before the restore is committed, from the rollback's own transaction: a CSV
 * per table with rows since the backup, and movements.json (the movements with their figures and
 * every row since as JSON). With recipients (the backup's: the export holds the same kind of data
 * as the dump) each file is written in a private temporary folder, encrypted into `outDir` and its
 * plaintext deleted, so `outDir` only ever receives ciphertext. A file that cannot be written
 * throws, and the rollback rolls back with it: nothing is restored unless its export is on disk.
 */
export async function writeExport(
  tx: Queryable,
  resultsDir: string,
  since: readonly TableRowsSince[],
  movements: readonly Movement[],
  recipients: readonly string[] | null,
  env: NodeJS.ProcessEnv,
  log: Logger,
): Promise<ExportFile[]> {
  const outDir = path.join(resultsDir, LATE_ROLLBACK_DIR);
  await mkdir(outDir, { recursive: true }).catch((e: unknown) => {
    throw asWriteFailure(e, outDir);
  });
  const work = recipients ? await plaintextWorkDir(undefined, env) : outDir;
  const files: ExportFile[] = [];
  try {
    const add = async (name: string, format: 'csv' | 'json', table: string | null, rows: number) => {
      const plain = path.join(work, name);
      const rel = (p: string) => path.posix.join(LATE_ROLLBACK_DIR, p);
      if (!recipients) {
        const d = await hashFile(plain);
        files.push({ path: rel(name), format, table, rows, ...d, plaintext: null });
        return;
      }
      const dest = path.join(outDir, `${name}${AGE_SUFFIX}`);
      const { plain: p, cipher } = await encryptFile(plain, dest, recipients).catch((e: unknown) => {
        throw asWriteFailure(e, dest);
      });
      await rm(plain, { force: true });
      files.push({ path: rel(`${name}${AGE_SUFFIX}`), format, table, rows, ...cipher, plaintext: { path: rel(name), ...p } });
    };
    for (const t of since) {
      if (!t.written.length && !t.changed.length && !t.deleted.length) continue;
      const name = `${t.name}.csv`;
      const sink = new HashedFileSink(path.join(work, name));
      await tx.copyCsvTo(await csvSelect(tx, t), sink);
      await add(name, 'csv', t.name, t.written.length + 2 * t.changed.length + t.deleted.length);
    }
    const json = {
      format: 'astm53b-late-rollback-export/1',
      note: 'every row written, changed or deleted since the backup, by primary key against the backup; movements in the order they were entered',
      movements,
      tables: since.map((t) => ({ table: t.name, key: t.key.key, written: t.written, changed: t.changed, deleted: t.deleted })),
    };
    const file = path.join(work, MOVEMENTS_FILE);
    await writeFile(file, jsonText(json)).catch((e: unknown) => {
      throw asWriteFailure(e, file);
    });
    await add(MOVEMENTS_FILE, 'json', null, movements.length);
  } finally {
    if (recipients) await removeWorkDir(work, log);
  }
  for (const f of files) log.info(`rollback: exported ${f.path} (${f.rows} row(s), SHA-256 ${f.sha256.slice(0, 12)}…)`);
  return files;
}
