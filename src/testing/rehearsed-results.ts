import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { PgliteDb } from '../db/pglite.js';
import { silentLogger } from '../logger.js';
import { PACKAGE_ROOT } from '../paths.js';
import { loadRehearsalInputs } from '../rehearsal/inputs.js';
import { rehearse } from '../rehearsal/rehearse.js';
import { DEFAULT_RESULTS_DIR } from '../results/files.js';
import { initFixture } from '../runbook/db-init.js';

/**
 * The results folder of a real run: the whole runbook rehearsed on the embedded demo depot by
 * the same code as `astm53b rehearse` (ML_PP's P0, so NO-GO, rolled back). Tests that need
 * result files start from it (src/testing/results.ts), so they read what the steps really write.
 * Built once per source tree: kept under out/test-fixtures/ keyed by the SHA-256 of the code and
 * SQL that produce it, so the three test projects and later runs share it.
 */
const SOURCES = ['src', 'sql', 'golden'];

async function sourceDigest(): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (rel: string): Promise<void> => {
    const abs = path.join(PACKAGE_ROOT, rel);
    for (const e of (await readdir(abs, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const r = `${rel}/${e.name}`;
      if (e.isDirectory()) await walk(r);
      else if (e.isFile() && !/\.test\.ts$/.test(e.name))
        hash
          .update(r)
          .update('\0')
          .update(await readFile(path.join(PACKAGE_ROOT, r)))
          .update('\0');
    }
  };
  for (const s of SOURCES) await walk(s);
  return hash.digest('hex').slice(0, 16);
}

/** The folder holding `astm53b-results/` of a real rehearsal; built if this source tree has none yet. */
export async function buildRehearsedResults(): Promise<string> {
  const dir = path.join(PACKAGE_ROOT, 'out', 'test-fixtures', `rehearsal-${await sourceDigest()}`);
  if (existsSync(path.join(dir, DEFAULT_RESULTS_DIR))) return path.join(dir, DEFAULT_RESULTS_DIR);
  const partial = `${dir}.partial-${process.pid}`;
  await rm(partial, { recursive: true, force: true });
  await mkdir(partial, { recursive: true });
  const db = await PgliteDb.open(undefined);
  try {
    await initFixture(db, { scale: 1, seed: 1 }, silentLogger);
    const inputs = await loadRehearsalInputs({});
    await rehearse(db, { outDir: partial, inputs, run: { runId: 'fixture-rehearsal', actor: 'fixture' } }, silentLogger);
  } finally {
    await db.close();
  }
  // another project may have built the same one meanwhile: either copy is the same run's
  await rename(partial, dir).catch(async () => rm(partial, { recursive: true, force: true }));
  return path.join(dir, DEFAULT_RESULTS_DIR);
}
