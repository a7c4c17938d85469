/**
 * What the pipeline relies on in ML_PP's database: the objects the runbook steps read, write
 * or check, as they were in PROD on 2026-02-11. `compat` compares a target with this list;
 * the fixture and the real snapshot must both satisfy it. Later columns (volume_15c on
 * sorties, densite_observee_kgm3 on receptions…) are optional: the steps use them when present.
 */
const U = 'uuid';
const T = 'text';
const F = 'double precision';
const TS = 'timestamp with time zone';
const D = 'date';

export interface ColumnRequirement {
  name: string;
  type: string;
  optional?: boolean;
}

export interface TableRequirement {
  schema: string;
  name: string;
  columns: ColumnRequirement[];
  /**
   * ML_PP protects the table with RLS. No step relies on it (they run as the owner, and the smoke
   * reports what an app role sees), so when it is off compat lists a security finding, not an
   * incompatibility: STAGING's stocks_snapshot has it off.
   */
  rls?: boolean;
  /** a unique constraint or unique index on exactly these columns */
  uniqueKeys?: string[][];
}

export interface FunctionRequirement {
  schema: string;
  name: string;
  /** pg_get_function_identity_arguments, e.g. "p_id uuid" */
  identityArgs?: string;
  securityDefiner?: boolean;
  /** the search_path the function must pin */
  searchPath?: string;
}

export interface TriggerRequirement {
  table: string;
  name: string;
  function: string;
  /** 'O' enabled, 'D' disabled (pg_trigger.tgenabled) */
  enabled?: 'O' | 'D';
}

const cols = (spec: Record<string, string>, optional: Record<string, string> = {}): ColumnRequirement[] => [
  ...Object.entries(spec).map(([name, type]) => ({ name, type })),
  ...Object.entries(optional).map(([name, type]) => ({ name, type, optional: true })),
];

export const REQUIRED_TABLES: TableRequirement[] = [
  { schema: 'auth', name: 'users', columns: cols({ id: U }) },
  { schema: 'public', name: 'depots', rls: true, columns: cols({ id: U, nom: T }) },
  { schema: 'public', name: 'produits', rls: true, columns: cols({ id: U, nom: T, code: T }) },
  {
    schema: 'public',
    name: 'citernes',
    rls: true,
    columns: cols({ id: U, depot_id: U, nom: T, capacite_totale: F, capacite_securite: F, statut: T, produit_id: U }),
  },
  { schema: 'public', name: 'clients', rls: true, columns: cols({ id: U, nom: T }) },
  { schema: 'public', name: 'partenaires', rls: true, columns: cols({ id: U, nom: T }) },
  { schema: 'public', name: 'fournisseurs', rls: true, columns: cols({ id: U, nom: T }) },
  { schema: 'public', name: 'profils', rls: true, columns: cols({ id: U, user_id: U, role: T, depot_id: U, created_at: TS }) },
  {
    schema: 'public',
    name: 'cours_de_route',
    rls: true,
    columns: cols(
      {
        id: U,
        fournisseur_id: U,
        depot_destination_id: U,
        produit_id: U,
        plaque_camion: T,
        date_chargement: D,
        volume: 'numeric',
        statut: T,
        created_at: TS,
      },
      { fournisseur_lot_id: U },
    ),
  },
  {
    schema: 'public',
    name: 'receptions',
    rls: true,
    columns: cols(
      {
        id: U,
        cours_de_route_id: U,
        citerne_id: U,
        produit_id: U,
        partenaire_id: U,
        index_avant: F,
        index_apres: F,
        volume_corrige_15c: F,
        temperature_ambiante_c: F,
        densite_a_15: F,
        proprietaire_type: T,
        created_at: TS,
        volume_ambiant: F,
        statut: T,
        created_by: U,
        date_reception: D,
        volume_15c: F,
      },
      { densite_observee_kgm3: F, densite_a_15_kgm3: F, densite_a_15_g_cm3: F },
    ),
  },
  {
    schema: 'public',
    name: 'sorties_produit',
    rls: true,
    columns: cols(
      {
        id: U,
        citerne_id: U,
        produit_id: U,
        client_id: U,
        partenaire_id: U,
        volume_corrige_15c: F,
        temperature_ambiante_c: F,
        densite_a_15: F,
        proprietaire_type: T,
        index_avant: F,
        index_apres: F,
        volume_ambiant: F,
        statut: T,
        created_by: U,
        validated_by: U,
        date_sortie: TS,
        created_at: TS,
      },
      { volume_15c: F, densite_a_15_kgm3: F, densite_a_15_g_cm3: F },
    ),
  },
  {
    schema: 'public',
    name: 'stocks_journaliers',
    rls: true,
    uniqueKeys: [['citerne_id', 'produit_id', 'date_jour', 'proprietaire_type']],
    columns: cols({
      id: U,
      citerne_id: U,
      produit_id: U,
      date_jour: D,
      stock_ambiant: F,
      stock_15c: F,
      proprietaire_type: T,
      depot_id: U,
      source: T,
    }),
  },
  {
    schema: 'public',
    name: 'stocks_snapshot',
    rls: true,
    uniqueKeys: [['citerne_id', 'produit_id', 'proprietaire_type']],
    columns: cols({
      id: U,
      citerne_id: U,
      produit_id: U,
      proprietaire_type: T,
      depot_id: U,
      stock_ambiant: F,
      stock_15c: F,
      last_movement_at: TS,
    }),
  },
  {
    schema: 'public',
    name: 'stocks_adjustments',
    columns: cols({
      id: U,
      mouvement_type: T,
      mouvement_id: U,
      delta_ambiant: F,
      delta_15c: F,
      reason: T,
      created_by: U,
      created_at: TS,
      citerne_id: U,
      produit_id: U,
      proprietaire_type: T,
    }),
  },
  {
    schema: 'public',
    name: 'log_actions',
    rls: true,
    columns: cols({ id: U, user_id: U, action: T, module: T, niveau: T, details: 'jsonb', created_at: TS, cible_id: U }),
  },
];

