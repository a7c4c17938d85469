-- =============================================================================
-- docs/DB_CHANGES/2026-02-25_staging_reset_cdr_only.sql   (runbook §3.5)
-- =============================================================================
-- STAGING ONLY. NEVER RUN ON PROD. Replayable "CDR only" reset, as ML_PP's
-- change file of the same name: purge the stock-movement tables to get a clean
-- base for the ASTM/UX tests while keeping every cours_de_route (rows AND
-- statut untouched).
--
-- Step 1 patches receptions_block_update_delete() so that it honours the
-- transaction-local flag app.receptions_allow_write (the PROD version always
-- raises). Step 2 is one transaction that marks itself as staging, sets the
-- three DB-STRICT allow flags locally, prints BEFORE/AFTER counts as NOTICEs and
-- deletes, in this order: scoped log_actions (module IN ('receptions','sorties')
-- OR module ILIKE '%stock%'), sorties_produit, receptions, stocks_journaliers.
--
-- Prerequisite (implicit in the reference file too): the P0 change file, whose
-- sorties_produit_block_update_delete() honours app.sorties_produit_allow_write;
-- with the legacy guard and any sortie present the purge stops with P0001.
-- Runnable twice in a row (the second run deletes nothing). Left as they are,
-- like the reference: cours_de_route, stocks_snapshot (so v_stock_actuel still
-- shows stock), stocks_adjustments, and log_actions of other modules (e.g.
-- SORTIE_VALIDE / 'sorties_produit'). This file has no environment check of its
-- own: the caller must refuse to run it anywhere but STAGING or a scratch copy.
-- =============================================================================

-- 1) receptions immutability guard, with the controlled bypass (STAGING patch)
CREATE OR REPLACE FUNCTION public.receptions_block_update_delete() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path TO 'public'
AS $fn$
BEGIN
  IF current_setting('app.receptions_allow_write', true) = '1' THEN
    IF tg_op = 'DELETE' THEN
      RETURN old;
    END IF;
    RETURN new;
  END IF;

  RAISE EXCEPTION 'Ecriture interdite sur receptions (op=%). Table immutable: utiliser INSERT + triggers/RPC, jamais UPDATE/DELETE.',
    tg_op;
END;
$fn$;

-- 2) the purge, one transaction
BEGIN;

-- transaction-local: marker for humans and logs, then the three DB-STRICT flags
SELECT set_config('app.environment', 'staging', true)                AS environment,
       set_config('app.receptions_allow_write', '1', true)          AS receptions_allow_write,
       set_config('app.sorties_produit_allow_write', '1', true)     AS sorties_produit_allow_write,
       set_config('app.stocks_journaliers_allow_write', '1', true)  AS stocks_journaliers_allow_write;

DO $before$
DECLARE
  n_cdr bigint; n_rec bigint; n_sor bigint; n_sj bigint; n_log bigint;
  v_guard regprocedure := to_regprocedure('public.sorties_produit_block_update_delete()');
BEGIN
  -- Like the reference file, this purge relies on the P0 version of
  -- sorties_produit_block_update_delete() (the only one honouring
  -- app.sorties_produit_allow_write). With the legacy version the DELETE below
  -- would raise P0001 anyway; say why, before deleting anything.
  IF EXISTS (SELECT 1 FROM public.sorties_produit)
     AND v_guard IS NOT NULL
     AND position('app.sorties_produit_allow_write' IN pg_get_functiondef(v_guard)) = 0 THEN
    RAISE EXCEPTION 'reset_cdr_only: public.sorties_produit_block_update_delete() is the legacy version (ignores app.sorties_produit_allow_write); apply docs/DB_CHANGES/2026-02-25_staging_validate_sortie_p0.sql first'
      USING ERRCODE = 'P0001';
  END IF;

  SELECT count(*) INTO n_cdr FROM public.cours_de_route;
  SELECT count(*) INTO n_rec FROM public.receptions;
  SELECT count(*) INTO n_sor FROM public.sorties_produit;
  SELECT count(*) INTO n_sj  FROM public.stocks_journaliers;
  SELECT count(*) INTO n_log FROM public.log_actions
   WHERE module IN ('receptions', 'sorties') OR module ILIKE '%stock%';
  RAISE NOTICE 'BEFORE — cours_de_route: %, receptions: %, sorties_produit: %, stocks_journaliers: %, log_actions(scoped): %',
    n_cdr, n_rec, n_sor, n_sj, n_log;
END
$before$;

DELETE FROM public.log_actions
 WHERE module IN ('receptions', 'sorties') OR module ILIKE '%stock%';
DELETE FROM public.sorties_produit;
DELETE FROM public.receptions;
DELETE FROM public.stocks_journaliers;

DO $after$
DECLARE
  n_cdr bigint; n_rec bigint; n_sor bigint; n_sj bigint; n_log bigint;
BEGIN
  SELECT count(*) INTO n_cdr FROM public.cours_de_route;
  SELECT count(*) INTO n_rec FROM public.receptions;
  SELECT count(*) INTO n_sor FROM public.sorties_produit;
  SELECT count(*) INTO n_sj  FROM public.stocks_journaliers;
  SELECT count(*) INTO n_log FROM public.log_actions
   WHERE module IN ('receptions', 'sorties') OR module ILIKE '%stock%';
  RAISE NOTICE 'AFTER — cours_de_route: % (invariant), receptions: %, sorties_produit: %, stocks_journaliers: %, log_actions(scoped): %',
    n_cdr, n_rec, n_sor, n_sj, n_log;
END
$after$;

COMMIT;
