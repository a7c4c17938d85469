import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { UserError } from '../errors.js';
import { connectError } from './pg.js';
import { maskConnectionString, secretsOf } from './secrets.js';

/**
 * Scratch databases on a real server: created for a restore test or a test file, dropped
 * afterwards. Only names with our prefix are ever dropped.
 */
export interface ScratchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

export const SCRATCH_PREFIX = 'astm53b_';

export function databaseUrl(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

async function admin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (e) {
    throw connectError(e, maskConnectionString(url), secretsOf(url)) ?? e;
  }
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

export async function createScratchDatabase(serverUrl: string, purpose: string): Promise<ScratchDatabase> {
  const tag = purpose
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .slice(0, 24);
  const name = `${SCRATCH_PREFIX}${tag}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  await admin(serverUrl, async (c) => {
    try {
      await c.query(`CREATE DATABASE "${name}" TEMPLATE template0 ENCODING 'UTF8'`);
      // a scratch copy is thrown away: its commits need not wait for the disk (a speed-up only);
      // its checksums and exports run beside a restore: one process each, no parallel workers
      await c.query(`ALTER DATABASE "${name}" SET synchronous_commit = off`).catch(() => {});
      await c.query(`ALTER DATABASE "${name}" SET max_parallel_workers_per_gather = 0`).catch(() => {});
    } catch (e) {
      throw new UserError(
        'SCRATCH_CREATE',
        `cannot create scratch database ${name} on ${maskConnectionString(serverUrl)}: ${(e as Error).message}`,
        {
          hint: 'the role needs CREATEDB, or pass a scratch URL',
        },
      );
    }
  });
  return {
    name,
    url: databaseUrl(serverUrl, name),
    drop: () => dropScratchDatabase(serverUrl, name),
  };
}

export async function dropScratchDatabase(serverUrl: string, name: string): Promise<void> {
  if (!name.startsWith(SCRATCH_PREFIX)) throw new Error(`refusing to drop ${name}: not a scratch database`);
  await admin(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}
