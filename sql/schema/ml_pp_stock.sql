-- =============================================================================
-- sql/schema/ml_pp_stock.sql — fixture: ML_PP's stock module as in PROD
-- =============================================================================
-- Models the stock module of ML_PP's PROD database (VALERYkal/ml_pp_mvp,
-- docs/DB_SNAPSHOTS/ml_pp_prod_schema_public_2026-02-11.sql) as it stood when
-- the ASTM 53B runbook was written (2026-02-25):
--   * tables, columns (same order), types, defaults, NOT NULLs, CHECKs, keys,
--     indexes and foreign keys of the 2026-02-11 snapshot;
--   * the trigger functions and RPCs the runbook touches, with the same names,
--     signatures, SECURITY DEFINER / search_path settings, behaviour and error
--     messages — including the LEGACY validate_sortie (never sets the journal
--     write flag, so it always fails under DB-STRICT) and the LEGACY
--     sorties_produit_block_update_delete / receptions_block_update_delete
--     (always raise, no flag);
--   * the triggers with the same names (PostgreSQL fires same-timing row
--     triggers in name order), timing, events and WHEN clauses, with
--     trg_sortie_before_upd created then DISABLED as in PROD;
--   * RLS and policies as after the 2026-02-12 (stocks_adjustments) and
--     2026-02-21 (no more {public} policies) changes.
-- Left out on purpose: prises_de_hauteur, stocks_journaliers_bak, the views
-- not needed by policies/app/rebuild, and the dead functions (see sql/README.md).
--
-- Requires: the Supabase objects (roles anon/authenticated/service_role,
-- schema auth, auth.users, auth.uid()) — from Supabase itself or from
-- sql/supabase/shim.sql. Apply to a fresh database (plain CREATE, no IF NOT
-- EXISTS), then sql/supabase/grants.sql. Plain SQL, no psql meta-commands, no
-- transaction control inside. Bodies are our own code; behaviour, names and
-- messages follow the PROD snapshot.
-- =============================================================================


-- -----------------------------------------------------------------------------
-- 1. Tables
-- -----------------------------------------------------------------------------

CREATE TABLE public.depots (
  id         uuid DEFAULT gen_random_uuid() NOT NULL,
  nom        text NOT NULL,
  adresse    text,
  created_at timestamp with time zone DEFAULT now(),
  CONSTRAINT depots_pkey PRIMARY KEY (id)
);

CREATE TABLE public.produits (
  id          uuid DEFAULT gen_random_uuid() NOT NULL,
  nom         text NOT NULL,
  code        text,
  description text,
  actif       boolean DEFAULT true,
  created_at  timestamp with time zone DEFAULT now(),
  CONSTRAINT produits_pkey PRIMARY KEY (id),
  CONSTRAINT produits_code_key UNIQUE (code),
  CONSTRAINT produits_nom_key UNIQUE (nom)
);

CREATE TABLE public.citernes (
  id                uuid DEFAULT gen_random_uuid() NOT NULL,
  depot_id          uuid,
  nom               text NOT NULL,
  capacite_totale   double precision NOT NULL,
  capacite_securite double precision NOT NULL,
  localisation      text NOT NULL,
  statut            text DEFAULT 'active'::text,
  created_at        timestamp with time zone DEFAULT now(),
  produit_id        uuid NOT NULL,
  CONSTRAINT citernes_pkey PRIMARY KEY (id),
  CONSTRAINT citernes_capacite_securite_check CHECK (capacite_securite >= (0)::double precision),
  CONSTRAINT citernes_capacite_totale_check CHECK (capacite_totale > (0)::double precision),
  CONSTRAINT citernes_statut_check CHECK (statut = ANY (ARRAY['active'::text, 'inactive'::text, 'maintenance'::text]))
);

CREATE TABLE public.clients (
  id                  uuid DEFAULT gen_random_uuid() NOT NULL,
  nom                 text NOT NULL,
  contact_personne    text,
  email               text,
  telephone           text,
  adresse             text,
  pays                text,
  note_supplementaire text,
  created_at          timestamp with time zone DEFAULT now(),
  CONSTRAINT clients_pkey PRIMARY KEY (id),
  CONSTRAINT clients_nom_key UNIQUE (nom)
);

CREATE TABLE public.partenaires (
  id         uuid DEFAULT gen_random_uuid() NOT NULL,
  nom        text NOT NULL,
  contact    text,
  email      text,
  telephone  text,
  created_at timestamp with time zone DEFAULT now(),
  CONSTRAINT partenaires_pkey PRIMARY KEY (id)
);

CREATE TABLE public.fournisseurs (
  id                  uuid DEFAULT gen_random_uuid() NOT NULL,
  nom                 text NOT NULL,
  contact_personne    text,
  email               text,
  telephone           text,
  adresse             text,
  pays                text,
  note_supplementaire text,
  created_at          timestamp with time zone DEFAULT now(),
  CONSTRAINT fournisseurs_pkey PRIMARY KEY (id),
  CONSTRAINT fournisseurs_nom_key UNIQUE (nom)
);

-- The role table (there is no "profiles" table in ML_PP).
CREATE TABLE public.profils (
  id          uuid DEFAULT gen_random_uuid() NOT NULL,
  user_id     uuid,
  nom_complet text,
  role        text NOT NULL,
  depot_id    uuid,
  email       text,
  created_at  timestamp with time zone DEFAULT now(),
  CONSTRAINT profils_pkey PRIMARY KEY (id),
  CONSTRAINT profils_role_check CHECK (role = ANY (ARRAY['admin'::text, 'directeur'::text, 'gerant'::text, 'lecture'::text, 'pca'::text]))
);

CREATE TABLE public.cours_de_route (
  id                   uuid DEFAULT gen_random_uuid() NOT NULL,
  fournisseur_id       uuid,
  depot_destination_id uuid,
  produit_id           uuid,
  plaque_camion        text NOT NULL,
  plaque_remorque      text,
  chauffeur_nom        text,
  transporteur         text,
  depart_pays          text,
  date_chargement      date NOT NULL,
  volume               numeric,
  statut               text DEFAULT 'CHARGEMENT'::text,
  note                 text,
  created_at           timestamp with time zone DEFAULT now(),
  CONSTRAINT cours_de_route_pkey PRIMARY KEY (id),
  CONSTRAINT cours_de_route_statut_check CHECK (statut = ANY (ARRAY['CHARGEMENT'::text, 'TRANSIT'::text, 'FRONTIERE'::text, 'ARRIVE'::text, 'DECHARGE'::text]))
);

CREATE TABLE public.receptions (
  id                     uuid DEFAULT gen_random_uuid() NOT NULL,
  cours_de_route_id      uuid,
  citerne_id             uuid NOT NULL,
  produit_id             uuid NOT NULL,
  partenaire_id          uuid,
  index_avant            double precision NOT NULL,
  index_apres            double precision NOT NULL,
  volume_corrige_15c     double precision,
  temperature_ambiante_c double precision,
  densite_a_15           double precision,
  proprietaire_type      text DEFAULT 'MONALUXE'::text,
  note                   text,
  created_at             timestamp with time zone DEFAULT now(),
  volume_ambiant         double precision,
  statut                 text DEFAULT 'validee'::text NOT NULL,
  created_by             uuid,
  validated_by           uuid,
  date_reception         date DEFAULT CURRENT_DATE,
  volume_observe         double precision,
  volume_15c             double precision,
  CONSTRAINT receptions_pkey PRIMARY KEY (id),
  CONSTRAINT receptions_ambiant_required_if_valid CHECK ((statut <> 'validee'::text) OR (volume_ambiant IS NOT NULL)),
  CONSTRAINT receptions_index_nonneg CHECK ((index_avant >= (0)::double precision) AND (index_apres >= (0)::double precision)),
  CONSTRAINT receptions_index_order CHECK (index_apres > index_avant),
  CONSTRAINT receptions_partenaire_required CHECK ((proprietaire_type <> 'PARTENAIRE'::text) OR (partenaire_id IS NOT NULL)),
  CONSTRAINT receptions_proprietaire_type_check CHECK (proprietaire_type = ANY (ARRAY['MONALUXE'::text, 'PARTENAIRE'::text])),
  CONSTRAINT receptions_statut_check CHECK (statut = ANY (ARRAY['validee'::text, 'rejetee'::text]))
);

CREATE TABLE public.sorties_produit (
  id                     uuid DEFAULT gen_random_uuid() NOT NULL,
  citerne_id             uuid NOT NULL,
  produit_id             uuid NOT NULL,
  client_id              uuid,
  partenaire_id          uuid,
  volume_corrige_15c     double precision,
  temperature_ambiante_c double precision,
  densite_a_15           double precision,
  proprietaire_type      text DEFAULT 'MONALUXE'::text,
  note                   text,
  created_at             timestamp with time zone DEFAULT now(),
  index_avant            double precision,
  index_apres            double precision,
  volume_ambiant         double precision,
  statut                 text DEFAULT 'validee'::text NOT NULL,
  created_by             uuid,
  validated_by           uuid,
  date_sortie            timestamp with time zone,
  chauffeur_nom          text,
  plaque_camion          text,
  plaque_remorque        text,
  transporteur           text,
  CONSTRAINT sorties_produit_pkey PRIMARY KEY (id),
  CONSTRAINT sorties_ambiant_required_if_valid CHECK ((statut <> 'validee'::text) OR (volume_ambiant IS NOT NULL)),
  CONSTRAINT sorties_produit_beneficiaire_check CHECK ((client_id IS NOT NULL) OR (partenaire_id IS NOT NULL)),
  CONSTRAINT sorties_produit_index_apres_check CHECK (index_apres >= (0)::double precision),
  CONSTRAINT sorties_produit_index_avant_check CHECK (index_avant >= (0)::double precision),
  CONSTRAINT sorties_produit_proprietaire_type_check CHECK (proprietaire_type = ANY (ARRAY['MONALUXE'::text, 'PARTENAIRE'::text])),
  CONSTRAINT sorties_produit_statut_check CHECK (statut = ANY (ARRAY['brouillon'::text, 'validee'::text, 'rejetee'::text]))
);

