import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { silentLogger } from '../logger.js';
import { backup } from '../runbook/backup/index.js';
import { describePg, useFreshDatabase } from '../testing/pg.js';
import { buildBundle } from './bundle.js';
import { hashFile } from '../hash.js';
import { verifyBundle } from './verify.js';

/**
 * The bundle over a real backup folder (real pg_dump, restored and compared by the backup step):
 * the CHANGELOG names the dump that was actually verified, with the SHA-256 the backup recorded.
 */
describePg('evidence bundle over a real backup', () => {
  const fx = useFreshDatabase('evidence', { fixture: true });
  let work = '';
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('names the verified dump and its SHA-256, and the bundle verifies', async () => {
    work = await mkdtemp(path.join(tmpdir(), 'astm53b-evidence-pg-'));
    const results = path.join(work, 'astm53b-results');
    const b = await backup(fx().db, { outDir: path.join(results, 'backup') }, silentLogger);
    expect(b.ok).toBe(true);
    await writeFile(path.join(results, 'decision.json'), '{"decision":"NO-GO"}\n');
    const r = await buildBundle({ resultsDir: results, out: path.join(work, 'bundle.zip'), env: {} }, silentLogger);
    const dump = await hashFile(path.join(results, 'backup', 'database.dump'));
    expect(r.facts.backup).toMatchObject({
      dumpFile: 'results/backup/database.dump',
      sha256: dump.sha256,
      bytes: dump.bytes,
      dumpMatchesManifest: true,
      verified: true,
    });
    expect(r.changelogEntry).toContain(`\`results/backup/database.dump\` (SHA-256 \`${dump.sha256}\``);
    expect(r.changelogEntry).toContain('restauration de contrôle : OK (verification.json)');
    expect(r.manifest.files.filter((f) => f.path.startsWith('results/backup/')).length).toBe(b.manifest.files.length + 2);
    expect(r.incomplete).not.toContain('Archiver dump backup PROD utilisé');
    const v = await verifyBundle(r.out);
    expect(v.problems).toEqual([]);
  });
});
