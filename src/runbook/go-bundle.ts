import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { PublicKey } from '../crypto/signing.js';
import { UserError } from '../errors.js';
import { openZipEntry, readZipDirectory } from '../evidence/zip-reader.js';
import { verifyBundle } from '../evidence/verify.js';
import { Decision } from '../results/decision.js';
import { RESULTS_PREFIX } from '../results/evidence.js';
import { BACKUP_DIR, BACKUP_FILES, RESULTS } from '../results/files.js';
import { ApplyResult } from '../results/sql-apply.js';
import type { z } from 'zod';

/**
 * The GO the watch follows, read from its evidence bundle, never from the database: the bundle is
 * verified first (every file against the manifest; the signature too when the depot's public key is
 * given), then its decision.json must say GO, and sql-apply.json gives what validate_sortie became.
 */
export interface GoFacts {
  bundle: string;
  sha256: string;
  signatureValid: boolean | null;
  decidedAt: string;
  runId: string;
  /** the fingerprint's canonical value of each public.validate_sortie signature the change left */
  validateSortie: { name: string; value: string }[];
}

async function entryBytes(file: string, name: string): Promise<Buffer> {
  const entry = (await readZipDirectory(file)).find((e) => e.name === name);
  if (!entry) throw new UserError('NOT_A_GO_BUNDLE', `${file} holds no ${name}`, { where: { file, field: name } });
  const chunks: Buffer[] = [];
  for await (const c of await openZipEntry(file, entry)) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

async function entryJson<S extends z.ZodType>(file: string, name: string, schema: S): Promise<z.infer<S>> {
  const r = schema.safeParse(JSON.parse((await entryBytes(file, name)).toString('utf8')));
  if (!r.success) throw new UserError('NOT_A_GO_BUNDLE', `${file}: ${name} is not a valid ${name}`, { where: { file, field: name } });
  return r.data as z.infer<S>;
}

export async function readGoBundle(file: string, publicKey?: PublicKey): Promise<GoFacts> {
  const v = await verifyBundle(file, publicKey ? { publicKey } : {});
  if (!v.ok)
    throw new UserError(
      'GO_BUNDLE_NOT_VERIFIED',
      `${file} does not verify: ${v.problems.map((p) => `${p.path}: ${p.problem}`).join('; ')}`,
      {
        where: { file },
        hint: 'give the GO run’s own evidence bundle, as its workflow uploaded it',
      },
    );
  const decision = await entryJson(file, `${RESULTS_PREFIX}${RESULTS.decision.file}`, Decision);
  if (decision.decision !== 'GO')
    throw new UserError('NOT_A_GO_BUNDLE', `${file} records ${decision.decision}: there is no GO to watch`, {
      where: { file, field: 'decision' },
    });
  const apply = await entryJson(file, `${RESULTS_PREFIX}${RESULTS.sqlApply.file}`, ApplyResult);
  return {
    bundle: file,
    sha256: v.zip.sha256,
    signatureValid: v.authenticity.valid,
    decidedAt: decision.at,
    runId: apply.run.runId,
    validateSortie: apply.fingerprintAfter.entries
      .filter((e) => e.kind === 'function' && e.name.startsWith('public.validate_sortie('))
      .map((e) => ({ name: e.name, value: e.value })),
  };
}

/**
 * A late rollback restores the backup of a GO: the GO run's bundle, verified (signed by the depot
 * when its public key is given) and recording GO, must hold this very backup's manifest, byte for
 * byte; any other backup (an older run's, a NO-GO's) is refused before the target is touched.
 */
export async function assertGoOfBackup(
  file: string,
  backupDir: string,
  publicKey?: PublicKey,
): Promise<{ bundleSha256: string; runId: string; decidedAt: string; signatureValid: boolean | null }> {
  const go = await readGoBundle(file, publicKey);
  const name = `${RESULTS_PREFIX}${BACKUP_DIR}/${BACKUP_FILES.manifest.file}`;
  const recorded = await entryBytes(file, name);
  const given = await readFile(path.join(backupDir, BACKUP_FILES.manifest.file));
  if (!recorded.equals(given))
    throw new UserError(
      'BACKUP_NOT_OF_THIS_GO',
      `${path.join(backupDir, BACKUP_FILES.manifest.file)} is not the backup the GO of ${go.runId} recorded (${name} in ${file}): refusing to restore it`,
      { where: { file: backupDir, field: 'manifest.json' }, hint: 'download the backup artifact of the same run as the GO bundle' },
    );
  return { bundleSha256: go.sha256, runId: go.runId, decidedAt: go.decidedAt, signatureValid: go.signatureValid };
}
