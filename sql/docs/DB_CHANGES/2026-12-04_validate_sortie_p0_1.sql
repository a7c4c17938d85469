-- =============================================================================
-- 2026-12-04_validate_sortie_p0_1.sql
-- =============================================================================
-- Fichier       : docs/DB_CHANGES/2026-12-04_validate_sortie_p0_1.sql
-- Date/heure    : 2026-12-04
-- Auteur        : astm53b-pipeline (nouveau changement, pas un fichier ML_PP)
-- Contexte      : Runbook ASTM53B §4.3 / §5.4. Le smoke du pipeline sur le P0
--                 2026-02-25_staging_validate_sortie_p0.sql (fichier ML_PP, conservé
--                 tel quel) donne NO-GO à chaque exécution (5.4 JOURNAL_SNAPSHOT_AGREE
--                 et OTHER_OWNERS_UNTOUCHED, runbook 6.1 "incohérence
--                 stock_journaliers").
-- Pourquoi      : Le P0 valide bien la sortie sous DB-STRICT, mais :
--                   1. il débite stocks_journaliers pour TOUS les propriétaires de
--                      la citerne/produit/jour (aucun filtre proprietaire_type) :
--                      une sortie MONALUXE débite aussi la ligne PARTENAIRE ;
--                   2. il borne en silence à 0 (greatest(0, …)) au lieu de refuser
--                      une sortie supérieure au stock ;
--                   3. s'il n'y a pas de ligne du jour, il la crée depuis la
--                      dernière ligne de N'IMPORTE QUEL propriétaire (et de
--                      n'importe quelle date), en MONALUXE / SYSTEM / depot NULL ;
--                   4. il ne touche jamais stocks_snapshot : v_stock_actuel (ce que
--                      l'app affiche) ne voit pas la sortie, journal et snapshot
--                      divergent.
-- Correction    : validate_sortie fait ce que fait déjà le chemin applicatif
--                 (sorties_after_insert_trg) pour une sortie insérée validée :
--                   - propriétaire normalisé comme sorties_before_validate_trg
--                     (client seul -> MONALUXE, partenaire seul -> PARTENAIRE,
--                     sinon proprietaire_type), et écrit sur la sortie ;
--                   - stock disponible de CE propriétaire lu dans stocks_snapshot
--                     (source de vérité de l'app) ET dans son solde journal du jour
--                     (ligne du jour, sinon sa dernière ligne antérieure), lignes
--                     verrouillées dans l'ordre du chemin applicatif (journal puis
--                     snapshot) ; refus avec les mots de l'app :
--                     SORTIE_STOCK_INTROUVABLE (snapshot), SORTIE_STOCK_INSUFFISANT_15C,
--                     SORTIE_STOCK_INSUFFISANT_AMB (P0001), jamais de borne à 0 ;
--                   - débit journal par public.stock_upsert_journalier (ligne du jour
--                     de CE propriétaire, créée au besoin depuis SON solde antérieur,
--                     source 'SORTIE', dépôt de la citerne) ;
--                   - débit snapshot par public.stock_snapshot_apply_delta (CE
--                     propriétaire), donc v_stock_actuel bouge comme le journal ;
--                   - volume 15 °C = volume_15c s'il existe (colonne PROD depuis
--                     2026-03-22, lue sans dépendre de sa présence), sinon
--                     volume_corrige_15c, sinon volume_ambiant (comme le P0).
--                 Inchangé par rapport au P0 : flags DB-STRICT transactionnels
--                 (app.stocks_journaliers_allow_write, app.sorties_produit_allow_write)
--                 posés en premier ; rôles admin/directeur/gerant via _current_role()
--                 (ROLE_FORBIDDEN) ; statut NULL ou brouillon (INVALID_ID_OR_STATE) ;
--                 BENEFICIAIRE_REQUIRED ; CITERNE_INACTIVE_OR_INCOMPATIBLE ;
--                 INDICES_MANQUANTS / INDEX_INCOHERENTS / VOLUME_AMBIANT_NON_POSITIF ;
--                 statut validee + validated_by + date_sortie ; log SORTIE_VALIDEE /
--                 module 'sorties' / INFO (details + proprietaire_type).
--                 sorties_produit_block_update_delete : même garde que le P0.
-- Rappel        : Nouveau changement. Comme tout autre, le dépôt le valide en
--                 STAGING (runbook §4.3 "STAGING validé -> PROD", smoke §5) avant
--                 de l'appliquer en PROD. Il remplace le P0 : appliqué sur une base
--                 legacy ou déjà passée au P0, il donne le même état final.
-- =============================================================================
-- Contenu       : 2 fonctions uniquement (pas de triggers, policies, tables, grants),
--                 SECURITY DEFINER, SET search_path TO 'public', une transaction.
--                 Aucune ligne de table modifiée par le fichier lui-même.
-- =============================================================================

BEGIN;

-- 1) Trigger function: bloque UPDATE/DELETE sur sorties_produit sauf si flag activé
CREATE OR REPLACE FUNCTION public.sorties_produit_block_update_delete() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public'
    AS $$
