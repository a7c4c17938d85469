import { expect, it } from 'vitest';
import { impersonate } from '../../db/as-user.js';
import { readTableKeys, tablesChecksums } from '../../db/checksum.js';
import type { PgDb } from '../../db/pg.js';
import type { AppIdentity, Db, Queryable } from '../../db/types.js';
import { UserError } from '../../errors.js';
import { ML_PP_PROFILE } from '../../golden/profile.js';
import { silentLogger } from '../../logger.js';
import { changeFileRef } from '../../paths.js';
import type { SmokeResult } from '../../results/smoke.js';
import { describePg, useFreshDatabase } from '../../testing/pg.js';
import { loadChangeFile } from '../change-file.js';
import { allowFrozenWrites, freezeOn, freezeStatus } from '../freeze.js';
import { applyChangeFile, parseExpectedFunctions } from '../sql-apply.js';
import { STEP_TIMEOUT_DEFAULTS } from '../timeouts.js';
import { runSmoke, type SmokeOptions } from './index.js';
import { inRolledBackTransaction, openRequests } from './transaction.js';

/**
 * The smoke leaves the database exactly as it found it: in the PROD workflow's order (freeze on,
 * the P0 change applied, then the smoke; the same with our P0.1 instead, which passes), when its
 * backend is killed half-way, and across the PostgREST boundaries it models inside its one
 * transaction (a flag validate_sortie sets must not let the next request through DB-STRICT).
 */
const TANK1 = '57da330a-1305-4582-be45-ceab0f1aa795';
const TANK4 = '91d2078b-8e19-43c2-bf33-322a42cd4e94';
const GASOIL = '22222222-2222-2222-2222-222222222222';
const ADMIN: AppIdentity = { role: 'authenticated', userId: 'a53b0000-0000-4000-8000-000000000001' };
const run = { runId: 'rollback-test', actor: 'vitest' };
const opts: SmokeOptions = { profile: ML_PP_PROFILE, profileSource: 'test', toleranceL: 5, run };

const failing = (r: SmokeResult) =>
  r.checks.flatMap((c) => c.findings.filter((f) => !f.passed).map((f) => `${c.id} ${f.code} ${f.condition}`));

/** Every table of every schema that is not PostgreSQL's own: the app's, auth's and the pipeline's. */
async function everyTable(q: Queryable) {
  const schemas = await q.query<{ s: string }>(
    "SELECT nspname AS s FROM pg_namespace WHERE nspname <> 'information_schema' AND nspname NOT LIKE 'pg\\_%' ORDER BY 1",
  );
  const tables = await readTableKeys(
    q,
    schemas.rows.map((x) => x.s),
  );
  return tablesChecksums(q, tables);
}

const draftOnTank4 = (q: Queryable, note: string) =>
  q.query<{ id: string }>(
    `INSERT INTO public.sorties_produit (citerne_id, produit_id, client_id, index_avant, index_apres, proprietaire_type, statut, note)
     SELECT $1, $2, id, 0, 10, 'MONALUXE', 'brouillon', $3 FROM public.clients ORDER BY nom LIMIT 1 RETURNING id::text`,
    [TANK4, GASOIL, note],
  );

