import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { withAppUser } from '../db/as-user.js';
import type { Target } from '../db/target.js';
import type { Db } from '../db/types.js';
import { silentLogger } from '../logger.js';
import { writeResult } from '../results/io.js';
import type { GoldenReport } from '../results/golden.js';
import { userWithRole } from '../testing/fixture-contract.js';
import { appReception } from '../testing/movements.js';
import { describePg, useFreshDatabase } from '../testing/pg.js';
import { appChecksums } from '../testing/restate.js';
import { backup } from './backup/index.js';
import { decide } from './decide.js';
import { FREEZE_SQLSTATE, freezeOn, freezeStatus } from './freeze.js';
import { runGoldenVerify } from './golden-run.js';
import { buildRestateOptions, restate } from './restate.js';
import { rollback } from './rollback.js';
import { STEP_TIMEOUT_DEFAULTS } from './timeouts.js';

/**
 * Restatement in the PROD workflow's order on real PostgreSQL: freeze on → verified backup →
 * golden verification (the linked legacy receptions are a NO-GO reason naming `restate`) →
 * restate with the profile golden verification settled → golden verification again (the linked
 * cases PASS on ML_PP's effective value) → rollback from the backup taken before: the
 * adjustments are gone and every table equals the backup; the cases fail again.
 */
const run = { runId: 'restate-seams', actor: 'ops-lead' };
const DEMO = path.resolve('golden/demo-golden-cases.csv');

async function appEntry(db: Db, gerant: string): Promise<string> {
  class Undo extends Error {}
  try {
    await withAppUser(db, { role: 'authenticated', userId: gerant }, async (tx) => {
      await appReception(tx, '2026-02-27');
      throw new Undo();
    });
  } catch (e) {
    if (e instanceof Undo) return 'accepted';
    return (e as { code?: string }).code === FREEZE_SQLSTATE ? 'refused by the freeze' : `refused: ${(e as Error).message}`;
  }
  return 'accepted';
}

const goldenReasons = async (results: string, g: GoldenReport) => {
  await writeResult(results, 'golden', g);
  const d = await decide({ resultsDir: results }, silentLogger);
  return d.reasons.filter((r) => r.source.endsWith('golden.json'));
};

describePg('restate in the PROD workflow order: freeze → backup → golden → restate → golden → rollback', () => {
  const fx = useFreshDatabase('restate_seams', { fixture: true });
  let tmp = '';
  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('the linked cases pass on the effective value once restated; the rollback removes the adjustments and every table equals the backup', async () => {
    const { db, scratch } = fx();
    const target: Target = { kind: 'pg', url: scratch.url, label: 'seams' };
    tmp = await mkdtemp(path.join(tmpdir(), 'astm53b-restate-seams-'));
    const results = path.join(tmp, 'results');
    const gerant = await userWithRole(db, 'gerant');
    const golden = () => runGoldenVerify({ file: { path: DEMO, displayName: 'golden/demo-golden-cases.csv' }, target }, silentLogger);

    await freezeOn(db, { reason: 'ASTM53B migration window', force: true, run }, silentLogger);
    expect(await appEntry(db, gerant)).toBe('refused by the freeze');
    const b = await backup(db, { outDir: path.join(tmp, 'backup') }, silentLogger);
    expect(b.ok).toBe(true);
    const atBackup = await appChecksums(db);
    const inManifest = Object.fromEntries(b.manifest.tables.map((t) => [t.table, `${t.rows}:${t.checksum}`]));
    for (const [t, sum] of Object.entries(atBackup)) expect(inManifest[t], t).toBe(sum);

    // before: ML_PP's stored legacy values fail every linked case, and the decision names the remedy
    const g1 = await golden();
    expect(g1.counts).toMatchObject({ cases: 8, failed: 8, mlpp_compared: 8 });
    expect(g1.cases.every((c) => c.mlpp_verdict === 'FAIL' && c.mlpp_restated_15c_l === null)).toBe(true);
    const before = await goldenReasons(results, g1);
    expect(before).toHaveLength(8);
    for (const r of before) {
      expect(r.condition).toBe('GOLDEN_DEVIATION');
      expect(r.message).toContain('`astm53b restate` books its ASTM 53B restatement');
    }

    // restate, under the freeze, with the profile golden verification settled
    const opts = await buildRestateOptions({
      goldenResult: { path: path.join(results, 'golden.json'), display: 'golden.json' },
      dryRun: false,
      timeouts: STEP_TIMEOUT_DEFAULTS,
      run,
    });
    const r = await restate(db, opts, silentLogger);
    expect(r).toMatchObject({
      status: 'restated',
      committed: true,
      frozen: true,
      profile: g1.profile,
      profile_source: 'golden.json (golden verification)',
    });
    expect(r.counts.booked).toBe(9);
    expect(r.proof.holds).toBe(true);
    expect((await freezeStatus(db)).consistent).toBe(true);
    expect(await appEntry(db, gerant)).toBe('refused by the freeze');

    // after: the linked cases pass on ML_PP's effective value; the stored one is still shown
    const g2 = await golden();
    expect(g2.passed).toBe(true);
    expect(g2.counts).toMatchObject({ cases: 8, passed: 8, failed: 0, mlpp_compared: 8 });
    for (const c of g2.cases) {
      const booked = r.receptions.find((x) => x.reception_id === c.reception_id)!;
      expect(c.mlpp_verdict).toBe('PASS');
      expect(c.mlpp_volume_15c_l).toBe(booked.stored_15c_l);
      expect(c.mlpp_restated_15c_l).toBeCloseTo(booked.delta_15c_l!, 6);
      expect(c.mlpp_effective_15c_l).toBeCloseTo(booked.astm_15c_l!, 6);
      expect(Math.abs(c.mlpp_deviation_l!)).toBeLessThanOrEqual(5);
      expect(c.diagnosis.explanation).toMatch(/^engine, SEP and ML_PP agree \(ML_PP's effective .* restated\) within ±5 L\.$/);
    }
    expect(await goldenReasons(results, g2)).toEqual([]);

    // rollback (6.2) from the backup taken before: the adjustments are data in public, so they go
    const rb = await rollback(db, { backupDir: b.dir, run }, silentLogger);
    expect(rb.failures).toEqual([]);
    expect(rb.ok).toBe(true);
    expect(rb.discarded).toEqual([
      expect.objectContaining({
        table: 'public.stocks_adjustments',
        rowsBefore: 9,
        rowsInBackup: 0,
        writtenSince: 9,
        changedSince: 0,
        deletedSince: 0,
      }),
    ]);
    expect(await appChecksums(db)).toEqual(atBackup);
    expect(rb.freeze).toMatchObject({ frozenBefore: true, frozenAfter: true });
    expect(await appEntry(db, gerant)).toBe('refused by the freeze');
    const g3 = await golden();
    expect(g3.counts).toMatchObject({ failed: 8 });
    expect(g3.cases.every((c) => c.mlpp_restated_15c_l === null)).toBe(true);
  });
});
