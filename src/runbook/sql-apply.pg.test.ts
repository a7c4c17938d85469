import { expect, it } from 'vitest';
import { pipelineLockHolders } from '../db/advisory-lock.js';
import { tableChecksum } from '../db/checksum.js';
import { functionSource, schemaExists } from '../db/catalog.js';
import { readFingerprint } from '../db/fingerprint.js';
import { memoryLogger } from '../logger.js';
import { changeFileWriter, ourP0Text, p0With } from '../testing/change-files.js';
import { describePg, useFreshDatabase } from '../testing/pg.js';
import type { Db } from '../db/types.js';
import { loadChangeFile } from './change-file.js';
import { applyChangeFile, parseExpectedFunctions, type ApplyOptions } from './sql-apply.js';
import { expectUserError as rejection } from '../testing/command.js';
import { STEP_TIMEOUT_DEFAULTS } from './timeouts.js';

const write = changeFileWriter();
const run = { runId: 'test-run-1', actor: 'tester' };

async function apply(db: Db, file: string, over: Partial<ApplyOptions> = {}) {
  return applyChangeFile(
    db,
    {
      file: await loadChangeFile(file),
      expectFunctions: parseExpectedFunctions(undefined),
      dryRun: false,
      ...STEP_TIMEOUT_DEFAULTS,
      run,
      ...over,
    },
    memoryLogger(),
  );
}

async function dataChecksums(db: Db) {
  const out = [];
  for (const t of ['receptions', 'sorties_produit', 'stocks_journaliers', 'stocks_snapshot', 'cours_de_route', 'log_actions'])
    out.push(await tableChecksum(db, 'public', t));
  return out;
}

