import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgliteDb } from '../db/pglite.js';
import { verifyBundle } from '../evidence/verify.js';
import { legacyVolume15 } from '../golden/diagnose.js';
import { silentLogger } from '../logger.js';
import { CHANGE_FILES, sqlPath } from '../paths.js';
import { RollbackResult } from '../results/rollback.js';
import { WatchResult } from '../results/watch.js';
import { initFixture } from '../runbook/db-init.js';
import { freezeStatus } from '../runbook/freeze.js';
import { stockLines } from '../runbook/late-rollback/index.js';
import { AFTER_GO_FIGURES } from './after-go.js';
import { AFTER_GO_DIR } from './after-go-drill.js';
import type { DrillName } from './drills.js';
import { loadRehearsalInputs } from './inputs.js';
import { rehearse } from './rehearse.js';

/**
 * The after-GO drills on the embedded database (PGlite): the remedied run reaches GO, the depot works
 * a day as its app users, a field complaint makes the watch say NO-GO, and the late rollback either
 * replays every movement on the legacy computation or lists them all. The outcome is NO-GO (field
 * complaint); the GO bundle and the after-GO bundle both verify.
 */
let tmp = '';
let signoff = '';
beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'astm53b-after-go-drills-'));
  signoff = path.join(tmp, 'signoff.json');
  await writeFile(signoff, JSON.stringify({ who: 'M. Kabeya', role: 'responsable dépôt', decision: 'GO', at: new Date().toISOString() }));
});
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

async function drill(name: DrillName) {
  const db = await PgliteDb.open(undefined);
  await initFixture(db, { scale: 1, seed: 1 }, silentLogger);
  const inputs = await loadRehearsalInputs({ changes: [sqlPath(CHANGE_FILES.p0_1)], signoff, drill: name });
  const r = await rehearse(
    db,
    { outDir: path.join(tmp, name), inputs, restate: true, run: { runId: `drill-${name}`, actor: 'ops-lead' } },
    silentLogger,
  );
  const dir = path.join(tmp, name, AFTER_GO_DIR);
  const rb = RollbackResult.parse(JSON.parse(await readFile(path.join(dir, 'rollback.json'), 'utf8')));
  const w = WatchResult.parse(JSON.parse(await readFile(path.join(dir, 'watch', 'watch.json'), 'utf8')));
  return { db, r, rb, w };
}

describe('rehearse --drill after a GO (embedded database)', () => {
  it('complaint-after-go: NO-GO by the watch; every movement entered after the GO back with its legacy 15 °C value', async () => {
    const { db, r, rb, w } = await drill('complaint-after-go');
    try {
      expect(r.afterGoOk).toBe(true);
      expect(r.steps.filter((s) => !s.ok)).toEqual([]);
      expect(r.decision.decision).toBe('NO-GO');
      expect(r.decision.reasons.map((x) => x.condition)).toEqual(['FIELD_COMPLAINT']);
      expect(w.decision).toBe('NO-GO');
      expect(w.checks.filter((c) => !c.passed).map((c) => c.id)).toEqual(['complaints']);
      const late = rb.lateRollback!;
      // the 9 restatements of the migration are exported but not re-entered; the day's 3 movements are
      expect(late.counts).toEqual({ sinceBackup: 12, replayed: 3, skipped: 9, remaining: 0 });
      const m = AFTER_GO_FIGURES;
      const rec = late.replay!.replayed.find((x) => x.kind === 'reception')!;
      expect(rec.legacy15c).toBe(legacyVolume15(m.reception.index_apres - m.reception.index_avant, m.reception.temperature_c));
      expect((await db.query('SELECT volume_corrige_15c AS v FROM receptions WHERE id = $1', [rec.replayedId])).rows[0]).toEqual({
        v: rec.legacy15c,
      });
      expect(await stockLines(db)).toEqual(late.stock.afterReplay);
      expect((await freezeStatus(db)).frozen).toBe(false);
      expect((await verifyBundle(r.bundle.out)).ok).toBe(true);
      expect((await verifyBundle(r.afterGoBundle!.out)).ok).toBe(true);
    } finally {
      await db.close();
    }
  });

  it('late-rollback-no-replay: NO-GO by the watch; the three movements exported and listed per tank and day, the backup restored', async () => {
    const { db, r, rb } = await drill('late-rollback-no-replay');
    try {
      expect(r.afterGoOk).toBe(true);
      expect(r.decision.decision).toBe('NO-GO');
      const late = rb.lateRollback!;
      expect(late.replay).toBeNull();
      expect(late.counts).toEqual({ sinceBackup: 12, replayed: 0, skipped: 9, remaining: 3 });
      expect(late.toReenter).toEqual([{ citerne: 'TANK4', day: '2026-02-27', movements: [10, 11, 12] }]);
      expect(late.movements.slice(-3).map((x) => x.kind)).toEqual(['reception', 'sortie', 'adjustment']);
      expect(await stockLines(db)).toEqual(late.stock.afterRestore);
      expect(late.files.map((f) => f.path)).toContain('late-rollback/movements.json');
    } finally {
      await db.close();
    }
  });
});
