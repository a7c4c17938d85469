import { describe, expect, it } from 'vitest';
import { ML_PP_PROFILE } from '../golden/profile.js';
import { silentLogger } from '../logger.js';
import { useEmbeddedFixture } from '../testing/embedded.js';
import { appChecksums, deltasByTankOwner, restateOptions, stockByTankOwner } from '../testing/restate.js';
import { expectUserError } from '../testing/command.js';
import { freezeOn } from './freeze.js';
import { driftReport } from './golden-drift.js';
import { runGoldenVerify } from './golden-run.js';
import { restate } from './restate.js';

/** `restate` on the embedded database (PGlite), as the local rehearsal runs it: the same proof as on PostgreSQL. */
describe('restate on the embedded demo depot', () => {
  const db = useEmbeddedFixture();
  const run = { runId: 'embedded-1', actor: 'vitest' };

  it('--dry-run changes no application table', async () => {
    const before = await appChecksums(db());
    const r = await restate(db(), restateOptions('embedded-dry', { dryRun: true }), silentLogger);
    expect(r).toMatchObject({ status: 'dry-run', committed: false });
    expect(r.proof.holds).toBe(true);
    expect(await appChecksums(db())).toEqual(before);
  });

  it('a lecture user is refused by RLS, named in the message', async () => {
    const e = await expectUserError(
      restate(db(), restateOptions('embedded-lecture', { asUser: 'a53b0000-0000-4000-8000-000000000004' }), silentLogger),
    );
    expect(e.code).toBe('RLS_REFUSED');
    expect(e.message).toContain('a53b0000-0000-4000-8000-000000000004 (lecture@demo.astm53b.local, role lecture');
  });

  it('under the freeze: books the drift, v_stock_actuel moves by exactly it per tank and owner, the journal is untouched; a second run books nothing', async () => {
    await freezeOn(db(), { reason: 'embedded restate', force: true, run }, silentLogger);
    const drift = await db().withTransaction((tx) => driftReport(tx, { profile: ML_PP_PROFILE }, silentLogger), { readOnly: true });
    const sums = await appChecksums(db());
    const stock = await stockByTankOwner(db());
    const r = await restate(db(), restateOptions('embedded-1'), silentLogger);
    expect(r).toMatchObject({ status: 'restated', committed: true, frozen: true });
    expect(r.counts.booked).toBe(drift.total.recomputed);
    for (const x of r.receptions)
      expect(x.delta_15c_l).toBeCloseTo(-drift.receptions.find((d) => d.reception_id === x.reception_id)!.drift_l!, 3);
    const moved = deltasByTankOwner(r.receptions);
    const after = await stockByTankOwner(db());
    for (const [k, b] of stock) expect(Math.abs(after.get(k)!.v15 - b.v15 - (moved.get(k) ?? 0)), k).toBeLessThan(1e-6);
    const now = await appChecksums(db());
    expect(Object.keys(now).filter((t) => now[t] !== sums[t])).toEqual(['public.stocks_adjustments']);

    const again = await restate(db(), restateOptions('embedded-2'), silentLogger);
    expect(again).toMatchObject({ status: 'nothing-to-restate', committed: false, user: null });
    expect(again.counts.already_restated).toBe(r.counts.booked);
    expect(await appChecksums(db())).toEqual(now);

    // golden verification on the same database: every linked demo case passes on the effective value
    const g = await runGoldenVerify({ file: { path: 'golden/demo-golden-cases.csv', displayName: 'demo' }, db: db() }, silentLogger);
    expect(g.passed).toBe(true);
    expect(g.cases.every((c) => c.mlpp_verdict === 'PASS' && c.mlpp_restated_15c_l !== null)).toBe(true);
  });
});
