import { describe, expect, it } from 'vitest';
import { UserError } from '../errors.js';
import { assertProjectRef, projectRefOf } from './environment.js';
import { searchPathOf } from '../db/catalog.js';
import { evaluateApply, parseExpectedFunctions, type FunctionState } from './sql-apply.js';
import { runContextFrom, runWithoutAttempt } from '../results/run-context.js';

describe('Supabase project ref of a connection', () => {
  it('reads the pooler user postgres.<ref> and the direct host db.<ref>.supabase.co', () => {
    expect(projectRefOf('postgresql://postgres.abcdefghijklmnopqrst:pw@aws-0-eu-central-1.pooler.supabase.com:5432/postgres')).toBe(
      'abcdefghijklmnopqrst',
    );
    expect(projectRefOf('postgresql://postgres:pw@db.abcdefghijklmnopqrst.supabase.co:5432/postgres')).toBe('abcdefghijklmnopqrst');
    expect(projectRefOf('postgresql://postgres@127.0.0.1:5432/test')).toBeUndefined();
  });
  it('a mismatch is the user’s fault, naming both refs', () => {
    expect(() => assertProjectRef('postgresql://postgres:pw@db.aaaaaaaaaa.supabase.co/postgres', 'bbbbbbbbbb')).toThrow(
      /project aaaaaaaaaa, not bbbbbbbbbb/,
    );
    expect(assertProjectRef('postgresql://postgres:pw@db.aaaaaaaaaa.supabase.co/postgres', undefined)).toBeUndefined();
  });
});

describe('run context', () => {
  it('takes the GitHub run and actor when there, and refuses odd characters', () => {
    expect(runContextFrom({ GITHUB_RUN_ID: '42', GITHUB_RUN_ATTEMPT: '2', GITHUB_REPOSITORY: 'org/repo', GITHUB_ACTOR: 'ops' })).toEqual({
      runId: 'org/repo#42.2',
      actor: 'ops',
    });
    expect(() => runContextFrom({}, { actor: "x'; DROP" })).toThrow(UserError);
  });

  it('names the depot after the run when the run migrates one depot of several, and refuses a name no environment can carry', () => {
    const gh = { GITHUB_RUN_ID: '42', GITHUB_RUN_ATTEMPT: '2', GITHUB_REPOSITORY: 'org/repo', GITHUB_ACTOR: 'ops' };
    expect(runContextFrom({ ...gh, ASTM53B_DEPOT: 'kinshasa' }).runId).toBe('org/repo#42.2@kinshasa');
    expect(runContextFrom({ ...gh, ASTM53B_DEPOT: '  ' }).runId).toBe('org/repo#42.2');
    expect(runWithoutAttempt('org/repo#42.2@kinshasa')).toBe('org/repo#42@kinshasa');
    expect(runWithoutAttempt('org/repo#42.2')).toBe('org/repo#42');
    // rollback-kinshasa would make prod-<depot> the environment prod-rollback-kinshasa, with Kinshasa's secrets
    for (const bad of ['kin/shasa', 'a.b', '-x', 'x'.repeat(41), 'dépôt', 'Kinshasa', 'rollback-kinshasa', 'go-x', 'start-x', 'watch-x']) {
      expect(() => runContextFrom({ ...gh, ASTM53B_DEPOT: bad }), bad).toThrow(/ASTM53B_DEPOT, the workflow's depot input/);
    }
  });
});

describe('the 4.3 proof', () => {
  const f = (signature: string, def: string, sd = true, config = ['search_path=public']): FunctionState => ({
    signature,
    securityDefiner: sd,
    config,
    definitionSha256: def,
  });
  const names = parseExpectedFunctions(undefined);
  const before = new Map([
    ['public.validate_sortie', [f('public.validate_sortie(p_id uuid)', 'a')]],
    ['public.sorties_produit_block_update_delete', [f('public.sorties_produit_block_update_delete()', 'b')]],
  ]);

  it('passes when both are replaced and nothing else changed', () => {
    const after = new Map([
      ['public.validate_sortie', [f('public.validate_sortie(p_id uuid)', 'a2')]],
      ['public.sorties_produit_block_update_delete', [f('public.sorties_produit_block_update_delete()', 'b2')]],
    ]);
    const diff = [{ kind: 'function' as const, name: 'public.validate_sortie(p_id uuid)', change: 'changed' as const }];
    expect(evaluateApply(names, before, after, diff).violations).toEqual([]);
  });

  it('names an unchanged definition, a missing function and a new overload', () => {
    const after = new Map([
      ['public.validate_sortie', [f('public.validate_sortie(p_id uuid)', 'a'), f('public.validate_sortie(p_id uuid, x int)', 'n')]],
      ['public.sorties_produit_block_update_delete', []],
    ]);
    expect(evaluateApply(names, before, after, []).violations).toEqual([
      'public.validate_sortie(p_id uuid): not replaced: its definition is unchanged',
      'public.validate_sortie(p_id uuid, x int): created, not replaced (it did not exist before)',
      'public.sorties_produit_block_update_delete: does not exist after the file ran',
    ]);
  });

  it('reads search_path however it was written', () => {
    expect(searchPathOf(['search_path=public'])).toBe('public');
    expect(searchPathOf(['search_path="public"'])).toBe('public');
    expect(searchPathOf(['search_path=public, pg_temp'])).toBe('public,pg_temp');
    expect(searchPathOf([])).toBeNull();
  });
});