/** The database the smoke gets, with `before` run ahead of each of its statements on the session that runs it. */
function intercepted(db: PgDb, before: (sql: string, session: Queryable, params?: readonly unknown[]) => Promise<void>): Db {
  const wrap = (s: Queryable): Queryable => ({
    async query<R>(sql: string, params?: readonly unknown[]) {
      await before(sql, s, params);
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

/**
 * Its backend terminated just after the reception of 5.3 went in (the MONALUXE one, not the
 * PARTENAIRE reception that precedes it): at the first statement reading the journal after that
 * INSERT (the smoke's read of what the reception left), wherever that statement runs.
 */
function killedAfterReception(db: PgDb): { db: Db; killed: () => number | undefined } {
  let received = false;
  let killed: number | undefined;
  const proxy = intercepted(db, async (sql, s, params) => {
    if (/INSERT INTO public\.receptions/.test(sql) && params?.includes('MONALUXE')) received = true;
    else if (received && killed === undefined && /stocks_journaliers/.test(sql)) {
      killed = (await s.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
      await db.query('SELECT pg_terminate_backend($1)', [killed]);
      for (let i = 0; i < 250; i++) {
        if (!(await db.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [killed])).rows.length) break;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
  });
  return { db: proxy, killed: () => killed };
}

describePg('the smoke rolls back everything it does (real PostgreSQL)', () => {
  const fx = useFreshDatabase('smoke_rollback', { fixture: true });

  it("in the workflow's order (freeze on, ML_PP's P0 applied, smoke): every table is what it was, the freeze still on, the known NO-GO found", async () => {
    const db = fx().db;
    await freezeOn(db, { reason: 'migration window', force: true, run }, silentLogger);
    const p0 = changeFileRef('p0');
    const ap = await applyChangeFile(
      db,
      {
        file: await loadChangeFile(p0.path, p0.display),
        expectFunctions: parseExpectedFunctions(undefined),
        dryRun: false,
        ...STEP_TIMEOUT_DEFAULTS,
        run,
      },
      silentLogger,
    );
    expect(ap.status).toBe('applied');
    const before = await everyTable(db);

    const r = await runSmoke(db, opts, silentLogger);

    expect(await everyTable(db)).toEqual(before);
    expect(await freezeStatus(db)).toMatchObject({ frozen: true, consistent: true });
    expect(r.frozen).toBe(true);
    expect(r.errors).toEqual([]);
    // TANK1: PARTENAIRE holds stock there, and ML_PP's P0 debits its row of the day too
    expect(r.tank?.nom).toBe('TANK1');
    expect(failing(r)).toEqual(['5.4 OTHER_OWNERS_UNTOUCHED STOCK_INCOHERENCE', '5.4 JOURNAL_SNAPSHOT_AGREE STOCK_INCOHERENCE']);
    expect(r.movements.sortie).toMatchObject({ statut: 'validee', volume_ambiant: 400 });
    expect(r.rollback).toMatchObject({ rolledBack: true, unchanged: true, afterRollback: r.figures!.before });
  });

  it('between two requests of its transaction the session is a new one: after validate_sortie, an UPDATE of that sortie is still refused with P0001, as the app user and as the pipeline', async () => {
    const db = fx().db;
    const before = await everyTable(db);
    const pipeline = (await db.query<{ u: string }>('SELECT current_user AS u')).rows[0]!.u;
    await inRolledBackTransaction(db, async (tx) => {
      await allowFrozenWrites(tx);
      const req = await openRequests(tx);
      // the database is frozen: the draft and the RPC's own UPDATE pass only if the bypass survives every boundary
      const id = (await req.as(ADMIN, (q) => draftOnTank4(q, 'boundary test'))).rows[0]!.id;
      await req.as(ADMIN, (q) => q.query('SELECT public.validate_sortie($1)', [id]));
      const statut = await req.as(ADMIN, (q) =>
        q.query<{ statut: string }>('SELECT statut FROM public.sorties_produit WHERE id = $1', [id]),
      );
      expect(statut.rows).toEqual([{ statut: 'validee' }]);

      const next = await req.as(undefined, (q) =>
        q.query(
          `SELECT current_user AS u, current_setting('app.sorties_produit_allow_write', true) AS sorties,
                  current_setting('app.stocks_journaliers_allow_write', true) AS journal,
                  current_setting('request.jwt.claims', true) AS claims, current_setting('request.jwt.claim.sub', true) AS sub`,
        ),
      );
      expect(next.rows).toEqual([{ u: pipeline, sorties: '', journal: '', claims: '', sub: '' }]);

      const update = "UPDATE public.sorties_produit SET note = note || ' (probe)' WHERE id = $1";
      expect(await req.probe(ADMIN, update, [id])).toMatchObject({
        code: 'P0001',
        message: expect.stringMatching(/Ecriture interdite sur sorties_produit/),
      });
      expect(await req.probe(undefined, update, [id])).toMatchObject({ code: 'P0001' });
      const asUser = await req.as(ADMIN, (q) => q.query(update, [id])).catch((e: { code?: string }) => e.code);
      expect(asUser).toBe('P0001');

      // what the boundary prevents: in one transaction without it, the RPC's flag lets the UPDATE through
      await tx.query('SAVEPOINT control');
      await impersonate(tx, ADMIN);
      const other = (await draftOnTank4(tx, 'control')).rows[0]!.id;
      await tx.query('SELECT public.validate_sortie($1)', [other]);
      expect((await tx.query(update, [other])).rowCount).toBe(1);
      await tx.query('ROLLBACK TO SAVEPOINT control');
    });
    expect(await everyTable(db)).toEqual(before);
  });

  it('killed right after its reception went in: a clear DB_CONNECTION_LOST error, every table as it was; the next smoke finds the same', async () => {
    const db = fx().db;
    const before = await everyTable(db);
    const k = killedAfterReception(db);
    const e = await runSmoke(k.db, { ...opts, run: { ...run, runId: 'killed' } }, silentLogger).then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(k.killed()).toBeTypeOf('number');
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).code).toBe('DB_CONNECTION_LOST');
    expect((e as UserError).message).toMatch(
      /^the smoke lost its connection to .* during 5\.3 \(the controlled reception\) \(.+\)\. Nothing it wrote was committed/,
    );
    expect(await everyTable(db)).toEqual(before);

    const again = await runSmoke(db, { ...opts, run: { ...run, runId: 'after-kill' } }, silentLogger);
    expect(failing(again)).toEqual(['5.4 OTHER_OWNERS_UNTOUCHED STOCK_INCOHERENCE', '5.4 JOURNAL_SNAPSHOT_AGREE STOCK_INCOHERENCE']);
    expect(again.rollback.unchanged).toBe(true);
    expect(await everyTable(db)).toEqual(before);
  });

  it('something else writing to the tank during the smoke is reported: the tank read after the rollback differs, 5.5 says so', async () => {
    const db = fx().db;
    // the freeze refuses the app; only another session holding the pipeline's own token can write meanwhile
    const bump = (litres: number) =>
      db.withTransaction(async (tx) => {
        await allowFrozenWrites(tx);
        await tx.query(
          "UPDATE public.stocks_snapshot SET stock_ambiant = stock_ambiant + $3 WHERE citerne_id = $1 AND produit_id = $2 AND proprietaire_type = 'MONALUXE'",
          [TANK1, GASOIL, litres],
        );
      });
    let bumped = false;
    // committed by another session as the smoke's transaction begins, after 5.2 has read the tank
    const proxy = intercepted(db, async (sql) => {
      if (sql === 'BEGIN' && !bumped) {
        bumped = true;
        await bump(5);
      }
    });
    try {
      const r = await runSmoke(proxy, { ...opts, run: { ...run, runId: 'meanwhile' } }, silentLogger);
      expect(r.rollback.unchanged).toBe(false);
      expect(r.rollback.summary).toContain('snapshot: DIFFERS from before the smoke: MONALUXE +5 L / +0 L @15 °C');
      expect(failing(r)).toEqual([
        '5.3 SNAPSHOT_CREDIT STOCK_INCOHERENCE',
        '5.4 OTHER_OWNERS_UNTOUCHED STOCK_INCOHERENCE',
        '5.4 JOURNAL_SNAPSHOT_AGREE STOCK_INCOHERENCE',
        '5.5 STOCK_UNCHANGED_AFTER_ROLLBACK SMOKE_FAILED',
      ]);
    } finally {
      await bump(-5);
    }
  });
});

describePg('our P0.1 in the PROD workflow order leaves every table as it was and passes the smoke (real PostgreSQL)', () => {
  const fx = useFreshDatabase('smoke_rollback_p0_1', { fixture: true });

  it('freeze on → P0.1 applied by sql-apply → smoke: every check passes, every table is what it was, the freeze still on', async () => {
    const db = fx().db;
    await freezeOn(db, { reason: 'migration window', force: true, run }, silentLogger);
    const p0_1 = changeFileRef('p0_1');
    const ap = await applyChangeFile(
      db,
      {
        file: await loadChangeFile(p0_1.path, p0_1.display),
        expectFunctions: parseExpectedFunctions(undefined),
        dryRun: false,
        ...STEP_TIMEOUT_DEFAULTS,
        run,
      },
      silentLogger,
    );
    expect(ap.violations).toEqual([]);
    expect(ap.status).toBe('applied');
    const before = await everyTable(db);

    const r = await runSmoke(db, opts, silentLogger);

    expect(await everyTable(db)).toEqual(before);
    expect(await freezeStatus(db)).toMatchObject({ frozen: true, consistent: true });
    expect(r.p0Applied).toBe(true);
    expect(r.tank?.nom).toBe('TANK1');
    expect(r.errors).toEqual([]);
    expect(failing(r)).toEqual([]);
    expect(r.passed).toBe(true);
    expect(r.rollback).toMatchObject({ rolledBack: true, unchanged: true, afterRollback: r.figures!.before });
  });
});