-- One row per (tank, product, day, owner) holding the day's CLOSING balance.
-- No CHECK >= 0 here (unlike stocks_snapshot), exactly as in PROD.
CREATE TABLE public.stocks_journaliers (
  id                uuid DEFAULT gen_random_uuid() NOT NULL,
  citerne_id        uuid,
  produit_id        uuid,
  date_jour         date NOT NULL,
  stock_ambiant     double precision NOT NULL,
  stock_15c         double precision NOT NULL,
  proprietaire_type text DEFAULT 'MONALUXE'::text,
  depot_id          uuid,
  source            text DEFAULT 'SYSTEM'::text,
  created_at        timestamp with time zone DEFAULT now(),
  updated_at        timestamp with time zone DEFAULT now(),
  CONSTRAINT stocks_journaliers_pkey PRIMARY KEY (id),
  CONSTRAINT stocks_journaliers_unique UNIQUE (citerne_id, produit_id, date_jour, proprietaire_type),
  CONSTRAINT stocks_journaliers_proprietaire_type_check CHECK (proprietaire_type = ANY (ARRAY['MONALUXE'::text, 'PARTENAIRE'::text]))
);

-- Current balance per (tank, product, owner).
CREATE TABLE public.stocks_snapshot (
  id                uuid DEFAULT gen_random_uuid() NOT NULL,
  citerne_id        uuid NOT NULL,
  produit_id        uuid NOT NULL,
  proprietaire_type text NOT NULL,
  depot_id          uuid,
  stock_ambiant     double precision DEFAULT 0 NOT NULL,
  stock_15c         double precision DEFAULT 0 NOT NULL,
  last_movement_at  timestamp with time zone DEFAULT now() NOT NULL,
  updated_at        timestamp with time zone DEFAULT now() NOT NULL,
  CONSTRAINT stocks_snapshot_pkey PRIMARY KEY (id),
  CONSTRAINT ux_stocks_snapshot UNIQUE (citerne_id, produit_id, proprietaire_type),
  CONSTRAINT stocks_snapshot_proprietaire_type_check CHECK (proprietaire_type = ANY (ARRAY['MONALUXE'::text, 'PARTENAIRE'::text])),
  CONSTRAINT stocks_snapshot_stock_15c_check CHECK (stock_15c >= (0)::double precision),
  CONSTRAINT stocks_snapshot_stock_ambiant_check CHECK (stock_ambiant >= (0)::double precision)
);

-- Corrections on top of the snapshot. No FK on mouvement_id: a trigger checks it.
CREATE TABLE public.stocks_adjustments (
  id                uuid DEFAULT gen_random_uuid() NOT NULL,
  mouvement_type    text NOT NULL,
  mouvement_id      uuid NOT NULL,
  delta_ambiant     double precision NOT NULL,
  delta_15c         double precision DEFAULT 0 NOT NULL,
  reason            text NOT NULL,
  created_by        uuid NOT NULL,
  created_at        timestamp with time zone DEFAULT now() NOT NULL,
  depot_id          uuid,
  citerne_id        uuid,
  produit_id        uuid,
  proprietaire_type text,
  CONSTRAINT stocks_adjustments_pkey PRIMARY KEY (id),
  CONSTRAINT stocks_adjustments_dedup UNIQUE (mouvement_type, mouvement_id, delta_ambiant, delta_15c, reason),
  CONSTRAINT stocks_adjustments_mouvement_type_check CHECK (mouvement_type = ANY (ARRAY['RECEPTION'::text, 'SORTIE'::text])),
  CONSTRAINT stocks_adjustments_proprietaire_type_check CHECK (proprietaire_type = ANY (ARRAY['MONALUXE'::text, 'PARTENAIRE'::text])),
  CONSTRAINT stocks_adjustments_reason_check CHECK (char_length(TRIM(BOTH FROM reason)) >= 10)
);

-- The application's single audit table.
CREATE TABLE public.log_actions (
  id         uuid DEFAULT gen_random_uuid() NOT NULL,
  user_id    uuid,
  action     text NOT NULL,
  module     text NOT NULL,
  niveau     text DEFAULT 'INFO'::text,
  details    jsonb,
  created_at timestamp with time zone DEFAULT now(),
  cible_id   uuid,
  CONSTRAINT log_actions_pkey PRIMARY KEY (id),
  CONSTRAINT log_actions_niveau_check CHECK (niveau = ANY (ARRAY['INFO'::text, 'WARNING'::text, 'CRITICAL'::text]))
);


-- -----------------------------------------------------------------------------
-- 2. Indexes (the PROD snapshot's, redundant ones included)
-- -----------------------------------------------------------------------------

CREATE INDEX cdr_arrive_idx ON public.cours_de_route USING btree (depot_destination_id) WHERE (statut = 'ARRIVE'::text);
CREATE INDEX cdr_date_idx ON public.cours_de_route USING btree (date_chargement);
CREATE INDEX cdr_depot_idx ON public.cours_de_route USING btree (depot_destination_id);
CREATE INDEX cdr_produit_idx ON public.cours_de_route USING btree (produit_id);
CREATE INDEX cdr_statut_idx ON public.cours_de_route USING btree (statut);
CREATE INDEX idx_cdr_hist ON public.cours_de_route USING btree (depot_destination_id, statut, date_chargement DESC);
CREATE INDEX idx_cdr_statut ON public.cours_de_route USING btree (statut);
-- one open trip per truck plate
CREATE UNIQUE INDEX uniq_open_cdr_per_truck ON public.cours_de_route USING btree (plaque_camion) WHERE (statut <> 'DECHARGE'::text);

CREATE INDEX idx_receptions_citerne ON public.receptions USING btree (citerne_id);
CREATE INDEX idx_receptions_created_at ON public.receptions USING btree (created_at);
CREATE INDEX idx_receptions_date_reception ON public.receptions USING btree (date_reception);
CREATE INDEX idx_receptions_produit ON public.receptions USING btree (produit_id);
CREATE INDEX idx_receptions_statut ON public.receptions USING btree (statut);
-- a CDR is received at most once
CREATE UNIQUE INDEX ux_receptions_cdr_once ON public.receptions USING btree (cours_de_route_id) WHERE (cours_de_route_id IS NOT NULL);

CREATE INDEX idx_sorties_citerne ON public.sorties_produit USING btree (citerne_id);
CREATE INDEX idx_sorties_created_at ON public.sorties_produit USING btree (created_at DESC);
CREATE INDEX idx_sorties_date_sortie ON public.sorties_produit USING btree (date_sortie);
CREATE INDEX idx_sorties_produit ON public.sorties_produit USING btree (produit_id);
CREATE INDEX idx_sorties_statut ON public.sorties_produit USING btree (statut);

CREATE INDEX idx_stocks_j_citerne_produit_date_proprio ON public.stocks_journaliers USING btree (citerne_id, produit_id, date_jour, proprietaire_type);
-- redundant with the constraint stocks_journaliers_unique, as in PROD
CREATE UNIQUE INDEX ux_stocks_journaliers_keys ON public.stocks_journaliers USING btree (citerne_id, produit_id, date_jour, proprietaire_type);

CREATE INDEX idx_stocks_snapshot_citerne ON public.stocks_snapshot USING btree (citerne_id);
CREATE INDEX idx_stocks_snapshot_depot ON public.stocks_snapshot USING btree (depot_id);
CREATE INDEX idx_stocks_snapshot_produit ON public.stocks_snapshot USING btree (produit_id);
CREATE INDEX idx_stocks_snapshot_updated_at ON public.stocks_snapshot USING btree (updated_at);


-- -----------------------------------------------------------------------------
-- 3. Foreign keys (names as in PROD; six of them point at auth.users)
-- -----------------------------------------------------------------------------

ALTER TABLE ONLY public.citernes
  ADD CONSTRAINT citernes_depot_id_fkey FOREIGN KEY (depot_id) REFERENCES public.depots(id),
  ADD CONSTRAINT fk_citernes_produit_id FOREIGN KEY (produit_id) REFERENCES public.produits(id);

ALTER TABLE ONLY public.profils
  ADD CONSTRAINT profils_depot_id_fkey FOREIGN KEY (depot_id) REFERENCES public.depots(id),
  ADD CONSTRAINT profils_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id);

ALTER TABLE ONLY public.cours_de_route
  ADD CONSTRAINT cours_de_route_depot_destination_id_fkey FOREIGN KEY (depot_destination_id) REFERENCES public.depots(id),
  ADD CONSTRAINT cours_de_route_fournisseur_id_fkey FOREIGN KEY (fournisseur_id) REFERENCES public.fournisseurs(id),
  ADD CONSTRAINT cours_de_route_produit_id_fkey FOREIGN KEY (produit_id) REFERENCES public.produits(id);

ALTER TABLE ONLY public.receptions
  ADD CONSTRAINT receptions_citerne_id_fkey FOREIGN KEY (citerne_id) REFERENCES public.citernes(id),
  ADD CONSTRAINT receptions_cours_de_route_id_fkey FOREIGN KEY (cours_de_route_id) REFERENCES public.cours_de_route(id),
  ADD CONSTRAINT receptions_created_by_fkey FOREIGN KEY (created_by) REFERENCES auth.users(id),
  ADD CONSTRAINT receptions_partenaire_id_fkey FOREIGN KEY (partenaire_id) REFERENCES public.partenaires(id),
  ADD CONSTRAINT receptions_produit_id_fkey FOREIGN KEY (produit_id) REFERENCES public.produits(id),
  ADD CONSTRAINT receptions_validated_by_fkey FOREIGN KEY (validated_by) REFERENCES auth.users(id);

ALTER TABLE ONLY public.sorties_produit
  ADD CONSTRAINT sorties_produit_citerne_id_fkey FOREIGN KEY (citerne_id) REFERENCES public.citernes(id),
  ADD CONSTRAINT sorties_produit_client_id_fkey FOREIGN KEY (client_id) REFERENCES public.clients(id),
  ADD CONSTRAINT sorties_produit_created_by_fkey FOREIGN KEY (created_by) REFERENCES auth.users(id),
  ADD CONSTRAINT sorties_produit_partenaire_id_fkey FOREIGN KEY (partenaire_id) REFERENCES public.partenaires(id),
  ADD CONSTRAINT sorties_produit_produit_id_fkey FOREIGN KEY (produit_id) REFERENCES public.produits(id),
  ADD CONSTRAINT sorties_produit_validated_by_fkey FOREIGN KEY (validated_by) REFERENCES auth.users(id);

