import type { TestProject } from 'vitest/node';
import { createSupabaseRoles } from './pg-global-setup.js';
import { Pg17Unavailable, startPg17 } from './pg17-server.js';

/**
 * Runs once before the `pg17` project: its own PostgreSQL 17 (src/testing/pg17-server.ts), the
 * Supabase roles in it, and its URL handed to that project's tests only (the `pg` project runs
 * at the same time against TEST_DATABASE_URL, so the environment is no place for it). In CI a
 * server that cannot be had is a failure; elsewhere the project is skipped and says why.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  let server;
  try {
    server = await startPg17();
  } catch (e) {
    if (e instanceof Pg17Unavailable && !process.env.CI) {
      const why = `no PostgreSQL 17 test server: ${e.message}`;
      console.warn(`pg17: ${why}; the pg17 tests are skipped`);
      project.provide('ownPgServer', { skipped: why });
      return undefined;
    }
    throw new Error(`pg17: the PostgreSQL 17 test server did not start: ${(e as Error).message}`, { cause: e });
  }
  try {
    await createSupabaseRoles(server.url);
  } catch (e) {
    await server.stop();
    throw e;
  }
  console.log(`pg17: ${server.version} on ${server.url}, running as ${server.osUser}`);
  project.provide('ownPgServer', { url: server.url });
  return () => server.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    /** set by a project that brings its own server: its URL, or why there is none */
    ownPgServer?: { url: string } | { skipped: string };
  }
}
