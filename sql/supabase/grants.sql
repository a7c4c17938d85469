-- =============================================================================
-- sql/supabase/grants.sql — Supabase's default privileges on schema public
-- =============================================================================
-- Supabase grants anon, authenticated and service_role full table privileges on
-- public and relies on RLS to filter rows. The 2026-02-11 PROD dump was taken
-- without privileges, so a plain-PostgreSQL replica must add them, otherwise
-- every statement run under "SET ROLE authenticated" fails with "permission
-- denied" before RLS is even evaluated.
--
-- Apply AFTER the schema (GRANT ... ON ALL ... only covers existing objects; the
-- default privileges below cover objects created later by the same owner).
-- Idempotent. No transaction control inside.
-- =============================================================================

GRANT USAGE ON SCHEMA public TO anon, authenticated, service_role;

GRANT ALL ON ALL TABLES    IN SCHEMA public TO anon, authenticated, service_role;
GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO anon, authenticated, service_role;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO anon, authenticated, service_role;

ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES    TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON SEQUENCES TO anon, authenticated, service_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO anon, authenticated, service_role;
