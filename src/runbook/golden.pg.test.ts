import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { table53b } from '../astm/index.js';
import { tableChecksum } from '../db/checksum.js';
import type { Target } from '../db/target.js';
import { memoryLogger, silentLogger } from '../logger.js';
import { parseGoldenCsv } from '../golden/load.js';
import { legacyVolume15 } from '../golden/diagnose.js';
import { describePg, useFreshDatabase } from '../testing/pg.js';
import { runGoldenVerify } from './golden-run.js';
import { expectUserError as userError } from '../testing/command.js';

const DEMO = 'golden/demo-golden-cases.csv';
const demoFile = { path: DEMO, displayName: DEMO };
const pgTarget = (url: string): Target => ({ kind: 'pg', url, label: 'test' });

describePg('golden verification against the demo depot (ML_PP linkage, drift)', () => {
  const fx = useFreshDatabase('golden_fixture', { fixture: true });

  it("engine agrees with the demo SEP figures; ML_PP's legacy values drift by tens of litres: FAIL", async () => {
    const before = await tableChecksum(fx().db, 'public', 'receptions');
    const r = await runGoldenVerify({ file: demoFile, target: pgTarget(fx().scratch.url) }, silentLogger);
    expect(await tableChecksum(fx().db, 'public', 'receptions')).toEqual(before);
    expect(r.passed).toBe(false);
    expect(r.counts).toEqual({ cases: 8, passed: 0, failed: 8, mlpp_compared: 8 });
    const stored = await fx().db.query<{ id: string; volume_corrige_15c: number; volume_ambiant: number; temperature_ambiante_c: number }>(
      'SELECT id::text AS id, volume_corrige_15c, volume_ambiant, temperature_ambiante_c FROM public.receptions',
    );
    const byId = new Map(stored.rows.map((x) => [x.id, x]));
    for (const c of r.cases) {
      expect(c.engine_verdict).toBe('PASS');
      expect(c.mlpp_verdict).toBe('FAIL');
      const row = byId.get(c.reception_id!)!;
      expect(c.mlpp_volume_15c_l).toBe(row.volume_corrige_15c);
      expect(c.mlpp!.stored_column).toBe('volume_corrige_15c');
      // the fixture stores the February app formula
      expect(c.mlpp_volume_15c_l).toBeCloseTo(legacyVolume15(row.volume_ambiant, row.temperature_ambiante_c), 6);
      expect(c.mlpp_deviation_l!).toBeGreaterThan(25);
      expect(c.diagnosis.fault).toBe('mlpp');
      expect(c.diagnosis.explanation).toContain('legacy linear correction');
    }
    expect(r.max_deviation_l).toBe(Math.max(...r.cases.map((c) => c.mlpp_deviation_l!)));
  });

  it('drift: every stored reception against ASTM 53B, per reception, per tank and in total', async () => {
    const r = await runGoldenVerify({ file: demoFile, target: pgTarget(fx().scratch.url) }, silentLogger);
    const d = r.drift!;
    expect(d.profile).toBe(r.profile);
    expect(d.total.receptions).toBe(9);
    expect(d.total.recomputed).toBe(9);
    for (const x of d.receptions) {
      const astm = table53b({
        observedDensity: x.densite_kgm3!,
        temperatureC: x.temperature_c!,
        hydrometer: true,
        volumeL: x.volume_ambiant_l!,
      }).volume15L!;
      expect(x.astm_15c_l).toBe(astm);
      expect(x.drift_l).toBeCloseTo(x.stored_15c_l! - astm, 3);
      expect(x.drift_l!).toBeGreaterThan(0);
    }
    expect(d.tanks.map((t) => [t.citerne, t.receptions])).toEqual([
      ['TANK1', 5],
      ['TANK4', 4],
    ]);
    const sum = d.receptions.reduce((s, x) => s + x.drift_l!, 0);
    expect(d.total.drift_l).toBeCloseTo(sum, 2);
    expect(d.tanks.reduce((s, t) => s + t.drift_l, 0)).toBeCloseTo(d.total.drift_l, 2);
  });

  it('a case naming a reception the database does not have is refused before anything is compared', async () => {
    const text = readFileSync(DEMO, 'utf8').replace('7b7b7f47-9ccb-9bd5-40a8-788efa030e5e', '7b7b7f47-0000-0000-0000-000000000000');
    const p = join(mkdtempSync(join(tmpdir(), 'astm53b-golden-')), 'g.csv');
    writeFileSync(p, text);
    const e = await userError(
      runGoldenVerify({ file: { path: p, displayName: 'g.csv' }, target: pgTarget(fx().scratch.url) }, silentLogger),
    );
    expect(e.code).toBe('GOLDEN_RECEPTION_NOT_FOUND');
    expect(e.where).toEqual({ file: 'g.csv', line: 8, row: 7, field: 'reception_id' });
  });

  it('--from-db on the February schema: a clear error, the table does not exist there', async () => {
    const e = await userError(runGoldenVerify({ fromDb: true, target: pgTarget(fx().scratch.url) }, silentLogger));
    expect(e.code).toBe('GOLDEN_TABLE_MISSING');
    expect(e.message).toContain('public.astm_golden_cases_15c');
  });
});

