import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgliteDb } from '../db/pglite.js';
import { UserError } from '../errors.js';
import { silentLogger } from '../logger.js';
import { initFixture } from './db-init.js';
import { runGoldenVerify } from './golden-run.js';

/** The same golden step on the embedded database (the local rehearsal's target). */
describe('golden verification on embedded PGlite', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'astm53b-golden-pglite-'));
  const target = { kind: 'embedded' as const, dataDir, label: 'embedded test' };
  beforeAll(async () => {
    const db = await PgliteDb.open(dataDir);
    try {
      await initFixture(db, { scale: 1, seed: 1 }, silentLogger);
    } finally {
      await db.close();
    }
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('links the demo cases to the fixture receptions and reports the drift, as on PostgreSQL', async () => {
    const r = await runGoldenVerify(
      { file: { path: 'golden/demo-golden-cases.csv', displayName: 'golden/demo-golden-cases.csv' }, target },
      silentLogger,
    );
    expect(r.passed).toBe(false);
    expect(r.cases.every((c) => c.engine_verdict === 'PASS' && c.mlpp_verdict === 'FAIL' && c.diagnosis.fault === 'mlpp')).toBe(true);
    expect(r.cases[0]!.mlpp_volume_15c_l).toBeCloseTo(37233.91656, 4);
    expect(r.drift!.total.recomputed).toBe(9);
    expect(r.drift!.receptions[0]!.date_reception).toBe('2026-02-06');
    expect(r.drift!.total.drift_l).toBeGreaterThan(500);
  });

  it('--from-db: the February schema has no golden table', async () => {
    const e = await runGoldenVerify({ fromDb: true, target }, silentLogger).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).code).toBe('GOLDEN_TABLE_MISSING');
  });
});
