import { expect, it } from 'vitest';
import { describePg, useFreshDatabase } from '../testing/pg.js';
import { fixtureContract } from '../testing/fixture-contract.js';
import { initFixture } from './db-init.js';
import { silentLogger } from '../logger.js';
import { checkCompat } from './compat.js';
import { runCli } from '../testing/cli.js';

describePg('ML_PP stock module fixture on real PostgreSQL', () => {
  const fx = useFreshDatabase('fixture', { fixture: true });

  it('is compatible: compat finds nothing missing and the legacy validate_sortie', async () => {
    const r = await checkCompat(fx().db, silentLogger);
    expect(r.items.filter((i) => i.status !== 'ok' && !i.optional)).toEqual([]);
    expect(r.compatible).toBe(true);
    expect(r.notes.join('\n')).toMatch(/LEGACY body/);
  });

  it('astm53b compat --url says COMPATIBLE with exit 0, and db status lists the two waiting trucks', async () => {
    const compat = await runCli(['compat', '--url', fx().scratch.url]);
    expect(compat.code).toBe(0);
    expect(compat.stdout).toMatch(/^COMPATIBLE: \d+ ok, 0 missing, 0 different/m);
    const status = await runCli(['db', 'status', '--url', fx().scratch.url]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/Trucks arrived but not yet received: 2/);
  });

  it('refuses a second db init on the same database, touching nothing', async () => {
    const err = await initFixture(fx().db, { scale: 1, seed: 1 }, silentLogger).catch((e: unknown) => e);
    expect((err as { code: string }).code).toBe('ALREADY_INITIALISED');
  });

  fixtureContract(() => fx().db);
});

describePg('db init is all or nothing', () => {
  const fx = useFreshDatabase('init_fault');

  it('a failure halfway leaves the database exactly as before (no auth schema, no tables)', async () => {
    const { db } = fx();
    // a stray table that the schema file will collide with, after the shim has run
    await db.query('CREATE TABLE public.stocks_snapshot (id int)');
    const err = (await initFixture(db, { scale: 1, seed: 1 }, silentLogger).catch((e: unknown) => e)) as { describe(): string };
    expect(err.describe()).toMatch(/^SQL_FAILED: sql\/schema\/ml_pp_stock\.sql:\d+: \[42P07\] relation "stocks_snapshot" already exists/);
    const left = await db.query<{ n: number }>(
      "SELECT count(*)::int8 AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('public','auth') AND c.relkind = 'r'",
    );
    expect(left.rows[0]!.n).toBe(1); // only the stray table
  });
});