-- no FK on stocks_journaliers.depot_id, as in PROD
ALTER TABLE ONLY public.stocks_journaliers
  ADD CONSTRAINT stocks_journaliers_citerne_id_fkey FOREIGN KEY (citerne_id) REFERENCES public.citernes(id),
  ADD CONSTRAINT stocks_journaliers_produit_id_fkey FOREIGN KEY (produit_id) REFERENCES public.produits(id);

ALTER TABLE ONLY public.stocks_snapshot
  ADD CONSTRAINT fk_stocks_snapshot_citerne FOREIGN KEY (citerne_id) REFERENCES public.citernes(id),
  ADD CONSTRAINT fk_stocks_snapshot_depot FOREIGN KEY (depot_id) REFERENCES public.depots(id),
  ADD CONSTRAINT fk_stocks_snapshot_produit FOREIGN KEY (produit_id) REFERENCES public.produits(id);

ALTER TABLE ONLY public.log_actions
  ADD CONSTRAINT log_actions_user_id_fkey FOREIGN KEY (user_id) REFERENCES auth.users(id);


-- -----------------------------------------------------------------------------
-- 4. Role helpers
-- -----------------------------------------------------------------------------

-- Role of the JWT subject (latest profile). SECURITY DEFINER: ignores profils
-- RLS. Used by validate_sortie.
CREATE FUNCTION public._current_role() RETURNS text
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path TO 'public'
AS $fn$
  SELECT pr.role
    FROM public.profils AS pr
   WHERE pr.user_id = auth.uid()
   ORDER BY pr.created_at DESC
   LIMIT 1;
$fn$;

-- Same lookup, but as the invoker (subject to profils RLS). Used by the
-- sorties_produit policies.
CREATE FUNCTION public.user_role() RETURNS text
  LANGUAGE sql STABLE
AS $fn$
  SELECT pr.role
    FROM public.profils AS pr
   WHERE pr.user_id = auth.uid()
   ORDER BY pr.created_at DESC
   LIMIT 1
$fn$;

CREATE FUNCTION public.role_in(p_role text, VARIADIC p_allowed text[]) RETURNS boolean
  LANGUAGE sql STABLE
AS $fn$
  SELECT COALESCE(p_role = ANY (p_allowed), false)
$fn$;


-- -----------------------------------------------------------------------------
-- 5. Stock primitives
-- -----------------------------------------------------------------------------

-- Latest journal balance of a tank/product, any owner (app RPC).
CREATE FUNCTION public.get_last_stock_ambiant(p_citerne uuid, p_produit uuid) RETURNS double precision
  LANGUAGE sql STABLE
AS $fn$
  SELECT COALESCE(
           (SELECT sj.stock_ambiant
              FROM public.stocks_journaliers AS sj
             WHERE sj.citerne_id = p_citerne
               AND sj.produit_id = p_produit
             ORDER BY sj.date_jour DESC
             LIMIT 1),
           0::double precision)
$fn$;

-- Apply a delta to the day's closing balance of one (tank, product, owner):
-- add to the day row if it exists, otherwise create it from the latest earlier
-- balance of the same owner plus the delta. Not SECURITY DEFINER: it writes
-- with the caller's rights, so the caller must have set the journal write flag.
CREATE FUNCTION public.stock_upsert_journalier(
  p_citerne_id uuid,
  p_produit_id uuid,
  p_date_jour date,
  p_delta_stock_ambiant double precision,
  p_delta_stock_15c double precision,
  p_proprietaire_type text DEFAULT 'MONALUXE'::text,
  p_depot_id uuid DEFAULT NULL::uuid,
  p_source text DEFAULT 'SYSTEM'::text
) RETURNS void
  LANGUAGE plpgsql
AS $fn$
DECLARE
  v_owner    text := upper(trim(COALESCE(p_proprietaire_type, 'MONALUXE')));
  v_base_amb double precision;
  v_base_15c double precision;
BEGIN
  IF v_owner NOT IN ('MONALUXE', 'PARTENAIRE') THEN
    RAISE EXCEPTION 'stock_upsert_journalier() - proprietaire_type invalide: %', v_owner;
  END IF;

  IF EXISTS (SELECT 1
               FROM public.stocks_journaliers
              WHERE citerne_id = p_citerne_id
                AND produit_id = p_produit_id
                AND date_jour = p_date_jour
                AND proprietaire_type = v_owner) THEN
    -- the day already has a closing row: move it by the delta
    UPDATE public.stocks_journaliers
       SET stock_ambiant = stock_ambiant + COALESCE(p_delta_stock_ambiant, 0),
           stock_15c     = stock_15c + COALESCE(p_delta_stock_15c, 0),
           depot_id      = COALESCE(p_depot_id, depot_id),
           source        = p_source,
           updated_at    = now()
     WHERE citerne_id = p_citerne_id
       AND produit_id = p_produit_id
       AND date_jour = p_date_jour
       AND proprietaire_type = v_owner;
    RETURN;
  END IF;

  -- first movement of the day: start from the latest earlier closing balance
  SELECT sj.stock_ambiant, sj.stock_15c
    INTO v_base_amb, v_base_15c
    FROM public.stocks_journaliers AS sj
   WHERE sj.citerne_id = p_citerne_id
     AND sj.produit_id = p_produit_id
     AND sj.proprietaire_type = v_owner
     AND sj.date_jour < p_date_jour
   ORDER BY sj.date_jour DESC
   LIMIT 1;

  INSERT INTO public.stocks_journaliers
         (citerne_id, produit_id, date_jour, stock_ambiant, stock_15c,
          proprietaire_type, depot_id, source, created_at, updated_at)
  VALUES (p_citerne_id, p_produit_id, p_date_jour,
          COALESCE(v_base_amb, 0) + COALESCE(p_delta_stock_ambiant, 0),
          COALESCE(v_base_15c, 0) + COALESCE(p_delta_stock_15c, 0),
          v_owner, p_depot_id, p_source, now(), now());
END;
$fn$;

-- Apply a delta to the current balance (row locked). Creates the row only for a
-- non-negative delta; refuses any negative result.
CREATE FUNCTION public.stock_snapshot_apply_delta(
  p_citerne_id uuid,
  p_produit_id uuid,
  p_proprietaire_type text,
  p_delta_ambiant double precision,
  p_delta_15c double precision,
  p_depot_id uuid,
  p_event_ts timestamp with time zone
) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path TO 'public'
AS $fn$
DECLARE
  v_owner text := upper(trim(p_proprietaire_type));
  v_d_amb double precision := COALESCE(p_delta_ambiant, 0);
  v_d_15c double precision := COALESCE(p_delta_15c, 0);
  v_ts    timestamp with time zone := COALESCE(p_event_ts, now());
  v_amb   double precision;
  v_15c   double precision;
BEGIN
  IF v_owner NOT IN ('MONALUXE', 'PARTENAIRE') THEN
    RAISE EXCEPTION 'SNAPSHOT_OWNER_INVALID: %', v_owner;
  END IF;

  SELECT s.stock_ambiant, s.stock_15c
    INTO v_amb, v_15c
    FROM public.stocks_snapshot AS s
   WHERE s.citerne_id = p_citerne_id
     AND s.produit_id = p_produit_id
     AND s.proprietaire_type = v_owner
     FOR UPDATE;

  IF v_amb IS NULL OR v_15c IS NULL THEN
    IF v_d_amb < 0 OR v_d_15c < 0 THEN
      RAISE EXCEPTION 'SNAPSHOT_MISSING_FOR_NEGATIVE_DELTA: citerne=%, produit=%, proprietaire=%',
        p_citerne_id, p_produit_id, v_owner;
    END IF;
    INSERT INTO public.stocks_snapshot
           (citerne_id, produit_id, proprietaire_type, depot_id,
            stock_ambiant, stock_15c, last_movement_at, updated_at)
    VALUES (p_citerne_id, p_produit_id, v_owner, p_depot_id,
            v_d_amb, v_d_15c, v_ts, v_ts);
    RETURN;
  END IF;

  IF v_amb + v_d_amb < 0 OR v_15c + v_d_15c < 0 THEN
    RAISE EXCEPTION 'SNAPSHOT_NEGATIVE_STOCK_FORBIDDEN: owner=% citerne=% produit=% curr_amb=% curr_15c=% delta_amb=% delta_15c=% next_amb=% next_15c=%',
      v_owner, p_citerne_id, p_produit_id, v_amb, v_15c,
      v_d_amb, v_d_15c, v_amb + v_d_amb, v_15c + v_d_15c;
  END IF;

  UPDATE public.stocks_snapshot AS s
     SET stock_ambiant    = v_amb + v_d_amb,
         stock_15c        = v_15c + v_d_15c,
         depot_id         = COALESCE(p_depot_id, s.depot_id),
         last_movement_at = v_ts,
         updated_at       = v_ts
   WHERE s.citerne_id = p_citerne_id
     AND s.produit_id = p_produit_id
     AND s.proprietaire_type = v_owner;
END;
$fn$;


-- -----------------------------------------------------------------------------
-- 6. Views used by policies, the app and the rebuild
-- -----------------------------------------------------------------------------

-- Profile of the JWT subject; most policies read their role from here.
CREATE VIEW public.current_user_profile AS
 SELECT p.id,
        p.user_id,
        p.nom_complet,
        p.role,
        p.depot_id,
        p.email,
        p.created_at
   FROM auth.users AS u
   JOIN public.profils AS p ON u.id = p.user_id
  WHERE u.id = auth.uid();

