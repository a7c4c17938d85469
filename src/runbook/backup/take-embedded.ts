import path from 'node:path';
import type { Logger } from '../../logger.js';
import { PGLITE_DUMP_TOOL, asEmbedded, readSqlDumpToc, withEmbeddedHold } from '../../db/pglite-dump.js';
import type { Db } from '../../db/types.js';
import { PIPELINE_DUMP_FILE, SQL_DUMP_FILE } from './manifest.js';
import { readSnapshot, readSourceFacts, readSourceIdentity } from './source-reads.js';
import type { TakenSnapshot } from './taken.js';
import type { ManifestFile } from '../../results/backup.js';

/**
 * The embedded database: the PGlite dump tool writes plain SQL of the application schemas
 * (with DROP … IF EXISTS first, so the same script restores a fresh copy and rolls back the
 * target) and, apart, of the pipeline schema. PGlite's single backend is held from the first
 * read to the last dump, so nothing writes in between.
 */
export async function takeEmbeddedSnapshot(db: Db, dir: string, log: Logger): Promise<TakenSnapshot> {
  return withEmbeddedHold(asEmbedded(db), async (hold) => {
    // COPY into a blob and the reads share one transaction; the dump tool cannot run inside one
    await hold.q.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const identity = await readSourceIdentity(hold.q);
    const facts = await readSourceFacts(hold.q, dir);
    const reads = await readSnapshot(hold.q, facts, dir, log);
    await hold.q.query('COMMIT');
    const main = await hold.dump({ file: path.join(dir, SQL_DUMP_FILE), schemas: facts.schemas.application, clean: true });
    const dumpFiles: ManifestFile[] = [{ path: SQL_DUMP_FILE, kind: 'archive', ...main, plaintext: null }];
    if (facts.schemas.pipeline.length) {
      const pipeline = await hold.dump({ file: path.join(dir, PIPELINE_DUMP_FILE), schemas: facts.schemas.pipeline, clean: false });
      dumpFiles.push({ path: PIPELINE_DUMP_FILE, kind: 'archive', ...pipeline, plaintext: null });
    }
    const toc = await readSqlDumpToc(path.join(dir, SQL_DUMP_FILE));
    const consistency = 'the single PGlite backend was held from the first read to the last dump: nothing could write in between';
    log.info(`backup: ${SQL_DUMP_FILE} written by ${PGLITE_DUMP_TOOL} (pg_dump ${toc.dumpedBy ?? '?'}), ${toc.entries.length} entries`);
    return {
      facts,
      reads,
      dumpFiles,
      dump: {
        engine: 'pglite',
        format: 'plain',
        file: SQL_DUMP_FILE,
        schemas: facts.schemas.application,
        pipelineFile: facts.schemas.pipeline.length ? PIPELINE_DUMP_FILE : null,
        compression: null,
        consistency,
      },
      tool: { path: PGLITE_DUMP_TOOL, version: toc.dumpedBy ?? 'unknown' },
      snapshot: 'embedded (single backend held)',
      identity,
    };
  });
}
