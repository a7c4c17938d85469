import { expect, it } from 'vitest';
import { sqlPath, CHANGE_FILES } from '../paths.js';
import { describePg, useFreshDatabase } from '../testing/pg.js';
import { diffFingerprints, readFingerprint } from './fingerprint.js';
import { runSqlFile } from './sql-file.js';

describePg('catalog fingerprint on the fixture', () => {
  const fx = useFreshDatabase('fingerprint', { fixture: true });

  it('is stable: two reads give the same hash, and it covers every kind of object', async () => {
    const a = await readFingerprint(fx().db);
    const b = await readFingerprint(fx().db);
    expect(b.sha256).toBe(a.sha256);
    const kinds = new Set(a.entries.map((e) => e.kind));
    expect([...kinds].sort()).toEqual(['function', 'function_grant', 'policy', 'rls', 'table_grant', 'trigger']);
  });

  it('sees the P0 change as exactly the two replaced functions', async () => {
    const before = await readFingerprint(fx().db);
    await runSqlFile(fx().db, sqlPath(CHANGE_FILES.p0));
    const diff = diffFingerprints(before, await readFingerprint(fx().db));
    expect(diff.map((d) => `${d.change} ${d.kind} ${d.name}`)).toEqual([
      'changed function public.sorties_produit_block_update_delete()',
      'changed function public.validate_sortie(p_id uuid)',
    ]);
  });

  it("sees a policy, a grant or a disabled trigger, but not the pipeline's own astm53b_* objects", async () => {
    const { db } = fx();
    const before = await readFingerprint(db);
    await db.query('CREATE FUNCTION public.astm53b_freeze_guard() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$');
    await db.query(
      'CREATE TRIGGER astm53b_freeze BEFORE INSERT ON public.receptions FOR EACH ROW EXECUTE FUNCTION public.astm53b_freeze_guard()',
    );
    expect((await readFingerprint(db)).sha256).toBe(before.sha256);
    await db.query('CREATE POLICY leak ON public.receptions FOR SELECT TO anon USING (true)');
    await db.query('REVOKE SELECT ON public.depots FROM anon');
    await db.query('ALTER TABLE public.receptions DISABLE TRIGGER trg_receptions_log_created');
    const diff = diffFingerprints(before, await readFingerprint(db));
    expect(diff.map((d) => `${d.change} ${d.kind} ${d.name}`)).toEqual([
      'added policy public.receptions.leak',
      'changed table_grant public.depots to anon',
      'changed trigger public.receptions.trg_receptions_log_created',
    ]);
  });
});
