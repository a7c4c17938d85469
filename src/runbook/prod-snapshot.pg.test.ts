import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readColumns, readFunctions, readTriggers } from '../db/catalog.js';
import { PgDb } from '../db/pg.js';
import { createScratchDatabase, type ScratchDatabase } from '../db/scratch.js';
import { REQUIRED_TABLES } from '../db/requirements.js';
import { silentLogger } from '../logger.js';
import { TEST_DATABASE_URL, describePg, useFreshDatabase } from '../testing/pg.js';
import { checkCompat } from './compat.js';
import { loadSchemaDump } from './schema-dump.js';
import { PROD_SNAPSHOT } from '../testing/prod-snapshot.js';

/**
 * The real PROD schema of ML_PP (snapshot 2026-02-11, pg_dump 18.1 of PostgreSQL 17.6) on
 * PostgreSQL 15 and 17: compat must find nothing missing, and our fixture must agree with it
 * on every name and type the pipeline uses.
 */
const DUMP = PROD_SNAPSHOT;
const describeSnapshot = DUMP ? describePg : describePg.skip;

const MODELLED = REQUIRED_TABLES.filter((t) => t.schema === 'public').map((t) => t.name);

describeSnapshot('the real PROD schema snapshot of ML_PP', () => {
  let prod: { scratch: ScratchDatabase; db: PgDb };
  const fixture = useFreshDatabase('fixture_vs_prod', { fixture: true });
  let dropped: { line: number; sql: string }[] = [];
  let major = 0;

  beforeAll(async () => {
    const scratch = await createScratchDatabase(TEST_DATABASE_URL!, 'prod_snapshot');
    prod = { scratch, db: new PgDb(scratch.url) };
    const r = await loadSchemaDump(prod.db, DUMP!, path.basename(DUMP!), silentLogger);
    dropped = r.dropped;
    major = (await prod.db.server()).major;
  });
  afterAll(async () => {
    await prod?.db.close().catch(() => {});
    await prod?.scratch.drop();
  });

  it('loads with only the documented adjustments: transaction_timeout kept from PostgreSQL 17 on', () => {
    const expected = major >= 17 ? ['CREATE SCHEMA public'] : ['SET transaction_timeout = 0', 'CREATE SCHEMA public'];
    expect(dropped.map((d) => d.sql)).toEqual(expected);
  });

  it('compat finds nothing required missing or different, and sees the LEGACY validate_sortie', async () => {
    const r = await checkCompat(prod.db, silentLogger);
    expect(r.items.filter((i) => i.status !== 'ok' && !i.optional)).toEqual([]);
    expect(r.compatible).toBe(true);
    expect(r.security).toEqual([]);
    expect(r.notes.join('\n')).toMatch(/LEGACY body/);
  });

  it('our fixture has exactly the columns (name, type, NOT NULL, order) of every modelled table', async () => {
    const shape = async (db: PgDb) =>
      (await readColumns(db, ['public']))
        .filter((c) => MODELLED.includes(c.table))
        .map((c) => `${c.table}.${c.column} ${c.type}${c.notNull ? ' NOT NULL' : ''}`);
    expect(await shape(fixture().db)).toEqual(await shape(prod.db));
  });

  it('our fixture has the same triggers on those tables: names (hence firing order), functions, enabled state', async () => {
    const shape = async (db: PgDb) =>
      (await readTriggers(db, ['public']))
        .filter((t) => MODELLED.includes(t.table))
        .map((t) => `${t.table}.${t.name} -> ${t.function} [${t.enabled}]`);
    expect(await shape(fixture().db)).toEqual(await shape(prod.db));
  });

  it('our fixture functions have the signatures, SECURITY DEFINER and settings of the real ones', async () => {
    const fx = await readFunctions(fixture().db, ['public']);
    const real = new Map((await readFunctions(prod.db, ['public'])).map((f) => [`${f.name}(${f.identityArgs})`, f]));
    const mismatches = fx
      .map((f) => {
        const r = real.get(`${f.name}(${f.identityArgs})`);
        if (!r) return `${f.name}(${f.identityArgs}): not in PROD`;
        if (r.securityDefiner !== f.securityDefiner || r.config.join() !== f.config.join()) {
          return `${f.name}: PROD ${r.securityDefiner ? 'SD' : 'invoker'} [${r.config.join()}] vs fixture ${f.securityDefiner ? 'SD' : 'invoker'} [${f.config.join()}]`;
        }
        return undefined;
      })
      .filter(Boolean);
    expect(mismatches).toEqual([]);
  });
});
