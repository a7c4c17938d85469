-- =============================================================================
-- sql/seed/scale.sql — bulk history for benchmarks (run after seed/demo.sql)
-- =============================================================================
-- Parameters (custom settings, read with current_setting(name, true)):
--   astm53b.scale  integer, default 1. Nothing happens unless > 1. Each unit
--                  above 1 adds about 10 000 movement rows (receptions, sorties,
--                  their log_actions rows and the journal rows), plus one
--                  DECHARGE cours_de_route per MONALUXE reception:
--                  scale 100 = 99 units = ~996 000 rows (+ ~81 000 CDR).
--   astm53b.seed   integer, default 1 (setseed: same seed, same data).
--
-- What it generates, set-based (INSERT ... SELECT over generate_series):
--   * 68 days of history per unit on TANK2, TANK3, TANK5 (MONALUXE) and TANK6
--     (PARTENAIRE, the demo partner), ending 2026-01-31 — i.e. strictly before
--     the demo's February 2026 period and on tanks the demo does not use;
--     scale 11 covers 2024-03 .. 2026-01, scale 100 goes back to 2007;
--   * per tank and day: 4 GASOIL receptions (33 000-40 000 L, 19-30 °C,
--     836-838 kg/m3, legacy 15 °C formula V*(1-0.00065*(T-15)), volume_15c
--     NULL; MONALUXE ones each with a DECHARGE cours_de_route) interleaved with
--     12 validated sorties (path A rows, to the demo clients or the partner);
--     sorties leave at the 15 °C/ambient ratio of the day's tank content
--     (yesterday's stock + the day's receptions; their temperature is derived
--     from it), so the 15 °C stock never drifts away from the ambient one;
--   * closing balances chosen in [60 000, 160 000] L so no stock is ever
--     negative or above capacity (also intra-day); the journal row of each
--     (tank, GASOIL, day, owner) is the cumulative closing balance (window
--     sums), source 'SORTIE' (a sortie is the day's last movement);
--   * log_actions rows as the triggers write them (RECEPTION_VALIDE,
--     RECEPTION_CREEE / 'receptions'; SORTIE_VALIDE / 'sorties_produit');
--   * the movement totals added to stocks_snapshot, so journal (latest row per
--     key) = snapshot = sum of movements.
-- Row triggers are skipped inside the block with a transaction-local
-- session_replication_role = replica (superuser only), restored at the end; the
-- file computes itself what the triggers would have done. Foreign keys are not
-- checked while replica is on: every reference is built valid.
-- ids are md5('astm53b-scale:<kind>:<n>')::uuid. Runs once per database (it
-- refuses to run if the four tanks already have movements).
-- Plain SQL, no psql meta-commands, no transaction control (one DO block).
-- =============================================================================

DO $scale$
DECLARE
  c_depot   constant uuid := '11111111-1111-1111-1111-111111111111';
  c_go      constant uuid := '22222222-2222-2222-2222-222222222222';
  c_gerant  constant uuid := 'a53b0000-0000-4000-8000-000000000003';
  c_fourn   constant uuid := md5('astm53b-demo:fournisseur:1')::uuid;
  c_part    constant uuid := md5('astm53b-demo:partenaire:1')::uuid;
  c_tanks   constant uuid[] := ARRAY['905b3104-0324-4b5c-ba3d-ae1019746c70',   -- TANK2
                                     '7bf64a46-ca77-4857-af89-2e14d9128473',   -- TANK3
                                     'a76a08a6-9017-421e-b5d3-afe8129a8f9d',   -- TANK5
                                     '6f3e0b4c-abfc-4b67-aaa0-2ca20a59ae1a']::uuid[]; -- TANK6
  c_owners  constant text[] := ARRAY['MONALUXE', 'MONALUXE', 'MONALUXE', 'PARTENAIRE'];
  c_clients constant uuid[] := ARRAY[md5('astm53b-demo:client:1')::uuid,
                                     md5('astm53b-demo:client:2')::uuid,
                                     md5('astm53b-demo:client:3')::uuid];
  c_last_day     constant date := DATE '2026-01-31';
  c_days_per_unit constant integer := 68;
  c_epoch   constant timestamptz := '1970-01-01 00:00:00+00';

  v_scale integer := COALESCE(nullif(current_setting('astm53b.scale', true), '')::integer, 1);
  v_seed  integer := COALESCE(nullif(current_setting('astm53b.seed', true), '')::integer, 1);
  v_prev_srr text := current_setting('session_replication_role');
  v_days  integer;
  v_first date;
  v_t     integer[] := '{}';
  v_d     integer[] := '{}';
  v_tout  float8[]  := '{}';
  v_cur_t integer := 0;
  v_amb   float8;
  v_15c   float8;
  v_ratio float8;
  v_temp  float8;
  v_row   record;
  v_bad   bigint;
BEGIN
  IF v_scale <= 1 THEN
    RAISE NOTICE 'scale.sql: astm53b.scale = % (<= 1), nothing to add', v_scale;
    RETURN;
  END IF;

  -- prerequisites: the demo seed
  IF (SELECT count(*) FROM public.citernes WHERE id = ANY (c_tanks) AND produit_id = c_go) <> 4
     OR NOT EXISTS (SELECT 1 FROM auth.users WHERE id = c_gerant)
     OR NOT EXISTS (SELECT 1 FROM public.partenaires WHERE id = c_part)
     OR NOT EXISTS (SELECT 1 FROM public.fournisseurs WHERE id = c_fourn)
     OR (SELECT count(*) FROM public.clients WHERE id = ANY (c_clients)) <> 3 THEN
    RAISE EXCEPTION 'scale.sql: run seed/demo.sql first (demo depot, tanks, users, partner, clients missing)';
  END IF;
  IF EXISTS (SELECT 1 FROM public.receptions WHERE citerne_id = ANY (c_tanks))
     OR EXISTS (SELECT 1 FROM public.sorties_produit WHERE citerne_id = ANY (c_tanks))
     OR EXISTS (SELECT 1 FROM public.stocks_journaliers WHERE citerne_id = ANY (c_tanks))
     OR EXISTS (SELECT 1 FROM public.stocks_snapshot WHERE citerne_id = ANY (c_tanks)) THEN
    RAISE EXCEPTION 'scale.sql: TANK2/TANK3/TANK5/TANK6 already have movements (scale.sql already applied?)';
  END IF;

  v_days  := (v_scale - 1) * c_days_per_unit;
  v_first := c_last_day - (v_days - 1);

  -- deterministic random stream (a different stream from demo.sql's)
  PERFORM setseed(mod(mod(v_seed * 7 + 12345, 20000) + 20000, 20000)::float8 / 10000.0 - 1.0);

  -- ---------------------------------------------------------------------------
  -- random draws, in generate_series order (t = tank 1..4, d = day 0..D-1)
  -- ---------------------------------------------------------------------------
  CREATE TEMP TABLE astm53b_sc_day ON COMMIT DROP AS
  SELECT g / v_days + 1 AS t,
         g % v_days     AS d,
         random()       AS r_close
    FROM generate_series(0, 4 * v_days - 1) AS g;

  CREATE TEMP TABLE astm53b_sc_rec ON COMMIT DROP AS
  SELECT g + 1                                        AS n,
         g / (v_days * 4) + 1                         AS t,
         (g % (v_days * 4)) / 4                       AS d,
         g % 4                                        AS i,
         (33000 + floor(random() * 7001))::integer    AS vol,
         floor(random() * 121)::integer               AS loss,
         round((19 + random() * 11)::numeric, 1)::float8 AS temp,
         round((836 + random() * 2)::numeric, 1)::float8 AS dens
    FROM generate_series(0, 4 * v_days * 4 - 1) AS g;

  CREATE TEMP TABLE astm53b_sc_sor ON COMMIT DROP AS
  SELECT g + 1                                        AS n,
         g / (v_days * 12) + 1                        AS t,
         (g % (v_days * 12)) / 12                     AS d,
         g % 12                                       AS j,
         0.9 + 0.2 * random()                         AS w,
         round((836 + random() * 2)::numeric, 1)::float8 AS dens
    FROM generate_series(0, 4 * v_days * 12 - 1) AS g;

  -- ---------------------------------------------------------------------------
  -- daily plan: inflow, closing balance B(d), outflow = B(d-1) + in - B(d)
  -- ---------------------------------------------------------------------------
  CREATE TEMP TABLE astm53b_sc_plan ON COMMIT DROP AS
  WITH inflow AS (
    SELECT t, d,
           sum(vol)::float8 AS in_amb,
           sum(vol::float8 * (1::float8 - 0.00065::float8 * (temp - 15::float8))) AS in_15c
      FROM astm53b_sc_rec
     GROUP BY t, d
  ), closing AS (
    SELECT dy.t, dy.d, i.in_amb, i.in_15c,
           CASE WHEN dy.d = 0 THEN floor(i.in_amb / 2)
                ELSE round(60000 + 100000 * dy.r_close) END AS b
      FROM astm53b_sc_day AS dy
      JOIN inflow AS i USING (t, d)
  )
  SELECT t, d, in_amb, in_15c, b,
         COALESCE(lag(b) OVER (PARTITION BY t ORDER BY d), 0) + in_amb - b AS out_amb,
         NULL::float8 AS out_temp
    FROM closing;

  -- the 15 °C/ambient ratio at which each tank-day's sorties leave (hence their
  -- temperature): a cheap loop over tank-days only, the rows stay set-based
  FOR v_row IN SELECT t, d, in_amb, in_15c, b, out_amb FROM astm53b_sc_plan ORDER BY t, d LOOP
    IF v_row.t <> v_cur_t THEN
      v_cur_t := v_row.t;
      v_amb := 0;
      v_15c := 0;
    END IF;
    -- the day's sorties leave a tank holding yesterday's stock plus today's
    -- receptions: a convex mix, so the ratio stays within the receptions' range
    v_ratio := (v_15c + v_row.in_15c) / (v_amb + v_row.in_amb);
    v_temp  := round((15 + (1 - v_ratio) / 0.00065)::numeric, 1)::float8;
    v_t    := v_t || v_row.t;
    v_d    := v_d || v_row.d;
    v_tout := v_tout || v_temp;
    v_amb  := v_row.b;
    v_15c  := v_15c + v_row.in_15c - v_row.out_amb * (1::float8 - 0.00065::float8 * (v_temp - 15::float8));
  END LOOP;

  UPDATE astm53b_sc_plan AS p
     SET out_temp = u.temp
    FROM unnest(v_t, v_d, v_tout) AS u(t, d, temp)
   WHERE p.t = u.t AND p.d = u.d;

  -- ---------------------------------------------------------------------------
  -- movement rows (timestamps: slots of 30 min from 07:00+02; receptions in
  -- slots 0,4,8,12, sorties in the others, so the day ends with a sortie)
  -- ---------------------------------------------------------------------------
  CREATE TEMP TABLE astm53b_sc_rec2 ON COMMIT DROP AS
  SELECT r.n, r.t, r.d, r.i, r.vol, r.loss, r.temp, r.dens,
         v_first + r.d AS day,
         c_epoch + (v_first + r.d - DATE '1970-01-01') * interval '24 hours'
                 + interval '5 hours' + (4 * r.i) * interval '30 minutes' AS ts,
         r.vol::float8 * (1::float8 - 0.00065::float8 * (r.temp - 15::float8)) AS v15,
         (5000000 + r.t * 1000000)::float8
           + (sum(r.vol) OVER (PARTITION BY r.t ORDER BY r.d, r.i) - r.vol)::float8 AS idx_avant
    FROM astm53b_sc_rec AS r;

  CREATE TEMP TABLE astm53b_sc_sor2 ON COMMIT DROP AS
  WITH split AS (
    SELECT s.n, s.t, s.d, s.j, s.dens, p.out_amb, p.out_temp,
           sum(s.w) OVER (PARTITION BY s.t, s.d ORDER BY s.j) AS cum_w,
           sum(s.w) OVER (PARTITION BY s.t, s.d)              AS tot_w
      FROM astm53b_sc_sor AS s
      JOIN astm53b_sc_plan AS p USING (t, d)
  ), vols AS (
    SELECT n, t, d, j, dens, out_temp,
           (round(out_amb * cum_w / tot_w)
            - COALESCE(lag(round(out_amb * cum_w / tot_w)) OVER (PARTITION BY t, d ORDER BY j), 0))::integer AS vol
      FROM split
  )
  SELECT v.n, v.t, v.d, v.j, v.vol, v.out_temp AS temp, v.dens,
         v_first + v.d AS day,
         c_epoch + (v_first + v.d - DATE '1970-01-01') * interval '24 hours'
                 + interval '5 hours' + (v.j + v.j / 3 + 1) * interval '30 minutes' AS ts,
         v.vol::float8 * (1::float8 - 0.00065::float8 * (v.out_temp - 15::float8)) AS v15,
         (2000000 + v.t * 1000000)::float8
           + (sum(v.vol) OVER (PARTITION BY v.t ORDER BY v.d, v.j) - v.vol)::float8 AS idx_avant
    FROM vols AS v;

  SELECT count(*) INTO v_bad FROM astm53b_sc_sor2 WHERE vol <= 0;
  IF v_bad > 0 THEN
    RAISE EXCEPTION 'scale.sql: % non-positive sortie volumes (generator bug)', v_bad;
  END IF;

  -- skip row triggers (and FK checks) for the bulk inserts, transaction-local
  PERFORM set_config('session_replication_role', 'replica', true);

  INSERT INTO public.cours_de_route
         (id, fournisseur_id, depot_destination_id, produit_id, plaque_camion, plaque_remorque,
          chauffeur_nom, transporteur, depart_pays, date_chargement, volume, statut, note, created_at)
  SELECT md5('astm53b-scale:cdr:' || r.n)::uuid, c_fourn, c_depot, c_go,
         format('B%s%s %s', chr(65 + r.n % 26), chr(65 + (r.n / 26) % 26), lpad(((r.n::bigint * 7919) % 10000)::text, 4, '0')),
         format('B%s%s %s T', chr(65 + r.n % 26), chr(65 + (r.n / 26) % 26), lpad(((r.n::bigint * 7919) % 10000)::text, 4, '0')),
         NULL, 'Démo Logistics', 'Zambie', r.day - 3, (r.vol + r.loss)::numeric, 'DECHARGE', NULL,
         r.ts - interval '72 hours'
    FROM astm53b_sc_rec2 AS r
   WHERE c_owners[r.t] = 'MONALUXE';

  INSERT INTO public.receptions
         (id, cours_de_route_id, citerne_id, produit_id, partenaire_id, index_avant, index_apres,
          volume_corrige_15c, temperature_ambiante_c, densite_a_15, proprietaire_type, note,
          created_at, volume_ambiant, statut, created_by, validated_by, date_reception,
          volume_observe, volume_15c)
  SELECT md5('astm53b-scale:reception:' || r.n)::uuid,
         CASE WHEN c_owners[r.t] = 'MONALUXE' THEN md5('astm53b-scale:cdr:' || r.n)::uuid END,
         c_tanks[r.t], c_go,
         CASE WHEN c_owners[r.t] = 'PARTENAIRE' THEN c_part END,
         r.idx_avant, r.idx_avant + r.vol,
         r.v15, r.temp, r.dens, c_owners[r.t], NULL,
         r.ts, r.vol, 'validee', c_gerant, NULL, r.day,
         NULL, NULL
    FROM astm53b_sc_rec2 AS r;

  INSERT INTO public.sorties_produit
         (id, citerne_id, produit_id, client_id, partenaire_id, volume_corrige_15c,
          temperature_ambiante_c, densite_a_15, proprietaire_type, note, created_at,
          index_avant, index_apres, volume_ambiant, statut, created_by, validated_by,
          date_sortie, chauffeur_nom, plaque_camion, plaque_remorque, transporteur)
  SELECT md5('astm53b-scale:sortie:' || s.n)::uuid,
         c_tanks[s.t], c_go,
         CASE WHEN c_owners[s.t] = 'MONALUXE' THEN c_clients[s.j % 3 + 1] END,
         CASE WHEN c_owners[s.t] = 'PARTENAIRE' THEN c_part END,
         s.v15, s.temp, s.dens, c_owners[s.t], NULL, s.ts,
         s.idx_avant, s.idx_avant + s.vol, s.vol, 'validee', c_gerant, NULL,
         s.ts, NULL, format('KN %s %s', lpad(((s.n::bigint * 104729) % 10000)::text, 4, '0'), chr(65 + s.n % 26) || chr(65 + (s.n / 26) % 26)),
         NULL, 'Démo Transports Katanga'
    FROM astm53b_sc_sor2 AS s;

  -- audit rows, as reception_after_ins_trg / receptions_log_created / sorties_after_insert_trg write them
  INSERT INTO public.log_actions (id, user_id, action, module, niveau, details, created_at)
  SELECT md5('astm53b-scale:log:rv:' || r.n)::uuid, c_gerant, 'RECEPTION_VALIDE', 'receptions', 'INFO',
         jsonb_build_object(
           'reception_id',      md5('astm53b-scale:reception:' || r.n)::uuid,
           'citerne_id',        c_tanks[r.t],
           'produit_id',        c_go,
           'volume_ambiant',    r.vol::float8,
           'volume_15c',        r.v15,
           'date_reception',    r.day,
           'proprietaire_type', c_owners[r.t]),
         r.ts
    FROM astm53b_sc_rec2 AS r
  UNION ALL
  SELECT md5('astm53b-scale:log:rc:' || r.n)::uuid, c_gerant, 'RECEPTION_CREEE', 'receptions', 'INFO',
         jsonb_build_object(
           'reception_id', md5('astm53b-scale:reception:' || r.n)::uuid,
           'citerne_id',   c_tanks[r.t],
           'produit_id',   c_go,
           'statut',       'validee'),
         r.ts
    FROM astm53b_sc_rec2 AS r
  UNION ALL
  SELECT md5('astm53b-scale:log:sv:' || s.n)::uuid, c_gerant, 'SORTIE_VALIDE', 'sorties_produit', 'INFO',
         jsonb_build_object(
           'sortie_id',         md5('astm53b-scale:sortie:' || s.n)::uuid,
           'citerne_id',        c_tanks[s.t],
           'produit_id',        c_go,
           'proprietaire_type', c_owners[s.t],
           'volume_ambiant',    s.vol::float8,
           'volume_15c',        s.v15,
           'date_sortie',       s.day,
           'client_id',         CASE WHEN c_owners[s.t] = 'MONALUXE' THEN c_clients[s.j % 3 + 1] END,
           'partenaire_id',     CASE WHEN c_owners[s.t] = 'PARTENAIRE' THEN c_part END),
         s.ts
    FROM astm53b_sc_sor2 AS s;

  -- journal: cumulative closing balance per (tank, GASOIL, day, owner)
  INSERT INTO public.stocks_journaliers
         (id, citerne_id, produit_id, date_jour, stock_ambiant, stock_15c,
          proprietaire_type, depot_id, source, created_at, updated_at)
  SELECT md5('astm53b-scale:sj:' || m.t || ':' || m.d)::uuid,
         c_tanks[m.t], c_go, m.day,
         sum(m.net_amb) OVER w,
         sum(m.net_15c) OVER w,
         c_owners[m.t], c_depot, 'SORTIE', m.first_ts, m.last_ts
    FROM (
          SELECT t, d, min(day) AS day, sum(net_amb) AS net_amb, sum(net_15c) AS net_15c,
                 min(ts) AS first_ts, max(ts) AS last_ts
            FROM (SELECT t, d, day, vol::float8 AS net_amb, v15 AS net_15c, ts FROM astm53b_sc_rec2
                  UNION ALL
                  SELECT t, d, day, -vol::float8, -v15, ts FROM astm53b_sc_sor2) AS mv
           GROUP BY t, d
         ) AS m
  WINDOW w AS (PARTITION BY m.t ORDER BY m.d ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW);

  -- snapshot: add the movement totals (= the last journal row of each key)
  INSERT INTO public.stocks_snapshot AS s
         (citerne_id, produit_id, proprietaire_type, depot_id, stock_ambiant, stock_15c,
          last_movement_at, updated_at)
  SELECT sj.citerne_id, sj.produit_id, sj.proprietaire_type, sj.depot_id,
         sj.stock_ambiant, sj.stock_15c, sj.updated_at, sj.updated_at
    FROM (SELECT DISTINCT ON (citerne_id, produit_id, proprietaire_type) *
            FROM public.stocks_journaliers
           WHERE citerne_id = ANY (c_tanks)
           ORDER BY citerne_id, produit_id, proprietaire_type, date_jour DESC) AS sj
  ON CONFLICT (citerne_id, produit_id, proprietaire_type) DO UPDATE
     SET stock_ambiant    = s.stock_ambiant + EXCLUDED.stock_ambiant,
         stock_15c        = s.stock_15c + EXCLUDED.stock_15c,
         depot_id         = COALESCE(EXCLUDED.depot_id, s.depot_id),
         last_movement_at = GREATEST(s.last_movement_at, EXCLUDED.last_movement_at),
         updated_at       = GREATEST(s.updated_at, EXCLUDED.updated_at);

  PERFORM set_config('session_replication_role', v_prev_srr, true);

  -- self-check: the journal stays within [0, capacity] and ends at B(last day)
  SELECT count(*) INTO v_bad
    FROM public.stocks_journaliers AS sj
    JOIN public.citernes AS c ON c.id = sj.citerne_id
   WHERE sj.citerne_id = ANY (c_tanks)
     AND (sj.stock_ambiant < 0 OR sj.stock_15c < 0
          OR sj.stock_ambiant > c.capacite_totale - c.capacite_securite
          OR sj.stock_15c > c.capacite_totale - c.capacite_securite);
  IF v_bad > 0 THEN
    RAISE EXCEPTION 'scale.sql: % journal rows out of [0, capacity]', v_bad;
  END IF;
  SELECT count(*) INTO v_bad
    FROM public.stocks_journaliers AS sj
    JOIN astm53b_sc_plan AS p
      ON sj.citerne_id = c_tanks[p.t] AND sj.date_jour = v_first + p.d
   WHERE sj.stock_ambiant <> p.b;
  IF v_bad > 0 THEN
    RAISE EXCEPTION 'scale.sql: % journal rows differ from the planned closing balance', v_bad;
  END IF;

  DROP TABLE astm53b_sc_day, astm53b_sc_rec, astm53b_sc_sor, astm53b_sc_plan, astm53b_sc_rec2, astm53b_sc_sor2;

  RAISE NOTICE 'scale.sql: scale %, seed %: % days (% .. %) x 4 tanks: % receptions, % sorties, % journal rows, % log rows, % cours_de_route',
    v_scale, v_seed, v_days, v_first, c_last_day,
    v_days * 4 * 4, v_days * 4 * 12, v_days * 4, v_days * 4 * (4 * 2 + 12), v_days * 3 * 4;
END
$scale$;

ANALYZE public.cours_de_route, public.receptions, public.sorties_produit,
        public.stocks_journaliers, public.stocks_snapshot, public.log_actions;
