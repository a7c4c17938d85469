import { describe, expect, it } from 'vitest';
import { diffFingerprints } from './fingerprint.js';
import type { Fingerprint, FingerprintEntry } from '../results/common.js';

const fp = (entries: FingerprintEntry[]): Fingerprint => ({ schemas: ['public'], entries, sha256: 'x' });

describe('diffFingerprints', () => {
  const base: FingerprintEntry[] = [
    {
      kind: 'function',
      name: 'public.validate_sortie(p_id uuid)',
      value: 'SECURITY DEFINER; config=search_path=public; definition sha256=aa',
    },
    { kind: 'trigger', name: 'public.receptions.trg_a', value: 'CREATE TRIGGER trg_a …; enabled=O' },
    { kind: 'policy', name: 'public.receptions.p', value: 'PERMISSIVE SELECT TO authenticated USING (true) WITH CHECK ()' },
  ];

  it('is empty for equal fingerprints', () => {
    expect(diffFingerprints(fp(base), fp([...base].reverse()))).toEqual([]);
  });

  it('names added, removed and changed objects', () => {
    const after = [
      { ...base[0]!, value: base[0]!.value.replace('aa', 'bb') },
      { kind: 'policy' as const, name: 'public.receptions.q', value: 'PERMISSIVE ALL TO anon USING (true) WITH CHECK (true)' },
      base[2]!,
    ];
    expect(diffFingerprints(fp(base), fp(after))).toEqual([
      { kind: 'function', name: 'public.validate_sortie(p_id uuid)', change: 'changed', before: base[0]!.value, after: after[0]!.value },
      { kind: 'policy', name: 'public.receptions.q', change: 'added', after: after[1]!.value },
      { kind: 'trigger', name: 'public.receptions.trg_a', change: 'removed', before: base[1]!.value },
    ]);
  });
});