-- Normalised stock movements feeding rebuild_stocks_journaliers: a snapshot
-- baseline (the J0 stock, dated last_movement_at, kept only while no validated
-- movement of that key is older than that date), validated receptions (+) and
-- validated sorties (-).
CREATE VIEW public.v_mouvements_stock AS
 WITH snapshot_norm AS (
   SELECT s.last_movement_at::date AS date_jour,
          s.citerne_id,
          s.produit_id,
          s.depot_id,
          upper(TRIM(BOTH FROM s.proprietaire_type)) AS proprietaire_type,
          s.stock_ambiant AS delta_ambiant,
          s.stock_15c AS delta_15c
     FROM public.stocks_snapshot AS s
    WHERE s.last_movement_at IS NOT NULL
      AND upper(TRIM(BOTH FROM s.proprietaire_type)) = ANY (ARRAY['MONALUXE'::text, 'PARTENAIRE'::text])
      AND NOT EXISTS (
            SELECT 1
              FROM public.receptions AS r
              JOIN public.citernes AS c ON c.id = r.citerne_id
             WHERE r.statut = 'validee'::text
               AND r.citerne_id = s.citerne_id
               AND r.produit_id = s.produit_id
               AND c.depot_id = s.depot_id
               AND upper(TRIM(BOTH FROM COALESCE(r.proprietaire_type, 'MONALUXE'::text))) = upper(TRIM(BOTH FROM s.proprietaire_type))
               AND r.date_reception < s.last_movement_at::date)
      AND NOT EXISTS (
            SELECT 1
              FROM public.sorties_produit AS so
              JOIN public.citernes AS c ON c.id = so.citerne_id
             WHERE so.statut = 'validee'::text
               AND so.citerne_id = s.citerne_id
               AND so.produit_id = s.produit_id
               AND c.depot_id = s.depot_id
               AND upper(TRIM(BOTH FROM COALESCE(so.proprietaire_type, 'MONALUXE'::text))) = upper(TRIM(BOTH FROM s.proprietaire_type))
               AND so.date_sortie::date < s.last_movement_at::date)
 ), receptions_norm AS (
   SELECT r.date_reception AS date_jour,
          r.citerne_id,
          r.produit_id,
          c.depot_id,
          upper(TRIM(BOTH FROM COALESCE(r.proprietaire_type, 'MONALUXE'::text))) AS proprietaire_type,
          COALESCE(r.volume_ambiant, r.volume_observe, (0)::double precision) AS delta_ambiant,
          COALESCE(r.volume_15c, r.volume_corrige_15c, r.volume_ambiant, (0)::double precision) AS delta_15c
     FROM public.receptions AS r
     JOIN public.citernes AS c ON c.id = r.citerne_id
    WHERE r.statut = 'validee'::text
 ), sorties_norm AS (
   SELECT s.date_sortie::date AS date_jour,
          s.citerne_id,
          s.produit_id,
          c.depot_id,
          upper(TRIM(BOTH FROM COALESCE(s.proprietaire_type, 'MONALUXE'::text))) AS proprietaire_type,
          - COALESCE(s.volume_ambiant, (0)::double precision) AS delta_ambiant,
          - COALESCE(s.volume_corrige_15c, s.volume_ambiant, (0)::double precision) AS delta_15c
     FROM public.sorties_produit AS s
     JOIN public.citernes AS c ON c.id = s.citerne_id
    WHERE s.statut = 'validee'::text
 )
 SELECT date_jour, citerne_id, produit_id, depot_id, proprietaire_type, delta_ambiant, delta_15c
   FROM snapshot_norm
 UNION ALL
 SELECT date_jour, citerne_id, produit_id, depot_id, proprietaire_type, delta_ambiant, delta_15c
   FROM receptions_norm
 UNION ALL
 SELECT date_jour, citerne_id, produit_id, depot_id, proprietaire_type, delta_ambiant, delta_15c
   FROM sorties_norm;

-- Snapshot plus the sum of adjustments, clamped at zero.
CREATE VIEW public.v_stocks_snapshot_corrige AS
 SELECT ss.depot_id,
        ss.citerne_id,
        ss.produit_id,
        ss.proprietaire_type,
        ss.stock_ambiant AS stock_ambiant_base,
        ss.stock_15c AS stock_15c_base,
        COALESCE(adj.delta_ambiant_total, (0)::double precision) AS delta_ambiant_total,
        COALESCE(adj.delta_15c_total, (0)::double precision) AS delta_15c_total,
        GREATEST(ss.stock_ambiant + COALESCE(adj.delta_ambiant_total, (0)::double precision), (0)::double precision) AS stock_ambiant_corrige,
        GREATEST(ss.stock_15c + COALESCE(adj.delta_15c_total, (0)::double precision), (0)::double precision) AS stock_15c_corrige,
        ss.last_movement_at,
        ss.updated_at
   FROM public.stocks_snapshot AS ss
   LEFT JOIN (
          SELECT stocks_adjustments.depot_id,
                 stocks_adjustments.citerne_id,
                 stocks_adjustments.produit_id,
                 stocks_adjustments.proprietaire_type,
                 sum(stocks_adjustments.delta_ambiant) AS delta_ambiant_total,
                 sum(stocks_adjustments.delta_15c) AS delta_15c_total
            FROM public.stocks_adjustments
           GROUP BY stocks_adjustments.depot_id, stocks_adjustments.citerne_id,
                    stocks_adjustments.produit_id, stocks_adjustments.proprietaire_type
        ) AS adj
     ON adj.depot_id = ss.depot_id
    AND adj.citerne_id = ss.citerne_id
    AND adj.produit_id = ss.produit_id
    AND adj.proprietaire_type = ss.proprietaire_type;

-- The app's "current stock" contract (snapshot + adjustments).
CREATE VIEW public.v_stock_actuel AS
 SELECT depot_id,
        citerne_id,
        produit_id,
        proprietaire_type,
        stock_ambiant_corrige AS stock_ambiant,
        stock_15c_corrige AS stock_15c,
        last_movement_at,
        updated_at,
        stock_ambiant_base,
        stock_15c_base,
        delta_ambiant_total,
        delta_15c_total
   FROM public.v_stocks_snapshot_corrige;


-- -----------------------------------------------------------------------------
-- 7. Controlled journal rebuild
-- -----------------------------------------------------------------------------

