import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { functionSource } from '../db/catalog.js';
import { PgDb } from '../db/pg.js';
import { createScratchDatabase } from '../db/scratch.js';
import { verifyBundle } from '../evidence/verify.js';
import { silentLogger } from '../logger.js';
import { CHANGE_FILES, sqlPath } from '../paths.js';
import { freezeStatus } from '../runbook/freeze.js';
import { initFixture } from '../runbook/db-init.js';
import { appTableChecksums } from '../testing/checksums.js';
import { describePg, TEST_DATABASE_URL } from '../testing/pg.js';
import { AFTER_GO_DRILLS, DRILLS, type DrillName } from './drills.js';
import { loadRehearsalInputs } from './inputs.js';
import { rehearse } from './rehearse.js';

/**
 * The whole runbook rehearsed on real PostgreSQL to both outcomes: the runbook as written (ML_PP's
 * P0) ends NO-GO rolled back; the remedied run (our corrected change file, the restatement, a
 * sign-off) ends GO, migrated and released; every drill on the remedied run ends NO-GO with its
 * own reason, a bundle that verifies, and every application table as it was before the run.
 */
let tmp = '';
let signoff = '';
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'astm53b-outcomes-'));
  signoff = path.join(tmp, 'signoff.json');
  await writeFile(
    signoff,
    JSON.stringify({ who: 'M. Kabeya', role: 'responsable dépôt', decision: 'GO', at: new Date().toISOString(), comment: 'rehearsal' }),
  );
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const run = (name: string) => ({ runId: `outcome-${name}`, actor: 'ops-lead' });

async function freshDepot(purpose: string) {
  const scratch = await createScratchDatabase(TEST_DATABASE_URL!, purpose);
  const db = new PgDb(scratch.url);
  await initFixture(db, { scale: 1, seed: 1 }, silentLogger);
  return { db, done: async () => (await db.close(), await scratch.drop()) };
}

async function remedied(db: PgDb, name: string, drill?: DrillName) {
  const inputs = await loadRehearsalInputs({ changes: [sqlPath(CHANGE_FILES.p0_1)], signoff, ...(drill ? { drill } : {}) });
  return rehearse(db, { outDir: path.join(tmp, name), inputs, restate: true, run: run(name) }, silentLogger);
}

describePg('the runbook rehearsed to GO and to NO-GO on PostgreSQL', () => {
  it('as written (ML_PP P0): NO-GO, rolled back and equal to before, unfrozen, the bundle verifies', async () => {
    const { db, done } = await freshDepot('outcome_written');
    try {
      const before = await appTableChecksums(db);
      const r = await rehearse(
        db,
        { outDir: path.join(tmp, 'written'), inputs: await loadRehearsalInputs({}), run: run('written') },
        silentLogger,
      );
      expect(r.decision.decision).toBe('NO-GO');
      expect(r.steps.map((s) => s.step)).toContain('rollback');
      expect(await appTableChecksums(db)).toEqual(before);
      expect((await freezeStatus(db)).frozen).toBe(false);
      expect((await verifyBundle(r.bundle.out)).ok).toBe(true);
    } finally {
      await done();
    }
  });

  it('remedied (P0.1, restatement, sign-off): GO, our validate_sortie live, restated, unfrozen, CHANGELOG entry and a bundle that verifies', async () => {
    const { db, done } = await freshDepot('outcome_go');
    try {
      const r = await remedied(db, 'go');
      expect(r.decision.reasons).toEqual([]);
      expect(r.decision.decision).toBe('GO');
      expect(r.steps.map((s) => `${s.step} ${s.ok}`)).toEqual(expect.arrayContaining(['restate true', 'release true']));
      expect(r.steps.map((s) => s.step)).not.toContain('rollback');
      expect(await functionSource(db, 'public', 'validate_sortie')).toMatch(/stock_snapshot_apply_delta/);
      expect(
        (
          await db.query<{ n: number }>(
            "SELECT count(*)::int8 AS n FROM public.stocks_adjustments WHERE reason LIKE 'ASTM53B restatement%'",
          )
        ).rows[0]!.n,
      ).toBe(9);
      expect((await freezeStatus(db)).frozen).toBe(false);
      expect(r.bundle.manifest.decision).toBe('GO');
      expect(r.bundle.changelogEntry).toMatch(/^## \[\d{4}-\d{2}-\d{2}\] — Migration ASTM 53B/);
      expect((await verifyBundle(r.bundle.out)).ok).toBe(true);
    } finally {
      await done();
    }
  });

  // the after-GO drills start from a GO and end on the legacy computation: after-go-drills.embedded.test.ts
  for (const drill of (Object.keys(DRILLS) as DrillName[]).filter((d) => !AFTER_GO_DRILLS.includes(d))) {
    it(`drill ${drill}: NO-GO for ${DRILLS[drill].condition}, the bundle verifies, every application table as before the run`, async () => {
      const { db, done } = await freshDepot(`drill_${drill.replaceAll('-', '_')}`);
      try {
        const before = await appTableChecksums(db);
        const r = await remedied(db, `drill-${drill}`, drill);
        expect(r.decision.decision).toBe('NO-GO');
        expect(r.decision.reasons.map((x) => x.condition)).toContain(DRILLS[drill].condition);
        expect((await verifyBundle(r.bundle.out)).ok).toBe(true);
        expect(await appTableChecksums(db)).toEqual(before);
        expect((await freezeStatus(db)).frozen).toBe(false);
      } finally {
        await done();
      }
    });
  }
});
