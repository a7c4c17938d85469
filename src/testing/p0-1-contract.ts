import { expect, it } from 'vitest';
import { readTableKeys, tablesChecksums } from '../db/checksum.js';
import type { AppIdentity, Db, Queryable } from '../db/types.js';
import { silentLogger } from '../logger.js';
import { changeFileRef } from '../paths.js';
import { loadChangeFile } from '../runbook/change-file.js';
import { readTankFigures } from '../runbook/smoke/figures.js';
import { inRolledBackTransaction, openRequests, type Requests } from '../runbook/smoke/transaction.js';
import { applyChangeFile, parseExpectedFunctions } from '../runbook/sql-apply.js';
import { STEP_TIMEOUT_DEFAULTS } from '../runbook/timeouts.js';
import { userWithRole } from './fixture-contract.js';

/**
 * Our P0.1 change file on the demo depot, run on real PostgreSQL and on PGlite by their test
 * files, in order: applied by sql-apply on the legacy functions (PROD's state), then the RPC's
 * stock effects, each in the smoke's style: one transaction rolled back at the end, each app
 * request a savepoint with PostgREST's boundaries, refusals as probes.
 */
const GASOIL = '22222222-2222-2222-2222-222222222222';
const TANK1 = '57da330a-1305-4582-be45-ceab0f1aa795';
const run = { runId: 'p0-1-contract', actor: 'vitest' };

async function everyTable(q: Queryable) {
  const schemas = await q.query<{ s: string }>(
    "SELECT nspname AS s FROM pg_namespace WHERE nspname <> 'information_schema' AND nspname NOT LIKE 'pg\\_%' ORDER BY 1",
  );
  return tablesChecksums(
    q,
    await readTableKeys(
      q,
      schemas.rows.map((x) => x.s),
    ),
  );
}

/** A draft sortie on TANK1 for the demo partner (proprietaire_type left at its MONALUXE default, as a careless client would). */
async function partnerDraft(
  req: Requests,
  who: AppIdentity,
  day: string,
  litres: number,
  v15: number,
  volume15c?: number,
): Promise<string> {
  const [col, val] = volume15c === undefined ? ['', ''] : [', volume_15c', ', $6'];
  return req.as(who, async (q) => {
    const r = await q.query<{ id: string }>(
      `INSERT INTO public.sorties_produit (citerne_id, produit_id, partenaire_id, index_avant, index_apres, volume_corrige_15c, statut, date_sortie, note${col})
       SELECT $1, $2, p.id, 500000, 500000 + $3::float8, $4, 'brouillon', ($5::date + time '09:00')::timestamptz, 'astm53b p0.1 test'${val}
         FROM public.partenaires p ORDER BY p.nom LIMIT 1 RETURNING id::text`,
      volume15c === undefined ? [TANK1, GASOIL, litres, v15, day] : [TANK1, GASOIL, litres, v15, day, volume15c],
    );
    return r.rows[0]!.id;
  });
}