-- Deletes SYSTEM/REBUILD journal rows in the window, then inserts cumulative
-- SYSTEM rows from v_mouvements_stock. As in PROD it does not touch
-- RECEPTION/SORTIE rows, so it hits stocks_journaliers_unique when such rows
-- exist for a rebuilt key.
CREATE FUNCTION public.rebuild_stocks_journaliers(
  p_depot_id uuid DEFAULT NULL::uuid,
  p_start_date date DEFAULT NULL::date,
  p_end_date date DEFAULT NULL::date
) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path TO 'public'
AS $fn$
BEGIN
  PERFORM set_config('app.stocks_journaliers_allow_write', '1', true);

  DELETE FROM public.stocks_journaliers AS sj
   USING public.citernes AS c
   WHERE sj.citerne_id = c.id
     AND sj.source IN ('SYSTEM', 'REBUILD')
     AND (p_depot_id IS NULL OR c.depot_id = p_depot_id)
     AND (p_start_date IS NULL OR sj.date_jour >= p_start_date)
     AND (p_end_date IS NULL OR sj.date_jour <= p_end_date);

  INSERT INTO public.stocks_journaliers
         (citerne_id, produit_id, date_jour, stock_ambiant, stock_15c,
          proprietaire_type, depot_id, source, created_at, updated_at)
  SELECT cum.citerne_id, cum.produit_id, cum.date_jour, cum.cum_ambiant, cum.cum_15c,
         cum.proprietaire_type, cum.depot_id, 'SYSTEM', now(), now()
    FROM (
          SELECT d.date_jour, d.citerne_id, d.produit_id, d.depot_id, d.proprietaire_type,
                 sum(d.delta_ambiant) OVER w AS cum_ambiant,
                 sum(d.delta_15c)     OVER w AS cum_15c
            FROM (
                  SELECT m.date_jour, m.citerne_id, m.produit_id, m.depot_id, m.proprietaire_type,
                         sum(m.delta_ambiant) AS delta_ambiant,
                         sum(m.delta_15c)     AS delta_15c
                    FROM public.v_mouvements_stock AS m
                   WHERE (p_depot_id IS NULL OR m.depot_id = p_depot_id)
                     AND (p_start_date IS NULL OR m.date_jour >= p_start_date)
                     AND (p_end_date IS NULL OR m.date_jour <= p_end_date)
                   GROUP BY m.date_jour, m.citerne_id, m.produit_id, m.depot_id, m.proprietaire_type
                 ) AS d
          WINDOW w AS (PARTITION BY d.citerne_id, d.produit_id, d.depot_id, d.proprietaire_type
                       ORDER BY d.date_jour
                       ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
         ) AS cum
   ORDER BY cum.date_jour, cum.citerne_id;
END;
$fn$;


-- -----------------------------------------------------------------------------
-- 8. Write guards (DB-STRICT)
-- -----------------------------------------------------------------------------

-- Journal writes pass only inside a context that set the transaction-local
-- flag app.stocks_journaliers_allow_write = '1'.
CREATE FUNCTION public.stocks_journaliers_block_writes() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path TO 'public'
AS $fn$
BEGIN
  IF current_setting('app.stocks_journaliers_allow_write', true) = '1' THEN
    IF tg_op = 'DELETE' THEN
      RETURN old;
    END IF;
    RETURN new;
  END IF;

  RAISE EXCEPTION 'Ecriture directe interdite sur stocks_journaliers (op=%). Utiliser les triggers (receptions/sorties) ou la fonction de rebuild contrôlée.',
    tg_op;
END;
$fn$;

-- PROD version (2026-02-11): receptions are immutable, no bypass flag. The
-- STAGING reset file replaces it with a version honouring app.receptions_allow_write.
CREATE FUNCTION public.receptions_block_update_delete() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path TO 'public'
AS $fn$
BEGIN
  RAISE EXCEPTION 'Ecriture interdite sur receptions (op=%). Table immutable: utiliser INSERT + triggers/RPC, jamais UPDATE/DELETE.',
    tg_op;
END;
$fn$;

-- LEGACY version (2026-02-11): always raises. The P0 change file replaces it
-- with a version honouring app.sorties_produit_allow_write.
CREATE FUNCTION public.sorties_produit_block_update_delete() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path TO 'public'
AS $fn$
BEGIN
  RAISE EXCEPTION 'Ecriture interdite sur sorties_produit (op=%). Table immutable: utiliser INSERT + triggers/RPC, jamais UPDATE/DELETE.',
    tg_op;
END;
$fn$;


-- -----------------------------------------------------------------------------
-- 9. Reception chain
-- -----------------------------------------------------------------------------

-- BEFORE INSERT: a linked CDR must exist, be ARRIVE and carry the same product.
CREATE FUNCTION public.receptions_check_cdr_arrive() RETURNS trigger
  LANGUAGE plpgsql
AS $fn$
DECLARE
  v_cdr_statut  text;
  v_cdr_produit uuid;
BEGIN
  IF NEW.cours_de_route_id IS NULL THEN
    RETURN NEW;  -- PARTENAIRE or off-CDR reception
  END IF;

  SELECT cdr.statut, cdr.produit_id
    INTO v_cdr_statut, v_cdr_produit
    FROM public.cours_de_route AS cdr
   WHERE cdr.id = NEW.cours_de_route_id;

  IF v_cdr_statut IS NULL THEN
    RAISE EXCEPTION 'CDR introuvable: %', NEW.cours_de_route_id
      USING ERRCODE = '23503';
  END IF;

  IF v_cdr_statut <> 'ARRIVE' THEN
    RAISE EXCEPTION 'CDR statut invalide: %, attendu ARRIVE', v_cdr_statut
      USING ERRCODE = 'P0001';
  END IF;

  IF v_cdr_produit IS NOT NULL AND NEW.produit_id IS DISTINCT FROM v_cdr_produit THEN
    RAISE EXCEPTION 'Produit réception (%) != produit CDR (%)', NEW.produit_id, v_cdr_produit
      USING ERRCODE = 'P0001';
  END IF;

  RETURN NEW;
END;
$fn$;

-- BEFORE INSERT OR UPDATE OF citerne_id, produit_id: the product must be the tank's.
CREATE FUNCTION public.receptions_check_produit_citerne() RETURNS trigger
  LANGUAGE plpgsql
AS $fn$
DECLARE
  v_tank_produit uuid;
BEGIN
  SELECT c.produit_id INTO v_tank_produit
    FROM public.citernes AS c
   WHERE c.id = NEW.citerne_id;

  IF v_tank_produit IS NULL THEN
    RAISE EXCEPTION 'Citerne % introuvable', NEW.citerne_id;
  END IF;

  IF NEW.produit_id IS DISTINCT FROM v_tank_produit THEN
    RAISE EXCEPTION 'Produit % incompatible avec la citerne % (attendu %)',
      NEW.produit_id, NEW.citerne_id, v_tank_produit;
  END IF;

  RETURN NEW;
END;
$fn$;

-- BEFORE INSERT: created_by defaults to the JWT subject.
CREATE FUNCTION public.receptions_set_created_by_default() RETURNS trigger
  LANGUAGE plpgsql
AS $fn$
BEGIN
  IF NEW.created_by IS NULL THEN
    NEW.created_by := auth.uid();
  END IF;
  RETURN NEW;
END;
$fn$;

-- BEFORE INSERT OR UPDATE: the ambient volume is always the index difference
-- (a client-supplied volume_ambiant is overwritten).
CREATE FUNCTION public.receptions_set_volume_ambiant() RETURNS trigger
  LANGUAGE plpgsql
AS $fn$
BEGIN
  IF NEW.index_avant IS NOT NULL AND NEW.index_apres IS NOT NULL THEN
    NEW.volume_ambiant := GREATEST(NEW.index_apres - NEW.index_avant, 0);
  END IF;
  RETURN NEW;
END;
$fn$;

-- AFTER INSERT WHEN statut = 'validee': credit journal and snapshot, close the
-- CDR, log RECEPTION_VALIDE. The journal flag stays set for the rest of the
-- caller's transaction (set_config local), as in PROD.
CREATE FUNCTION public.reception_after_ins_trg() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path TO 'public'
AS $fn$
DECLARE
  v_date     date := COALESCE(NEW.date_reception, current_date);
  v_depot_id uuid;
BEGIN
  PERFORM set_config('app.stocks_journaliers_allow_write', '1', true);

  SELECT c.depot_id INTO v_depot_id
    FROM public.citernes AS c
   WHERE c.id = NEW.citerne_id;

  -- journal: day's closing balance + delta
  PERFORM public.stock_upsert_journalier(
    NEW.citerne_id, NEW.produit_id, v_date,
    NEW.volume_ambiant,
    COALESCE(NEW.volume_15c, NEW.volume_corrige_15c),
    NEW.proprietaire_type, v_depot_id, 'RECEPTION');

  -- snapshot: current balance + delta
  PERFORM public.stock_snapshot_apply_delta(
    NEW.citerne_id, NEW.produit_id, NEW.proprietaire_type,
    COALESCE(NEW.volume_ambiant, 0),
    COALESCE(NEW.volume_15c, NEW.volume_corrige_15c, 0),
    v_depot_id, NEW.created_at);

  IF NEW.cours_de_route_id IS NOT NULL THEN
    UPDATE public.cours_de_route
       SET statut = 'DECHARGE'
     WHERE id = NEW.cours_de_route_id
       AND statut <> 'DECHARGE';
  END IF;

  INSERT INTO public.log_actions (user_id, action, module, niveau, details)
  VALUES (NEW.created_by, 'RECEPTION_VALIDE', 'receptions', 'INFO',
          jsonb_build_object(
            'reception_id',      NEW.id,
            'citerne_id',        NEW.citerne_id,
            'produit_id',        NEW.produit_id,
            'volume_ambiant',    NEW.volume_ambiant,
            'volume_15c',        COALESCE(NEW.volume_15c, NEW.volume_corrige_15c),
            'date_reception',    v_date,
            'proprietaire_type', NEW.proprietaire_type));

  RETURN NEW;
END;
$fn$;

-- AFTER INSERT (every reception): log RECEPTION_CREEE. Not SECURITY DEFINER:
-- the insert into log_actions is subject to its RLS.
CREATE FUNCTION public.receptions_log_created() RETURNS trigger
  LANGUAGE plpgsql
AS $fn$
BEGIN
  INSERT INTO public.log_actions (user_id, action, module, niveau, details)
  VALUES (NEW.created_by, 'RECEPTION_CREEE', 'receptions', 'INFO',
          jsonb_build_object(
            'reception_id', NEW.id,
            'citerne_id',   NEW.citerne_id,
            'produit_id',   NEW.produit_id,
            'statut',       NEW.statut));
  RETURN NEW;
END;
$fn$;


-- -----------------------------------------------------------------------------
-- 10. Sortie chain
-- -----------------------------------------------------------------------------

CREATE FUNCTION public.sorties_set_created_by_default() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path TO 'public'
AS $fn$
BEGIN
  IF new.created_by IS NULL THEN
    new.created_by := auth.uid();
  END IF;
  RETURN new;
END;
$fn$;

COMMENT ON FUNCTION public.sorties_set_created_by_default() IS 'BEFORE INSERT: if NEW.created_by is NULL, set it to auth.uid(). Note: auth.uid() may be NULL outside an authenticated Supabase context (SQL editor, migrations).';

CREATE FUNCTION public.sorties_set_volume_ambiant() RETURNS trigger
  LANGUAGE plpgsql
AS $fn$
BEGIN
  IF new.index_avant IS NOT NULL AND new.index_apres IS NOT NULL THEN
    new.volume_ambiant := greatest(new.index_apres - new.index_avant, 0);
  END IF;
  RETURN new;
END;
$fn$;

-- BEFORE INSERT (and the disabled BEFORE UPDATE) WHEN statut = 'validee':
-- owner normalisation, active tank, volumes required, stock checked against
-- the SNAPSHOT, safety capacity.
CREATE FUNCTION public.sorties_before_validate_trg() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path TO 'public'
AS $fn$
DECLARE
  v_owner        text;
  v_tank_statut  text;
  v_cap_securite double precision;
  v_dispo_amb    double precision;
  v_dispo_15c    double precision;
BEGIN
  IF NEW.statut IS NULL OR NEW.statut <> 'validee' THEN
    RETURN NEW;
  END IF;

  -- 1) owner from the beneficiary, else from the declared type
  IF NEW.client_id IS NOT NULL AND NEW.partenaire_id IS NULL THEN
    v_owner := 'MONALUXE';
  ELSIF NEW.partenaire_id IS NOT NULL AND NEW.client_id IS NULL THEN
    v_owner := 'PARTENAIRE';
  ELSIF NEW.proprietaire_type IS NOT NULL THEN
    v_owner := upper(trim(NEW.proprietaire_type));
  ELSE
    RAISE EXCEPTION 'SORTIE_PROPRIETAIRE_INVALIDE: client_id=%, partenaire_id=%',
      NEW.client_id, NEW.partenaire_id;
  END IF;

  IF v_owner NOT IN ('MONALUXE', 'PARTENAIRE') THEN
    RAISE EXCEPTION 'SORTIE_PROPRIETAIRE_INVALIDE: proprietaire_type=%', v_owner;
  END IF;
  NEW.proprietaire_type := v_owner;

  -- 2) tank required and active
  IF NEW.citerne_id IS NULL THEN
    RAISE EXCEPTION 'SORTIE_CITERNE_OBLIGATOIRE';
  END IF;

  SELECT c.statut, c.capacite_securite
    INTO v_tank_statut, v_cap_securite
    FROM public.citernes AS c
   WHERE c.id = NEW.citerne_id;

  IF v_tank_statut IS NULL THEN
    RAISE EXCEPTION 'SORTIE_CITERNE_INVALIDE: citerne_id=%', NEW.citerne_id;
  END IF;
  IF v_tank_statut <> 'active' THEN
    RAISE EXCEPTION 'SORTIE_CITERNE_INACTIVE: citerne_id=% statut=%', NEW.citerne_id, v_tank_statut;
  END IF;

  -- 3) both volumes required
  IF NEW.volume_ambiant IS NULL THEN
    RAISE EXCEPTION 'SORTIE_VOLUME_AMBIANT_OBLIGATOIRE';
  END IF;
  IF NEW.volume_corrige_15c IS NULL THEN
    RAISE EXCEPTION 'SORTIE_VOLUME_15C_OBLIGATOIRE';
  END IF;

  -- 4) available stock, from the snapshot
  SELECT s.stock_ambiant, s.stock_15c
    INTO v_dispo_amb, v_dispo_15c
    FROM public.stocks_snapshot AS s
   WHERE s.citerne_id = NEW.citerne_id
     AND s.produit_id = NEW.produit_id
     AND s.proprietaire_type = v_owner;

  IF v_dispo_15c IS NULL THEN
    RAISE EXCEPTION 'SORTIE_STOCK_INTROUVABLE (snapshot): citerne=%, produit=%, proprietaire=%',
      NEW.citerne_id, NEW.produit_id, v_owner;
  END IF;

  -- 5) enough stock
  IF v_dispo_15c < NEW.volume_corrige_15c THEN
    RAISE EXCEPTION 'SORTIE_STOCK_INSUFFISANT_15C: demande=%, stock_dispo=%',
      NEW.volume_corrige_15c, v_dispo_15c;
  END IF;
  IF v_dispo_amb < NEW.volume_ambiant THEN
    RAISE EXCEPTION 'SORTIE_STOCK_INSUFFISANT_AMB: demande=%, stock_dispo=%',
      NEW.volume_ambiant, v_dispo_amb;
  END IF;

  -- 6) safety capacity
  IF v_cap_securite IS NOT NULL AND (v_dispo_amb - NEW.volume_ambiant) < v_cap_securite THEN
    RAISE EXCEPTION 'SORTIE_CAPACITE_SECURITE: stock=% sortie=% cap_securite=%',
      v_dispo_amb, NEW.volume_ambiant, v_cap_securite;
  END IF;

  RETURN NEW;
