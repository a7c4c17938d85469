import { describe, expect, it } from 'vitest';
import { readFingerprint } from '../db/fingerprint.js';
import { withAppUser } from '../db/as-user.js';
import { silentLogger } from '../logger.js';
import { sqlPath, CHANGE_FILES } from '../paths.js';
import { useEmbeddedFixture } from '../testing/embedded.js';
import { expectUserError } from '../testing/command.js';
import { userWithRole } from '../testing/fixture-contract.js';
import { loadChangeFile } from './change-file.js';
import { FREEZE_SQLSTATE, freezeOff, freezeOn } from './freeze.js';
import { setEnvironment } from './environment.js';
import { stagingReset } from './staging-reset.js';
import { applyChangeFile, parseExpectedFunctions } from './sql-apply.js';
import { STEP_TIMEOUT_DEFAULTS } from './timeouts.js';

/**
 * The pipeline's writing steps on the embedded engine (PostgreSQL 18 in WASM), as the local
 * rehearsal runs them: apply with its 4.3 proof and ledger, the database-enforced freeze, the
 * staging reset with its invariant. The PostgreSQL 15 tests go deeper; this proves the same
 * mechanisms hold on the other engine.
 */
const run = { runId: 'embedded-test', actor: 'vitest' };
const GASOIL = '22222222-2222-2222-2222-222222222222';

describe('apply, freeze and staging reset on embedded PGlite', () => {
  const fx = useEmbeddedFixture();

  it('refuses the staging reset on an unmarked database, touching nothing', async () => {
    const file = await loadChangeFile(sqlPath(CHANGE_FILES.resetCdrOnly), 'reset');
    const before = await fx().query<{ n: number }>('SELECT count(*)::int8 AS n FROM receptions');
    const e = await expectUserError(stagingReset(fx(), { file, run, ...STEP_TIMEOUT_DEFAULTS }, silentLogger));
    expect(e.message).toMatch(/unmarked|not marked|staging/i);
    expect((await fx().query<{ n: number }>('SELECT count(*)::int8 AS n FROM receptions')).rows[0]!.n).toBe(before.rows[0]!.n);
  });

  it('applies the P0 file with the 4.3 proof, then finds it already applied', async () => {
    const file = await loadChangeFile(sqlPath(CHANGE_FILES.p0), 'p0');
    const opts = { file, expectFunctions: parseExpectedFunctions(undefined), dryRun: false, ...STEP_TIMEOUT_DEFAULTS, run };
    const first = await applyChangeFile(fx(), opts, silentLogger);
    expect(first.status).toBe('applied');
    expect(first.diff.map((d) => d.name)).toEqual(['public.sorties_produit_block_update_delete()', 'public.validate_sortie(p_id uuid)']);
    expect((await applyChangeFile(fx(), opts, silentLogger)).status).toBe('already-applied');
  });

  it('freezes: a reception as the gerant is refused with A53F0; after off the catalog equals the one before', async () => {
    const db = fx();
    const before = await readFingerprint(db);
    await freezeOn(db, { reason: 'embedded test', force: true, run }, silentLogger);
    const gerant = await userWithRole(db, 'gerant');
    const tank = (
      await db.query<{ id: string }>("SELECT id::text FROM citernes WHERE produit_id = $1 AND statut = 'active' ORDER BY nom LIMIT 1", [
        GASOIL,
      ])
    ).rows[0]!.id;
    const partner = (await db.query<{ id: string }>('SELECT id::text FROM partenaires LIMIT 1')).rows[0]!.id;
    const err = await withAppUser(db, { role: 'authenticated', userId: gerant }, (tx) =>
      tx.query(
        "INSERT INTO receptions (citerne_id, produit_id, partenaire_id, index_avant, index_apres, temperature_ambiante_c, densite_a_15, volume_corrige_15c, proprietaire_type, date_reception) VALUES ($1, $2, $3, 0, 100, 20, 837, 99.7, 'PARTENAIRE', '2026-02-26')",
        [tank, GASOIL, partner],
      ),
    ).catch((e: { code?: string }) => e);
    expect((err as { code?: string }).code).toBe(FREEZE_SQLSTATE);
    expect((await readFingerprint(db)).sha256).toBe(before.sha256);
    await freezeOff(db, { reason: 'done', run }, silentLogger);
    expect((await readFingerprint(db)).sha256).toBe(before.sha256);
  });

  it('resets a staging-marked database: movements gone, cours_de_route unchanged, replayable', async () => {
    const db = fx();
    await setEnvironment(db, { env: 'staging', run }, silentLogger);
    const file = await loadChangeFile(sqlPath(CHANGE_FILES.resetCdrOnly), 'reset');
    for (let i = 0; i < 2; i++) {
      const r = await stagingReset(db, { file, run, ...STEP_TIMEOUT_DEFAULTS }, silentLogger);
      expect(r.ok).toBe(true);
      expect(r.after).toMatchObject({ receptions: 0, sorties_produit: 0, stocks_journaliers: 0 });
      expect(r.cdrAfter).toEqual(r.cdrBefore);
    }
  });
});
