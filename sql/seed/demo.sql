-- =============================================================================
-- sql/seed/demo.sql — the demo depot (ML_PP "Dépôt Daipn", February 2026)
-- =============================================================================
-- Run on a fresh database after: supabase/shim.sql (where schema auth is
-- absent) -> schema/ml_pp_stock.sql -> supabase/grants.sql. Run as the schema
-- owner or a superuser. Plain SQL, no psql meta-commands, no transaction control:
-- each DO block is self-contained (wrap the file in one transaction, e.g.
-- psql -1, for all-or-nothing). No session_replication_role: every movement goes
-- through the real triggers.
--
-- Parameters (custom settings read with current_setting(name, true)):
--   astm53b.seed   integer, default 1. Seeds random() via setseed(), so volumes,
--                  temperatures and densities are reproducible for a given seed.
--
-- Fixed, well-known ids
--   users (auth.users.id = profils.user_id), emails <role>@demo.astm53b.local:
--     admin      a53b0000-0000-4000-8000-000000000001
--     directeur  a53b0000-0000-4000-8000-000000000002
--     gerant     a53b0000-0000-4000-8000-000000000003
--     lecture    a53b0000-0000-4000-8000-000000000004
--   real ML_PP reference ids (staging/sql/seed_staging_prod_like.sql):
--     depot "Dépôt Daipn"  11111111-1111-1111-1111-111111111111
--     GASOIL (code G.O)    22222222-2222-2222-2222-222222222222
--     ESS                  640cf7ec-1616-4503-a484-0a61afb20005
--     TANK1 57da330a-1305-4582-be45-ceab0f1aa795   TANK2 905b3104-0324-4b5c-ba3d-ae1019746c70
--     TANK3 7bf64a46-ca77-4857-af89-2e14d9128473   TANK4 91d2078b-8e19-43c2-bf33-322a42cd4e94
--     TANK5 a76a08a6-9017-421e-b5d3-afe8129a8f9d   TANK6 6f3e0b4c-abfc-4b67-aaa0-2ca20a59ae1a
--   every other id is md5('astm53b-demo:<kind>:<n>')::uuid, e.g.
--     cours_de_route n=1..12      md5('astm53b-demo:cdr:' || n)
--     receptions n=1..8 (CDR n), 9 = partner      md5('astm53b-demo:reception:' || n)
--     sorties n=1..4 validated, 5 = the brouillon md5('astm53b-demo:sortie:' || n)
--     clients n=1..3, fournisseur 1, partenaire 1, profils <role>
--   (sql/README.md lists the resulting uuids.) Rows written by triggers
--   (log_actions, stocks_journaliers, stocks_snapshot) get gen_random_uuid() ids,
--   as in the app.
--
-- Content
--   * J0 (2026-02-05): TANK4 MONALUXE 79 737 L / 79 202.7621 L @15 °C, declared
--     as the J0 runbook did: stock_snapshot_apply_delta, then
--     rebuild_stocks_journaliers(depot, J0, J0) (journal row source SYSTEM, under
--     the allow-write flag the rebuild sets), log STOCK_INITIAL_DECLARE.
--   * 12 GASOIL cours_de_route: n=1..8 received (DECHARGE via the reception
--     trigger), n=9,10 ARRIVE and not received (the runbook's "2 camions non
--     encore encodés"), n=11 TRANSIT, n=12 CHARGEMENT.
--   * 8 MONALUXE receptions (2026-02-06 .. 02-19) on TANK4 and TANK1, inserted
--     as the gerant (JWT claims + SET LOCAL ROLE authenticated) through the
--     triggers, computed the legacy way: volume_corrige_15c =
--     volume_ambiant * (1 - 0.00065 * (T - 15)) unrounded, densite_a_15 = the
--     observed density (kg/m3), volume_15c NULL.
--   * 1 PARTENAIRE reception (no CDR) on TANK1, 4 sorties inserted directly as
--     'validee' (the app's path A; 3 MONALUXE to clients, 1 PARTENAIRE), and one
--     sortie left 'brouillon' on TANK4 dated 2026-02-25 for validate_sortie.
-- =============================================================================


-- -----------------------------------------------------------------------------
-- 1. Users (auth.users + profils)
-- -----------------------------------------------------------------------------

INSERT INTO auth.users (id, aud, role, email, email_confirmed_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
VALUES
  ('a53b0000-0000-4000-8000-000000000001', 'authenticated', 'authenticated', 'admin@demo.astm53b.local',
   '2026-02-01 08:00:00+02', '{"provider":"email","providers":["email"]}', '{"nom_complet":"Admin Démo"}',
   '2026-02-01 08:00:00+02', '2026-02-01 08:00:00+02'),
  ('a53b0000-0000-4000-8000-000000000002', 'authenticated', 'authenticated', 'directeur@demo.astm53b.local',
   '2026-02-01 08:00:00+02', '{"provider":"email","providers":["email"]}', '{"nom_complet":"Directeur Démo"}',
   '2026-02-01 08:00:00+02', '2026-02-01 08:00:00+02'),
  ('a53b0000-0000-4000-8000-000000000003', 'authenticated', 'authenticated', 'gerant@demo.astm53b.local',
   '2026-02-01 08:00:00+02', '{"provider":"email","providers":["email"]}', '{"nom_complet":"Gérant Démo"}',
   '2026-02-01 08:00:00+02', '2026-02-01 08:00:00+02'),
  ('a53b0000-0000-4000-8000-000000000004', 'authenticated', 'authenticated', 'lecture@demo.astm53b.local',
   '2026-02-01 08:00:00+02', '{"provider":"email","providers":["email"]}', '{"nom_complet":"Lecture Démo"}',
   '2026-02-01 08:00:00+02', '2026-02-01 08:00:00+02');


-- -----------------------------------------------------------------------------
-- 2. Real reference data (depot, products, the six tanks)
-- -----------------------------------------------------------------------------

INSERT INTO public.depots (id, nom, adresse, created_at)
VALUES ('11111111-1111-1111-1111-111111111111', 'Dépôt Daipn', 'Route Kipushi', '2026-02-01 08:00:00+02');

INSERT INTO public.produits (id, nom, code, description, actif, created_at)
VALUES
  ('22222222-2222-2222-2222-222222222222', 'Gasoil/AGO', 'G.O', 'gasoil', true, '2026-02-01 08:00:00+02'),
  ('640cf7ec-1616-4503-a484-0a61afb20005', 'Essence', 'ESS', 'Essence', true, '2026-02-01 08:00:00+02');

-- As in ML_PP's prod-like seed, all six tanks carry GASOIL.
INSERT INTO public.citernes (id, depot_id, nom, capacite_totale, capacite_securite, localisation, statut, created_at, produit_id)
VALUES
  ('57da330a-1305-4582-be45-ceab0f1aa795', '11111111-1111-1111-1111-111111111111', 'TANK1', 500000, 0, 'DAIPN LSHI', 'active', '2026-02-01 08:00:00+02', '22222222-2222-2222-2222-222222222222'),
  ('905b3104-0324-4b5c-ba3d-ae1019746c70', '11111111-1111-1111-1111-111111111111', 'TANK2', 500000, 0, 'DAIPN LSHI', 'active', '2026-02-01 08:00:00+02', '22222222-2222-2222-2222-222222222222'),
  ('7bf64a46-ca77-4857-af89-2e14d9128473', '11111111-1111-1111-1111-111111111111', 'TANK3', 500000, 0, 'DAIPN LSHI', 'active', '2026-02-01 08:00:00+02', '22222222-2222-2222-2222-222222222222'),
  ('91d2078b-8e19-43c2-bf33-322a42cd4e94', '11111111-1111-1111-1111-111111111111', 'TANK4', 500000, 0, 'DAIPN LSHI', 'active', '2026-02-01 08:00:00+02', '22222222-2222-2222-2222-222222222222'),
  ('a76a08a6-9017-421e-b5d3-afe8129a8f9d', '11111111-1111-1111-1111-111111111111', 'TANK5', 300000, 0, 'DAIPN LSHI', 'active', '2026-02-01 08:00:00+02', '22222222-2222-2222-2222-222222222222'),
  ('6f3e0b4c-abfc-4b67-aaa0-2ca20a59ae1a', '11111111-1111-1111-1111-111111111111', 'TANK6', 300000, 0, 'DAIPN LSHI', 'active', '2026-02-01 08:00:00+02', '22222222-2222-2222-2222-222222222222');

INSERT INTO public.profils (id, user_id, nom_complet, role, depot_id, email, created_at)
VALUES
  (md5('astm53b-demo:profil:admin')::uuid,     'a53b0000-0000-4000-8000-000000000001', 'Admin Démo',     'admin',     '11111111-1111-1111-1111-111111111111', 'admin@demo.astm53b.local',     '2026-02-01 08:00:00+02'),
  (md5('astm53b-demo:profil:directeur')::uuid, 'a53b0000-0000-4000-8000-000000000002', 'Directeur Démo', 'directeur', '11111111-1111-1111-1111-111111111111', 'directeur@demo.astm53b.local', '2026-02-01 08:00:00+02'),
  (md5('astm53b-demo:profil:gerant')::uuid,    'a53b0000-0000-4000-8000-000000000003', 'Gérant Démo',    'gerant',    '11111111-1111-1111-1111-111111111111', 'gerant@demo.astm53b.local',    '2026-02-01 08:00:00+02'),
  (md5('astm53b-demo:profil:lecture')::uuid,   'a53b0000-0000-4000-8000-000000000004', 'Lecture Démo',   'lecture',   '11111111-1111-1111-1111-111111111111', 'lecture@demo.astm53b.local',   '2026-02-01 08:00:00+02');


-- -----------------------------------------------------------------------------
-- 3. Counterparties (fictitious)
-- -----------------------------------------------------------------------------

INSERT INTO public.fournisseurs (id, nom, contact_personne, email, telephone, adresse, pays, note_supplementaire, created_at)
VALUES (md5('astm53b-demo:fournisseur:1')::uuid, 'Démo Fournisseur Ndola', 'Service logistique', 'logistique@fournisseur.demo.astm53b.local',
        '+260 000 000 001', 'Ndola', 'Zambie', 'Fournisseur fictif du jeu de démonstration', '2026-02-01 08:00:00+02');

INSERT INTO public.clients (id, nom, contact_personne, email, telephone, adresse, pays, note_supplementaire, created_at)
VALUES
  (md5('astm53b-demo:client:1')::uuid, 'Démo Transports Katanga', 'Dispatch', 'dispatch@client1.demo.astm53b.local', '+243 000 000 001', 'Lubumbashi', 'RDC', 'Client fictif', '2026-02-01 08:00:00+02'),
  (md5('astm53b-demo:client:2')::uuid, 'Démo Mines du Sud',       'Achats',   'achats@client2.demo.astm53b.local',   '+243 000 000 002', 'Likasi',     'RDC', 'Client fictif', '2026-02-01 08:00:00+02'),
  (md5('astm53b-demo:client:3')::uuid, 'Démo Station Kipushi',    'Gérance',  'gerance@client3.demo.astm53b.local',  '+243 000 000 003', 'Kipushi',    'RDC', 'Client fictif', '2026-02-01 08:00:00+02');

INSERT INTO public.partenaires (id, nom, contact, email, telephone, created_at)
VALUES (md5('astm53b-demo:partenaire:1')::uuid, 'Démo Partenaire Dépôt Ami', 'Opérations', 'operations@partenaire.demo.astm53b.local', '+243 000 000 010', '2026-02-01 08:00:00+02');


-- -----------------------------------------------------------------------------
-- 4. J0: initial stock of TANK4 (STOCK_INITIAL_J0_RUNBOOK, done from psql)
-- -----------------------------------------------------------------------------

DO $j0$
DECLARE
  c_depot constant uuid := '11111111-1111-1111-1111-111111111111';
  c_tank4 constant uuid := '91d2078b-8e19-43c2-bf33-322a42cd4e94';
  c_go    constant uuid := '22222222-2222-2222-2222-222222222222';
  c_ts    constant timestamptz := '2026-02-05 12:00:00+02';
BEGIN
  -- A) declare the stock in the snapshot (SECURITY DEFINER primitive)
  PERFORM public.stock_snapshot_apply_delta(c_tank4, c_go, 'MONALUXE', 79737, 79202.7621, c_depot, c_ts);

  -- C) journal baseline: rebuild on the J0 window reads the snapshot baseline
  --    of v_mouvements_stock and writes a SYSTEM row under the allow-write flag
  PERFORM public.rebuild_stocks_journaliers(c_depot, DATE '2026-02-05', DATE '2026-02-05');

  IF NOT EXISTS (SELECT 1 FROM public.stocks_journaliers
                  WHERE citerne_id = c_tank4 AND date_jour = DATE '2026-02-05'
                    AND source = 'SYSTEM' AND stock_ambiant = 79737) THEN
    RAISE EXCEPTION 'demo seed: J0 journal row missing after rebuild (check TimeZone: J0 is 2026-02-05 12:00+02)';
  END IF;

  -- audit, as the runbook did from psql (auth.uid() is NULL there)
  INSERT INTO public.log_actions (id, user_id, action, module, niveau, details, created_at, cible_id)
  VALUES (md5('astm53b-demo:log:j0')::uuid, NULL, 'STOCK_INITIAL_DECLARE', 'stocks', 'INFO',
          jsonb_build_object('actor', 'psql-admin',
                             'depot_id', c_depot, 'citerne_id', c_tank4, 'produit_id', c_go,
                             'proprietaire_type', 'MONALUXE', 'date_jour', '2026-02-05',
                             'stock_ambiant', 79737, 'stock_15c', 79202.7621),
          c_ts, c_tank4);

  -- do not leave the journal write flag set for the rest of a wrapping transaction
  PERFORM set_config('app.stocks_journaliers_allow_write', '', true);
END
$j0$;


-- -----------------------------------------------------------------------------
-- 5. Trucks, receptions and sorties (through the triggers, as the gerant)
-- -----------------------------------------------------------------------------

DO $movements$
DECLARE
  c_depot  constant uuid := '11111111-1111-1111-1111-111111111111';
  c_go     constant uuid := '22222222-2222-2222-2222-222222222222';
  c_tank1  constant uuid := '57da330a-1305-4582-be45-ceab0f1aa795';
  c_tank4  constant uuid := '91d2078b-8e19-43c2-bf33-322a42cd4e94';
  c_gerant constant uuid := 'a53b0000-0000-4000-8000-000000000003';
  c_fourn  constant uuid := md5('astm53b-demo:fournisseur:1')::uuid;
  c_part   constant uuid := md5('astm53b-demo:partenaire:1')::uuid;

  v_seed integer := COALESCE(nullif(current_setting('astm53b.seed', true), '')::integer, 1);
  v_prev_role text := current_user;
  v_as_authenticated boolean;

  -- trucks: plate, trailer, driver
  c_plates  constant text[] := ARRAY['BAE 4521','BAF 1187','BAD 7342','BAC 2290','BAE 9014','BAF 3367',
                                     'BAD 5528','BAC 8841','BAE 6173','BAF 2405','BAD 3936','BAC 1759'];
  c_drivers constant text[] := ARRAY['M. Banda','J. Phiri','K. Mwale','P. Zulu','S. Tembo','D. Mulenga',
                                     'F. Chanda','G. Lungu','A. Sakala','R. Daka','E. Mumba','T. Nkhata'];
  -- CDR n=1..8: reception date, tank, time of unloading
  c_rec_dates constant date[] := ARRAY[DATE '2026-02-06', DATE '2026-02-07', DATE '2026-02-09', DATE '2026-02-10',
                                       DATE '2026-02-12', DATE '2026-02-14', DATE '2026-02-17', DATE '2026-02-19'];
  c_rec_times constant text[] := ARRAY['09:15','10:40','08:50','11:05','09:30','10:10','08:40','09:55'];
  c_cdr_load  constant date[] := ARRAY[DATE '2026-02-03', DATE '2026-02-04', DATE '2026-02-06', DATE '2026-02-07',
                                       DATE '2026-02-09', DATE '2026-02-11', DATE '2026-02-14', DATE '2026-02-16',
                                       DATE '2026-02-20', DATE '2026-02-21', DATE '2026-02-23', DATE '2026-02-24'];
  c_cdr_statut constant text[] := ARRAY['ARRIVE','ARRIVE','ARRIVE','ARRIVE','ARRIVE','ARRIVE','ARRIVE','ARRIVE',
                                        'ARRIVE','ARRIVE','TRANSIT','CHARGEMENT'];

  v_cdr_vol  numeric[] := '{}';
  v_rec_vol  integer[] := '{}';
  v_temp     float8[]  := '{}';
  v_dens     float8[]  := '{}';
  v_n        integer;
  v_tank     uuid;
  v_vol      integer;
  v_t        float8;
  v_d        float8;
  v_ts       timestamptz;
  -- meters (index readings, litres)
  v_in_meter  float8[] := ARRAY[1482310, 2035870]::float8[];  -- [TANK1, TANK4]
  v_out_meter float8[] := ARRAY[904120, 1210455]::float8[];
  v_m        integer;
  v_bad      integer;

  -- sorties: n, tank, owner, beneficiary, date/time, volume range, truck
  s_tank   uuid[];
  s_client uuid[];
  s_part   uuid[];
  s_ts     timestamptz[];
  s_min    integer[] := ARRAY[24000, 12000, 18000, 10000,  8000];
  s_span   integer[] := ARRAY[ 6000,  6000,  6000,  6000,  4000];
  s_plate  text[]    := ARRAY['KN 4418 BD','KN 7725 AF','KN 1093 BC','KN 5562 AE','KN 8307 BB'];
  s_trail  text[]    := ARRAY['KN 4419 BD','KN 7726 AF','KN 1094 BC','KN 5563 AE','KN 8308 BB'];
  s_driver text[]    := ARRAY['Kalala M.','Ilunga P.','Mbuyi J.','Kasongo T.','Ngoy A.'];
BEGIN
  -- deterministic random stream for this seed
  PERFORM setseed(mod(mod(v_seed, 20000) + 20000, 20000)::float8 / 10000.0 - 1.0);

  -- draw every random value up front, in a fixed order
  FOR v_n IN 1..12 LOOP
    v_cdr_vol := v_cdr_vol || (33000 + floor(random() * 7001))::numeric;                 -- loaded volume
    v_rec_vol := v_rec_vol || (v_cdr_vol[v_n] - floor(random() * 121))::integer;          -- measured at unloading
    v_temp    := v_temp || round((19 + random() * 11)::numeric, 1)::float8;               -- 19.0 .. 30.0 °C
    v_dens    := v_dens || round((836 + random() * 2)::numeric, 1)::float8;               -- 836.0 .. 838.0 kg/m3
  END LOOP;
  -- n=13 partner reception, n=14..18 sorties 1..5
  FOR v_n IN 13..18 LOOP
    v_rec_vol := v_rec_vol || CASE WHEN v_n = 13 THEN (34000 + floor(random() * 5001))::integer
                                   ELSE (s_min[v_n - 13] + floor(random() * (s_span[v_n - 13] + 1)))::integer END;
    v_temp    := v_temp || round((19 + random() * 11)::numeric, 1)::float8;
    v_dens    := v_dens || round((836 + random() * 2)::numeric, 1)::float8;
  END LOOP;

  -- cours_de_route, as the back office enters them (owner rights)
  FOR v_n IN 1..12 LOOP
    INSERT INTO public.cours_de_route
           (id, fournisseur_id, depot_destination_id, produit_id, plaque_camion, plaque_remorque,
            chauffeur_nom, transporteur, depart_pays, date_chargement, volume, statut, note, created_at)
    VALUES (md5('astm53b-demo:cdr:' || v_n)::uuid, c_fourn, c_depot, c_go,
            c_plates[v_n], c_plates[v_n] || ' T', c_drivers[v_n], 'Démo Logistics', 'Zambie',
            c_cdr_load[v_n], v_cdr_vol[v_n], c_cdr_statut[v_n],
            'Démo: camion GASOIL n°' || v_n,
            format('%s 07:00:00+02', to_char(c_cdr_load[v_n], 'YYYY-MM-DD'))::timestamptz);
  END LOOP;

  -- sorties plan (1: TANK4 client 1, 2: TANK1 partner, 3: TANK1 client 2,
  -- 4: TANK4 client 3, 5: TANK4 client 1 = the brouillon)
  s_tank   := ARRAY[c_tank4, c_tank1, c_tank1, c_tank4, c_tank4];
  s_client := ARRAY[md5('astm53b-demo:client:1')::uuid, NULL, md5('astm53b-demo:client:2')::uuid,
                    md5('astm53b-demo:client:3')::uuid, md5('astm53b-demo:client:1')::uuid];
  s_part   := ARRAY[NULL, c_part, NULL, NULL, NULL]::uuid[];
  s_ts     := ARRAY['2026-02-13 10:00:00+02', '2026-02-16 09:45:00+02', '2026-02-18 11:30:00+02',
                    '2026-02-20 15:00:00+02', '2026-02-25 10:30:00+02']::timestamptz[];

  -- act as the gerant, the way PostgREST does: JWT claims, role authenticated
  PERFORM set_config('request.jwt.claim.sub', c_gerant::text, true);
  PERFORM set_config('request.jwt.claim.role', 'authenticated', true);
  PERFORM set_config('request.jwt.claims',
                     json_build_object('sub', c_gerant, 'role', 'authenticated')::text, true);
  v_as_authenticated := pg_has_role(session_user, 'authenticated', 'MEMBER');
  IF v_as_authenticated THEN
    SET LOCAL ROLE authenticated;
  END IF;

  -- chronological order matters: a journal day row starts from the previous one
  FOR v_m IN 1..13 LOOP
    -- event v_m: receptions 1..8 interleaved with partner reception and sorties
    CASE v_m
      WHEN 1 THEN v_n := 1;   WHEN 2 THEN v_n := 2;   WHEN 3 THEN v_n := 3;   WHEN 4 THEN v_n := 4;
      WHEN 5 THEN v_n := 13;  -- partner reception 2026-02-11
      WHEN 6 THEN v_n := 5;
      WHEN 7 THEN v_n := 101; -- sortie 1
      WHEN 8 THEN v_n := 6;
      WHEN 9 THEN v_n := 102; -- sortie 2 (partner)
      WHEN 10 THEN v_n := 7;
      WHEN 11 THEN v_n := 103; -- sortie 3
      WHEN 12 THEN v_n := 8;
      ELSE v_n := 104;         -- sortie 4
    END CASE;

    IF v_n <= 8 THEN
      -- MONALUXE reception of CDR n: odd n -> TANK4, even n -> TANK1
      v_tank := CASE WHEN v_n % 2 = 1 THEN c_tank4 ELSE c_tank1 END;
      v_vol  := v_rec_vol[v_n];
      v_t    := v_temp[v_n];
      v_d    := v_dens[v_n];
      v_ts   := format('%s %s:00+02', to_char(c_rec_dates[v_n], 'YYYY-MM-DD'), c_rec_times[v_n])::timestamptz;
      INSERT INTO public.receptions
             (id, cours_de_route_id, citerne_id, produit_id, index_avant, index_apres,
              volume_corrige_15c, temperature_ambiante_c, densite_a_15, proprietaire_type,
              note, created_at, volume_ambiant, date_reception)
      VALUES (md5('astm53b-demo:reception:' || v_n)::uuid, md5('astm53b-demo:cdr:' || v_n)::uuid,
              v_tank, c_go,
              v_in_meter[CASE WHEN v_tank = c_tank1 THEN 1 ELSE 2 END],
              v_in_meter[CASE WHEN v_tank = c_tank1 THEN 1 ELSE 2 END] + v_vol,
              v_vol::float8 * (1::float8 - 0.00065::float8 * (v_t - 15::float8)),
              v_t, v_d, 'MONALUXE',
              'Démo: réception camion ' || c_plates[v_n], v_ts, v_vol, c_rec_dates[v_n]);
      v_in_meter[CASE WHEN v_tank = c_tank1 THEN 1 ELSE 2 END] :=
        v_in_meter[CASE WHEN v_tank = c_tank1 THEN 1 ELSE 2 END] + v_vol;

    ELSIF v_n = 13 THEN
      -- PARTENAIRE reception, no CDR, TANK1
      v_vol := v_rec_vol[13];
      v_t   := v_temp[13];
      v_d   := v_dens[13];
      INSERT INTO public.receptions
             (id, cours_de_route_id, citerne_id, produit_id, partenaire_id, index_avant, index_apres,
              volume_corrige_15c, temperature_ambiante_c, densite_a_15, proprietaire_type,
              note, created_at, volume_ambiant, date_reception)
      VALUES (md5('astm53b-demo:reception:9')::uuid, NULL, c_tank1, c_go, c_part,
              v_in_meter[1], v_in_meter[1] + v_vol,
              v_vol::float8 * (1::float8 - 0.00065::float8 * (v_t - 15::float8)),
              v_t, v_d, 'PARTENAIRE',
              'Démo: réception partenaire (stock Dépôt Ami)', '2026-02-11 14:20:00+02', v_vol, DATE '2026-02-11');
      v_in_meter[1] := v_in_meter[1] + v_vol;

    ELSE
      -- validated sortie, inserted directly as 'validee' (app path A)
      v_n  := v_n - 100;
      v_vol := v_rec_vol[13 + v_n];
      v_t   := v_temp[13 + v_n];
      v_d   := v_dens[13 + v_n];
      INSERT INTO public.sorties_produit
             (id, citerne_id, produit_id, client_id, partenaire_id, volume_corrige_15c,
              temperature_ambiante_c, densite_a_15, proprietaire_type, note, created_at,
              index_avant, index_apres, volume_ambiant, statut, date_sortie,
              chauffeur_nom, plaque_camion, plaque_remorque, transporteur)
      VALUES (md5('astm53b-demo:sortie:' || v_n)::uuid, s_tank[v_n], c_go, s_client[v_n], s_part[v_n],
              v_vol::float8 * (1::float8 - 0.00065::float8 * (v_t - 15::float8)),
              v_t, v_d, CASE WHEN s_part[v_n] IS NULL THEN 'MONALUXE' ELSE 'PARTENAIRE' END,
              'Démo: sortie validée n°' || v_n, s_ts[v_n],
              v_out_meter[CASE WHEN s_tank[v_n] = c_tank1 THEN 1 ELSE 2 END],
              v_out_meter[CASE WHEN s_tank[v_n] = c_tank1 THEN 1 ELSE 2 END] + v_vol,
              v_vol, 'validee', s_ts[v_n],
              s_driver[v_n], s_plate[v_n], s_trail[v_n], 'Démo Transports Katanga');
      v_out_meter[CASE WHEN s_tank[v_n] = c_tank1 THEN 1 ELSE 2 END] :=
        v_out_meter[CASE WHEN s_tank[v_n] = c_tank1 THEN 1 ELSE 2 END] + v_vol;
    END IF;
  END LOOP;

  -- the draft left for validate_sortie (no stock effect until validated)
  v_vol := v_rec_vol[18];
  v_t   := v_temp[18];
  v_d   := v_dens[18];
  INSERT INTO public.sorties_produit
         (id, citerne_id, produit_id, client_id, partenaire_id, volume_corrige_15c,
          temperature_ambiante_c, densite_a_15, proprietaire_type, note, created_at,
          index_avant, index_apres, volume_ambiant, statut, date_sortie,
          chauffeur_nom, plaque_camion, plaque_remorque, transporteur)
  VALUES (md5('astm53b-demo:sortie:5')::uuid, c_tank4, c_go, s_client[5], NULL,
          v_vol::float8 * (1::float8 - 0.00065::float8 * (v_t - 15::float8)),
          v_t, v_d, 'MONALUXE', 'Démo: sortie en brouillon (à valider par validate_sortie)',
          '2026-02-25 08:00:00+02',
          v_out_meter[2], v_out_meter[2] + v_vol, v_vol, 'brouillon', s_ts[5],
          s_driver[5], s_plate[5], s_trail[5], 'Démo Transports Katanga');

  -- back to the caller's identity; clear the claims and the journal flag the
  -- triggers left set (they are transaction-local, this matters only when the
  -- file runs inside one wrapping transaction)
  IF v_as_authenticated THEN
    EXECUTE format('SET LOCAL ROLE %I', v_prev_role);
  END IF;
  PERFORM set_config('request.jwt.claim.sub', '', true);
  PERFORM set_config('request.jwt.claim.role', '', true);
  PERFORM set_config('request.jwt.claims', '', true);
  PERFORM set_config('app.stocks_journaliers_allow_write', '', true);

  -- self-checks: CDR states, journal = snapshot on every key
  SELECT count(*) INTO v_bad FROM public.cours_de_route
   WHERE (id IN (SELECT md5('astm53b-demo:cdr:' || g)::uuid FROM generate_series(1, 8) g) AND statut <> 'DECHARGE')
      OR (id IN (SELECT md5('astm53b-demo:cdr:' || g)::uuid FROM generate_series(9, 10) g) AND statut <> 'ARRIVE');
  IF v_bad <> 0 THEN
    RAISE EXCEPTION 'demo seed: % cours_de_route in an unexpected statut', v_bad;
  END IF;

  SELECT count(*) INTO v_bad
    FROM public.stocks_snapshot AS s
    LEFT JOIN LATERAL (
           SELECT sj.stock_ambiant, sj.stock_15c
             FROM public.stocks_journaliers AS sj
            WHERE sj.citerne_id = s.citerne_id AND sj.produit_id = s.produit_id
              AND sj.proprietaire_type = s.proprietaire_type
            ORDER BY sj.date_jour DESC
            LIMIT 1) AS j ON true
   WHERE j.stock_ambiant IS NULL
      OR abs(j.stock_ambiant - s.stock_ambiant) > 1e-6
      OR abs(j.stock_15c - s.stock_15c) > 1e-6;
  IF v_bad <> 0 THEN
    RAISE EXCEPTION 'demo seed: journal and snapshot disagree on % key(s)', v_bad;
  END IF;
END
$movements$;
