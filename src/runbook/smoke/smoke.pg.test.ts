import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { withAppUser } from '../../db/as-user.js';
import { tableChecksum } from '../../db/checksum.js';
import { memoryLogger, silentLogger } from '../../logger.js';
import { ML_PP_PROFILE } from '../../golden/profile.js';
import { jsonText } from '../../results/io.js';
import { describePg, useFreshDatabase } from '../../testing/pg.js';
import { userWithRole } from '../../testing/fixture-contract.js';
import { changeFileRef, sqlPath, CHANGE_FILES } from '../../paths.js';
import { backup } from '../backup/index.js';
import { loadChangeFile } from '../change-file.js';
import { decide } from '../decide.js';
import { FREEZE_SQLSTATE, freezeOff, freezeOn } from '../freeze.js';
import { runGoldenVerify } from '../golden-run.js';
import { loadPreflightInputs, preflight } from '../preflight.js';
import { applyChangeFile, parseExpectedFunctions } from '../sql-apply.js';
import { runSmoke, SMOKE_MARK, type SmokeOptions } from './index.js';
import { readTankFigures } from './figures.js';
import type { Decision } from '../../results/decision.js';
import type { SmokeResult } from '../../results/smoke.js';
import { STEP_TIMEOUT_DEFAULTS } from '../timeouts.js';

/**
 * The smoke and the decision on the migrated demo database, every step real: preflight, a
 * backup restored and compared with pg_dump/pg_restore, the P0 change applied by sql-apply,
 * the golden verification, the freeze. What the smoke finds with a faithful P0 is pinned: on
 * TANK1, where PARTENAIRE holds stock too, the RPC debits every owner's journal row of the day
 * and never the snapshot, so 5.4 reports both and the decision is NO-GO for exactly those
 * reasons. Each other condition, provoked on purpose, adds exactly its own reason to that
 * baseline. Our P0.1, applied after, passes the smoke and the decision is GO.
 */
const GASOIL = '22222222-2222-2222-2222-222222222222';
const TANK1 = '57da330a-1305-4582-be45-ceab0f1aa795';
const TANK4 = '91d2078b-8e19-43c2-bf33-322a42cd4e94';
const PARTNER = 'f1a865a7-91f1-cdc2-ff6f-4c6dd69ca40c';
const run = { runId: 'test-run-1', actor: 'vitest' };
const base: SmokeOptions = { profile: ML_PP_PROFILE, profileSource: 'test', toleranceL: 5, run };

const MOVEMENT_TABLES = [
  'receptions',
  'sorties_produit',
  'stocks_journaliers',
  'stocks_snapshot',
  'stocks_adjustments',
  'log_actions',
  'cours_de_route',
];
const checksums = async (db: Parameters<typeof tableChecksum>[0]) =>
  Promise.all(MOVEMENT_TABLES.map((t) => tableChecksum(db, 'public', t)));
const failing = (r: SmokeResult) =>
  r.checks.flatMap((c) => c.findings.filter((f) => !f.passed).map((f) => `${c.id} ${f.code} ${f.condition}`));
const reasonKeys = (d: Decision) => d.reasons.map((r) => `${r.condition} ${r.message.split(':')[0]}`);

