-- =============================================================================
-- sql/supabase/shim.sql — minimal Supabase shim for a plain PostgreSQL server
-- =============================================================================
-- Provides what ML_PP's public schema expects from Supabase and nothing more:
--   * roles anon, authenticated (NOLOGIN) and service_role (NOLOGIN BYPASSRLS);
--   * schema auth with a small subset of auth.users;
--   * auth.uid(), auth.role(), auth.jwt() with Supabase's definitions (they read
--     the PostgREST settings request.jwt.claim.* and request.jwt.claims);
--   * USAGE on schema auth and EXECUTE on those functions for the three roles.
--
-- Idempotent. Roles are cluster-wide and several test databases may share one
-- server (and may apply this file concurrently): role creation tolerates a role
-- that already exists or that another session is creating at the same moment.
-- Plain SQL only (no psql meta-commands): loads with psql -v ON_ERROR_STOP=1 and
-- with PGlite's exec(). No transaction control inside: the caller decides.
-- =============================================================================

DO $shim_roles$
DECLARE
  v_spec  text[];
  v_specs text[][] := ARRAY[
    ARRAY['anon',         'NOLOGIN NOINHERIT'],
    ARRAY['authenticated','NOLOGIN NOINHERIT'],
    ARRAY['service_role', 'NOLOGIN NOINHERIT BYPASSRLS']
  ];
BEGIN
  FOREACH v_spec SLICE 1 IN ARRAY v_specs LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = v_spec[1]) THEN
      BEGIN
        EXECUTE format('CREATE ROLE %I %s', v_spec[1], v_spec[2]);
      EXCEPTION
        -- another database on the same server created it meanwhile
        WHEN duplicate_object OR unique_violation THEN NULL;
      END;
    END IF;
  END LOOP;
END
$shim_roles$;

-- A non-superuser owner needs membership to run "SET ROLE authenticated" in
-- tests (Supabase grants these roles to "authenticator"). Superusers need
-- nothing; a non-superuser without the right to grant gets a notice only.
DO $shim_membership$
DECLARE
  v_role text;
BEGIN
  IF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
    RETURN;
  END IF;
  FOREACH v_role IN ARRAY ARRAY['anon', 'authenticated', 'service_role'] LOOP
    IF NOT pg_catalog.pg_has_role(current_user, v_role, 'MEMBER') THEN
      BEGIN
        EXECUTE format('GRANT %I TO %I', v_role, current_user);
      EXCEPTION WHEN insufficient_privilege OR invalid_grant_operation THEN
        RAISE NOTICE 'shim: cannot grant role % to %; SET ROLE % will fail for this user',
          v_role, current_user, v_role;
      END;
    END IF;
  END LOOP;
END
$shim_membership$;

CREATE SCHEMA IF NOT EXISTS auth;

-- Subset of Supabase's auth.users (GoTrue). Only id is referenced by ML_PP
-- (six foreign keys and the view current_user_profile).
CREATE TABLE IF NOT EXISTS auth.users (
  instance_id        uuid,
  id                 uuid        NOT NULL PRIMARY KEY,
  aud                text        DEFAULT 'authenticated',
  role               text        DEFAULT 'authenticated',
  email              text,
  email_confirmed_at timestamptz,
  raw_app_meta_data  jsonb       DEFAULT '{}'::jsonb,
  raw_user_meta_data jsonb       DEFAULT '{}'::jsonb,
  is_anonymous       boolean     NOT NULL DEFAULT false,
  created_at         timestamptz DEFAULT now(),
  updated_at         timestamptz DEFAULT now()
);

-- auth.uid(): the "sub" claim. The legacy per-claim setting wins, then the JSON
-- claims document (what PostgREST >= 9 sets). Empty string counts as unset,
-- because a transaction-local set_config leaves '' behind after COMMIT.
CREATE OR REPLACE FUNCTION auth.uid() RETURNS uuid
  LANGUAGE sql STABLE
AS $fn$
  SELECT coalesce(
           nullif(current_setting('request.jwt.claim.sub', true), ''),
           (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
         )::uuid
$fn$;

CREATE OR REPLACE FUNCTION auth.role() RETURNS text
  LANGUAGE sql STABLE
AS $fn$
  SELECT coalesce(
           nullif(current_setting('request.jwt.claim.role', true), ''),
           (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
         )::text
$fn$;

CREATE OR REPLACE FUNCTION auth.jwt() RETURNS jsonb
  LANGUAGE sql STABLE
AS $fn$
  SELECT coalesce(
           nullif(current_setting('request.jwt.claim', true), ''),
           nullif(current_setting('request.jwt.claims', true), '')
         )::jsonb
$fn$;

COMMENT ON FUNCTION auth.uid()  IS 'astm53b shim: Supabase auth.uid() (request.jwt.claim.sub, else request.jwt.claims->>sub)';
COMMENT ON FUNCTION auth.role() IS 'astm53b shim: Supabase auth.role()';
COMMENT ON FUNCTION auth.jwt()  IS 'astm53b shim: Supabase auth.jwt()';

GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role;
GRANT EXECUTE ON FUNCTION auth.uid(), auth.role(), auth.jwt() TO anon, authenticated, service_role;
-- service_role is Supabase's back-office role: it may read the users table.
GRANT SELECT ON TABLE auth.users TO service_role;