describePg('astm53b apply on the fixture (runbook 4.3)', () => {
  const fx = useFreshDatabase('sql_apply', { fixture: true });
  const legacy = async () =>
    !/app\.stocks_journaliers_allow_write/.test((await functionSource(fx().db, 'public', 'validate_sortie')) ?? '');

  it('--dry-run runs the file, passes the checks, and leaves no trace', async () => {
    const { db } = fx();
    const before = await readFingerprint(db);
    const r = await apply(db, write('p0.sql', ourP0Text()), { dryRun: true });
    expect(r.status).toBe('dry-run');
    expect(r.ok).toBe(true);
    expect(r.diff.map((d) => `${d.change} ${d.name}`)).toEqual([
      'changed public.sorties_produit_block_update_delete()',
      'changed public.validate_sortie(p_id uuid)',
    ]);
    expect(r.file.droppedTransactionControl).toHaveLength(2);
    expect((await readFingerprint(db)).sha256).toBe(before.sha256);
    expect(await legacy()).toBe(true);
    expect(await schemaExists(db, 'astm53b')).toBe(false);
  });

  const violations: [string, string, RegExp][] = [
    [
      'a disabled trigger',
      'ALTER TABLE public.receptions DISABLE TRIGGER trg_receptions_log_created;',
      /changed trigger public\.receptions\.trg_receptions_log_created/,
    ],
    [
      'a new policy',
      'CREATE POLICY astm_leak ON public.receptions FOR SELECT TO anon USING (true);',
      /added policy public\.receptions\.astm_leak/,
    ],
    [
      'a revoked grant',
      'REVOKE EXECUTE ON FUNCTION public.validate_sortie(uuid) FROM anon;',
      /function grant public\.validate_sortie\(p_id uuid\) to anon/,
    ],
    ['RLS switched off', 'ALTER TABLE public.stocks_snapshot DISABLE ROW LEVEL SECURITY;', /changed rls public\.stocks_snapshot/],
    [
      'another function changed',
      'ALTER FUNCTION public.get_last_stock_ambiant(uuid, uuid) SECURITY DEFINER;',
      /changed function public\.get_last_stock_ambiant/,
    ],
  ];
  for (const [what, extra, message] of violations) {
    it(`rejects a change file that also makes ${what}, and rolls it back`, async () => {
      const { db } = fx();
      const before = await readFingerprint(db);
      const data = await dataChecksums(db);
      const r = await apply(db, write(`bad-${what.replace(/\W+/g, '_')}.sql`, p0With(extra)));
      expect(r.status).toBe('rejected');
      expect(r.ok).toBe(false);
      expect(r.violations.join('\n')).toMatch(message);
      expect(r.violations).toHaveLength(1);
      const after = await readFingerprint(db);
      expect(after.sha256).toBe(before.sha256);
      expect(await dataChecksums(db)).toEqual(data);
      expect(await legacy()).toBe(true);
      expect(await schemaExists(db, 'astm53b')).toBe(false);
    });
  }

  it('rejects a function left SECURITY INVOKER, and one without search_path=public', async () => {
    const { db } = fx();
    const before = await readFingerprint(db);
    const text = ourP0Text();
    const at = text.indexOf('FUNCTION public.validate_sortie');
    const invoker =
      text.slice(0, at) +
      text
        .slice(at)
        .replace('SECURITY DEFINER', 'SECURITY INVOKER')
        .replace("SET search_path TO 'public'", "SET search_path TO 'public, pg_temp'");
    const r = await apply(db, write('invoker.sql', invoker));
    expect(r.status).toBe('rejected');
    expect(r.violations).toEqual([
      'public.validate_sortie(p_id uuid): SECURITY INVOKER, expected SECURITY DEFINER',
      'public.validate_sortie(p_id uuid): search_path=public,pg_temp, expected public',
    ]);
    expect((await readFingerprint(db)).sha256).toBe(before.sha256);
  });

  it('stops at a failing statement naming file and line; nothing is left half-applied', async () => {
    const { db } = fx();
    const before = await readFingerprint(db);
    const text = p0With('SELECT no_such_column FROM public.receptions;');
    const e = await rejection(apply(db, write('broken.sql', text)));
    expect(e.code).toBe('SQL_FAILED');
    expect(e.where?.line).toBe(text.split('\n').findIndex((l) => l.startsWith('SELECT no_such_column')) + 1);
    expect((await readFingerprint(db)).sha256).toBe(before.sha256);
    expect(await legacy()).toBe(true);
  });

  it('a connection killed during the apply leaves the catalog and the data unchanged, and the lock free', async () => {
    const { db } = fx();
    const before = await readFingerprint(db);
    const data = await dataChecksums(db);
    const pending = apply(db, write('slow.sql', p0With('SELECT pg_sleep(30);')));
    const outcome = pending.then(
      () => 'finished',
      (e: Error) => e.message,
    );
    let pid: number | undefined;
    for (let i = 0; i < 200 && pid === undefined; i++) {
      const r = await db.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'SELECT pg_sleep(30)%' AND pid <> pg_backend_pid()",
      );
      pid = r.rows[0]?.pid;
      if (pid === undefined) await new Promise((res) => setTimeout(res, 50));
    }
    expect(pid).toBeDefined();
    await db.query('SELECT pg_terminate_backend($1)', [pid]);
    expect(await outcome).toMatch(/terminat/i);
    expect((await readFingerprint(db)).sha256).toBe(before.sha256);
    expect(await dataChecksums(db)).toEqual(data);
    expect(await legacy()).toBe(true);
    expect(await pipelineLockHolders(db, 'change')).toEqual([]);
  });

  it('two applies at once: the second waits and finds it already applied; a third with a short wait fails clearly', async () => {
    const { db } = fx();
    const slow = write('2026-02-25_p0_slow.sql', p0With('SELECT pg_sleep(2);'));
    const first = apply(db, slow);
    for (let i = 0; i < 200 && !(await pipelineLockHolders(db, 'change')).some((h) => h.granted); i++)
      await new Promise((res) => setTimeout(res, 25));
    const second = apply(db, slow, { lockWaitMs: 30_000, run: { runId: 'test-run-2', actor: 'other' } });
    const third = await rejection(apply(db, slow, { lockWaitMs: 200 }));
    expect(third.code).toBe('PIPELINE_BUSY');
    expect(third.message).toMatch(/another pipeline step holds the change lock/);
    const [a, b] = [await first, await second];
    expect(a.status).toBe('applied');
    expect(a.functions.map((f) => f.signature)).toEqual([
      'public.validate_sortie(p_id uuid)',
      'public.sorties_produit_block_update_delete()',
    ]);
    expect(b.status).toBe('already-applied');
    expect(b.ledger?.runId).toBe('test-run-1');
    expect(await legacy()).toBe(false);
    const ledger = await db.query<{ n: number }>('SELECT count(*)::int8 AS n FROM astm53b.apply_ledger');
    expect(ledger.rows[0]!.n).toBe(1);
  });

  it('the same file again is a no-op; a different file under an applied name is refused', async () => {
    const { db } = fx();
    const before = await readFingerprint(db);
    const again = await apply(db, write('2026-02-25_p0_slow.sql', p0With('SELECT pg_sleep(2);')));
    expect(again.status).toBe('already-applied');
    expect(again.diff).toEqual([]);
    const e = await rejection(apply(db, write('2026-02-25_p0_slow.sql', p0With('SELECT 1;'))));
    expect(e.code).toBe('LEDGER_CONFLICT');
    expect(e.where?.file).toMatch(/2026-02-25_p0_slow\.sql$/);
    expect((await readFingerprint(db)).sha256).toBe(before.sha256);
  });

  it('the ledger and the state schema are invisible to the fingerprint and closed to the app roles', async () => {
    const { db } = fx();
    const r = await db.query<{ role: string; usage: boolean; sel: boolean }>(
      "SELECT r AS role, has_schema_privilege(r, 'astm53b', 'USAGE') AS usage, has_table_privilege(r, 'astm53b.apply_ledger', 'SELECT') AS sel FROM unnest(ARRAY['anon','authenticated']) r",
    );
    expect(r.rows).toEqual([
      { role: 'anon', usage: false, sel: false },
      { role: 'authenticated', usage: false, sel: false },
    ]);
    expect((await readFingerprint(db)).entries.filter((e) => e.name.includes('astm53b'))).toEqual([]);
  });

  it('the ledger follows the live catalog: a function changed after the apply is DRIFT, not "already applied"', async () => {
    const { db } = fx();
    const file = write('2026-02-25_p0_slow.sql', p0With('SELECT pg_sleep(2);'));
    expect((await apply(db, file)).status).toBe('already-applied');
    // someone changes the applied function by hand
    await db.query("ALTER FUNCTION public.sorties_produit_block_update_delete() SET work_mem = '8MB'");
    const r = await apply(db, file);
    expect(r.status).toBe('drift');
    expect(r.ok).toBe(false);
    expect(r.violations[0]).toMatch(/no longer the after-state the ledger recorded.*changed outside the pipeline/);
    expect(r.diff.map((d) => `${d.change} ${d.kind} ${d.name}`)).toEqual(['changed function public.sorties_produit_block_update_delete()']);
    await db.query('ALTER FUNCTION public.sorties_produit_block_update_delete() RESET work_mem');
    expect((await apply(db, file)).status).toBe('already-applied');
  });

  it('a change file that also changes rows of application tables is rejected and rolled back, unless declared', async () => {
    const { db } = fx();
    const wipe = `SELECT set_config('app.stocks_journaliers_allow_write', '1', true);\nUPDATE public.stocks_journaliers SET stock_15c = 0;`;
    const before = await dataChecksums(db);
    const fp = await readFingerprint(db);
    const r = await apply(db, write('2026-03-01_p0_and_wipe.sql', p0With(wipe)));
    expect(r.status).toBe('rejected');
    expect(r.dataChanges).toEqual([expect.objectContaining({ table: 'public.stocks_journaliers', inserted: 0, deleted: 0 })]);
    expect(r.dataChanges[0]!.updated).toBeGreaterThan(0);
    expect(r.violations.join(' ')).toMatch(
      /public\.stocks_journaliers: 0 row\(s\) inserted, \d+ updated, 0 deleted: the change file may only replace functions/,
    );
    expect(await dataChecksums(db)).toEqual(before);
    expect((await readFingerprint(db)).sha256).toBe(fp.sha256);

    // declared: applied, and the reason is recorded with the counts
    const journal = () => db.query<{ t: number }>('SELECT coalesce(sum(stock_15c), 0)::float8 AS t FROM public.stocks_journaliers');
    expect((await journal()).rows[0]!.t).toBeGreaterThan(0);
    const forced = await apply(db, write('2026-03-03_wipe_only.sql', `BEGIN;\n${wipe}\nCOMMIT;\n`), {
      allowData: 'restating the journal on purpose (test)',
      expectFunctions: [],
    });
    expect(forced.status).toBe('applied');
    expect(forced.allowData).toBe('restating the journal on purpose (test)');
    expect(forced.dataChanges.map((d) => d.table)).toEqual(['public.stocks_journaliers']);
    expect((await journal()).rows[0]!.t).toBe(0);
    const logged = await db.query<{ detail: string }>("SELECT detail FROM astm53b.apply_log WHERE file_name = '2026-03-03_wipe_only.sql'");
    expect(logged.rows).toEqual([{ detail: 'data changes declared: restating the journal on purpose (test)' }]);
  });
});
