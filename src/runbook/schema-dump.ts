import { UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import { sqlPath } from '../paths.js';
import { schemaExists } from '../db/catalog.js';
import { readSqlFile, runStatements, type SqlRunReport } from '../db/sql-file.js';
import type { SqlStatement } from '../db/sql-split.js';
import type { Db } from '../db/types.js';
import { FIXTURE_FILES, applyShimIfNeeded, dropTransactionControl, isInitialised } from './db-init.js';

/**
 * Loads a `pg_dump -s -n public` of ML_PP (the PROD snapshot of 2026-02-11, written by
 * pg_dump 18.1 from PostgreSQL 17.6) into a plain PostgreSQL ≥ 15 or PGlite, the way FACTS
 * §1.12 verified: shim first, then the dump with three adjustments, then Supabase's grants.
 *  - `\restrict` / `\unrestrict` are psql 18 meta-commands guarding against injected
 *    meta-commands in a dump; a driver runs no meta-commands at all, so they are dropped.
 *  - `SET transaction_timeout` exists only from PostgreSQL 17: dropped on older servers.
 *  - `CREATE SCHEMA public` fails where public exists (every fresh database): dropped then.
 */
export interface DumpLoadResult {
  file: string;
  shimApplied: boolean;
  dropped: { line: number; sql: string; why: string }[];
  reports: SqlRunReport[];
}

export async function loadSchemaDump(db: Db, file: string, displayName: string, log: Logger): Promise<DumpLoadResult> {
  const text = await readSqlFile(file, displayName);
  const { major } = await db.server();
  const dropped: DumpLoadResult['dropped'] = [];
  const reports: SqlRunReport[] = [];
  let shimApplied = false;
  await db.withClient(
    async (c) => {
      if (await isInitialised(c)) {
        throw new UserError('ALREADY_INITIALISED', `${db.label} already has public.receptions; load the dump into an empty database`);
      }
      const publicExists = await schemaExists(c, 'public');
      const filter = (s: SqlStatement): SqlStatement | undefined => {
        const why =
          major < 17 && /^SET\s+transaction_timeout\b/i.test(s.sql)
            ? `transaction_timeout does not exist before PostgreSQL 17 (server ${major})`
            : publicExists && /^CREATE\s+SCHEMA\s+public$/i.test(s.sql)
              ? 'schema public already exists'
              : undefined;
        if (why) {
          dropped.push({ line: s.line, sql: s.sql, why });
          return undefined;
        }
        return s;
      };
      await c.query('BEGIN');
      try {
        const shim = await applyShimIfNeeded(c, log);
        if (shim) {
          reports.push(shim);
          shimApplied = true;
        }
        reports.push(
          await runStatements(c, text, displayName, {
            filter,
            allowMetaCommands: (m) => /^\\(un)?restrict\b/.test(m),
            log,
          }),
        );
        // the dump sets search_path to '' for the session; the grants file names its schema anyway
        await c.query('SET search_path = public');
        const grants = `sql/${FIXTURE_FILES.grants}`;
        reports.push(
          await runStatements(c, await readSqlFile(sqlPath(FIXTURE_FILES.grants), grants), grants, { filter: dropTransactionControl, log }),
        );
        await c.query('COMMIT');
      } catch (e) {
        await c.query('ROLLBACK').catch(() => {});
        throw e;
      }
    },
    { discard: true },
  );
  for (const d of dropped) log.info(`${displayName}:${d.line}: skipped "${d.sql}" (${d.why})`);
  return { file: displayName, shimApplied, dropped, reports };
}