begin
  -- 2026-12-04_validate_sortie_p0_1: same guard as the P0; named here so that
  -- pg_get_functiondef tells which change installed it (and a database already on
  -- the P0 still sees this function replaced, as runbook 4.3 checks)
  if current_setting('app.sorties_produit_allow_write', true) = '1' then
    if tg_op = 'DELETE' then return old; else return new; end if;
  end if;
  raise exception
    'Ecriture interdite sur sorties_produit (op=%). Table immutable: utiliser INSERT + triggers/RPC, jamais UPDATE/DELETE.',
    tg_op;
end;
$$;

-- 2) RPC validate_sortie: débit du seul propriétaire de la sortie, journal ET snapshot
CREATE OR REPLACE FUNCTION public.validate_sortie(p_id uuid) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'public'
    AS $$
declare
  v_role      text := public._current_role();
  v_row       record;
  v_owner     text;
  v_day       date;
  v_depot_id  uuid;
  v_v15       double precision;
  v_j_amb     double precision;
  v_j_15c     double precision;
  v_s_amb     double precision;
  v_s_15c     double precision;
  v_dispo_amb double precision;
  v_dispo_15c double precision;
begin
  perform set_config('app.stocks_journaliers_allow_write', '1', true);
  perform set_config('app.sorties_produit_allow_write', '1', true);

  if coalesce(v_role, '') not in ('admin', 'directeur', 'gerant') then
    raise exception 'ROLE_FORBIDDEN';
  end if;

  select s.*
    into v_row
    from public.sorties_produit s
   where s.id = p_id
     and (s.statut is null or s.statut = 'brouillon')
     for update;
  if not found then
    raise exception 'INVALID_ID_OR_STATE';
  end if;

  if v_row.client_id is null and v_row.partenaire_id is null then
    raise exception 'BENEFICIAIRE_REQUIRED';
  end if;

  perform 1
     from public.citernes c
    where c.id = v_row.citerne_id
      and c.produit_id = v_row.produit_id
      and c.statut = 'active';
  if not found then
    raise exception 'CITERNE_INACTIVE_OR_INCOMPATIBLE';
  end if;

  if v_row.volume_ambiant is null then
    if v_row.index_avant is null or v_row.index_apres is null then
      raise exception 'INDICES_MANQUANTS';
    end if;
    if v_row.index_apres <= v_row.index_avant then
      raise exception 'INDEX_INCOHERENTS (% >= %)', v_row.index_apres, v_row.index_avant;
    end if;
    v_row.volume_ambiant := v_row.index_apres - v_row.index_avant;
  end if;
  if v_row.volume_ambiant <= 0 then
    raise exception 'VOLUME_AMBIANT_NON_POSITIF';
  end if;

  -- the owner whose stock leaves, by the rule the app's own validated-insert path uses
  if v_row.client_id is not null and v_row.partenaire_id is null then
    v_owner := 'MONALUXE';
  elsif v_row.partenaire_id is not null and v_row.client_id is null then
    v_owner := 'PARTENAIRE';
  else
    v_owner := upper(trim(coalesce(v_row.proprietaire_type, '')));
  end if;
  if v_owner not in ('MONALUXE', 'PARTENAIRE') then
    raise exception 'SORTIE_PROPRIETAIRE_INVALIDE: proprietaire_type=%', v_owner;
  end if;

  v_day := coalesce(date(v_row.date_sortie), current_date);
  -- volume_15c exists in PROD only since 2026-03-22: read through jsonb so that
  -- the same body runs on either schema, and PROD's 15 °C value is not ignored
  v_v15 := coalesce((to_jsonb(v_row) ->> 'volume_15c')::double precision,
                    v_row.volume_corrige_15c, v_row.volume_ambiant);

  select c.depot_id into v_depot_id
    from public.citernes c
   where c.id = v_row.citerne_id;

  -- the owner's journal balance the debit starts from: its row of the day, else its
  -- latest earlier row (what stock_upsert_journalier carries forward); locked first,
  -- then the snapshot, in the order sorties_after_insert_trg takes them
  select sj.stock_ambiant, sj.stock_15c
    into v_j_amb, v_j_15c
    from public.stocks_journaliers sj
   where sj.citerne_id = v_row.citerne_id
     and sj.produit_id = v_row.produit_id
     and sj.proprietaire_type = v_owner
     and sj.date_jour <= v_day
   order by sj.date_jour desc
   limit 1
     for update;

  select s.stock_ambiant, s.stock_15c
    into v_s_amb, v_s_15c
    from public.stocks_snapshot s
   where s.citerne_id = v_row.citerne_id
     and s.produit_id = v_row.produit_id
     and s.proprietaire_type = v_owner
     for update;

  if v_s_15c is null then
    raise exception 'SORTIE_STOCK_INTROUVABLE (snapshot): citerne=%, produit=%, proprietaire=%',
      v_row.citerne_id, v_row.produit_id, v_owner;
  end if;

  -- refuse rather than clamp: neither ledger of this owner may go below zero
  v_dispo_15c := least(v_s_15c, coalesce(v_j_15c, 0));
  v_dispo_amb := least(v_s_amb, coalesce(v_j_amb, 0));
  if v_dispo_15c < v_v15 then
    raise exception 'SORTIE_STOCK_INSUFFISANT_15C: demande=%, stock_dispo=%',
      v_v15, v_dispo_15c;
  end if;
  if v_dispo_amb < v_row.volume_ambiant then
    raise exception 'SORTIE_STOCK_INSUFFISANT_AMB: demande=%, stock_dispo=%',
      v_row.volume_ambiant, v_dispo_amb;
  end if;

  perform public.stock_upsert_journalier(
    v_row.citerne_id, v_row.produit_id, v_day,
    -v_row.volume_ambiant, -v_v15,
    v_owner, v_depot_id, 'SORTIE');

  perform public.stock_snapshot_apply_delta(
    v_row.citerne_id, v_row.produit_id, v_owner,
    -v_row.volume_ambiant, -v_v15,
    v_depot_id, now());

  update public.sorties_produit s
     set statut            = 'validee',
         validated_by      = auth.uid(),
         date_sortie       = coalesce(s.date_sortie, now()),
         proprietaire_type = v_owner
   where s.id = p_id;

  insert into public.log_actions(id, user_id, action, module, niveau, details)
  values (gen_random_uuid(), auth.uid(), 'SORTIE_VALIDEE', 'sorties', 'INFO',
          jsonb_build_object(
            'sortie_id', p_id,
            'citerne_id', v_row.citerne_id,
            'produit_id', v_row.produit_id,
            'proprietaire_type', v_owner,
            'volume_ambiant', v_row.volume_ambiant,
            'volume_15c', v_v15,
            'date_jour', v_day
          ));
end
$$;

COMMIT;
