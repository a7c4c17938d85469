import { afterAll, beforeAll, describe, inject } from 'vitest';
import { PgDb } from '../db/pg.js';
import type { Db } from '../db/types.js';
import { createScratchDatabase, type ScratchDatabase } from '../db/scratch.js';
import { silentLogger } from '../logger.js';
import { initFixture } from '../runbook/db-init.js';

/**
 * For `*.pg.test.ts`: a fresh database per test file on the server of TEST_DATABASE_URL, or on
 * the server the project's global setup started (the `pg17` project), dropped afterwards.
 * Outside CI, without a server, the file is reported as skipped (and says why); in CI the
 * global setup has already failed the run.
 */
const own = inject('ownPgServer');
export const TEST_DATABASE_URL = own ? ('url' in own ? own.url : undefined) : process.env.TEST_DATABASE_URL;

export const describePg = TEST_DATABASE_URL ? describe : describe.skip;
if (!TEST_DATABASE_URL && !process.env.CI) {
  console.warn(`${own && 'skipped' in own ? own.skipped : 'TEST_DATABASE_URL is not set'}: real-PostgreSQL tests are skipped`);
}

export interface PgFixture {
  scratch: ScratchDatabase;
  db: PgDb;
}

/** Registers beforeAll/afterAll for a fresh database; `fixture: true` also runs `db init`. */
export function useFreshDatabase(purpose: string, opts: { fixture?: boolean; scale?: number } = {}): () => PgFixture {
  let state: PgFixture | undefined;
  beforeAll(async () => {
    const scratch = await createScratchDatabase(TEST_DATABASE_URL!, purpose);
    const db = new PgDb(scratch.url);
    state = { scratch, db };
    if (opts.fixture) await initFixture(db, { scale: opts.scale ?? 1, seed: 1 }, silentLogger);
  });
  afterAll(async () => {
    if (!state) return;
    await state.db.close().catch(() => {});
    await state.scratch.drop();
  });
  return () => {
    if (!state) throw new Error('the fresh database is not ready (beforeAll failed?)');
    return state;
  };
}

/**
 * A transaction that runs `statement` (a lock, a read) and stays open until released, as an app
 * stuck mid-entry or a session holding a lock would: what another session sees meanwhile.
 */
export async function holdOpenTransaction(db: Db, statement: string): Promise<{ release(): Promise<void> }> {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let started!: () => void;
  const ready = new Promise<void>((r) => (started = r));
  const session = db.withClient(async (c) => {
    await c.query('BEGIN');
    await c.query(statement);
    started();
    await held;
    await c.query('ROLLBACK');
  });
  await Promise.race([ready, session]);
  return {
    release: async () => {
      release();
      await session;
    },
  };
}
