import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pipelineLockHolders } from '../db/advisory-lock.js';
import { classifyFailure } from '../db/failure.js';
import { PgDb } from '../db/pg.js';
import { createScratchDatabase, type ScratchDatabase } from '../db/scratch.js';
import type { Db, Queryable } from '../db/types.js';
import { ML_PP_PROFILE } from '../golden/profile.js';
import { silentLogger } from '../logger.js';
import { RestateResult } from '../results/restate.js';
import { runCli } from '../testing/cli.js';
import { expectFailure, expectUserError } from '../testing/command.js';
import { describePg, TEST_DATABASE_URL, useFreshDatabase } from '../testing/pg.js';
import { PROD_SNAPSHOT } from '../testing/prod-snapshot.js';
import { appChecksums, deltasByTankOwner, restateOptions, stockByTankOwner } from '../testing/restate.js';
import { driftReport } from './golden-drift.js';
import { restate } from './restate.js';
import { loadSchemaDump } from './schema-dump.js';

/**
 * `restate` on real PostgreSQL against the demo depot (9 validated receptions stored with the
 * legacy formula: the runbook's 8 trucks and one partner reception): one adjustment each, booked
 * as the app's admin, v_stock_actuel moved by exactly the drift per tank and owner, nothing else
 * written; idempotent; a dry run, a refused app user and a killed connection leave every table as
 * it was; a key the app's stock view cannot show makes the proof fail. And ML_PP's real PROD
 * schema (empty): nothing to restate.
 */
const LECTURE = 'a53b0000-0000-4000-8000-000000000004';
const ADMIN = 'a53b0000-0000-4000-8000-000000000001';
const adjustments = async (q: Queryable) =>
  (await q.query<{ n: number }>('SELECT count(*)::int8 AS n FROM public.stocks_adjustments')).rows[0]!.n;

/** The db restate gets: `before` runs ahead of each statement on the session that runs it. */
function intercepted(db: PgDb, before: (sql: string, session: Queryable) => Promise<void>): Db {
  const wrap = (s: Queryable): Queryable => ({
    async query<R>(sql: string, params?: readonly unknown[]) {
      await before(sql, s);
      return s.query<R>(sql, params);
    },
    copyCsvTo: (select, sink) => s.copyCsvTo(select, sink),
  });
  const proxy: Db = {
    kind: db.kind,
    label: db.label,
    query: (sql, params) => proxy.withClient((c) => c.query(sql, params)),
    copyCsvTo: (select, sink) => proxy.withClient((c) => c.copyCsvTo(select, sink)),
    withClient: (fn, o) => db.withClient((c) => fn(wrap(c)), o),
    withTransaction: (fn, o) => db.withTransaction((tx) => fn(wrap(tx)), o),
    server: () => db.server(),
    close: async () => {},
  };
  return proxy;
}

