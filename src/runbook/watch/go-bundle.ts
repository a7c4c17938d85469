import type { PublicKey } from '../../crypto/signing.js';
import { UserError } from '../../errors.js';
import { openZipEntry, readZipDirectory } from '../../evidence/zip-reader.js';
import { verifyBundle } from '../../evidence/verify.js';
import { Decision } from '../../results/decision.js';
import { RESULTS_PREFIX } from '../../results/evidence.js';
import { RESULTS } from '../../results/files.js';
import { ApplyResult } from '../../results/sql-apply.js';
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

async function entryJson<S extends z.ZodType>(file: string, name: string, schema: S): Promise<z.infer<S>> {
  const entry = (await readZipDirectory(file)).find((e) => e.name === name);
  if (!entry) throw new UserError('NOT_A_GO_BUNDLE', `${file} holds no ${name}`, { where: { file, field: name } });
  const chunks: Buffer[] = [];
  for await (const c of await openZipEntry(file, entry)) chunks.push(c as Buffer);
  const r = schema.safeParse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
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
