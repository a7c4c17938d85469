import { PgDb } from '../db/pg.js';
import { createScratchDatabase } from '../db/scratch.js';
import { runSqlFile } from '../db/sql-file.js';
import { sqlPath } from '../paths.js';

/**
 * The Supabase roles are cluster-wide: creating them once per server, before the tests, avoids
 * two test files racing on CREATE ROLE when each loads the shim into its own database.
 */
export async function createSupabaseRoles(url: string): Promise<void> {
  const scratch = await createScratchDatabase(url, 'roles');
  const db = new PgDb(scratch.url);
  try {
    await runSqlFile(db, sqlPath('supabase/shim.sql'), { displayName: 'sql/supabase/shim.sql' });
  } finally {
    await db.close().catch(() => {});
    await scratch.drop();
  }
}

/** Runs once before the `pg` project. In CI a missing TEST_DATABASE_URL is a failure, never a silent skip. */
export default async function setup(): Promise<void> {
  const url = process.env.TEST_DATABASE_URL;
  if (!url) {
    if (process.env.CI) throw new Error('TEST_DATABASE_URL is not set: the pg tests need a real PostgreSQL in CI');
    return;
  }
  await createSupabaseRoles(url);
}