describePg('restate on the demo depot (real PostgreSQL)', () => {
  const fx = useFreshDatabase('restate', { fixture: true });

  it('--dry-run books, proves and rolls back: every application table as it was', async () => {
    const { db } = fx();
    const before = await appChecksums(db);
    const r = await restate(db, restateOptions('dry-1', { dryRun: true }), silentLogger);
    expect(r).toMatchObject({ status: 'dry-run', ok: true, committed: false, dry_run: true });
    expect(r.counts).toEqual({ receptions: 9, booked: 9, already_restated: 0, no_drift: 0, not_recomputed: 0 });
    expect(r.proof.holds).toBe(true);
    expect(await appChecksums(db)).toEqual(before);
    expect(await adjustments(db)).toBe(0);
  });

  it('as an app user whose role RLS refuses: RLS_REFUSED naming the user, nothing booked', async () => {
    const { db } = fx();
    const before = await appChecksums(db);
    const e = await expectUserError(restate(db, restateOptions('lecture-1', { asUser: LECTURE }), silentLogger));
    expect(e.code).toBe('RLS_REFUSED');
    expect(e.message).toContain(`app user ${LECTURE} (lecture@demo.astm53b.local, role lecture, --as-user)`);
    expect(e.message).toMatch(/row-level security policy for table "stocks_adjustments"/);
    expect(e.message).toContain('nothing was booked');
    expect(await appChecksums(db)).toEqual(before);
    // the CLI: one line, exit 2
    const cli = await runCli(['restate', '--url', fx().scratch.url, '--as-user', LECTURE]);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(/^RLS_REFUSED: row level security refused app user a53b0000-0000-4000-8000-000000000004 /m);
    expect(await appChecksums(db)).toEqual(before);
  });

  it('a refusal of one reception in the middle of a batch names that reception, as a single insert would; nothing booked', async () => {
    const { db } = fx();
    const before = await appChecksums(db);
    // the fifth reception in booking order: the batch's insert fails, and the row-by-row retry finds which
    const drift = await db.withTransaction((tx) => driftReport(tx, { profile: ML_PP_PROFILE }, silentLogger), { readOnly: true });
    const target = drift.receptions[4]!.reception_id;
    await db.query(`CREATE FUNCTION public.test_refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.mouvement_id = '${target}' THEN RAISE EXCEPTION 'refused for the test' USING ERRCODE = 'P0001'; END IF; RETURN NEW; END $$`);
    await db.query(
      'CREATE TRIGGER test_refuse_one BEFORE INSERT ON public.stocks_adjustments FOR EACH ROW EXECUTE FUNCTION public.test_refuse_one()',
    );
    try {
      const e = await expectUserError(restate(db, restateOptions('refuse-one'), silentLogger));
      expect(e.code).toBe('ADJUSTMENT_REFUSED');
      expect(e.message).toContain(`the adjustment of reception ${target}: refused for the test (SQLSTATE P0001); nothing was booked`);
    } finally {
      await db.query('DROP TRIGGER test_refuse_one ON public.stocks_adjustments');
      await db.query('DROP FUNCTION public.test_refuse_one()');
    }
    expect(await appChecksums(db)).toEqual(before);
    expect(await adjustments(db)).toBe(0);
  });

  it('a connection killed after the inserts, before COMMIT, leaves nothing and frees the pipeline lock', async () => {
    const { db } = fx();
    const before = await appChecksums(db);
    let inserted = 0;
    let killed: number | undefined;
    const proxy = intercepted(db, async (sql, s) => {
      if (/INSERT INTO public\.stocks_adjustments/.test(sql)) inserted++;
      // the inserts are one statement a batch (all 9 in one here): the next read of the stock comes after them
      else if (inserted > 0 && killed === undefined && /v_stock_actuel/.test(sql)) {
        killed = (await s.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
        await db.query('SELECT pg_terminate_backend($1)', [killed]);
        for (let i = 0; i < 250; i++) {
          if (!(await db.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [killed])).rows.length) break;
          await new Promise((res) => setTimeout(res, 20));
        }
      }
    });
    const e = await expectFailure(restate(proxy, restateOptions('killed-1'), silentLogger));
    expect(killed).toBeDefined();
    expect(classifyFailure(e)?.code).toBe('DB_CONNECTION_LOST');
    expect(await appChecksums(db)).toEqual(before);
    expect(await adjustments(db)).toBe(0);
    expect(await pipelineLockHolders(db, 'change')).toEqual([]);
  });

  it('books one adjustment per drifting reception (delta = ASTM − stored = −drift), v_stock_actuel moves by exactly that per tank and owner, nothing else is written', async () => {
    const { db, scratch } = fx();
    const drift = await db.withTransaction((tx) => driftReport(tx, { profile: ML_PP_PROFILE }, silentLogger), { readOnly: true });
    const before = await appChecksums(db);
    const stockBefore = await stockByTankOwner(db);
    const cli = await runCli(['restate', '--url', scratch.url, '--json', '--run-id', 'restate-pg-1', '--actor', 'ops']);
    expect(cli.code).toBe(0);
    const r = RestateResult.parse(JSON.parse(cli.stdout));
    expect(r).toMatchObject({ status: 'restated', ok: true, committed: true, frozen: false, profile: '1980/table/hydrometer' });
    expect(r.user).toMatchObject({ id: ADMIN, role: 'admin', email: 'admin@demo.astm53b.local' });
    expect(r.counts.booked).toBe(9);
    expect(r.receptions.filter((x) => x.proprietaire_type === 'MONALUXE')).toHaveLength(8);
    for (const x of r.receptions) {
      const d = drift.receptions.find((y) => y.reception_id === x.reception_id)!;
      expect(x.delta_15c_l).toBeCloseTo(-d.drift_l!, 3);
      expect(x.delta_15c_l).toBeCloseTo(x.astm_15c_l! - x.stored_15c_l!, 6);
      expect(x.reason).toBe(
        `ASTM53B restatement, run restate-pg-1: ASTM 53B ${x.astm_15c_l} L − stored ${Math.round(x.stored_15c_l! * 1e6) / 1e6} L (1980/table/hydrometer, volume_corrige_15c)`,
      );
    }
    // the rows as the app's triggers completed them
    const rows = await db.query<{
      mouvement_id: string;
      delta_15c: number;
      delta_ambiant: number;
      created_by: string;
      citerne: string;
      owner: string;
    }>(
      `SELECT a.mouvement_id::text, a.delta_15c, a.delta_ambiant, a.created_by::text, c.nom AS citerne, a.proprietaire_type AS owner
         FROM public.stocks_adjustments a JOIN public.citernes c ON c.id = a.citerne_id WHERE a.mouvement_type = 'RECEPTION'`,
    );
    expect(rows.rows).toHaveLength(9);
    for (const row of rows.rows) {
      const x = r.receptions.find((y) => y.reception_id === row.mouvement_id)!;
      expect(row).toMatchObject({
        delta_15c: x.delta_15c_l,
        delta_ambiant: 0,
        created_by: ADMIN,
        citerne: x.citerne,
        owner: x.proprietaire_type,
      });
    }
    // v_stock_actuel per tank and owner: moved by exactly the booked deltas, the others not at all
    const expected = deltasByTankOwner(r.receptions);
    expect([...expected.keys()].sort()).toEqual(['TANK1/MONALUXE', 'TANK1/PARTENAIRE', 'TANK4/MONALUXE']);
    const stockAfter = await stockByTankOwner(db);
    for (const [k, b] of stockBefore) {
      const a = stockAfter.get(k)!;
      expect(Math.abs(a.v15 - b.v15 - (expected.get(k) ?? 0)), k).toBeLessThan(1e-6);
      expect(a.amb, k).toBe(b.amb);
    }
    expect(r.proof.expected_15c_l).toBeCloseTo(-drift.total.drift_l, 2);
    expect(r.proof.writes).toEqual([{ table: 'public.stocks_adjustments', inserted: 9, updated: 0, deleted: 0 }]);
    // nothing but stocks_adjustments changed: receptions, journal, snapshot, logs as they were
    const after = await appChecksums(db);
    expect(Object.keys(after).filter((t) => after[t] !== before[t])).toEqual(['public.stocks_adjustments']);
  });

  it('a second run books nothing and says so', async () => {
    const { db, scratch } = fx();
    const before = await appChecksums(db);
    const cli = await runCli(['restate', '--url', scratch.url, '--run-id', 'restate-pg-2']);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/NOTHING TO RESTATE/);
    expect(cli.stdout).toContain('nothing to restate: 9 validated reception(s), 9 already restated');
    expect(cli.stdout).toContain('restated by run restate-pg-1 (1 adjustment(s)');
    expect(await appChecksums(db)).toEqual(before);
    expect(await adjustments(db)).toBe(9);
  });
});

