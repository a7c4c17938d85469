import { UserError } from '../errors.js';
import type { Logger } from '../logger.js';
import { parseRows } from '../db/rows.js';
import type { Db, Queryable } from '../db/types.js';
import { z } from 'zod';
import { ENV_NAMES, type EnvironmentMarker, type EnvName } from '../results/common.js';
import type { RunContext } from '../results/run-context.js';
import { ensureStateSchema, stateExists } from './state-schema.js';
import { lockPipeline } from '../db/advisory-lock.js';

/**
 * Which environment a database is (`astm53b env set|show`): the pipeline's marker in
 * astm53b.environment, and ML_PP's own STAGING marker public.app_settings env='staging'.
 */

const MarkerRow = z.object({
  env: z.enum(ENV_NAMES),
  project_ref: z.string().nullable(),
  set_at: z.string(),
  set_by: z.string(),
  run_id: z.string(),
});

export async function readEnvironment(q: Queryable): Promise<EnvironmentMarker> {
  let pipeline: EnvironmentMarker['pipeline'];
  if (await stateExists(q)) {
    const r = await q.query('SELECT env, project_ref, set_at::text, set_by, run_id FROM astm53b.environment');
    const row = parseRows(MarkerRow, r.rows, 'astm53b.environment')[0];
    if (row) pipeline = { env: row.env, projectRef: row.project_ref, setAt: row.set_at, setBy: row.set_by, runId: row.run_id };
  }
  let appSettingsEnv: string | null | undefined;
  const has = await q.query<{ ok: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'app_settings' AND column_name IN ('key', 'value') HAVING count(*) = 2) AS ok`,
  );
  if (has.rows[0]?.ok) {
    const r = await q.query<{ value: string | null }>("SELECT value::text AS value FROM public.app_settings WHERE key = 'env'");
    appSettingsEnv = r.rows[0]?.value ?? null;
  }
  const app = appSettingsEnv === undefined || appSettingsEnv === null ? undefined : appSettingsEnv.trim().toLowerCase();
  const out: EnvironmentMarker = {
    env: 'unmarked',
    explanation: '',
    ...(pipeline ? { pipeline } : {}),
    ...(appSettingsEnv !== undefined ? { appSettingsEnv } : {}),
  };
  if (pipeline && app !== undefined && app !== pipeline.env) {
    out.env = 'conflict';
    out.explanation = `astm53b.environment says ${pipeline.env} but public.app_settings env says "${appSettingsEnv}"`;
  } else if (pipeline) {
    out.env = pipeline.env;
    out.explanation = `astm53b.environment: ${pipeline.env} (set ${pipeline.setAt} by ${pipeline.setBy}, run ${pipeline.runId}${pipeline.projectRef ? `, project ${pipeline.projectRef}` : ''})`;
  } else if (app === 'staging') {
    out.env = 'staging';
    out.explanation = "ML_PP's own marker: public.app_settings env = 'staging'";
  } else {
    out.explanation =
      app === undefined
        ? 'no marker: neither astm53b.environment nor public.app_settings env'
        : `public.app_settings env = "${appSettingsEnv}" is not a marker this pipeline knows (only 'staging')`;
  }
  return out;
}

/**
 * The Supabase project ref a connection string points at: the `postgres.<ref>` user of a
 * pooler URL, or the host `db.<ref>.supabase.co`. Undefined for any other server.
 */
export function projectRefOf(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  const user = decodeURIComponent(u.username);
  const fromUser = /^[a-z_][a-z0-9_]*\.([a-z0-9]{6,40})$/.exec(user)?.[1];
  if (fromUser) return fromUser;
  return /^db\.([a-z0-9]{6,40})\.supabase\.(co|com|net)$/i.exec(u.hostname)?.[1]?.toLowerCase();
}

/** ML_PP's reset scripts refuse to run unless the project ref is the expected one; so do we. */
export function assertProjectRef(url: string | undefined, expected: string | undefined, field = 'project-ref'): string | undefined {
  if (expected === undefined) return undefined;
  if (!/^[a-z0-9]{6,40}$/.test(expected)) {
    throw new UserError(
      'BAD_OPTION',
      `--${field} "${expected.slice(0, 50)}" is not a Supabase project ref (6-40 lowercase letters and digits)`,
      { where: { field } },
    );
  }
  const actual = url ? projectRefOf(url) : undefined;
  if (actual === undefined) {
    throw new UserError(
      'PROJECT_REF_MISMATCH',
      `--${field} ${expected} given, but the connection names no Supabase project (user postgres.<ref> or host db.<ref>.supabase.co)`,
      {
        where: { field },
      },
    );
  }
  if (actual !== expected) {
    throw new UserError('PROJECT_REF_MISMATCH', `the connection points at Supabase project ${actual}, not ${expected}`, {
      where: { field },
    });
  }
  return actual;
}

export interface SetEnvironmentOptions {
  env: EnvName;
  projectRef?: string | undefined;
  /** the connection string, to check the project ref against (never stored) */
  url?: string | undefined;
  run: RunContext;
  /** why a prod marker may become something else (recorded); without it that change is refused */
  overrideProd?: string | undefined;
}

export function parseEnvName(v: unknown): EnvName {
  if (v === 'staging' || v === 'prod') return v;
  throw new UserError('BAD_ARGUMENTS', `environment must be staging or prod, got "${String(v).slice(0, 30)}"`, { where: { field: 'ENV' } });
}

export async function setEnvironment(db: Db, opts: SetEnvironmentOptions, log: Logger): Promise<EnvironmentMarker> {
  const ref = assertProjectRef(opts.url, opts.projectRef);
  // on Supabase the marker names its project, so a reset can never reach another one
  const onSupabase = opts.url ? projectRefOf(opts.url) : undefined;
  if (onSupabase && !ref) {
    throw new UserError(
      'PROJECT_REF_REQUIRED',
      `the connection is to Supabase project ${onSupabase}: give --project-ref ${onSupabase} to confirm the marker is for it`,
      {
        where: { field: 'project-ref' },
      },
    );
  }
  const override = opts.overrideProd?.trim() || null;
  return db.withTransaction(async (tx) => {
    await lockPipeline(tx, 'change', 10_000, 5_000, 'env set');
    const before = await readEnvironment(tx);
    if (before.appSettingsEnv != null && before.appSettingsEnv.trim().toLowerCase() === 'staging' && opts.env === 'prod') {
      throw new UserError(
        'ENV_CONFLICT',
        "refusing to mark this database prod: ML_PP's own marker public.app_settings env = 'staging' says it is STAGING",
      );
    }
    const wasProd = before.pipeline?.env === 'prod';
    const changesProd = wasProd && (opts.env !== 'prod' || (before.pipeline?.projectRef ?? null) !== (ref ?? null));
    if (changesProd && !override) {
      throw new UserError(
        'PROD_MARKER',
        `refusing to change the prod marker of this database (${before.explanation}) to ${opts.env}${ref ? ` for project ${ref}` : ''}: a staging marker lets staging-reset purge every movement`,
        { hint: 'if this really is no longer PROD (a restored copy, say), pass --override-prod "why": who, when and why are recorded' },
      );
    }
    await ensureStateSchema(tx, log);
    await tx.query(
      `INSERT INTO astm53b.environment (env, project_ref, set_by, run_id) VALUES ($1, $2, $3, $4)
       ON CONFLICT (singleton) DO UPDATE SET env = EXCLUDED.env, project_ref = EXCLUDED.project_ref, set_at = now(),
              set_by = EXCLUDED.set_by, db_user = current_user, run_id = EXCLUDED.run_id`,
      [opts.env, ref ?? null, opts.run.actor, opts.run.runId],
    );
    await tx.query(
      `INSERT INTO astm53b.environment_log (env, project_ref, previous, previous_project_ref, override_reason, set_by, run_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        opts.env,
        ref ?? null,
        before.pipeline?.env ?? null,
        before.pipeline?.projectRef ?? null,
        changesProd ? override : null,
        opts.run.actor,
        opts.run.runId,
      ],
    );
    if (changesProd) log.warn(`environment: the prod marker was changed to ${opts.env} by ${opts.run.actor} (override: ${override})`);
    const after = await readEnvironment(tx);
    log.info(`environment of ${db.label}: ${after.explanation}`);
    return after;
  });
}
