import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withAppUser } from '../../db/as-user.js';
import { readTableKeys, tablesChecksums } from '../../db/checksum.js';
import { PgDb } from '../../db/pg.js';
import { createScratchDatabase, type ScratchDatabase } from '../../db/scratch.js';
import { silentLogger } from '../../logger.js';
import { ML_PP_PROFILE } from '../../golden/profile.js';
import { sqlPath, CHANGE_FILES } from '../../paths.js';
import { realRefFile } from '../../testing/change-files.js';
import { TEST_DATABASE_URL, describePg } from '../../testing/pg.js';
import { loadChangeFile } from '../change-file.js';
import { loadSchemaDump } from '../schema-dump.js';
import { applyChangeFile, parseExpectedFunctions } from '../sql-apply.js';
import { runSmoke } from './index.js';
import type { SmokeResult } from '../../results/smoke.js';
import { STEP_TIMEOUT_DEFAULTS } from '../timeouts.js';

/**
 * The smoke on the real PROD schema of ML_PP (snapshot 2026-02-11, schema only), seeded with
 * the minimum it needs (depot, GASOIL, one tank, a client, an admin, a gerant and a lecture
 * user, one reception for an opening stock), with our P0 file, with ML_PP's own and with our P0.1.
 * What it finds is pinned: the real functions behave as our fixture does.
 */
const DUMP = process.env.ML_PP_SCHEMA_DUMP;
const REAL_P0 = realRefFile('docs/DB_CHANGES/2026-02-25_staging_validate_sortie_p0.sql');
if (!DUMP && process.env.CI) throw new Error('ML_PP_SCHEMA_DUMP is not set: in CI the smoke on the real PROD snapshot must run');
const describeSnapshot = DUMP ? describePg : describePg.skip;
const run = { runId: 'prod-snapshot-smoke', actor: 'tester' };

const DEPOT = '11111111-1111-1111-1111-111111111111';
const GASOIL = '22222222-2222-2222-2222-222222222222';
const TANK = '57da330a-1305-4582-be45-ceab0f1aa795';
const ADMIN = 'b0000000-0000-4000-8000-000000000001';
const GERANT = 'b0000000-0000-4000-8000-000000000002';
const LECTURE = 'b0000000-0000-4000-8000-000000000003';

async function seed(db: PgDb): Promise<void> {
  await db.withTransaction(async (tx) => {
    await tx.query(
      `INSERT INTO auth.users (id, email) VALUES ($1, 'admin@prod.test'), ($2, 'gerant@prod.test'), ($3, 'lecture@prod.test')`,
      [ADMIN, GERANT, LECTURE],
    );
    await tx.query(`INSERT INTO public.depots (id, nom) VALUES ($1, 'Dépôt Daipn')`, [DEPOT]);
    await tx.query(`INSERT INTO public.produits (id, nom, code) VALUES ($1, 'Gasoil/AGO', 'G.O')`, [GASOIL]);
    await tx.query(
      `INSERT INTO public.citernes (id, depot_id, nom, capacite_totale, capacite_securite, localisation, statut, produit_id) VALUES ($1, $2, 'TANK1', 500000, 0, 'Daipn', 'active', $3)`,
      [TANK, DEPOT, GASOIL],
    );
    await tx.query(`INSERT INTO public.clients (nom) VALUES ('Client test')`);
    await tx.query(
      `INSERT INTO public.profils (user_id, role, depot_id, nom_complet, created_at) VALUES ($1, 'admin', $4, 'Admin', '2026-02-01'), ($2, 'gerant', $4, 'Gérant', '2026-02-02'), ($3, 'lecture', $4, 'Lecture', '2026-02-03')`,
      [ADMIN, GERANT, LECTURE, DEPOT],
    );
    await tx.query(
      `INSERT INTO public.cours_de_route (id, plaque_camion, date_chargement, statut, produit_id, depot_destination_id, volume) VALUES ('c0000000-0000-4000-8000-000000000001', 'OPEN 0001', '2026-02-09', 'ARRIVE', $1, $2, 40000)`,
      [GASOIL, DEPOT],
    );
  });
  // the opening stock through the app's own path: a reception by the gerant
  await withAppUser(db, { role: 'authenticated', userId: GERANT }, (tx) =>
    tx.query(
      `INSERT INTO public.receptions (cours_de_route_id, citerne_id, produit_id, index_avant, index_apres, temperature_ambiante_c, densite_a_15, volume_corrige_15c, proprietaire_type, date_reception, note)
       VALUES ('c0000000-0000-4000-8000-000000000001', $1, $2, 0, 40000, 26, 837, 39714, 'MONALUXE', '2026-02-10', 'opening stock')`,
      [TANK, GASOIL],
    ),
  );
}

const failing = (r: SmokeResult) => r.checks.flatMap((c) => c.findings.filter((f) => !f.passed).map((f) => `${c.id} ${f.code}`));

/** What the smoke finds after each change file; 5.1's finding is the snapshot's pre-2026-02-21 policy, not the change. */
const AFTER = {
  p0: {
    failing: ['5.1 ANON_READS_NO_MOVEMENT', '5.4 OTHER_OWNERS_UNTOUCHED', '5.4 JOURNAL_SNAPSHOT_AGREE'],
    // the sortie's owner: journal debited, snapshot not
    figures: { journal_delta_amb: -400, journal_delta_15c: -396.8, snapshot_delta_amb: 0, snapshot_delta_15c: 0 },
  },
  p0_1: {
    failing: ['5.1 ANON_READS_NO_MOVEMENT'],
    figures: { journal_delta_amb: -400, journal_delta_15c: -396.8, snapshot_delta_amb: -400, snapshot_delta_15c: -396.8 },
  },
};

