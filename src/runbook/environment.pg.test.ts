import { randomBytes } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { PgDb } from '../db/pg.js';
import { memoryLogger, silentLogger } from '../logger.js';
import { expectUserError } from '../testing/command.js';
import { describePg, useFreshDatabase } from '../testing/pg.js';
import { readEnvironment, setEnvironment } from './environment.js';
import { loadResetFile, stagingReset } from './staging-reset.js';
import { STEP_TIMEOUT_DEFAULTS } from './timeouts.js';

/**
 * The environment marker decides whether staging-reset may purge every movement, so a prod
 * marker never turns into something else by accident, every change is kept, and on Supabase the
 * marker names its project.
 */
const run = { runId: 'env-1', actor: 'ops-lead' };

describePg('environment markers (real PostgreSQL)', () => {
  const fx = useFreshDatabase('env_markers', { fixture: true });
  const created: string[] = [];
  afterAll(async () => {
    for (const r of created)
      await fx()
        .db.query(`DROP ROLE IF EXISTS "${r}"`)
        .catch(() => {});
  });

  it('a prod marker changes only with an override; every change is logged with the previous marker', async () => {
    const db = fx().db;
    await setEnvironment(db, { env: 'prod', run }, silentLogger);
    const e = await expectUserError(setEnvironment(db, { env: 'staging', run }, silentLogger));
    expect(e.code).toBe('PROD_MARKER');
    expect((await db.withTransaction((tx) => readEnvironment(tx))).env).toBe('prod');
    // and staging-reset still refuses, touching nothing
    const reset = await expectUserError(stagingReset(db, { file: await loadResetFile(), run, ...STEP_TIMEOUT_DEFAULTS }, silentLogger));
    expect(reset.code).toBe('ENV_NOT_STAGING');

    const log = memoryLogger();
    const m = await setEnvironment(
      db,
      { env: 'staging', run: { runId: 'env-2', actor: 'dba' }, overrideProd: 'restored copy of PROD for the rehearsal' },
      log,
    );
    expect(m.env).toBe('staging');
    expect(log.lines.join('\n')).toMatch(/prod marker was changed to staging by dba \(override: restored copy of PROD for the rehearsal\)/);
    const history = await db.query<{ env: string; previous: string | null; override_reason: string | null; set_by: string }>(
      'SELECT env, previous, override_reason, set_by FROM astm53b.environment_log ORDER BY id',
    );
    expect(history.rows).toEqual([
      { env: 'prod', previous: null, override_reason: null, set_by: 'ops-lead' },
      { env: 'staging', previous: 'prod', override_reason: 'restored copy of PROD for the rehearsal', set_by: 'dba' },
    ]);
  });

  it('on Supabase the marker must name the project of the connection, and staging-reset checks it', async () => {
    const db = fx().db;
    const ref = `ab${randomBytes(6).toString('hex')}`;
    const role = `postgres.${ref}`;
    created.push(role);
    // a login named as Supabase's pooler users are (postgres.<ref>): projectRefOf reads the ref from it
    await db.query(`CREATE ROLE "${role}" LOGIN SUPERUSER`);
    const u = new URL(fx().scratch.url);
    u.username = encodeURIComponent(role);
    const asSupabase = new PgDb(u.toString());
    try {
      const e = await expectUserError(setEnvironment(asSupabase, { env: 'staging', url: u.toString(), run }, silentLogger));
      expect(e.code).toBe('PROJECT_REF_REQUIRED');
      expect(e.message).toContain(ref);
      // the marker of the previous test names no project: a reset through a Supabase connection is refused
      const reset = await expectUserError(
        stagingReset(asSupabase, { file: await loadResetFile(), url: u.toString(), run, ...STEP_TIMEOUT_DEFAULTS }, silentLogger),
      );
      expect(reset.code).toBe('PROJECT_REF_REQUIRED');
      const m = await setEnvironment(asSupabase, { env: 'staging', url: u.toString(), projectRef: ref, run }, silentLogger);
      expect(m.pipeline?.projectRef).toBe(ref);
    } finally {
      await asSupabase.close();
    }
  });
});