END;
$fn$;

-- BEFORE INSERT OR UPDATE: the tank must carry the product. SECURITY DEFINER
-- without a search_path setting, as in PROD.
CREATE FUNCTION public.sorties_check_produit_citerne() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
AS $fn$
DECLARE
  v_match int;
BEGIN
  IF NEW.citerne_id IS NULL OR NEW.produit_id IS NULL THEN
    RAISE EXCEPTION 'CITERNE_OU_PRODUIT_NULL';
  END IF;

  SELECT 1 INTO v_match
    FROM public.citernes AS c
   WHERE c.id = NEW.citerne_id
     AND c.produit_id = NEW.produit_id
   LIMIT 1;

  IF v_match IS NULL THEN
    RAISE EXCEPTION 'PRODUIT_CITERNE_MISMATCH: citerne % ne porte pas le produit %',
      NEW.citerne_id, NEW.produit_id;
  END IF;

  RETURN NEW;
END;
$fn$;

-- AFTER INSERT WHEN statut = 'validee' (the app's direct path): debit journal
-- and snapshot, log SORTIE_VALIDE / module 'sorties_produit'. February version:
-- the 15 °C delta is COALESCE(volume_corrige_15c, 0) (sorties_produit has no
-- volume_15c column yet).
CREATE FUNCTION public.sorties_after_insert_trg() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path TO 'public'
AS $fn$
DECLARE
  v_date_jour date;
  v_depot_id  uuid;
BEGIN
  PERFORM set_config('app.stocks_journaliers_allow_write', '1', true);

  IF NEW.statut IS NULL OR NEW.statut <> 'validee' THEN
    RETURN NEW;
  END IF;

  v_date_jour := COALESCE(NEW.date_sortie::date, CURRENT_DATE);

  SELECT c.depot_id INTO v_depot_id
    FROM public.citernes AS c
   WHERE c.id = NEW.citerne_id;

  PERFORM public.stock_upsert_journalier(
    NEW.citerne_id, NEW.produit_id, v_date_jour,
    -COALESCE(NEW.volume_ambiant, 0),
    -COALESCE(NEW.volume_corrige_15c, 0),
    NEW.proprietaire_type, v_depot_id, 'SORTIE');

  PERFORM public.stock_snapshot_apply_delta(
    NEW.citerne_id, NEW.produit_id, NEW.proprietaire_type,
    -COALESCE(NEW.volume_ambiant, 0),
    -COALESCE(NEW.volume_corrige_15c, 0),
    v_depot_id, NEW.created_at);

  INSERT INTO public.log_actions (user_id, action, module, niveau, details)
  VALUES (NEW.created_by, 'SORTIE_VALIDE', 'sorties_produit', 'INFO',
          jsonb_build_object(
            'sortie_id',         NEW.id,
            'citerne_id',        NEW.citerne_id,
            'produit_id',        NEW.produit_id,
            'proprietaire_type', NEW.proprietaire_type,
            'volume_ambiant',    NEW.volume_ambiant,
            'volume_15c',        NEW.volume_corrige_15c,
            'date_sortie',       v_date_jour,
            'client_id',         NEW.client_id,
            'partenaire_id',     NEW.partenaire_id));

  RETURN NEW;
END;
$fn$;

-- Legacy RPC (not called by the app): inserts a validated sortie and logs
-- SORTIE_CREEE / module 'SORTIES'. Parameter names are part of the signature.
CREATE FUNCTION public.create_sortie(
  citerne_id uuid,
  client_id uuid,
  date_sortie timestamp with time zone,
  densite_a_15 double precision,
  index_apres double precision,
  index_avant double precision,
  note text DEFAULT NULL::text,
  produit_id uuid DEFAULT NULL::uuid,
  proprietaire_type text DEFAULT 'MONALUXE'::text,
  temperature_ambiante_c double precision DEFAULT NULL::double precision,
  volume_corrige_15c double precision DEFAULT NULL::double precision
) RETURNS uuid
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path TO 'public'
AS $fn$
DECLARE
  v_id             uuid;
  v_volume_ambiant double precision;
BEGIN
  IF create_sortie.index_apres IS NOT NULL AND create_sortie.index_avant IS NOT NULL THEN
    v_volume_ambiant := create_sortie.index_apres - create_sortie.index_avant;
  END IF;

  INSERT INTO public.sorties_produit
         (citerne_id, produit_id, client_id, volume_corrige_15c, temperature_ambiante_c,
          densite_a_15, proprietaire_type, note, created_at, index_avant, index_apres,
          volume_ambiant, statut, date_sortie)
  VALUES (create_sortie.citerne_id, create_sortie.produit_id, create_sortie.client_id,
          create_sortie.volume_corrige_15c, create_sortie.temperature_ambiante_c,
          create_sortie.densite_a_15, create_sortie.proprietaire_type, create_sortie.note,
          now(), create_sortie.index_avant, create_sortie.index_apres,
          v_volume_ambiant, 'validee', create_sortie.date_sortie)
  RETURNING sorties_produit.id INTO v_id;

  INSERT INTO public.log_actions (user_id, action, module, niveau, details, created_at)
  VALUES (auth.uid(), 'SORTIE_CREEE', 'SORTIES', 'INFO',
          jsonb_build_object(
            'sortie_id',          v_id,
            'citerne_id',         create_sortie.citerne_id,
            'client_id',          create_sortie.client_id,
            'proprietaire_type',  create_sortie.proprietaire_type,
            'produit_id',         create_sortie.produit_id,
            'volume_ambiant',     v_volume_ambiant,
            'volume_corrige_15c', create_sortie.volume_corrige_15c),
          now());

  RETURN v_id;
END;
$fn$;

-- LEGACY RPC validate_sortie (PROD 2026-02-11). It never sets
-- app.stocks_journaliers_allow_write, so under DB-STRICT it always fails with
-- P0001 "Ecriture directe interdite sur stocks_journaliers (op=INSERT|UPDATE)";
-- were it to get further, its UPDATE of sorties_produit would also be blocked.
-- Replaced by sql/docs/DB_CHANGES/2026-02-25_staging_validate_sortie_p0.sql.
CREATE FUNCTION public.validate_sortie(p_id uuid) RETURNS void
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
  -- owner); default owner MONALUXE, source SYSTEM, depot NULL
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


-- -----------------------------------------------------------------------------
-- 11. stocks_adjustments chain (immutable, context forced from the movement)
-- -----------------------------------------------------------------------------

CREATE FUNCTION public.stocks_adjustments_block_update_delete() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path TO 'public'
AS $fn$
BEGIN
  RAISE EXCEPTION 'Ecriture interdite sur stocks_adjustments (op=%). Table immutable: INSERT only.', tg_op;
END;
$fn$;

CREATE FUNCTION public.stocks_adjustments_check_mouvement_ref() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path TO 'public'
AS $fn$
BEGIN
  CASE new.mouvement_type
    WHEN 'RECEPTION' THEN
      IF NOT EXISTS (SELECT 1 FROM public.receptions AS r WHERE r.id = new.mouvement_id) THEN
        RAISE EXCEPTION 'MOUVEMENT_NOT_FOUND: receptions.id % introuvable', new.mouvement_id;
      END IF;
    WHEN 'SORTIE' THEN
      IF NOT EXISTS (SELECT 1 FROM public.sorties_produit AS s WHERE s.id = new.mouvement_id) THEN
        RAISE EXCEPTION 'MOUVEMENT_NOT_FOUND: sorties_produit.id % introuvable', new.mouvement_id;
      END IF;
    ELSE
      RAISE EXCEPTION 'MOUVEMENT_TYPE_INVALID: %', new.mouvement_type;
  END CASE;
  RETURN new;
END;
$fn$;

CREATE FUNCTION public.stocks_adjustments_set_context_from_mouvement() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path TO 'public'
AS $fn$
DECLARE
  v_citerne_id        uuid;
  v_produit_id        uuid;
  v_proprietaire_type text;
  v_depot_id          uuid;