const SD_PUBLIC = { securityDefiner: true, searchPath: 'public' } as const;

export const REQUIRED_FUNCTIONS: FunctionRequirement[] = [
  { schema: 'auth', name: 'uid', identityArgs: '' },
  { schema: 'public', name: 'validate_sortie', identityArgs: 'p_id uuid', ...SD_PUBLIC },
  { schema: 'public', name: 'sorties_produit_block_update_delete', identityArgs: '', ...SD_PUBLIC },
  { schema: 'public', name: '_current_role', identityArgs: '', ...SD_PUBLIC },
  { schema: 'public', name: 'receptions_block_update_delete', identityArgs: '' },
  { schema: 'public', name: 'stocks_journaliers_block_writes', identityArgs: '', ...SD_PUBLIC },
  { schema: 'public', name: 'reception_after_ins_trg', identityArgs: '', ...SD_PUBLIC },
  { schema: 'public', name: 'sorties_after_insert_trg', identityArgs: '', ...SD_PUBLIC },
  {
    schema: 'public',
    name: 'stock_snapshot_apply_delta',
    identityArgs:
      'p_citerne_id uuid, p_produit_id uuid, p_proprietaire_type text, p_delta_ambiant double precision, p_delta_15c double precision, p_depot_id uuid, p_event_ts timestamp with time zone',
    ...SD_PUBLIC,
  },
  {
    schema: 'public',
    name: 'stock_upsert_journalier',
    identityArgs:
      'p_citerne_id uuid, p_produit_id uuid, p_date_jour date, p_delta_stock_ambiant double precision, p_delta_stock_15c double precision, p_proprietaire_type text, p_depot_id uuid, p_source text',
  },
];

export const REQUIRED_TRIGGERS: TriggerRequirement[] = [
  { table: 'receptions', name: 'trg_00_receptions_block_update_delete', function: 'receptions_block_update_delete', enabled: 'O' },
  { table: 'receptions', name: 'trg_receptions_check_cdr_arrive', function: 'receptions_check_cdr_arrive', enabled: 'O' },
  { table: 'receptions', name: 'trg_receptions_set_volume_ambiant', function: 'receptions_set_volume_ambiant', enabled: 'O' },
  { table: 'receptions', name: 'receptions_after_ins', function: 'reception_after_ins_trg', enabled: 'O' },
  { table: 'receptions', name: 'trg_receptions_log_created', function: 'receptions_log_created', enabled: 'O' },
  {
    table: 'sorties_produit',
    name: 'trg_00_sorties_produit_block_update_delete',
    function: 'sorties_produit_block_update_delete',
    enabled: 'O',
  },
  { table: 'sorties_produit', name: 'trg_sortie_before_ins', function: 'sorties_before_validate_trg', enabled: 'O' },
  { table: 'sorties_produit', name: 'trg_sorties_after_insert', function: 'sorties_after_insert_trg', enabled: 'O' },
  { table: 'stocks_journaliers', name: 'stocks_journaliers_block_writes', function: 'stocks_journaliers_block_writes', enabled: 'O' },
  {
    table: 'stocks_adjustments',
    name: 'trg_00_stocks_adjustments_block_update_delete',
    function: 'stocks_adjustments_block_update_delete',
    enabled: 'O',
  },
];

export const REQUIRED_ROLES = ['anon', 'authenticated', 'service_role'] as const;

/** Oldest server the pipeline supports: Supabase STAGING ran 15.8, PROD 17.6. */
export const MIN_SERVER_MAJOR = 15;
