import { readTableKeys, tablesChecksums } from '../../db/checksum.js';
import { digestTableCsv, type CsvExport } from '../../db/csv-export.js';
import { PIPELINE_PREFIX, diffFingerprints, readFingerprint } from '../../db/fingerprint.js';
import { diffStructures, readStructure } from '../../db/structure.js';
import type { Queryable } from '../../db/types.js';
import { sha256Text } from '../../hash.js';
import { SNAPSHOT_TABLES, snapshotFileOf } from './manifest.js';
import { plainPathOf } from './plaintext.js';
import { readFunctionExport } from './source-reads.js';
import type { TableChecksum } from '../../results/common.js';
import type { Comparison, Manifest, SnapshotComparison, Verification } from '../../results/backup.js';

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

/**
 * The CSV snapshots against the restored copy: the same rows exported from it by the very same
 * query (src/db/csv-export.ts), counted and hashed. The archive is proven by the restore and the
 * table checksums; this proves the CSV files are the archive's rows too, so a CSV edited and
 * re-hashed into the manifest is caught. `found`: the SHA-256 of each file's plaintext, by its
 * plaintext name, as re-hashed on disk or decrypted. `known`: snapshots the backup step wrote
 * from this very copy (a streamed restore), counted and hashed as they were written: not read
 * again; the file re-hashed on disk must still be those bytes and hold the source's row count.
 */
export async function compareSnapshots(
  q: Queryable,
  manifest: Manifest,
  found: Verification['files'],
  known?: ReadonlyMap<string, CsvExport>,
): Promise<SnapshotComparison[]> {
  const keys = await readTableKeys(q, manifest.schemas.application, PIPELINE_PREFIX);
  const out: SnapshotComparison[] = [];
  for (const qualified of SNAPSHOT_TABLES) {
    const file = snapshotFileOf(qualified);
    const sha256 = found.find((f) => f.path === file)?.sha256;
    // not in the manifest: describeSnapshotMismatches names it
    if (!sha256) continue;
    const rows = manifest.tables.find((t) => t.table === qualified)?.rows ?? null;
    const k = keys.find((x) => `${x.schema}.${x.table}` === qualified);
    const actual = known?.get(qualified) ?? (k ? await digestTableCsv(q, k.schema, k.table, k.key) : undefined);
    out.push({
      path: file,
      table: qualified,
      expected: { rows, sha256 },
      actual: actual ? { rows: actual.rows, sha256: actual.sha256 } : null,
      match: !!actual && actual.sha256 === sha256 && actual.rows === rows,
    });
  }
  return out;
}

export function describeSnapshotMismatches(snapshots: readonly SnapshotComparison[], manifest: Manifest, failures: string[]): void {
  for (const qualified of SNAPSHOT_TABLES) {
    const file = snapshotFileOf(qualified);
    if (!manifest.files.some((f) => plainPathOf(f) === file && f.kind === 'table-snapshot'))
      failures.push(`${file}: the runbook's snapshot of ${qualified} is not in the manifest`);
  }
  for (const s of snapshots.filter((x) => !x.match)) {
    failures.push(
      !s.actual
        ? `${s.path}: ${s.table} is not in the restored copy`
        : `${s.path}: the file (SHA-256 ${s.expected.sha256.slice(0, 12)}…, ${s.expected.rows ?? '?'} rows recorded) is not the restored copy's ${s.table} (${s.actual.rows} rows, SHA-256 ${s.actual.sha256.slice(0, 12)}…)`,
    );
  }
}