describePg('golden verification --from-db (public.astm_golden_cases_15c as in PROD, FACTS §1.3)', () => {
  const fx = useFreshDatabase('golden_fromdb');

  it('reads the SEP_API_OFFICIEL rows only, validates them, and verifies them', async () => {
    const db = fx().db;
    await db.query(`CREATE TABLE public.astm_golden_cases_15c (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(), source text NOT NULL, produit_code text NOT NULL, reference text NOT NULL,
      date_mesure date, note text, volume_observe_l numeric, temperature_c numeric, densite_observee_kgm3 numeric,
      densite_a_15_kgm3_ref numeric, vcf_ref numeric, volume_15c_ref_l numeric, created_at timestamptz NOT NULL DEFAULT now())`);
    const demo = parseGoldenCsv(readFileSync(DEMO, 'utf8'), DEMO).cases.map((c) => c.case);
    for (const c of demo) {
      await db.query(
        `INSERT INTO public.astm_golden_cases_15c (source, produit_code, reference, date_mesure, note, volume_observe_l, temperature_c,
           densite_observee_kgm3, densite_a_15_kgm3_ref, vcf_ref, volume_15c_ref_l) VALUES ('SEP_API_OFFICIEL',$1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
        [
          c.produit_code,
          c.reference,
          c.date_mesure,
          c.note,
          c.volume_observe_l,
          c.temperature_c,
          c.densite_observee_kgm3,
          c.densite_a_15_kgm3_ref,
          c.vcf_ref,
          c.volume_15c_ref_l,
        ],
      );
    }
    // an ASTM_APP row with a density in g/cm³: never read unless asked for
    await db.query(
      `INSERT INTO public.astm_golden_cases_15c (source, produit_code, reference, date_mesure, volume_observe_l, temperature_c, densite_observee_kgm3, volume_15c_ref_l)
       VALUES ('ASTM_APP', 'GASOIL', 'APP-1', '2026-02-28', 1000, 20, 0.8370, 996)`,
    );
    const log = memoryLogger();
    const r = await runGoldenVerify({ fromDb: true, target: pgTarget(fx().scratch.url) }, log);
    expect(r.passed).toBe(true);
    expect(r.origin).toBe("public.astm_golden_cases_15c (source = 'SEP_API_OFFICIEL')");
    expect(r.cases.map((c) => c.reference).sort()).toEqual(demo.map((c) => c.reference).sort());
    expect(r.cases.every((c) => c.mlpp_verdict === 'NOT_COMPARED')).toBe(true);
    expect(r.drift).toBeUndefined();
    expect(log.lines).toContain('warn: the target has no public.receptions: no drift report');

    const bad = await userError(runGoldenVerify({ fromDb: true, source: 'ASTM_APP', target: pgTarget(fx().scratch.url) }, silentLogger));
    expect(bad.code).toBe('GOLDEN_DENSITY_UNIT');
    expect(bad.where).toMatchObject({ file: 'public.astm_golden_cases_15c', row: 1, field: 'densite_observee_kgm3' });

    const none = await userError(runGoldenVerify({ fromDb: true, source: 'NOPE', target: pgTarget(fx().scratch.url) }, silentLogger));
    expect(none.code).toBe('GOLDEN_EMPTY');
  });
});