BEGIN
  IF new.mouvement_type = 'RECEPTION' THEN
    SELECT r.citerne_id, r.produit_id, r.proprietaire_type
      INTO v_citerne_id, v_produit_id, v_proprietaire_type
      FROM public.receptions AS r
     WHERE r.id = new.mouvement_id;
  ELSIF new.mouvement_type = 'SORTIE' THEN
    SELECT s.citerne_id, s.produit_id, s.proprietaire_type
      INTO v_citerne_id, v_produit_id, v_proprietaire_type
      FROM public.sorties_produit AS s
     WHERE s.id = new.mouvement_id;
  ELSE
    RAISE EXCEPTION 'MOUVEMENT_TYPE_INVALID: %', new.mouvement_type;
  END IF;

  SELECT c.depot_id INTO v_depot_id
    FROM public.citernes AS c
   WHERE c.id = v_citerne_id;

  -- a context sent by the client must match the movement's
  IF new.citerne_id IS NOT NULL AND new.citerne_id <> v_citerne_id THEN
    RAISE EXCEPTION 'CONTEXT_MISMATCH: citerne_id attendu %, reçu %', v_citerne_id, new.citerne_id;
  END IF;
  IF new.produit_id IS NOT NULL AND new.produit_id <> v_produit_id THEN
    RAISE EXCEPTION 'CONTEXT_MISMATCH: produit_id attendu %, reçu %', v_produit_id, new.produit_id;
  END IF;
  IF new.proprietaire_type IS NOT NULL AND new.proprietaire_type <> v_proprietaire_type THEN
    RAISE EXCEPTION 'CONTEXT_MISMATCH: proprietaire_type attendu %, reçu %', v_proprietaire_type, new.proprietaire_type;
  END IF;
  IF new.depot_id IS NOT NULL AND new.depot_id <> v_depot_id THEN
    RAISE EXCEPTION 'CONTEXT_MISMATCH: depot_id attendu %, reçu %', v_depot_id, new.depot_id;
  END IF;

  new.citerne_id        := v_citerne_id;
  new.produit_id        := v_produit_id;
  new.proprietaire_type := v_proprietaire_type;
  new.depot_id          := v_depot_id;
  RETURN new;
END;
$fn$;

-- created_by from the LEGACY claim setting only (request.jwt.claim.sub), as in PROD.
CREATE FUNCTION public.stocks_adjustments_set_created_by() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path TO 'public'
AS $fn$
DECLARE
  v_uid uuid := nullif(current_setting('request.jwt.claim.sub', true), '')::uuid;
BEGIN
  IF new.created_by IS NULL THEN
    new.created_by := v_uid;
  END IF;
  RETURN new;
END;
$fn$;


-- -----------------------------------------------------------------------------
-- 12. Triggers (same names => same firing order as PROD)
-- -----------------------------------------------------------------------------
-- receptions  BEFORE INSERT: trg_receptions_check_cdr_arrive, trg_receptions_check_produit_citerne,
--                            trg_receptions_set_created_by, trg_receptions_set_volume_ambiant
--             AFTER  INSERT: receptions_after_ins (validee), trg_receptions_log_created
-- sorties     BEFORE INSERT: trg_00_sorties_set_created_by, trg_01_sorties_set_volume_ambiant,
--                            trg_sortie_before_ins (validee), trg_sorties_check_produit_citerne
--             AFTER  INSERT: trg_sorties_after_insert (validee)

CREATE TRIGGER receptions_after_ins AFTER INSERT ON public.receptions
  FOR EACH ROW WHEN ((new.statut = 'validee'::text)) EXECUTE FUNCTION public.reception_after_ins_trg();
CREATE TRIGGER trg_00_receptions_block_update_delete BEFORE DELETE OR UPDATE ON public.receptions
  FOR EACH ROW EXECUTE FUNCTION public.receptions_block_update_delete();
CREATE TRIGGER trg_receptions_check_cdr_arrive BEFORE INSERT ON public.receptions
  FOR EACH ROW EXECUTE FUNCTION public.receptions_check_cdr_arrive();
CREATE TRIGGER trg_receptions_check_produit_citerne BEFORE INSERT OR UPDATE OF citerne_id, produit_id ON public.receptions
  FOR EACH ROW EXECUTE FUNCTION public.receptions_check_produit_citerne();
CREATE TRIGGER trg_receptions_log_created AFTER INSERT ON public.receptions
  FOR EACH ROW EXECUTE FUNCTION public.receptions_log_created();
CREATE TRIGGER trg_receptions_set_created_by BEFORE INSERT ON public.receptions
  FOR EACH ROW EXECUTE FUNCTION public.receptions_set_created_by_default();
CREATE TRIGGER trg_receptions_set_volume_ambiant BEFORE INSERT OR UPDATE ON public.receptions
  FOR EACH ROW EXECUTE FUNCTION public.receptions_set_volume_ambiant();

CREATE TRIGGER trg_00_sorties_produit_block_update_delete BEFORE DELETE OR UPDATE ON public.sorties_produit
  FOR EACH ROW EXECUTE FUNCTION public.sorties_produit_block_update_delete();
CREATE TRIGGER trg_00_sorties_set_created_by BEFORE INSERT ON public.sorties_produit
  FOR EACH ROW EXECUTE FUNCTION public.sorties_set_created_by_default();
COMMENT ON TRIGGER trg_00_sorties_set_created_by ON public.sorties_produit IS 'Ensure created_by is set (auth.uid()) BEFORE other BEFORE INSERT validations/triggers.';
CREATE TRIGGER trg_01_sorties_set_volume_ambiant BEFORE INSERT OR UPDATE ON public.sorties_produit
  FOR EACH ROW EXECUTE FUNCTION public.sorties_set_volume_ambiant();
CREATE TRIGGER trg_sortie_before_ins BEFORE INSERT ON public.sorties_produit
  FOR EACH ROW WHEN ((new.statut = 'validee'::text)) EXECUTE FUNCTION public.sorties_before_validate_trg();
CREATE TRIGGER trg_sortie_before_upd BEFORE UPDATE ON public.sorties_produit
  FOR EACH ROW WHEN ((new.statut = 'validee'::text)) EXECUTE FUNCTION public.sorties_before_validate_trg();
-- disabled in PROD: the validate_sortie UPDATE skips these checks
ALTER TABLE public.sorties_produit DISABLE TRIGGER trg_sortie_before_upd;
CREATE TRIGGER trg_sorties_after_insert AFTER INSERT ON public.sorties_produit
  FOR EACH ROW WHEN ((new.statut = 'validee'::text)) EXECUTE FUNCTION public.sorties_after_insert_trg();
CREATE TRIGGER trg_sorties_check_produit_citerne BEFORE INSERT OR UPDATE ON public.sorties_produit
  FOR EACH ROW EXECUTE FUNCTION public.sorties_check_produit_citerne();

CREATE TRIGGER stocks_journaliers_block_writes BEFORE INSERT OR DELETE OR UPDATE ON public.stocks_journaliers
  FOR EACH ROW EXECUTE FUNCTION public.stocks_journaliers_block_writes();

CREATE TRIGGER trg_00_stocks_adjustments_block_update_delete BEFORE DELETE OR UPDATE ON public.stocks_adjustments
  FOR EACH ROW EXECUTE FUNCTION public.stocks_adjustments_block_update_delete();
CREATE TRIGGER trg_stocks_adjustments_check_mouvement_ref BEFORE INSERT ON public.stocks_adjustments
  FOR EACH ROW EXECUTE FUNCTION public.stocks_adjustments_check_mouvement_ref();
CREATE TRIGGER trg_stocks_adjustments_set_context_from_mouvement BEFORE INSERT ON public.stocks_adjustments
  FOR EACH ROW EXECUTE FUNCTION public.stocks_adjustments_set_context_from_mouvement();
CREATE TRIGGER trg_stocks_adjustments_set_created_by BEFORE INSERT ON public.stocks_adjustments
  FOR EACH ROW EXECUTE FUNCTION public.stocks_adjustments_set_created_by();


-- -----------------------------------------------------------------------------
-- 13. Row level security, as PROD had it on 2026-02-25
-- -----------------------------------------------------------------------------
-- Base: the 2026-02-11 snapshot's policies on the tables above, then
--   * 2026-02-12: RLS enabled on stocks_adjustments, read + write for admin,
--     directeur and gerant (no DDL in the app repo; policy names are ours);
--   * 2026-02-21: "read citernes" and "read stocks_journaliers" (SELECT true
--     TO public, which leaked to anon) dropped; every other {public} policy
--     moved to {authenticated}, conditions unchanged.
-- Net effect: anon has no policy at all, so it reads no row of any table here.
-- No FORCE ROW LEVEL SECURITY: owners and SECURITY DEFINER functions bypass RLS.

ALTER TABLE public.citernes ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.clients ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.cours_de_route ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.depots ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.fournisseurs ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.log_actions ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.partenaires ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.produits ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.profils ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.receptions ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.sorties_produit ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.stocks_journaliers ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.stocks_snapshot ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.stocks_adjustments ENABLE ROW LEVEL SECURITY;

-- reference tables: read-only for authenticated users
CREATE POLICY read_citernes_authenticated ON public.citernes FOR SELECT TO authenticated USING (true);
CREATE POLICY citernes_update ON public.citernes FOR UPDATE TO authenticated
  USING (((SELECT current_user_profile.role FROM public.current_user_profile) = ANY (ARRAY['admin'::text, 'directeur'::text])))
  WITH CHECK (((SELECT current_user_profile.role FROM public.current_user_profile) = ANY (ARRAY['admin'::text, 'directeur'::text])));
CREATE POLICY read_clients_authenticated ON public.clients FOR SELECT TO authenticated USING (true);
CREATE POLICY read_depots_authenticated ON public.depots FOR SELECT TO authenticated USING (true);
CREATE POLICY read_fournisseurs_authenticated ON public.fournisseurs FOR SELECT TO authenticated USING (true);
CREATE POLICY read_partenaires_authenticated ON public.partenaires FOR SELECT TO authenticated USING (true);
CREATE POLICY read_produits_authenticated ON public.produits FOR SELECT TO authenticated USING (true);

-- profils ("own profile"; the three quoted ones were {public} before 02-21)
CREATE POLICY "Insert own profile" ON public.profils FOR INSERT TO authenticated WITH CHECK ((user_id = auth.uid()));
CREATE POLICY "Read own profile" ON public.profils FOR SELECT TO authenticated USING ((user_id = auth.uid()));
CREATE POLICY "Update own profile" ON public.profils FOR UPDATE TO authenticated USING ((user_id = auth.uid()));
CREATE POLICY own_profile_select ON public.profils FOR SELECT TO authenticated USING ((user_id = auth.uid()));

