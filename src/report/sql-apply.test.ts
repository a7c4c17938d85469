import { describe, expect, it } from 'vitest';
import { renderApplyMarkdown, renderApplyText } from './sql-apply.js';
import type { Fingerprint } from '../results/common.js';
import type { ApplyResult } from '../results/sql-apply.js';
import { expectGolden } from '../testing/golden.js';

/** Renderers are pure: compared byte for byte with golden files (UPDATE_GOLDEN=1 rewrites them). */
const golden = (name: string, actual: string) => expectGolden(import.meta.url, name, actual);

const fp = (c: string): Fingerprint => ({ schemas: ['public', 'astm'], entries: [], sha256: c.repeat(64) });

const rejected: ApplyResult = {
  target: 'postgresql://postgres:***@db.example:5432/postgres',
  file: {
    name: 'p0.sql',
    display: 'sql/docs/DB_CHANGES/p0.sql',
    sha256: 'ab'.repeat(32),
    bytes: 6123,
    statements: 3,
    droppedTransactionControl: [29, 168],
  },
  status: 'rejected',
  ok: false,
  run: { runId: 'org/repo#42.1', actor: 'ops-lead' },
  expectFunctions: ['public.validate_sortie', 'public.sorties_produit_block_update_delete'],
  settings: { lockTimeoutMs: 5000, statementTimeoutMs: 120000, lockWaitMs: 10000 },
  fingerprintBefore: fp('1'),
  fingerprintAfter: fp('2'),
  diff: [
    { kind: 'function', name: 'public.validate_sortie(p_id uuid)', change: 'changed', before: 'a', after: 'b' },
    { kind: 'trigger', name: 'public.receptions.trg_receptions_log_created', change: 'changed', before: 'O', after: 'D' },
  ],
  functions: [
    {
      name: 'public.validate_sortie',
      signature: 'public.validate_sortie(p_id uuid)',
      replaced: true,
      securityDefiner: false,
      searchPath: 'public',
      problems: ['SECURITY INVOKER, expected SECURITY DEFINER'],
    },
    {
      name: 'public.sorties_produit_block_update_delete',
      signature: 'public.sorties_produit_block_update_delete()',
      replaced: true,
      securityDefiner: true,
      searchPath: 'public',
      problems: [],
    },
  ],
  dataChanges: [],
  allowData: null,
  violations: [
    'public.validate_sortie(p_id uuid): SECURITY INVOKER, expected SECURITY DEFINER',
    'changed trigger public.receptions.trg_receptions_log_created: the change file may only replace public.validate_sortie, public.sorties_produit_block_update_delete',
  ],
  at: '2026-03-11T22:05:00.000Z',
  ms: 120,
};

describe('sql apply renderers', () => {
  it('renders a rejected apply as text', () => golden('sql-apply-rejected.txt', renderApplyText(rejected)));
  it('renders a rejected apply as markdown', () => golden('sql-apply-rejected.md', renderApplyMarkdown(rejected)));
  it('says plainly that nothing else changed when the apply is clean', () => {
    const clean: ApplyResult = {
      ...rejected,
      status: 'applied',
      ok: true,
      diff: rejected.diff.slice(0, 1),
      violations: [],
      functions: rejected.functions.map((f) => ({ ...f, securityDefiner: true, problems: [] })),
    };
    const md = renderApplyMarkdown(clean);
    expect(md).toContain('✅ APPLIED and committed');
    expect(md).toContain('No trigger, policy, RLS switch, grant or other function changed.');
    expect(renderApplyText(clean)).not.toContain('problems:');
  });
});