describePg('restate: the proof refuses what the app would not show', () => {
  const fx = useFreshDatabase('restate_proof', { fixture: true });

  it('TANK1 moved to another depot after its stock was booked: its adjustments would not show in v_stock_actuel, so nothing is booked (exit 1)', async () => {
    const { db, scratch } = fx();
    await db.query("INSERT INTO public.depots (id, nom) VALUES ('33333333-3333-3333-3333-333333333333', 'Dépôt B')");
    await db.query("UPDATE public.citernes SET depot_id = '33333333-3333-3333-3333-333333333333' WHERE nom = 'TANK1'");
    const before = await appChecksums(db);
    const r = await restate(db, restateOptions('proof-1'), silentLogger);
    expect(r).toMatchObject({ status: 'rejected', ok: false, committed: false });
    expect(r.totals.filter((t) => !t.holds).map((t) => `${t.citerne}/${t.proprietaire_type}`)).toEqual([
      'TANK1/MONALUXE',
      'TANK1/PARTENAIRE',
    ]);
    expect(r.proof.problems[0]).toMatch(
      /^TANK1 \/ MONALUXE: v_stock_actuel has no row for the depot, tank, product and owner its adjustments get \(depot 33333333-3333-3333-3333-333333333333; no stocks_snapshot row with that key\)/,
    );
    expect(await appChecksums(db)).toEqual(before);
    const cli = await runCli(['restate', '--url', scratch.url]);
    expect(cli.code).toBe(1);
    expect(cli.stdout).toMatch(/PROOF FAILED, rolled back/);
    expect(await adjustments(db)).toBe(0);
  });

  it('bad input is refused before connecting: exit 2', async () => {
    const r = await runCli(['restate', '--url', fx().scratch.url, '--as-user', 'admin']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^BAD_OPTION: field as-user: --as-user "admin" is not an ML_PP id/m);
    const p = await runCli(['restate', '--url', fx().scratch.url, '--profile', '1990/x/y']);
    expect(p.code).toBe(2);
  });
});

const describeSnapshot = PROD_SNAPSHOT ? describePg : describePg.skip;

describeSnapshot("restate on ML_PP's real PROD schema (snapshot 2026-02-11, no rows)", () => {
  let prod: { scratch: ScratchDatabase; db: PgDb };
  beforeAll(async () => {
    const scratch = await createScratchDatabase(TEST_DATABASE_URL!, 'restate_prod_snapshot');
    prod = { scratch, db: new PgDb(scratch.url) };
    await loadSchemaDump(prod.db, PROD_SNAPSHOT!, path.basename(PROD_SNAPSHOT!), silentLogger);
  });
  afterAll(async () => {
    await prod?.db.close().catch(() => {});
    await prod?.scratch.drop();
  });

  it('nothing to restate, and it says so; nothing written', async () => {
    const before = await appChecksums(prod.db);
    const r = await restate(prod.db, restateOptions('prod-snapshot'), silentLogger);
    expect(r).toMatchObject({ status: 'nothing-to-restate', ok: true, committed: false, user: null, receptions: [], totals: [] });
    expect(r.message).toBe(
      'nothing to restate: 0 validated reception(s), 0 already restated, 0 equal to ASTM 53B within ±0.05 L, 0 not recomputed; nothing booked',
    );
    const cli = await runCli(['restate', '--url', prod.scratch.url]);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toMatch(/NOTHING TO RESTATE/);
    expect(await appChecksums(prod.db)).toEqual(before);
  });
});
