import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { tableChecksum } from '../db/checksum.js';
import { schemaExists } from '../db/catalog.js';
import type { Db } from '../db/types.js';
import { UserError } from '../errors.js';
import { memoryLogger } from '../logger.js';
import { sqlPath, CHANGE_FILES } from '../paths.js';
import { changeFileWriter } from '../testing/change-files.js';
import { describePg, useFreshDatabase } from '../testing/pg.js';
import { loadChangeFile } from './change-file.js';
import { freezeOff, freezeOn } from './freeze.js';
import { readEnvironment, setEnvironment } from './environment.js';
import { applyChangeFile, parseExpectedFunctions } from './sql-apply.js';
import { stagingReset } from './staging-reset.js';
import { STEP_TIMEOUT_DEFAULTS } from './timeouts.js';

const write = changeFileWriter();
const run = { runId: 'reset-run', actor: 'tester' };
const TABLES = ['receptions', 'sorties_produit', 'stocks_journaliers', 'stocks_snapshot', 'cours_de_route', 'log_actions'];

async function snapshotOfData(db: Db) {
  return Promise.all(TABLES.map((t) => tableChecksum(db, 'public', t)));
}

async function reset(db: Db, url?: string) {
  return stagingReset(
    db,
    {
      file: await loadChangeFile(sqlPath(CHANGE_FILES.resetCdrOnly), `sql/${CHANGE_FILES.resetCdrOnly}`),
      url,
      run,
      ...STEP_TIMEOUT_DEFAULTS,
    },
    memoryLogger(),
  );
}

async function refusal(p: Promise<unknown>): Promise<UserError> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(UserError);
  return e as UserError;
}

