-- =============================================================================
-- sql/pipeline/state.sql — the pipeline's own records (sql/README-pipeline.md)
-- =============================================================================
-- One schema, astm53b, never mixed into ML_PP's schemas: the catalog
-- fingerprint reads only public and astm, and skips anything named astm53b_*,
-- so nothing here can make a 4.3 check or a drift check lie.
-- Idempotent: every run of a step that writes state replays this file in its
-- own transaction (under the pipeline's advisory lock), so a database gets it
-- on first use and an older copy is brought up to date.
-- =============================================================================

CREATE SCHEMA IF NOT EXISTS astm53b;

-- the app's roles must neither read nor write the pipeline's records
REVOKE ALL ON SCHEMA astm53b FROM PUBLIC;

-- Which environment this database is. One row. ML_PP's own STAGING marker
-- (public.app_settings key env = 'staging') is read as well, by the code.
CREATE TABLE IF NOT EXISTS astm53b.environment (
  singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  env         text NOT NULL CHECK (env IN ('staging', 'prod')),
  project_ref text CHECK (project_ref ~ '^[a-z0-9]{6,40}$'),
  set_at      timestamptz NOT NULL DEFAULT now(),
  set_by      text NOT NULL,
  db_user     text NOT NULL DEFAULT current_user,
  run_id      text NOT NULL
);

-- Every change of the marker, never updated: turning a prod marker into
-- anything else needs an explicit override, recorded here with its reason.
CREATE TABLE IF NOT EXISTS astm53b.environment_log (
  id          bigserial PRIMARY KEY,
  env         text NOT NULL CHECK (env IN ('staging', 'prod')),
  project_ref text,
  previous    text,
  previous_project_ref text,
  override_reason text,
  set_at      timestamptz NOT NULL DEFAULT now(),
  set_by      text NOT NULL,
  db_user     text NOT NULL DEFAULT current_user,
  run_id      text NOT NULL
);

-- Every change file applied by `astm53b sql-apply`, one row per file name:
-- same name + same SHA-256 is a no-op while the live catalog still is the
-- after-state recorded here (fingerprint_after, in full in
-- fingerprint_after_json, so drift can be named), same name + another SHA-256
-- is refused. A rollback that restores a dump taken before the file was
-- applied marks the row undone; applying the file again makes it applied.
CREATE TABLE IF NOT EXISTS astm53b.apply_ledger (
  file_name  text PRIMARY KEY,
  sha256     text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  applied_at timestamptz NOT NULL DEFAULT now(),
  run_id     text NOT NULL,
  applied_by text NOT NULL,
  db_user    text NOT NULL DEFAULT current_user,
  fingerprint_before text NOT NULL CHECK (fingerprint_before ~ '^[0-9a-f]{64}$'),
  fingerprint_after  text NOT NULL CHECK (fingerprint_after ~ '^[0-9a-f]{64}$')
);
ALTER TABLE astm53b.apply_ledger ADD COLUMN IF NOT EXISTS state text NOT NULL DEFAULT 'applied' CHECK (state IN ('applied', 'undone'));
ALTER TABLE astm53b.apply_ledger ADD COLUMN IF NOT EXISTS fingerprint_after_json jsonb;
ALTER TABLE astm53b.apply_ledger ADD COLUMN IF NOT EXISTS undone_at timestamptz;
ALTER TABLE astm53b.apply_ledger ADD COLUMN IF NOT EXISTS undone_by text;
ALTER TABLE astm53b.apply_ledger ADD COLUMN IF NOT EXISTS undone_run_id text;
ALTER TABLE astm53b.apply_ledger ADD COLUMN IF NOT EXISTS undone_reason text;

-- The ledger's history: every apply and every undo, never updated.
CREATE TABLE IF NOT EXISTS astm53b.apply_log (
  id        bigserial PRIMARY KEY,
  file_name text NOT NULL,
  sha256    text NOT NULL,
  action    text NOT NULL CHECK (action IN ('applied', 'undone')),
  at        timestamptz NOT NULL DEFAULT now(),
  by_whom   text NOT NULL,
  db_user   text NOT NULL DEFAULT current_user,
  run_id    text NOT NULL,
  detail    text
);

-- The freeze (runbook 3.4 / 4.1): current state (one row) and its history.
-- bypass_token is the per-freeze secret the pipeline's own sessions present
-- to pass the freeze (see freeze_guard); only the roles that can read this
-- schema (its owner) ever see it.
CREATE TABLE IF NOT EXISTS astm53b.freeze_state (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  frozen    boolean NOT NULL,
  since     timestamptz NOT NULL,
  by_whom   text NOT NULL,
  reason    text NOT NULL,
  run_id    text NOT NULL
);
ALTER TABLE astm53b.freeze_state ADD COLUMN IF NOT EXISTS bypass_token text CHECK (bypass_token ~ '^[0-9a-f]{64}$');

CREATE TABLE IF NOT EXISTS astm53b.freeze_log (
  id       bigserial PRIMARY KEY,
  action   text NOT NULL CHECK (action IN ('on', 'off')),
  at       timestamptz NOT NULL DEFAULT now(),
  by_whom  text NOT NULL,
  db_user  text NOT NULL DEFAULT current_user,
  reason   text NOT NULL,
  run_id   text NOT NULL,
  forced   boolean NOT NULL DEFAULT false,
  -- what the activity check saw when the freeze was set
  activity jsonb
);

-- The freeze guard. `astm53b freeze on` attaches it as statement-level
-- triggers named astm53b_freeze to every table of the application schemas
-- (public, astm: everything a rollback restores); `off` drops them.
-- TG_ARGV[0] carries since/by/reason for the message, TG_ARGV[1] the SHA-256
-- of this freeze's bypass token. A session passes only when its
-- transaction-local setting astm53b.freeze_bypass is that token: the
-- pipeline's own sessions read it from astm53b.freeze_state, which no app
-- role can read. The hash in pg_trigger is readable by anyone and useless
-- without the token; any other value of the setting ('on', the hash itself…)
-- is refused.
CREATE OR REPLACE FUNCTION astm53b.freeze_guard() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path TO 'pg_catalog'
AS $fn$
DECLARE
  given text := current_setting('astm53b.freeze_bypass', true);
BEGIN
  IF tg_nargs >= 2 AND coalesce(given, '') <> ''
     AND encode(sha256(convert_to(given, 'UTF8')), 'hex') = tg_argv[1] THEN
    RETURN NULL;
  END IF;
  RAISE EXCEPTION USING
    ERRCODE = 'A53F0',
    MESSAGE = format('ASTM53B_FROZEN: %s on %s.%s refused, entries are frozen for the ASTM 53B migration (%s)',
                     tg_op, tg_table_schema, tg_table_name, coalesce(tg_argv[0], 'no detail')),
    HINT = 'wait until the migration team lifts the freeze (astm53b freeze off)';
END;
$fn$;

REVOKE ALL ON ALL TABLES IN SCHEMA astm53b FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA astm53b FROM PUBLIC;
REVOKE ALL ON FUNCTION astm53b.freeze_guard() FROM PUBLIC;
DO $grants$
DECLARE r text;
BEGIN
  -- Supabase's default privileges may grant new objects to its API roles
  FOREACH r IN ARRAY ARRAY['anon', 'authenticated', 'service_role'] LOOP
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
      EXECUTE format('REVOKE ALL ON SCHEMA astm53b FROM %I', r);
      EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA astm53b FROM %I', r);
      EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA astm53b FROM %I', r);
      EXECUTE format('REVOKE ALL ON FUNCTION astm53b.freeze_guard() FROM %I', r);
    END IF;
  END LOOP;
END
$grants$;
