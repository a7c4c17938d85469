import { readTableKeys, tablesChecksums } from '../../db/checksum.js';
import { PIPELINE_PREFIX, diffFingerprints, readFingerprint } from '../../db/fingerprint.js';
import { diffStructures, readStructure } from '../../db/structure.js';
import type { Queryable } from '../../db/types.js';
import { sha256Text } from '../../hash.js';
import { readFunctionExport } from './source-reads.js';
import type { TableChecksum } from '../../results/common.js';
import type { Comparison, Manifest } from '../../results/backup.js';

/**
 * What the backup recorded against what a database holds now: every application table's
 * count and checksum, the two exported functions, and the catalog fingerprint (functions,
 * triggers, policies, RLS, grants). Used by the scratch verification and by the rollback proof.
 * `known`: checksums already taken of this database (a streamed restore's, table by table).
 */
export async function compareWithManifest(
  q: Queryable,
  manifest: Manifest,
  known?: ReadonlyMap<string, TableChecksum>,
): Promise<Comparison> {
  const actual = await tablesChecksums(q, await readTableKeys(q, manifest.schemas.application, PIPELINE_PREFIX), known);
  const names = [...new Set([...manifest.tables.map((t) => t.table), ...actual.map((t) => t.table)])].sort();
  const tables = names.map((table) => {
    const e = manifest.tables.find((t) => t.table === table);
    const a = actual.find((t) => t.table === table);
    return {
      table,
      expected: e ? { rows: e.rows, checksum: e.checksum } : null,
      actual: a ? { rows: a.rows, checksum: a.checksum } : null,
      match: !!e && !!a && e.rows === a.rows && e.checksum === a.checksum,
    };
  });
  const functions = [];
  for (const f of manifest.functions) {
    const now = await readFunctionExport(q, f.name);
    const actualSha256 = now.signatures.length ? sha256Text(now.text) : null;
    functions.push({ name: f.name, expectedSha256: f.sha256, actualSha256, match: actualSha256 === f.sha256 });
  }
  const fp = await readFingerprint(q, manifest.schemas.application);
  const changes = diffFingerprints(manifest.fingerprint, fp);
  const catalog = { match: changes.length === 0, expectedSha256: manifest.fingerprint.sha256, actualSha256: fp.sha256, changes };
  const shape = diffStructures(manifest.structure, await readStructure(q, manifest.schemas.application, PIPELINE_PREFIX));
  const structure = { match: shape.length === 0, changes: shape };
  return {
    tables,
    functions,
    catalog,
    structure,
    ok: tables.every((t) => t.match) && functions.every((f) => f.match) && catalog.match && structure.match,
  };
}

export function describeMismatches(c: Comparison, failures: string[]): void {
  for (const t of c.tables.filter((x) => !x.match)) {
    failures.push(
      !t.expected
        ? `${t.table}: not in the backup`
        : !t.actual
          ? `${t.table}: missing`
          : `${t.table}: ${t.actual.rows} rows checksum ${t.actual.checksum.slice(0, 12)}…, backup ${t.expected.rows} rows checksum ${t.expected.checksum.slice(0, 12)}…`,
    );
  }
  for (const f of c.functions.filter((x) => !x.match)) failures.push(`${f.name}: definition differs from the exported one`);
  for (const ch of [...c.catalog.changes, ...c.structure.changes]) failures.push(`${ch.kind} ${ch.name}: ${ch.change}`);
}
