import { describe, expect, it } from 'vitest';
import { useEmbeddedFixture } from '../../testing/embedded.js';
import { runSqlFile } from '../../db/sql-file.js';
import { ML_PP_PROFILE } from '../../golden/profile.js';
import { silentLogger } from '../../logger.js';
import { sqlPath, CHANGE_FILES } from '../../paths.js';
import { readTableKeys, tablesChecksums } from '../../db/checksum.js';
import { APP_SCHEMAS } from '../../db/fingerprint.js';
import { runSmoke } from './index.js';
import type { SmokeResult } from '../../results/smoke.js';

/** The local rehearsal's path: the same smoke on the embedded database finds what real PostgreSQL finds. */
const failing = (r: SmokeResult) => r.checks.flatMap((c) => c.findings.filter((f) => !f.passed).map((f) => `${c.id} ${f.code}`));
const opts = {
  profile: ML_PP_PROFILE,
  profileSource: 'test',
  toleranceL: 5,
  run: { runId: 'embedded', actor: 'vitest' },
};

describe('smoke on embedded PGlite', () => {
  const fx = useEmbeddedFixture();

  it('refuses to write before the P0 change, then pins the partner debited and the journal/snapshot divergence after it, leaving every table as it was', async () => {
    expect(failing(await runSmoke(fx(), opts, silentLogger))).toEqual(['5.4 P0_NOT_APPLIED']);
    await runSqlFile(fx(), sqlPath(CHANGE_FILES.p0), { displayName: 'p0' });
    const tables = await readTableKeys(fx(), APP_SCHEMAS);
    const before = await tablesChecksums(fx(), tables);
    const r = await runSmoke(fx(), opts, silentLogger);
    expect(r.errors).toEqual([]);
    expect(r.tank?.nom).toBe('TANK1');
    expect(failing(r)).toEqual(['5.4 OTHER_OWNERS_UNTOUCHED', '5.4 JOURNAL_SNAPSHOT_AGREE']);
    expect(r.movements.sortie?.statut).toBe('validee');
    expect(r.rollback.unchanged).toBe(true);
    expect(await tablesChecksums(fx(), tables)).toEqual(before);
  });

  it('with our P0.1 applied over it, every check passes and every table is as it was', async () => {
    await runSqlFile(fx(), sqlPath(CHANGE_FILES.p0_1), { displayName: 'p0_1' });
    const tables = await readTableKeys(fx(), APP_SCHEMAS);
    const before = await tablesChecksums(fx(), tables);
    const r = await runSmoke(fx(), opts, silentLogger);
    expect(r.errors).toEqual([]);
    expect(failing(r)).toEqual([]);
    expect(r.passed).toBe(true);
    expect(r.rollback.unchanged).toBe(true);
    expect(await tablesChecksums(fx(), tables)).toEqual(before);
  });
});