describePg('astm53b staging-reset (runbook 3.5) and the environment marker', () => {
  const fx = useFreshDatabase('staging_reset', { fixture: true });

  it('refuses an unmarked database and touches nothing, not even to create its own schema', async () => {
    const { db } = fx();
    const data = await snapshotOfData(db);
    const e = await refusal(reset(db));
    expect(e.code).toBe('ENV_NOT_STAGING');
    expect(e.message).toMatch(/no marker/);
    expect(await snapshotOfData(db)).toEqual(data);
    expect(await schemaExists(db, 'astm53b')).toBe(false);
  });

  it('refuses a database marked prod, and a marker that contradicts ML_PP’s own', async () => {
    const { db } = fx();
    await setEnvironment(db, { env: 'prod', run }, memoryLogger());
    const data = await snapshotOfData(db);
    expect((await refusal(reset(db))).message).toMatch(/not marked staging \(astm53b\.environment: prod/);
    await db.query(
      'CREATE TABLE public.app_settings (key text PRIMARY KEY, value text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())',
    );
    await db.query("INSERT INTO public.app_settings (key, value) VALUES ('env', 'staging')");
    expect((await readEnvironment(db)).env).toBe('conflict');
    expect((await refusal(reset(db))).message).toMatch(/astm53b\.environment says prod but public\.app_settings env says "staging"/);
    expect((await refusal(setEnvironment(db, { env: 'prod', run }, memoryLogger()))).code).toBe('ENV_CONFLICT');
    expect(await snapshotOfData(db)).toEqual(data);
    // ML_PP's own marker alone is enough
    await db.query('DELETE FROM astm53b.environment');
    expect((await readEnvironment(db)).env).toBe('staging');
  });

  it('checks --project-ref against the connection, as ML_PP’s reset scripts do', async () => {
    const { db } = fx();
    const pooler = 'postgresql://postgres.abcdefghijklmnopqrst:pw@aws-0-eu-central-1.pooler.supabase.com:5432/postgres';
    expect(
      (await refusal(setEnvironment(db, { env: 'staging', projectRef: 'zzzzzzzzzzzzzzzzzzzz', url: pooler, run }, memoryLogger()))).message,
    ).toMatch(/points at Supabase project abcdefghijklmnopqrst, not zzzzzzzzzzzzzzzzzzzz/);
    const m = await setEnvironment(db, { env: 'staging', projectRef: 'abcdefghijklmnopqrst', url: pooler, run }, memoryLogger());
    expect(m.pipeline).toMatchObject({ env: 'staging', projectRef: 'abcdefghijklmnopqrst', setBy: 'tester', runId: 'reset-run' });
    // the marker belongs to that project: a connection to another one is refused
    expect((await refusal(reset(db, 'postgresql://postgres@db.otherprojectref0000.supabase.co:5432/postgres'))).code).toBe(
      'PROJECT_REF_MISMATCH',
    );
  });

  it('with the legacy sorties guard the reset fails mid-file and leaves every row as it was', async () => {
    const { db } = fx();
    const data = await snapshotOfData(db);
    const e = await refusal(reset(db));
    expect(e.code).toBe('SQL_FAILED');
    expect(e.message).toMatch(/legacy version.*apply docs\/DB_CHANGES\/2026-02-25_staging_validate_sortie_p0\.sql first/);
    expect(await snapshotOfData(db)).toEqual(data);
  });

  it('after P0, even while frozen: movement tables and scoped logs at 0, cours_de_route identical, leftovers reported; replayable', async () => {
    const { db } = fx();
    const p0 = await applyChangeFile(
      db,
      {
        file: await loadChangeFile(sqlPath(CHANGE_FILES.p0)),
        expectFunctions: parseExpectedFunctions(undefined),
        dryRun: false,
        ...STEP_TIMEOUT_DEFAULTS,
        run,
      },
      memoryLogger(),
    );
    expect(p0.status).toBe('applied');
    await freezeOn(db, { reason: 'reset test', force: true, run }, memoryLogger());
    const cdr = await tableChecksum(db, 'public', 'cours_de_route');
    const r = await reset(db);
    expect(r.ok).toBe(true);
    expect(r.problems).toEqual([]);
    expect(r.before).toMatchObject({ receptions: 9, sorties_produit: 5, stocks_journaliers: 14 });
    expect(r.after).toEqual({
      receptions: 0,
      sorties_produit: 0,
      stocks_journaliers: 0,
      log_actions_scoped: 0,
      cours_de_route: 12,
      stocks_snapshot: 3,
    });
    expect(await tableChecksum(db, 'public', 'cours_de_route')).toEqual(cdr);
    expect(r.leftovers.snapshotWithStock.map((s) => `${s.citerne} ${s.proprietaire_type} ${s.stock_ambiant}`)).toEqual([
      'TANK1 MONALUXE 117006',
      'TANK1 PARTENAIRE 25272',
      'TANK4 MONALUXE 180477',
    ]);
    expect(r.leftovers.cdrDecharge).toHaveLength(8);
    const again = await reset(db);
    expect(again.ok).toBe(true);
    expect(again.before).toEqual(again.after);
    expect(await tableChecksum(db, 'public', 'cours_de_route')).toEqual(cdr);
    await freezeOff(db, { reason: 'done', run }, memoryLogger());
  });

  it('a reset file that touches cours_de_route breaks the invariant and is rolled back', async () => {
    const { db } = fx();
    const data = await snapshotOfData(db);
    const file = write(
      'bad_reset.sql',
      `${readFileSync(sqlPath(CHANGE_FILES.resetCdrOnly), 'utf8')}\nUPDATE public.cours_de_route SET statut = 'ARRIVE' WHERE statut = 'DECHARGE';\n`,
    );
    const r = await stagingReset(db, { file: await loadChangeFile(file), run, ...STEP_TIMEOUT_DEFAULTS }, memoryLogger());
    expect(r.ok).toBe(false);
    expect(r.problems).toEqual([
      expect.stringMatching(/^cours_de_route changed: 12 rows checksum \w+ before, 12 rows checksum \w+ after$/),
    ]);
    expect(await snapshotOfData(db)).toEqual(data);
  });
});
