import { renderLateRollbackText } from './late-rollback.js';
import type { Comparison, Manifest, Verification } from '../results/backup.js';
import type { RollbackResult } from '../results/rollback.js';

/** Pure renderers of the backup, verification and rollback results (terminal text and job-summary markdown). */

function comparisonLines(c: Comparison | null): string[] {
  if (!c) return ['  no comparison (the restore did not complete)'];
  const tables = c.tables.filter((t) => t.match).length;
  const rows = c.tables.reduce((n, t) => n + (t.actual?.rows ?? 0), 0);
  return [
    `  tables     ${tables}/${c.tables.length} equal (${rows} rows, count and checksum per table)`,
    `  functions  ${c.functions.map((f) => `${f.name} ${f.match ? 'equal' : 'DIFFERENT'}`).join(', ')}`,
    `  catalog    ${c.catalog.match ? 'equal' : `${c.catalog.changes.length} change(s)`} (functions, triggers, policies, RLS, grants)`,
    `  structure  ${c.structure.match ? 'equal' : `${c.structure.changes.length} change(s)`} (columns, constraints, indexes, views)`,
  ];
}

function snapshotLines(v: Verification): string[] {
  if (!v.snapshots) return [];
  const equal = v.snapshots.filter((x) => x.match).length;
  return [`  snapshots  ${equal}/${v.snapshots.length} CSV files equal the restored rows (same query, count and SHA-256)`];
}

export function renderVerificationText(v: Verification): string {
  const lines = [
    `verification: ${v.ok ? 'OK' : 'FAILED'} (${v.checkedAt})`,
    `  hashes     ${v.hashes.ok ? 'every file matches the manifest' : `${v.hashes.problems.length} file(s) differ`}`,
    `  archive    ${v.archive.readable ? `readable, ${v.archive.entries} entries, pg_dump ${v.archive.dumpedBy ?? '?'}` : `UNREADABLE${v.archive.error ? `: ${v.archive.error}` : ''}`}`,
  ];
  if (v.restore)
    lines.push(
      `  restore    ${v.restore.schemas.join(', ')} from the ${v.restore.from} into ${v.restore.into}${v.restore.error ? ' FAILED' : ` in ${v.restore.ms} ms`}`,
    );
  if (v.restore) lines.push(...comparisonLines(v.comparison), ...snapshotLines(v));
  lines.push(`  not compared: ${v.notCompared.schemas.join(', ') || '(none)'}. ${v.notCompared.note}`);
  for (const f of v.failures) lines.push(`  ✗ ${f}`);
  return `${lines.join('\n')}\n`;
}

const engineName = (m: Manifest): string => (m.dump.engine === 'pglite' ? 'PGlite' : 'PostgreSQL');

/** Says who can read the data files: only the holder of the identity of one of these recipients. */
const encryptionLine = (m: Manifest): string[] =>
  m.encryption
    ? [
        `age-encrypted to ${m.encryption.recipients.join(', ')}: ${m.files
          .filter((f) => f.plaintext)
          .map((f) => f.path)
          .join(', ')} (no plaintext data file in the folder; plaintext SHA-256 in manifest.json)`,
      ]
    : [];

export function renderBackupText(r: {
  dir: string;
  manifest: Manifest;
  verification: Verification;
  warnings: string[];
  ms: { total: number };
}): string {
  const m = r.manifest;
  const lines = [
    `backup of ${m.source.label} (${engineName(m)} ${m.source.serverVersion}, ${m.dump.format} dump by ${m.tools.pg_dump.path} ${m.tools.pg_dump.version}, snapshot ${m.snapshot})`,
    `  written to ${m.written.dir} on host ${m.written.host} in ${(r.ms.total / 1000).toFixed(1)} s`,
    ...encryptionLine(m).map((l) => `  ${l}`),
    ...m.files.map((f) => `  ${f.path.padEnd(58)} ${String(f.bytes).padStart(12)} B  sha256 ${f.sha256}`),
    ...r.warnings.map((w) => `  ! ${w}`),
  ];
  return `${lines.join('\n')}\n${renderVerificationText(r.verification)}`;
}

