-- =============================================================================
-- docs/DB_CHANGES/2026-02-25_staging_validate_sortie_p0.sql   (runbook §4.3)
-- =============================================================================
-- P0 DB-STRICT fix of the RPC validate_sortie, as in ML_PP's change file of the
-- same name (validated on STAGING, then to be replicated on PROD).
--
-- Problem: the legacy validate_sortie writes stocks_journaliers and updates
-- sorties_produit without setting the DB-STRICT write flags, so it always fails
-- with P0001 "Ecriture directe interdite sur stocks_journaliers (op=...)".
--
-- Change: exactly two functions, both SECURITY DEFINER with
-- SET search_path TO 'public', in one transaction:
--   1. sorties_produit_block_update_delete(): lets UPDATE/DELETE through when the
--      transaction-local flag app.sorties_produit_allow_write = '1', else raises
--      the same P0001 message as before;
--   2. validate_sortie(uuid): sets app.stocks_journaliers_allow_write and
--      app.sorties_produit_allow_write (transaction-local) first, then runs the
--      unchanged validation: role admin/directeur/gerant (else ROLE_FORBIDDEN),
--      statut NULL or brouillon (else INVALID_ID_OR_STATE), beneficiary, active
--      compatible tank, volume from the indices, journal row of the day created
--      from the latest row if missing, INSUFFICIENT_STOCK against the journal,
--      debit of every journal row of that tank/product/day (any owner), statut
--      validee + validated_by, log SORTIE_VALIDEE / module 'sorties'.
-- Not changed: no trigger, policy, table or grant (CREATE OR REPLACE keeps the
-- existing EXECUTE privileges). Note that the RPC still does not touch
-- stocks_snapshot, so v_stock_actuel does not move on validation.
-- =============================================================================

BEGIN;

-- 1) immutability guard of sorties_produit, with the controlled bypass
CREATE OR REPLACE FUNCTION public.sorties_produit_block_update_delete() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path TO 'public'
AS $fn$
BEGIN
  IF current_setting('app.sorties_produit_allow_write', true) = '1' THEN
    IF tg_op = 'DELETE' THEN
      RETURN old;
    END IF;
    RETURN new;
  END IF;

  RAISE EXCEPTION 'Ecriture interdite sur sorties_produit (op=%). Table immutable: utiliser INSERT + triggers/RPC, jamais UPDATE/DELETE.',
    tg_op;
END;
$fn$;

-- 2) the RPC, allowed to write journal and sortie for the rest of its transaction
CREATE OR REPLACE FUNCTION public.validate_sortie(p_id uuid) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path TO 'public'
AS $fn$
DECLARE
  v_role        text := public._current_role();
  v_row         record;
  v_day         date;
  v_stock_avant double precision;
  v_v15         double precision;