describePg('smoke and decision on the demo database (real PostgreSQL, real pg_dump/pg_restore)', () => {
  const fx = useFreshDatabase('smoke', { fixture: true });
  let results: string;
  const baseline = ['STOCK_INCOHERENCE 5.4 OTHER_OWNERS_UNTOUCHED', 'STOCK_INCOHERENCE 5.4 JOURNAL_SNAPSHOT_AGREE'];

  const temps: string[] = [];
  beforeAll(async () => {
    results = await mkdtemp(path.join(tmpdir(), 'astm53b-results-'));
    temps.push(results);
  });
  afterAll(async () => {
    for (const d of temps) await rm(d, { recursive: true, force: true });
  });

  /** a copy of the results folder with some files replaced (text) or removed (null) */
  async function decideWith(changes: Record<string, string | null>, signoff?: string): Promise<Decision> {
    const dir = await mkdtemp(path.join(tmpdir(), 'astm53b-decide-'));
    temps.push(dir);
    await cp(results, dir, { recursive: true });
    for (const [f, text] of Object.entries(changes)) {
      if (text === null) await rm(path.join(dir, f), { recursive: true, force: true });
      else await writeFile(path.join(dir, f), text);
    }
    return decide({ resultsDir: dir, ...(signoff ? { signoff } : {}) }, silentLogger);
  }

  it('without the P0 change: fails clearly (5.4 P0_NOT_APPLIED, P0001) and writes nothing at all', async () => {
    const db = fx().db;
    const before = await checksums(db);
    const r = await runSmoke(db, base, silentLogger);
    expect(r.passed).toBe(false);
    expect(r.p0Applied).toBe(false);
    expect(failing(r)).toEqual(['5.4 P0_NOT_APPLIED P0001_OR_RLS']);
    expect(r.checks.find((c) => c.id === '5.3')!.ran).toBe(false);
    expect(await checksums(db)).toEqual(before);
    await writeFile(path.join(results, 'smoke-no-p0.json'), JSON.stringify(r));
  });

  it('the steps before it, for real: preflight, verified backup, P0 applied by sql-apply, golden cases', async () => {
    const db = fx().db;
    const golden = { path: path.resolve('golden/demo-golden-cases.csv'), display: 'golden/demo-golden-cases.csv' };
    const p0 = { path: sqlPath(CHANGE_FILES.p0), display: `sql/${CHANGE_FILES.p0}` };
    const pf = await preflight(db, await loadPreflightInputs({ golden, changeFiles: [p0] }), silentLogger);
    expect(pf.passed).toBe(true);
    await writeFile(path.join(results, 'preflight.json'), JSON.stringify(pf));
    const b = await backup(db, { outDir: path.join(results, 'backup') }, silentLogger);
    expect(b.ok).toBe(true);
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
    expect(ap.violations).toEqual([]);
    expect(ap.status).toBe('applied');
    await writeFile(path.join(results, 'sql-apply.json'), JSON.stringify(ap));
    const g = await runGoldenVerify({ file: { path: golden.path, displayName: golden.display }, toleranceL: 5 }, silentLogger);
    expect(g.passed).toBe(true);
    await writeFile(path.join(results, 'golden.json'), jsonText(g));
  });

  it('frozen, as the first admin: pins what a faithful P0 gives inside its transaction, then leaves every figure as it was', async () => {
    const db = fx().db;
    await freezeOn(db, { reason: 'smoke test window', force: true, run }, silentLogger);
    const before = await readTankFigures(db, TANK1, GASOIL, (await db.query<{ d: string }>('SELECT current_date::text AS d')).rows[0]!.d);
    const tables = await checksums(db);
    const log = memoryLogger();
    const r = await runSmoke(db, base, log);
    await writeFile(path.join(results, 'smoke.json'), JSON.stringify(r));

    expect(r.frozen).toBe(true);
    expect(r.user).toMatchObject({ id: 'a53b0000-0000-4000-8000-000000000001', role: 'admin' });
    expect(r.tank?.nom).toBe('TANK1'); // PARTENAIRE holds stock there too: the P0 debit can reach it
    expect(r.errors).toEqual([]);
    // PARTENAIRE has no row of the day in the demo: the smoke received 500 L for it first, in its transaction
    expect(r.movements.otherOwnerReception).toMatchObject({ owner: 'PARTENAIRE', partner_created: false, volume_ambiant: 500 });
    const s54 = r.checks.find((c) => c.id === '5.4')!;
    expect(s54.findings[0]).toMatchObject({ code: 'OTHER_OWNER_ROW_ON_DAY', passed: true });
    expect(s54.findings[0]!.message).toMatch(/^PARTENAIRE had no journal row for TANK1 on .*: the smoke received 500 L for PARTENAIRE/);
    // every check passes except 5.4's: the other owner's row debited, and the journal/snapshot agreement, with their figures
    expect(failing(r)).toEqual(['5.4 OTHER_OWNERS_UNTOUCHED STOCK_INCOHERENCE', '5.4 JOURNAL_SNAPSHOT_AGREE STOCK_INCOHERENCE']);
    expect(s54.findings.find((f) => f.code === 'OTHER_OWNERS_UNTOUCHED')!.message).toBe(
      "validate_sortie moved another owner's stock: PARTENAIRE journal moved by -400 L / -396.8 L @15 °C",
    );
    // the reception left PARTENAIRE alone: its stock_upsert_journalier is owner-filtered
    expect(r.checks.find((c) => c.id === '5.3')!.findings.find((f) => f.code === 'OTHER_OWNERS_UNTOUCHED')!.passed).toBe(true);
    const agree = s54.findings.find((f) => f.code === 'JOURNAL_SNAPSHOT_AGREE')!;
    expect(agree.figures).toMatchObject({
      journal_delta_amb: -400,
      journal_delta_15c: -396.8,
      snapshot_delta_amb: 0,
      snapshot_delta_15c: 0,
      v_stock_actuel_delta_amb: 0,
    });
    const rec = r.movements.reception!;
    expect(rec).toMatchObject({ volume_ambiant: 1000, engine_15c: 991.2, stored_15c: 991.2, stored_in: 'volume_corrige_15c' });
    expect(r.movements.sortie).toMatchObject({
      volume_ambiant: 400,
      statut: 'validee',
      validated_by: 'a53b0000-0000-4000-8000-000000000001',
    });
    // the figures as read inside the transaction: the reception credited journal and snapshot, the sortie the journal only
    const fig = r.figures!;
    expect(fig.afterReception!.MONALUXE.snapshot.amb - before.MONALUXE.snapshot.amb).toBeCloseTo(1000, 6);
    expect(fig.afterSortie!.MONALUXE.journal.amb - before.MONALUXE.journal.amb).toBeCloseTo(600, 6);
    expect(fig.afterSortie!.MONALUXE.snapshot.amb - before.MONALUXE.snapshot.amb).toBeCloseTo(1000, 6);
    // PARTENAIRE: +500 L received by the smoke, then -400 L it never sent out; its snapshot keeps the 500
    expect(fig.afterOtherOwnerReception!.PARTENAIRE.journal.amb - before.PARTENAIRE.journal.amb).toBeCloseTo(500, 6);
    expect(fig.afterSortie!.PARTENAIRE.journal.amb - before.PARTENAIRE.journal.amb).toBeCloseTo(100, 6);
    expect(fig.afterSortie!.PARTENAIRE.snapshot.amb - before.PARTENAIRE.snapshot.amb).toBeCloseTo(500, 6);

    // and none of it survives: no truck, no reception, no adjustment; what the report claims, checked independently as the owner
    expect(await checksums(db)).toEqual(tables);
    const marked = await db.query('SELECT 1 FROM cours_de_route WHERE plaque_camion LIKE $1', [`${SMOKE_MARK}%`]);
    expect(marked.rows).toEqual([]);
    expect(await readTankFigures(db, TANK1, GASOIL, r.day!)).toEqual(before);
    expect(r.rollback).toMatchObject({ rolledBack: true, unchanged: true, afterRollback: before });
    expect(r.rollback.figures.filter((f) => !f.returned)).toEqual([]);
    const unchanged = r.checks.find((c) => c.id === '5.5')!.findings.find((f) => f.code === 'STOCK_UNCHANGED_AFTER_ROLLBACK')!;
    expect(unchanged).toMatchObject({ passed: true, figures: { figures_compared: 6, figures_differing: 0 } });

    // the freeze still holds for the app itself
    const gerant = await userWithRole(db, 'gerant');
    const blocked = await withAppUser(db, { role: 'authenticated', userId: gerant }, (tx) =>
      tx.query(
        "INSERT INTO sorties_produit (citerne_id, produit_id, client_id, index_avant, index_apres, proprietaire_type, statut, note) SELECT $1, $2, id, 0, 1, 'MONALUXE', 'brouillon', 'x' FROM clients LIMIT 1",
        [TANK4, GASOIL],
      ),
    ).then(
      () => 'accepted',
      (e: { code?: string }) => e.code,
    );
    expect(blocked).toBe(FREEZE_SQLSTATE);
    await freezeOff(db, { reason: 'smoke done', run }, silentLogger);
  });

  it('decide: NO-GO with exactly the pinned journal/snapshot incoherence when everything else passed and the manager signed GO', async () => {
    const smokeAt = JSON.parse(await readFile(path.join(results, 'smoke.json'), 'utf8')).at as string;
    await writeFile(
      path.join(results, 'signoff.json'),
      JSON.stringify({
        who: 'J. Kabila',
        role: 'responsable dépôt',
        decision: 'GO',
        at: new Date(Date.parse(smokeAt) + 60_000).toISOString(),
        comment: 'vu',
      }),
    );
    const d = await decideWith({});
    expect(d.decision).toBe('NO-GO');
    expect(reasonKeys(d)).toEqual(baseline);
    expect(d.inputs.map((i) => `${i.name} ${i.status}`)).toEqual([
      'preflight passed',
      'backup passed',
      'sql-apply passed',
      'golden passed',
      'smoke failed',
      'signoff passed',
    ]);
    expect(d.reasons[0]!.runbook).toBe('6.1');
  });

  it('decide: each prerequisite condition provoked adds exactly its reason', async () => {
    const extra = (d: Decision) => reasonKeys(d).filter((k) => !baseline.includes(k));
    const noP0 = await readFile(path.join(results, 'smoke-no-p0.json'), 'utf8');
    // the P0 change not applied (the smoke run before sql-apply)
    expect(reasonKeys(await decideWith({ 'smoke.json': noP0 }))).toEqual(['P0001_OR_RLS 5.4 P0_NOT_APPLIED']);
    expect(extra(await decideWith({ 'signoff.json': null }))).toEqual([
      'NO_SIGNOFF no written validation by the depot manager (sign-off record absent)',
    ]);
    const signed = JSON.parse(await readFile(path.join(results, 'signoff.json'), 'utf8'));
    expect(extra(await decideWith({ 'signoff.json': JSON.stringify({ ...signed, decision: 'NO-GO' }) }))).toEqual([
      expect.stringMatching(/^SIGNOFF_NO_GO /),
    ]);
    expect(extra(await decideWith({ 'signoff.json': JSON.stringify({ ...signed, at: 'yesterday' }) }))).toEqual([
      'NO_SIGNOFF sign-off record invalid',
    ]);
    expect(extra(await decideWith({ backup: null }))).toEqual([expect.stringMatching(/^NO_VERIFIED_BACKUP /)]);
    expect(extra(await decideWith({ 'backup/tables/public.stocks_journaliers.csv': 'tampered\n' }))).toEqual([
      expect.stringMatching(/^NO_VERIFIED_BACKUP BACKUP_TAMPERED/),
    ]);
    expect(extra(await decideWith({ 'smoke.json': null }))).toEqual(['RESULT_MISSING smoke result missing']);
    expect(extra(await decideWith({ 'golden.json': '{"passed": true' }))).toEqual(['RESULT_MISSING golden result unreadable']);
    const pf = JSON.parse(await readFile(path.join(results, 'preflight.json'), 'utf8'));
    const drift = {
      ...pf,
      passed: false,
      failures: [{ code: 'DRIFT', message: 'policy read_depots_authenticated differs from the staging baseline' }],
    };
    expect(extra(await decideWith({ 'preflight.json': JSON.stringify(drift) }))).toEqual(['DRIFT DRIFT']);
  });

  it('decide: a golden case 8 L off is a NO-GO naming that case', async () => {
    const csv = (await readFile('golden/demo-golden-cases.csv', 'utf8')).split('\n');
    const cells = csv[3]!.split(',');
    cells[8] = String(Number(cells[8]) + 8);
    csv[3] = cells.join(',');
    const file = path.join(results, 'golden-8l.csv');
    await writeFile(file, csv.join('\n'));
    const g = await runGoldenVerify(
      { file: { path: file, displayName: 'golden-8l.csv' }, profile: '1980/table/hydrometer', toleranceL: 5 },
      silentLogger,
    );
    const d = await decideWith({ 'golden.json': jsonText(g) });
    expect(reasonKeys(d).filter((k) => !baseline.includes(k))).toEqual([`GOLDEN_DEVIATION case ${cells[0]}`]);
    expect(d.reasons.find((r) => r.condition === 'GOLDEN_DEVIATION')!.message).toMatch(/engine − SEP -8(\.\d+)? L, beyond ±5 L/);
  });

  it('provoked in the database: a negative journal row and a duplicated journal key fail 5.5', async () => {
    const db = fx().db;
    await db.withTransaction(async (tx) => {
      await tx.query("SELECT set_config('app.stocks_journaliers_allow_write', '1', true)");
      await tx.query(
        "INSERT INTO stocks_journaliers (citerne_id, produit_id, date_jour, stock_ambiant, stock_15c, proprietaire_type) VALUES ($1, $2, '2026-01-10', -12, -11.9, 'MONALUXE')",
        ['7bf64a46-ca77-4857-af89-2e14d9128473', GASOIL],
      );
      // the journal has a unique key; a duplicate needs it gone (it happened in STAGING's history)
      await tx.query('ALTER TABLE stocks_journaliers DROP CONSTRAINT stocks_journaliers_unique');
      await tx.query('DROP INDEX IF EXISTS ux_stocks_journaliers_keys');
      await tx.query(
        "INSERT INTO stocks_journaliers (citerne_id, produit_id, date_jour, stock_ambiant, stock_15c, proprietaire_type) VALUES ($1, $2, '2026-01-11', 5, 5, 'MONALUXE'), ($1, $2, '2026-01-11', 5, 5, 'MONALUXE')",
        ['a76a08a6-9017-421e-b5d3-afe8129a8f9d', GASOIL],
      );
    });
    const r = await runSmoke(db, { ...base, run: { ...run, runId: 'test-run-2' } }, silentLogger);
    expect(failing(r)).toEqual([
      '5.4 OTHER_OWNERS_UNTOUCHED STOCK_INCOHERENCE',
      '5.4 JOURNAL_SNAPSHOT_AGREE STOCK_INCOHERENCE',
      '5.5 NO_NEGATIVE_STOCK STOCK_INCOHERENCE',
      '5.5 NO_DUPLICATE_JOURNAL_KEY STOCK_INCOHERENCE',
    ]);
    const d = await decideWith({ 'smoke.json': JSON.stringify(r) });
    expect(reasonKeys(d)).toEqual([
      ...baseline,
      'STOCK_INCOHERENCE 5.5 NO_NEGATIVE_STOCK',
      'STOCK_INCOHERENCE 5.5 NO_DUPLICATE_JOURNAL_KEY',
    ]);
    await db.withTransaction(async (tx) => {
      await tx.query("SELECT set_config('app.stocks_journaliers_allow_write', '1', true)");
      await tx.query("DELETE FROM stocks_journaliers WHERE date_jour IN ('2026-01-10', '2026-01-11')");
      await tx.query(
        'ALTER TABLE stocks_journaliers ADD CONSTRAINT stocks_journaliers_unique UNIQUE (citerne_id, produit_id, date_jour, proprietaire_type)',
      );
    });
  });

  it('provoked: a policy that refuses authenticated on depots fails 5.1 (unexpected RLS refusal)', async () => {
    const db = fx().db;
    await db.query('CREATE POLICY astm53b_test_deny ON public.depots AS RESTRICTIVE FOR SELECT TO authenticated USING (false)');
    try {
      const r = await runSmoke(db, { ...base, run: { ...run, runId: 'test-run-3' } }, silentLogger);
      expect(failing(r)[0]).toBe('5.1 DEPOTS_READ P0001_OR_RLS');
      const d = await decideWith({ 'smoke.json': JSON.stringify(r) });
      expect(reasonKeys(d).filter((k) => !baseline.includes(k))).toEqual(['P0001_OR_RLS 5.1 DEPOTS_READ']);
    } finally {
      await db.query('DROP POLICY astm53b_test_deny ON public.depots');
    }
  });

  it('a tank whose partner already has a row that day in the data: the smoke adds none, and validate_sortie debits the partner too', async () => {
    const db = fx().db;
    const gerant = await userWithRole(db, 'gerant');
    const day = (await db.query<{ d: string }>('SELECT current_date::text AS d')).rows[0]!.d;
    await withAppUser(db, { role: 'authenticated', userId: gerant }, (tx) =>
      tx.query(
        "INSERT INTO receptions (citerne_id, produit_id, partenaire_id, index_avant, index_apres, temperature_ambiante_c, densite_a_15, volume_corrige_15c, proprietaire_type, date_reception, note) VALUES ($1, $2, $3, 0, 500, 25, 836, 496.75, 'PARTENAIRE', $4::date, 'astm53b test partner')",
        [TANK1, GASOIL, PARTNER, day],
      ),
    );
    const r = await runSmoke(db, { ...base, citerneId: TANK1, run: { ...run, runId: 'test-run-4' } }, silentLogger);
    expect(r.tank!.chosenBy).toMatch(/^--citerne; PARTENAIRE already has a journal row on the day/);
    expect(r.movements.otherOwnerReception).toBeUndefined();
    const s54 = r.checks.find((c) => c.id === '5.4')!;
    expect(s54.findings[0]!.message).toMatch(/^PARTENAIRE already has a journal row for TANK1 on .* in the data/);
    expect(failing(r)).toEqual(['5.4 OTHER_OWNERS_UNTOUCHED STOCK_INCOHERENCE', '5.4 JOURNAL_SNAPSHOT_AGREE STOCK_INCOHERENCE']);
    const other = s54.findings.find((f) => f.code === 'OTHER_OWNERS_UNTOUCHED')!;
    expect(other.message).toBe("validate_sortie moved another owner's stock: PARTENAIRE journal moved by -400 L / -396.8 L @15 °C");
  });

  it("our P0.1, applied by sql-apply over ML_PP's P0 (STAGING's state): the smoke passes entirely, every table as it was, and decide says GO", async () => {
    const db = fx().db;
    const golden = { path: path.resolve('golden/demo-golden-cases.csv'), display: 'golden/demo-golden-cases.csv' };
    const p0_1 = changeFileRef('p0_1');
    const pf = await preflight(db, await loadPreflightInputs({ golden, changeFiles: [p0_1] }), silentLogger);
    expect(pf.passed).toBe(true);
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
    expect(ap.functions.map((f) => [f.signature, f.replaced])).toEqual([
      ['public.validate_sortie(p_id uuid)', true],
      ['public.sorties_produit_block_update_delete()', true],
    ]);
    const tables = await checksums(db);
    const r = await runSmoke(db, { ...base, run: { ...run, runId: 'test-run-5' } }, silentLogger);
    expect(r.errors).toEqual([]);
    expect(failing(r)).toEqual([]);
    expect(r.passed).toBe(true);
    const s54 = r.checks.find((c) => c.id === '5.4')!;
    expect(s54.findings.find((f) => f.code === 'JOURNAL_SNAPSHOT_AGREE')!.figures).toMatchObject({
      journal_delta_amb: -400,
      journal_delta_15c: -396.8,
      snapshot_delta_amb: -400,
      snapshot_delta_15c: -396.8,
      v_stock_actuel_delta_amb: -400,
    });
    expect(await checksums(db)).toEqual(tables);
    const signoff = {
      who: 'J. Kabila',
      role: 'responsable dépôt',
      decision: 'GO',
      at: new Date(Date.parse(r.at) + 60_000).toISOString(),
      comment: 'vu',
    };
    const d = await decideWith({
      'preflight.json': JSON.stringify(pf),
      'sql-apply.json': JSON.stringify(ap),
      'smoke.json': JSON.stringify(r),
      'signoff.json': JSON.stringify(signoff),
    });
    expect(d.reasons).toEqual([]);
    expect(d.decision).toBe('GO');
  });
});
