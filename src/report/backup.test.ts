import { describe, expect, it } from 'vitest';
import { ROLLBACK_TODOS } from '../runbook/rollback.js';
import { renderRollbackMarkdown, renderRollbackText, renderVerificationText } from './backup.js';
import type { Verification } from '../results/backup.js';
import type { RollbackResult } from '../results/rollback.js';

const comparison = {
  tables: [
    { table: 'public.receptions', expected: { rows: 9, checksum: 'a' }, actual: { rows: 10, checksum: 'b' }, match: false },
    { table: 'public.depots', expected: { rows: 1, checksum: 'c' }, actual: { rows: 1, checksum: 'c' }, match: true },
  ],
  functions: [{ name: 'public.validate_sortie', expectedSha256: 'x', actualSha256: 'y', match: false }],
  catalog: { match: true, expectedSha256: 'f', actualSha256: 'f', changes: [] },
  structure: { match: false, changes: [{ kind: 'constraint' as const, name: 'public.citernes.c', change: 'changed' as const }] },
  ok: false,
};

describe('backup reports', () => {
  it('a failed verification says what failed and what was not compared', () => {
    const v: Verification = {
      format: 'astm53b-backup-verification/2',
      ok: false,
      checkedAt: '2026-02-25T20:00:00.000Z',
      manifestSha256: 'm',
      hashes: { ok: true, problems: [] },
      files: [],
      archive: { readable: true, entries: 275, dumpedBy: '15.20' },
      restore: { into: 'scratch database s (created and dropped)', from: 'dump stream', schemas: ['public'], ms: 640 },
      comparison,
      snapshots: null,
      notCompared: { schemas: ['auth', 'storage'], note: 'Supabase-managed schemas are not compared.' },
      failures: ['public.receptions: 10 rows checksum b…, backup 9 rows checksum a…'],
    };
    const text = renderVerificationText(v);
    expect(text).toMatch(/^verification: FAILED/);
    expect(text).toContain('tables     1/2 equal (11 rows');
    expect(text).toContain('public.validate_sortie DIFFERENT');
    expect(text).toContain('structure  1 change(s)');
    expect(text).toContain('not compared: auth, storage.');
    expect(text).toContain('✗ public.receptions: 10 rows');
  });

  it('a rollback lists every manual step of the runbook as an open to-do', () => {
    const r: RollbackResult = {
      ok: true,
      committed: true,
      target: 'postgresql://app:***@db/postgres',
      run: { runId: 'r1', actor: 'ops' },
      backupDir: '/b',
      backupTakenAt: '2026-02-25T20:00:00.000Z',
      source: { matched: 'database "postgres"', override: null },
      restoredSchemas: ['public'],
      notRestored: ['auth'],
      ms: { restore: 700, proof: 90, total: 900 },
      settings: { lockTimeoutMs: 5000, statementTimeoutMs: 900000, lockWaitMs: 10000 },
      freeze: { frozenBefore: true, frozenAfter: true, frozenByRollback: false, guardedTables: 17 },
      discarded: [{ table: 'public.receptions', rowsBefore: 10, rowsInBackup: 9, writtenSince: 1, changedSince: 0, deletedSince: 0 }],
      undone: [{ fileName: 'p0.sql', sha256: 'ab'.repeat(32), appliedAt: '2026-02-25 20:05:00+00', runId: 'r1' }],
      protections: { triggersCreatedAfterData: true, tableDataEntries: 14, triggerEntries: 19, note: 'no guard set' },
      comparison: { ...comparison, ok: true },
      failures: [],
      warnings: [],
      todos: [...ROLLBACK_TODOS],
    };
    const md = renderRollbackMarkdown(r);
    expect(md).toMatch(/^## Rollback ✅ restored and proven/);
    for (const t of ROLLBACK_TODOS) expect(md).toContain(`- [ ] ${t}`);
    expect(renderRollbackText(r)).toContain('untouched  auth');
    expect(renderRollbackText(r)).toContain('14 tables, 19 triggers');
    expect(renderRollbackText(r)).toContain('public.receptions: 1 written since the backup, 0 changed, 0 deleted (10 rows → 9)');
    expect(renderRollbackText(r)).toContain('freeze     on (17 tables), as before the rollback');
    expect(renderRollbackText(r)).toContain('ledger     undone: p0.sql');
  });
});