export function renderBackupMarkdown(r: { manifest: Manifest; verification: Verification; warnings: string[] }): string {
  const m = r.manifest;
  const v = r.verification;
  const c = v.comparison;
  const out = [
    `## Backup ${v.ok ? '✅ verified' : '❌ NOT verified'}`,
    '',
    `Source ${m.source.label} (${engineName(m)} ${m.source.serverVersion}, ${m.dump.format} dump), snapshot \`${m.snapshot}\`, written to \`${m.written.dir}\` on host \`${m.written.host}\`.`,
    ...encryptionLine(m).map((l) => `\n🔒 ${l}`),
    '',
    '| file | bytes | SHA-256 |',
    '| --- | ---: | --- |',
    ...m.files.map((f) => `| \`${f.path}\` | ${f.bytes} | \`${f.sha256}\` |`),
    '',
  ];
  if (c) {
    out.push('| restored copy vs source | result |', '| --- | --- |');
    for (const l of [...comparisonLines(c), ...snapshotLines(v)]) {
      const [what, ...rest] = l.trim().split(/\s{2,}/);
      out.push(`| ${what} | ${rest.join(' ')} |`);
    }
    out.push('');
  }
  out.push(`Not compared: ${v.notCompared.schemas.map((s) => `\`${s}\``).join(', ') || '(none)'}. ${v.notCompared.note}`);
  for (const w of r.warnings) out.push('', `> ⚠️ ${w}`);
  if (v.failures.length) out.push('', ...v.failures.map((f) => `- ❌ ${f}`));
  return `${out.join('\n')}\n`;
}

function discardedLines(r: RollbackResult): string[] {
  const changed = r.discarded.filter((d) => d.writtenSince || d.changedSince || d.deletedSince);
  if (!r.committed) return [];
  if (!changed.length) return ['  discarded  nothing: every table held exactly what the backup holds'];
  return [
    '  discarded  (rows written after the backup are gone; rows changed or deleted since are back as they were)',
    ...changed.map(
      (d) =>
        `    ${d.table}: ${d.writtenSince} written since the backup, ${d.changedSince} changed, ${d.deletedSince} deleted (${d.rowsBefore} rows → ${d.rowsInBackup})`,
    ),
  ];
}

export function renderRollbackText(r: RollbackResult): string {
  const f = r.freeze;
  const lines = [
    `rollback of ${r.target}: ${r.ok ? 'OK' : r.committed ? 'FAILED' : 'FAILED, nothing changed (rolled back)'}`,
    `  source     ${r.source.matched}${r.source.override ? ` (override: ${r.source.override})` : ''}`,
    `  restored   ${r.restoredSchemas.join(', ')} from ${r.backupDir} (backup of ${r.backupTakenAt}) in ${r.ms.restore} ms; proof in ${r.ms.proof} ms`,
    `  untouched  ${r.notRestored.join(', ') || '(none)'}`,
    `  guards     ${r.protections.triggersCreatedAfterData ? `data loaded before any trigger existed (${r.protections.tableDataEntries} tables, ${r.protections.triggerEntries} triggers); ${r.protections.note}` : 'REFUSED: the archive creates triggers before data'}`,
    `  freeze     ${f.frozenAfter ? `on (${f.guardedTables} tables)${f.frozenByRollback ? ', set by the rollback (runbook 6.2 step 1)' : ', as before the rollback'}` : f.frozenBefore ? 'LIFTED' : 'off'}`,
    ...comparisonLines(r.comparison),
    ...discardedLines(r),
    ...(r.undone.length ? [`  ledger     undone: ${r.undone.map((u) => `${u.fileName} (applied ${u.appliedAt})`).join(', ')}`] : []),
    ...r.failures.map((x) => `  ✗ ${x}`),
    ...r.warnings.map((w) => `  ! ${w}`),
    ...(r.lateRollback && r.lateRollback.counts.sinceBackup ? renderLateRollbackText(r.lateRollback) : []),
    'still to do (people, not the database):',
    ...r.todos.map((t) => `  [ ] ${t}`),
  ];
  return `${lines.join('\n')}\n`;
}

export function renderRollbackMarkdown(r: RollbackResult): string {
  return [
    `## Rollback ${r.ok ? '✅ restored and proven' : r.committed ? '❌ FAILED' : '❌ FAILED, the database is unchanged'}`,
    '',
    '```',
    renderRollbackText(r).trimEnd(),
    '```',
    '',
    '### Still to do',
    '',
    ...r.todos.map((t) => `- [ ] ${t}`),
    '',
  ].join('\n');
}
