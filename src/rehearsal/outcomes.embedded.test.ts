import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionSource } from '../db/catalog.js';
import { PgliteDb } from '../db/pglite.js';
import { verifyBundle } from '../evidence/verify.js';
import { silentLogger } from '../logger.js';
import { CHANGE_FILES, sqlPath } from '../paths.js';
import { initFixture } from '../runbook/db-init.js';
import { freezeStatus } from '../runbook/freeze.js';
import { appTableChecksums } from '../testing/checksums.js';
import { DRILLS, type DrillName } from './drills.js';
import { loadRehearsalInputs } from './inputs.js';
import { rehearse } from './rehearse.js';

/**
 * The remedied run on the embedded database (PGlite): GO, and the drills whose path differs
 * between the engines (the plain SQL dump damaged, a lost connection simulated as the server
 * would report it) ending NO-GO with every application table as before the run.
 */
let tmp = '';
let signoff = '';
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'astm53b-outcomes-embedded-'));
  signoff = path.join(tmp, 'signoff.json');
  await writeFile(signoff, JSON.stringify({ who: 'M. Kabeya', role: 'responsable dépôt', decision: 'GO', at: new Date().toISOString() }));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function remedied(name: string, drill?: DrillName) {
  const db = await PgliteDb.open(undefined);
  await initFixture(db, { scale: 1, seed: 1 }, silentLogger);
  const before = await appTableChecksums(db);
  const inputs = await loadRehearsalInputs({ changes: [sqlPath(CHANGE_FILES.p0_1)], signoff, ...(drill ? { drill } : {}) });
  const r = await rehearse(
    db,
    { outDir: path.join(tmp, name), inputs, restate: true, run: { runId: `embedded-${name}`, actor: 'ops-lead' } },
    silentLogger,
  );
  return { db, before, r };
}

describe('the runbook rehearsed on the embedded database', () => {
  it('remedied: GO, our validate_sortie live, restated, unfrozen, the bundle verifies', async () => {
    const { db, r } = await remedied('go');
    try {
      expect(r.decision.reasons).toEqual([]);
      expect(r.decision.decision).toBe('GO');
      expect(await functionSource(db, 'public', 'validate_sortie')).toMatch(/stock_snapshot_apply_delta/);
      expect((await freezeStatus(db)).frozen).toBe(false);
      expect((await verifyBundle(r.bundle.out)).ok).toBe(true);
    } finally {
      await db.close();
    }
  });

  for (const drill of ['corrupt-dump', 'connection-lost-during-smoke'] as const) {
    it(`drill ${drill}: NO-GO for ${DRILLS[drill].condition}, every application table as before`, async () => {
      const { db, before, r } = await remedied(drill, drill);
      try {
        expect(r.decision.decision).toBe('NO-GO');
        expect(r.decision.reasons.map((x) => x.condition)).toContain(DRILLS[drill].condition);
        expect((await verifyBundle(r.bundle.out)).ok).toBe(true);
        expect(await appTableChecksums(db)).toEqual(before);
      } finally {
        await db.close();
      }
    });
  }
});