describeSnapshot('smoke on the real PROD snapshot of ML_PP', () => {
  for (const [label, file, after] of [
    ['our P0 file', () => sqlPath(CHANGE_FILES.p0), AFTER.p0],
    ["ML_PP's own P0 file", () => REAL_P0!, AFTER.p0],
    ['our P0.1 file', () => sqlPath(CHANGE_FILES.p0_1), AFTER.p0_1],
  ] as const) {
    describe(label, () => {
      let prod: { scratch: ScratchDatabase; db: PgDb };
      beforeAll(async () => {
        const scratch = await createScratchDatabase(TEST_DATABASE_URL!, 'smoke_prod');
        prod = { scratch, db: new PgDb(scratch.url) };
        await loadSchemaDump(prod.db, DUMP!, path.basename(DUMP!), silentLogger);
        await seed(prod.db);
      });
      afterAll(async () => {
        await prod?.db.close().catch(() => {});
        await prod?.scratch.drop();
      });

      it('before the change: the legacy validate_sortie is detected, nothing is written; anon reads the journal (pre-02-21 policy)', async () => {
        const n = async () =>
          (
            await prod.db.query<{ n: number }>(
              'SELECT (SELECT count(*) FROM receptions) + (SELECT count(*) FROM sorties_produit) + (SELECT count(*) FROM cours_de_route) AS n',
            )
          ).rows[0]!.n;
        const before = await n();
        const r = await runSmoke(prod.db, { profile: ML_PP_PROFILE, profileSource: 'test', toleranceL: 5, run }, silentLogger);
        // the snapshot predates the 2026-02-21 RLS hardening: "read stocks_journaliers" was a {public} policy, so anon reads the journal
        expect(failing(r)).toEqual(['5.1 ANON_READS_NO_MOVEMENT', '5.4 P0_NOT_APPLIED']);
        expect(r.checks[0]!.findings[1]!.message).toBe('anon reads movement rows: stocks_journaliers: 1 row(s)');
        expect(Number(await n())).toBe(Number(before));
      });

      it('after it: the smoke on a tank where PARTENAIRE gets a row of the day; findings and figures pinned; every table as before after the rollback', async () => {
        const ap = await applyChangeFile(
          prod.db,
          {
            file: await loadChangeFile(file()),
            expectFunctions: parseExpectedFunctions(undefined),
            dryRun: false,
            ...STEP_TIMEOUT_DEFAULTS,
            run,
          },
          silentLogger,
        );
        expect(ap.status).toBe('applied');
        expect(ap.violations).toEqual([]);
        const tables = await readTableKeys(prod.db, ['public', 'auth']);
        const before = await tablesChecksums(prod.db, tables);
        const r = await runSmoke(prod.db, { profile: ML_PP_PROFILE, profileSource: 'test', toleranceL: 5, run }, silentLogger);
        expect(r.user).toMatchObject({ id: ADMIN, role: 'admin' });
        expect(r.lectureUser).toBe(LECTURE);
        expect(r.errors).toEqual([]);
        expect(failing(r)).toEqual(after.failing);
        expect(r.checks[0]!.findings[1]!.message).toBe('anon reads movement rows: stocks_journaliers: 1 row(s)');
        // the seed has no partner: the smoke created a test partner and received 500 L for it, in its transaction
        expect(r.movements.otherOwnerReception).toMatchObject({ owner: 'PARTENAIRE', partner_created: true, volume_ambiant: 500 });
        const s54 = r.checks.find((c) => c.id === '5.4')!;
        expect(s54.findings[0]).toMatchObject({ code: 'OTHER_OWNER_ROW_ON_DAY', passed: true });
        expect(s54.findings.find((f) => f.code === 'JOURNAL_SNAPSHOT_AGREE')!.figures).toMatchObject(after.figures);
        const other = s54.findings.find((f) => f.code === 'OTHER_OWNERS_UNTOUCHED')!;
        expect(other.message).toBe(
          after === AFTER.p0
            ? "validate_sortie moved another owner's stock: PARTENAIRE journal moved by -400 L / -396.8 L @15 °C"
            : "validate_sortie moved no other owner's row",
        );
        expect(r.movements.reception).toMatchObject({ stored_15c: 991.2, stored_in: 'volume_corrige_15c' });
        expect(await tablesChecksums(prod.db, tables)).toEqual(before);
        expect(r.rollback.summary).toEqual([
          'v_stock_actuel: equal to before the smoke, to the litre, for every owner',
          'snapshot: equal to before the smoke, to the litre, for every owner',
          'journal: equal to before the smoke, to the litre, for every owner',
        ]);
      });

      if (after === AFTER.p0_1)
        it('with the 2026-02-21 RLS hardening PROD applied since (anon no longer reads the journal): the whole smoke passes', async () => {
          await prod.db.query('DROP POLICY "read stocks_journaliers" ON public.stocks_journaliers');
          const r = await runSmoke(prod.db, { profile: ML_PP_PROFILE, profileSource: 'test', toleranceL: 5, run }, silentLogger);
          expect(failing(r)).toEqual([]);
          expect(r.passed).toBe(true);
        });
    });
  }
});
