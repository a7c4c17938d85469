import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTableKeys, tablesChecksums } from '../db/checksum.js';
import { PIPELINE_PREFIX } from '../db/fingerprint.js';
import { PgliteDb } from '../db/pglite.js';
import type { Db } from '../db/types.js';
import { silentLogger } from '../logger.js';
import { expectUserError } from '../testing/command.js';
import { backup } from './backup/index.js';
import { initFixture } from './db-init.js';
import { rollback } from './rollback.js';

/**
 * On the embedded database every cluster's database is "postgres" with the same OID: the cluster's
 * system identifier is all that tells the backup's cluster from another. Each new cluster is loaded
 * from one committed empty cluster (src/db/pglite-template.ts) and given an identifier of its own;
 * this is the rollback's side of that: two demo depots of the same seed are still two databases.
 */
const run = { runId: 'rollback-embedded', actor: 'vitest' };

async function sums(db: Db): Promise<Record<string, string>> {
  const keys = await readTableKeys(db, ['public', 'astm'], PIPELINE_PREFIX);
  return Object.fromEntries((await tablesChecksums(db, keys)).map((t) => [t.table, `${t.rows}:${t.checksum}`]));
}

describe('rollback on embedded PGlite: the backup of another cluster', () => {
  let tmp = '';
  let source: PgliteDb;
  let other: PgliteDb;
  let backupDir = '';
  let backedUp: Record<string, string> = {};
  beforeAll(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), 'astm53b-rollback-embedded-'));
    source = await PgliteDb.open(undefined);
    other = await PgliteDb.open(undefined);
    // the same demo depot, same seed: the same tables and rows (times of day aside)
    await initFixture(source, { scale: 1, seed: 1 }, silentLogger);
    await initFixture(other, { scale: 1, seed: 1 }, silentLogger);
    const b = await backup(source, { outDir: path.join(tmp, 'backup') }, silentLogger);
    expect(b.ok).toBe(true);
    backupDir = b.dir;
    backedUp = await sums(source);
  });
  afterAll(async () => {
    await source?.close();
    await other?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('is refused before anything is touched, naming both cluster identifiers', async () => {
    const id = async (db: Db) =>
      (await db.query<{ id: string }>('SELECT system_identifier::text AS id FROM pg_control_system()')).rows[0]!.id;
    const [mine, theirs] = [await id(source), await id(other)];
    expect(mine).not.toBe(theirs);
    const before = await sums(other);
    const counts = (x: Record<string, string>) => Object.entries(x).map(([t, v]) => [t, v.split(':')[0]]);
    expect(counts(before)).toEqual(counts(backedUp));
    const e = await expectUserError(rollback(other, { backupDir, run }, silentLogger));
    expect(e.code).toBe('BACKUP_OF_ANOTHER_DATABASE');
    expect(e.message).toBe(`refusing to restore: the backup is of another database: cluster ${mine}, the target's is ${theirs}`);
    expect(await sums(other)).toEqual(before);
    expect((await other.query("SELECT to_regclass('astm53b.freeze_state') AS t")).rows[0]).toEqual({ t: null });
  });

  it('restores on the cluster it was taken from', async () => {
    await source.query('DELETE FROM public.stocks_snapshot');
    const r = await rollback(source, { backupDir, run }, silentLogger);
    expect(r.ok).toBe(true);
    const id = (await source.query<{ id: string }>('SELECT system_identifier::text AS id FROM pg_control_system()')).rows[0]!.id;
    expect(r.source).toEqual({ matched: expect.stringContaining(`cluster ${id}`), override: null });
    expect(await sums(source)).toEqual(backedUp);
  });
});