-- cours_de_route
CREATE POLICY admin_all_cours ON public.cours_de_route TO authenticated
  USING ((EXISTS (SELECT 1 FROM public.profils p WHERE ((p.user_id = auth.uid()) AND (p.role = 'admin'::text)))));
CREATE POLICY cours_de_route_insert ON public.cours_de_route FOR INSERT TO authenticated
  WITH CHECK (((SELECT current_user_profile.role FROM public.current_user_profile) = ANY (ARRAY['admin'::text, 'directeur'::text])));
-- 'PCA' (upper case) can never match profils_role_check: dead branch, as in PROD
CREATE POLICY cours_de_route_select ON public.cours_de_route FOR SELECT TO authenticated
  USING ((((SELECT current_user_profile.role FROM public.current_user_profile) = ANY (ARRAY['admin'::text, 'directeur'::text, 'PCA'::text]))
          OR (depot_destination_id = (SELECT current_user_profile.depot_id FROM public.current_user_profile))));
-- the WITH CHECK compares r.cours_de_route_id with r.id (a PROD bug, kept):
-- non-admins can never set DECHARGE by UPDATE
CREATE POLICY cours_de_route_update_status ON public.cours_de_route FOR UPDATE TO authenticated
  USING ((((SELECT current_user_profile.role FROM public.current_user_profile) = ANY (ARRAY['admin'::text, 'directeur'::text, 'gerant'::text, 'operateur'::text]))
          AND (((SELECT current_user_profile.depot_id FROM public.current_user_profile) IS NULL)
               OR (depot_destination_id = (SELECT current_user_profile.depot_id FROM public.current_user_profile)))))
  WITH CHECK ((((SELECT current_user_profile.role FROM public.current_user_profile) = ANY (ARRAY['admin'::text, 'directeur'::text, 'gerant'::text, 'operateur'::text]))
               AND (((SELECT current_user_profile.depot_id FROM public.current_user_profile) IS NULL)
                    OR (depot_destination_id = (SELECT current_user_profile.depot_id FROM public.current_user_profile)))
               AND ((statut <> 'DECHARGE'::text)
                    OR (EXISTS (SELECT 1 FROM public.receptions r WHERE ((r.cours_de_route_id = r.id) AND (r.statut = 'validee'::text)))))));
CREATE POLICY own_cours_select ON public.cours_de_route FOR SELECT TO authenticated USING (true);

-- log_actions
CREATE POLICY admin_all_logs ON public.log_actions TO authenticated
  USING ((EXISTS (SELECT 1 FROM public.profils p WHERE ((p.user_id = auth.uid()) AND (p.role = 'admin'::text)))));
CREATE POLICY log_actions_insert_authenticated ON public.log_actions FOR INSERT TO authenticated
  WITH CHECK (((user_id = auth.uid()) OR (user_id IS NULL)));
CREATE POLICY logs_admin_read ON public.log_actions FOR SELECT TO authenticated
  USING ((EXISTS (SELECT 1 FROM public.profils p WHERE ((p.user_id = auth.uid()) AND (p.role = 'admin'::text)))));
CREATE POLICY logs_staff_read ON public.log_actions FOR SELECT TO authenticated
  USING ((EXISTS (SELECT 1 FROM public.profils p WHERE ((p.user_id = auth.uid()) AND (p.role = ANY (ARRAY['admin'::text, 'directeur'::text, 'gerant'::text, 'lecture'::text, 'pca'::text]))))));

-- receptions
CREATE POLICY insert_receptions_authenticated ON public.receptions FOR INSERT TO authenticated
  WITH CHECK (((SELECT current_user_profile.role FROM public.current_user_profile) = ANY (ARRAY['admin'::text, 'directeur'::text, 'gerant'::text, 'operateur'::text])));
CREATE POLICY read_receptions_authenticated ON public.receptions FOR SELECT TO authenticated USING (true);
CREATE POLICY update_receptions_admin ON public.receptions FOR UPDATE TO authenticated
  USING (((SELECT current_user_profile.role FROM public.current_user_profile) = 'admin'::text))
  WITH CHECK (((SELECT current_user_profile.role FROM public.current_user_profile) = 'admin'::text));
CREATE POLICY delete_receptions_admin ON public.receptions FOR DELETE TO authenticated
  USING (((SELECT current_user_profile.role FROM public.current_user_profile) = 'admin'::text));

-- sorties_produit
CREATE POLICY admin_all_sorties ON public.sorties_produit TO authenticated
  USING ((EXISTS (SELECT 1 FROM public.profils p WHERE ((p.user_id = auth.uid()) AND (p.role = 'admin'::text)))));
CREATE POLICY insert_sorties_authenticated ON public.sorties_produit FOR INSERT TO authenticated
  WITH CHECK (public.role_in(public.user_role(), VARIADIC ARRAY['operateur'::text, 'gerant'::text, 'directeur'::text, 'admin'::text]));
CREATE POLICY sorties_produit_insert ON public.sorties_produit FOR INSERT TO authenticated
  WITH CHECK (((SELECT current_user_profile.role FROM public.current_user_profile) = ANY (ARRAY['admin'::text, 'directeur'::text])));
-- permissive WITH CHECK (true): any authenticated user, 'lecture' included, may insert a sortie
CREATE POLICY sp_insert_draft ON public.sorties_produit FOR INSERT TO authenticated WITH CHECK (true);
CREATE POLICY sorties_produit_select ON public.sorties_produit FOR SELECT TO authenticated
  USING ((((SELECT current_user_profile.role FROM public.current_user_profile) = ANY (ARRAY['admin'::text, 'directeur'::text, 'PCA'::text]))
          OR (citerne_id IN (SELECT citernes.id FROM public.citernes
                              WHERE (citernes.depot_id = (SELECT current_user_profile.depot_id FROM public.current_user_profile))))));
CREATE POLICY sp_read ON public.sorties_produit FOR SELECT TO authenticated
  USING ((EXISTS (SELECT 1 FROM public.profils pr WHERE (pr.user_id = auth.uid()))));
CREATE POLICY own_sorties_select ON public.sorties_produit FOR SELECT TO authenticated USING (true);
CREATE POLICY read_sorties_authenticated ON public.sorties_produit FOR SELECT TO authenticated USING (true);
CREATE POLICY sp_update_draft ON public.sorties_produit FOR UPDATE TO authenticated
  USING (((statut = 'brouillon'::text) AND (created_by = auth.uid())))
  WITH CHECK (((statut = 'brouillon'::text) AND (created_by = auth.uid())));
CREATE POLICY update_sorties_admin ON public.sorties_produit FOR UPDATE TO authenticated
  USING (public.role_in(public.user_role(), VARIADIC ARRAY['admin'::text]))
  WITH CHECK (public.role_in(public.user_role(), VARIADIC ARRAY['admin'::text]));
CREATE POLICY delete_sorties_admin ON public.sorties_produit FOR DELETE TO authenticated
  USING (public.role_in(public.user_role(), VARIADIC ARRAY['admin'::text]));
CREATE POLICY sp_delete ON public.sorties_produit FOR DELETE TO authenticated USING (false);

-- stocks_journaliers
CREATE POLICY admin_all_stocks ON public.stocks_journaliers TO authenticated
  USING ((EXISTS (SELECT 1 FROM public.profils p WHERE ((p.user_id = auth.uid()) AND (p.role = 'admin'::text)))));
CREATE POLICY stocks_admin_delete ON public.stocks_journaliers FOR DELETE TO authenticated
  USING ((EXISTS (SELECT 1 FROM public.profils p WHERE ((p.user_id = auth.uid()) AND (p.role = ANY (ARRAY['admin'::text, 'directeur'::text]))))));
CREATE POLICY read_stocks_authenticated ON public.stocks_journaliers FOR SELECT TO authenticated USING (true);
CREATE POLICY stocks_j_select ON public.stocks_journaliers FOR SELECT TO authenticated USING (true);
CREATE POLICY stocks_journaliers_select ON public.stocks_journaliers FOR SELECT TO authenticated
  USING ((((SELECT current_user_profile.role FROM public.current_user_profile) = ANY (ARRAY['admin'::text, 'directeur'::text, 'PCA'::text]))
          OR (citerne_id IN (SELECT citernes.id FROM public.citernes
                              WHERE (citernes.depot_id = (SELECT current_user_profile.depot_id FROM public.current_user_profile))))));
CREATE POLICY stocks_read_all ON public.stocks_journaliers FOR SELECT TO authenticated USING (true);

-- stocks_snapshot
CREATE POLICY stocks_snapshot_admin_all ON public.stocks_snapshot TO authenticated
  USING ((EXISTS (SELECT 1 FROM public.profils p WHERE ((p.user_id = auth.uid()) AND (p.role = 'admin'::text)))))
  WITH CHECK ((EXISTS (SELECT 1 FROM public.profils p WHERE ((p.user_id = auth.uid()) AND (p.role = 'admin'::text)))));
CREATE POLICY stocks_snapshot_read_authenticated ON public.stocks_snapshot FOR SELECT TO authenticated USING (true);

-- stocks_adjustments (2026-02-12: admin, directeur, gerant read and write; pca
-- and lecture denied). Names are ours: PROD's DDL is not in the repository.
CREATE POLICY stocks_adjustments_select_staff ON public.stocks_adjustments FOR SELECT TO authenticated
  USING ((EXISTS (SELECT 1 FROM public.profils p WHERE ((p.user_id = auth.uid()) AND (p.role = ANY (ARRAY['admin'::text, 'directeur'::text, 'gerant'::text]))))));
CREATE POLICY stocks_adjustments_insert_staff ON public.stocks_adjustments FOR INSERT TO authenticated
  WITH CHECK ((EXISTS (SELECT 1 FROM public.profils p WHERE ((p.user_id = auth.uid()) AND (p.role = ANY (ARRAY['admin'::text, 'directeur'::text, 'gerant'::text]))))));