export function p0_1Contract(getDb: () => Db): void {
  const today = async (db: Db) => (await db.query<{ d: string }>('SELECT current_date::text AS d')).rows[0]!.d;
  const admin = async (db: Db): Promise<AppIdentity> => ({ role: 'authenticated', userId: await userWithRole(db, 'admin') });

  it('sql-apply on the legacy functions: exactly the two replaced, SECURITY DEFINER, search_path=public, no row of any table changed; again is a no-op', async () => {
    const db = getDb();
    const f = changeFileRef('p0_1');
    const apply = async () =>
      applyChangeFile(
        db,
        {
          file: await loadChangeFile(f.path, f.display),
          expectFunctions: parseExpectedFunctions(undefined),
          dryRun: false,
          ...STEP_TIMEOUT_DEFAULTS,
          run,
        },
        silentLogger,
      );
    const before = await everyTable(db);
    const r = await apply();
    expect(r.violations).toEqual([]);
    expect(r.status).toBe('applied');
    expect(r.diff.map((d) => `${d.change} ${d.kind} ${d.name}`)).toEqual([
      'changed function public.sorties_produit_block_update_delete()',
      'changed function public.validate_sortie(p_id uuid)',
    ]);
    expect(r.functions.map((x) => [x.signature, x.replaced, x.securityDefiner, x.searchPath])).toEqual([
      ['public.validate_sortie(p_id uuid)', true, true, 'public'],
      ['public.sorties_produit_block_update_delete()', true, true, 'public'],
    ]);
    expect(r.dataChanges).toEqual([]);
    // the pipeline's own ledger (schema astm53b) records the apply; the app's tables are as they were
    const after = await everyTable(db);
    expect(after.filter((t) => !t.table.startsWith('astm53b.'))).toEqual(before.filter((t) => !t.table.startsWith('astm53b.')));
    expect((await apply()).status).toBe('already-applied');
  });

  it("a sortie larger than its owner's stock is refused with the app's words (SORTIE_STOCK_INSUFFISANT_15C, then _AMB), never clamped; nothing changes", async () => {
    const db = getDb();
    const who = await admin(db);
    const day = await today(db);
    const tables = await everyTable(db);
    await inRolledBackTransaction(db, async (tx) => {
      const req = await openRequests(tx);
      const before = await req.as(who, (q) => readTankFigures(q, TANK1, GASOIL, day));
      const partner = before.PARTENAIRE.snapshot;
      // more than PARTENAIRE holds, far less than MONALUXE's stock in the same tank: ML_PP's P0 would have accepted it
      expect(before.MONALUXE.snapshot.amb).toBeGreaterThan(30000);
      const over15 = await partnerDraft(req, who, day, 30000, 29800);
      const e15 = await req.probe(who, 'SELECT public.validate_sortie($1)', [over15]);
      expect(e15?.code).toBe('P0001');
      const m15 = /^SORTIE_STOCK_INSUFFISANT_15C: demande=29800, stock_dispo=([0-9.]+)$/.exec(e15!.message);
      expect(Number(m15?.[1])).toBeCloseTo(partner.v15, 6);
      // ambient short, 15 °C not: the ambient words
      const overAmb = await partnerDraft(req, who, day, Math.ceil(partner.amb) + 1, 100);
      const eAmb = await req.probe(who, 'SELECT public.validate_sortie($1)', [overAmb]);
      expect(eAmb?.code).toBe('P0001');
      const mAmb = /^SORTIE_STOCK_INSUFFISANT_AMB: demande=(\d+), stock_dispo=([0-9.]+)$/.exec(eAmb!.message);
      expect(Number(mAmb?.[1])).toBe(Math.ceil(partner.amb) + 1);
      expect(Number(mAmb?.[2])).toBeCloseTo(partner.amb, 6);
      // refused means untouched: every owner's figures, and the drafts still drafts
      expect(await req.as(who, (q) => readTankFigures(q, TANK1, GASOIL, day))).toEqual(before);
      const statut = await req.as(who, (q) =>
        q.query<{ statut: string }>('SELECT statut FROM public.sorties_produit WHERE id = ANY($1::uuid[]) ORDER BY statut', [
          [over15, overAmb],
        ]),
      );
      expect(statut.rows).toEqual([{ statut: 'brouillon' }, { statut: 'brouillon' }]);
    });
    expect(await everyTable(db)).toEqual(tables);
  });

  it("a PARTENAIRE sortie moves PARTENAIRE's journal and snapshot alike and nothing of MONALUXE; the day's row starts from PARTENAIRE's own balance", async () => {
    const db = getDb();
    const who = await admin(db);
    const day = await today(db);
    const tables = await everyTable(db);
    await inRolledBackTransaction(db, async (tx) => {
      const req = await openRequests(tx);
      const before = await req.as(who, (q) => readTankFigures(q, TANK1, GASOIL, day));
      expect(before.PARTENAIRE.journalDate).not.toBe(day); // no row of the day yet: validate_sortie creates it
      const id = await partnerDraft(req, who, day, 1000, 993.5);
      await req.as(who, (q) => q.query('SELECT public.validate_sortie($1)', [id]));
      const after = await req.as(who, (q) => readTankFigures(q, TANK1, GASOIL, day));
      expect(after.MONALUXE).toEqual(before.MONALUXE);
      expect(after.PARTENAIRE.journalDate).toBe(day);
      for (const figure of ['journal', 'snapshot', 'actuel'] as const) {
        expect(after.PARTENAIRE[figure].amb - before.PARTENAIRE[figure].amb).toBeCloseTo(-1000, 6);
        expect(after.PARTENAIRE[figure].v15 - before.PARTENAIRE[figure].v15).toBeCloseTo(-993.5, 6);
      }
      const row = await req.as(undefined, (q) =>
        q.query(
          `SELECT j.source, j.depot_id = c.depot_id AS tank_depot, s.statut, s.proprietaire_type, s.validated_by::text AS by,
                  l.details->>'proprietaire_type' AS logged_owner, l.module
             FROM public.stocks_journaliers j JOIN public.citernes c ON c.id = j.citerne_id, public.sorties_produit s, public.log_actions l
            WHERE j.citerne_id = $1 AND j.date_jour = $2::date AND j.proprietaire_type = 'PARTENAIRE'
              AND s.id = $3 AND l.action = 'SORTIE_VALIDEE' AND l.details->>'sortie_id' = $3::text`,
          [TANK1, day, id],
        ),
      );
      expect(row.rows).toEqual([
        {
          source: 'SORTIE',
          tank_depot: true,
          statut: 'validee',
          proprietaire_type: 'PARTENAIRE', // normalised from the beneficiary, as the app's own validated-insert path does
          by: (who as { userId: string }).userId,
          logged_owner: 'PARTENAIRE',
          module: 'sorties',
        },
      ]);
      // DB-STRICT kept: the next request may not touch the validated sortie
      expect(await req.probe(who, "UPDATE public.sorties_produit SET note = 'x' WHERE id = $1", [id])).toMatchObject({ code: 'P0001' });
    });
    expect(await everyTable(db)).toEqual(tables);
  });

  it("where sorties_produit has PROD's volume_15c column (since 2026-03-22), the 15 °C debit is volume_15c", async () => {
    const db = getDb();
    const who = await admin(db);
    const day = await today(db);
    await inRolledBackTransaction(db, async (tx) => {
      const req = await openRequests(tx);
      await req.as(undefined, (q) => q.query('ALTER TABLE public.sorties_produit ADD COLUMN volume_15c double precision'));
      const before = await req.as(who, (q) => readTankFigures(q, TANK1, GASOIL, day));
      const id = await partnerDraft(req, who, day, 400, 397, 396.6);
      await req.as(who, (q) => q.query('SELECT public.validate_sortie($1)', [id]));
      const after = await req.as(who, (q) => readTankFigures(q, TANK1, GASOIL, day));
      expect(after.PARTENAIRE.journal.v15 - before.PARTENAIRE.journal.v15).toBeCloseTo(-396.6, 6);
      expect(after.PARTENAIRE.snapshot.v15 - before.PARTENAIRE.snapshot.v15).toBeCloseTo(-396.6, 6);
    });
  });
}