BEGIN
  -- DB-STRICT flags, transaction-local (set first, as in the reference file)
  PERFORM set_config('app.stocks_journaliers_allow_write', '1', true);
  PERFORM set_config('app.sorties_produit_allow_write', '1', true);

  IF COALESCE(v_role, '') NOT IN ('admin', 'directeur', 'gerant') THEN
    RAISE EXCEPTION 'ROLE_FORBIDDEN';
  END IF;

  -- pending (NULL) or draft only, locked
  SELECT s.* INTO v_row
    FROM public.sorties_produit AS s
   WHERE s.id = p_id
     AND (s.statut IS NULL OR s.statut = 'brouillon')
     FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'INVALID_ID_OR_STATE';
  END IF;

  IF v_row.client_id IS NULL AND v_row.partenaire_id IS NULL THEN
    RAISE EXCEPTION 'BENEFICIAIRE_REQUIRED';
  END IF;

  PERFORM 1
     FROM public.citernes AS c
    WHERE c.id = v_row.citerne_id
      AND c.produit_id = v_row.produit_id
      AND c.statut = 'active';
  IF NOT FOUND THEN
    RAISE EXCEPTION 'CITERNE_INACTIVE_OR_INCOMPATIBLE';
  END IF;

  IF v_row.volume_ambiant IS NULL THEN
    IF v_row.index_avant IS NULL OR v_row.index_apres IS NULL THEN
      RAISE EXCEPTION 'INDICES_MANQUANTS';
    END IF;
    IF v_row.index_apres <= v_row.index_avant THEN
      RAISE EXCEPTION 'INDEX_INCOHERENTS (% >= %)', v_row.index_apres, v_row.index_avant;
    END IF;
    v_row.volume_ambiant := v_row.index_apres - v_row.index_avant;
  END IF;
  IF v_row.volume_ambiant <= 0 THEN
    RAISE EXCEPTION 'VOLUME_AMBIANT_NON_POSITIF';
  END IF;

  v_day := COALESCE(date(v_row.date_sortie), current_date);

  -- seed the day's journal row from the latest row of the tank/product (any
  -- owner); defaults apply: owner MONALUXE, source SYSTEM, depot NULL
  INSERT INTO public.stocks_journaliers (id, citerne_id, produit_id, date_jour, stock_ambiant, stock_15c)
  SELECT gen_random_uuid(), v_row.citerne_id, v_row.produit_id, v_day,
         COALESCE((SELECT sj2.stock_ambiant
                     FROM public.stocks_journaliers AS sj2
                    WHERE sj2.citerne_id = v_row.citerne_id
                      AND sj2.produit_id = v_row.produit_id
                    ORDER BY sj2.date_jour DESC
                    LIMIT 1), 0)::double precision,
         COALESCE((SELECT sj2.stock_15c
                     FROM public.stocks_journaliers AS sj2
                    WHERE sj2.citerne_id = v_row.citerne_id
                      AND sj2.produit_id = v_row.produit_id
                    ORDER BY sj2.date_jour DESC
                    LIMIT 1), 0)::double precision
   WHERE NOT EXISTS (SELECT 1
                       FROM public.stocks_journaliers AS sj
                      WHERE sj.citerne_id = v_row.citerne_id
                        AND sj.produit_id = v_row.produit_id
                        AND sj.date_jour = v_day);

  SELECT sj.stock_ambiant INTO v_stock_avant
    FROM public.stocks_journaliers AS sj
   WHERE sj.citerne_id = v_row.citerne_id
     AND sj.produit_id = v_row.produit_id
     AND sj.date_jour = v_day
     FOR UPDATE;

  IF COALESCE(v_stock_avant, 0) < v_row.volume_ambiant THEN
    RAISE EXCEPTION 'INSUFFICIENT_STOCK';
  END IF;

  v_v15 := COALESCE(v_row.volume_corrige_15c, v_row.volume_ambiant);

  -- debit every journal row of that tank/product/day, whatever its owner
  UPDATE public.stocks_journaliers AS sj
     SET stock_ambiant = greatest(0, sj.stock_ambiant - v_row.volume_ambiant),
         stock_15c     = greatest(0, sj.stock_15c - v_v15)
   WHERE sj.citerne_id = v_row.citerne_id
     AND sj.produit_id = v_row.produit_id
     AND sj.date_jour = v_day;

  UPDATE public.sorties_produit AS s
     SET statut       = 'validee',
         validated_by = auth.uid(),
         date_sortie  = COALESCE(s.date_sortie, now())
   WHERE s.id = p_id;

  INSERT INTO public.log_actions (id, user_id, action, module, niveau, details)
  VALUES (gen_random_uuid(), auth.uid(), 'SORTIE_VALIDEE', 'sorties', 'INFO',
          jsonb_build_object(
            'sortie_id',      p_id,
            'citerne_id',     v_row.citerne_id,
            'produit_id',     v_row.produit_id,
            'volume_ambiant', v_row.volume_ambiant,
            'volume_15c',     v_v15,
            'date_jour',      v_day));
END;
$fn$;

COMMIT;
