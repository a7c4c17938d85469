import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { readFingerprint } from '../db/fingerprint.js';
import { memoryLogger } from '../logger.js';
import { PACKAGE_ROOT, sqlPath, CHANGE_FILES } from '../paths.js';
import { describePg, useFreshDatabase } from '../testing/pg.js';
import { loadPreflightInputs, preflight, type PreflightOptions } from './preflight.js';

const options = (extra: Partial<PreflightOptions> = {}): PreflightOptions => ({
  golden: { path: path.join(PACKAGE_ROOT, 'golden/demo-golden-cases.csv'), display: 'golden/demo-golden-cases.csv' },
  changeFiles: [{ path: sqlPath(CHANGE_FILES.p0), display: `sql/${CHANGE_FILES.p0}` }],
  ...extra,
});

describePg('preflight on the demo depot', () => {
  const fx = useFreshDatabase('preflight', { fixture: true });

  it('passes, hashes its inputs, lists the 2 waiting trucks and the GASOIL receptions, and records the deployment', async () => {
    const inputs = await loadPreflightInputs(options({ deployment: { flutterCommit: 'C4B55EA', astmFlag: 'off' } }));
    const r = await preflight(fx().db, inputs, memoryLogger());
    expect(r.passed).toBe(true);
    expect(r.failures).toEqual([]);
    expect(r.golden).toMatchObject({ file: 'golden/demo-golden-cases.csv', cases: 8 });
    expect(r.golden.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(r.changeFiles[0]!.touches.functions).toEqual(['public.sorties_produit_block_update_delete', 'public.validate_sortie']);
    expect(r.pendingTrucks.map((t) => t.statut)).toEqual(['ARRIVE', 'ARRIVE']);
    expect(r.gasoilReceptions).toHaveLength(9);
    expect(r.deployment).toEqual({
      flutterCommit: 'c4b55ea',
      flutterCommitCheck: null,
      astmFlag: 'off',
      databaseComputes15c: false,
      computeTriggers: [],
    });
    expect(r.warnings.join('\n')).toMatch(/no --baseline/);
    expect(r.warnings.join('\n')).toMatch(/2 truck\(s\) arrived but not received/);
  });

  it('fails on drift of a function the change file touches, naming it, and ignores drift elsewhere', async () => {
    const { db } = fx();
    const dir = await mkdtemp(path.join(tmpdir(), 'astm53b-preflight-'));
    const baseline = path.join(dir, 'baseline.json');
    await writeFile(baseline, JSON.stringify(await readFingerprint(db)));
    // PROD moved on after the baseline: one touched function, one untouched
    await db.query("ALTER FUNCTION public.validate_sortie(uuid) SET statement_timeout = '5s'");
    await db.query("ALTER FUNCTION public.role_in(text, text[]) SET statement_timeout = '5s'");
    try {
      const r = await preflight(
        db,
        await loadPreflightInputs(options({ baseline: { path: baseline, display: 'baseline.json' } })),
        memoryLogger(),
      );
      expect(r.passed).toBe(false);
      expect(r.failures.map((f) => f.code)).toEqual(['DRIFT']);
      expect(r.drift!.changes.map((c) => `${c.kind} ${c.name} ${c.change}`)).toEqual([
        'function public.validate_sortie(p_id uuid) changed',
      ]);
      expect(r.failures[0]!.message).toContain('public.validate_sortie(p_id uuid)');
    } finally {
      await db.query('ALTER FUNCTION public.validate_sortie(uuid) RESET statement_timeout');
      await db.query('ALTER FUNCTION public.role_in(text, text[]) RESET statement_timeout');
    }
  });

  it('takes the staging apply result as baseline (its fingerprint before the change) and finds no drift', async () => {
    const { db } = fx();
    const dir = await mkdtemp(path.join(tmpdir(), 'astm53b-preflight-'));
    const file = path.join(dir, 'sql-apply.json');
    await writeFile(file, JSON.stringify({ ok: true, fingerprintBefore: await readFingerprint(db), fingerprintAfter: {} }));
    const r = await preflight(
      db,
      await loadPreflightInputs(options({ baseline: { path: file, display: 'sql-apply.json' } })),
      memoryLogger(),
    );
    expect(r.passed).toBe(true);
    expect(r.drift).toMatchObject({ baseline: 'sql-apply.json', changes: [] });
    expect(r.drift!.objectsCompared).toBeGreaterThan(2);
  });

  it('fails when the target lacks what the pipeline relies on', async () => {
    const { db } = fx();
    await db.query('ALTER TABLE public.stocks_journaliers DISABLE TRIGGER stocks_journaliers_block_writes');
    try {
      const r = await preflight(db, await loadPreflightInputs(options()), memoryLogger());
      expect(r.passed).toBe(false);
      expect(r.failures.map((f) => f.code)).toEqual(['INCOMPATIBLE']);
    } finally {
      await db.query('ALTER TABLE public.stocks_journaliers ENABLE TRIGGER stocks_journaliers_block_writes');
    }
  });
});
