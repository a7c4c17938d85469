/**
 * The reasons a run cannot be GO, each tied to the runbook line it enforces. The smoke tags its
 * failing findings with one of these; the decision lists them. Runbook 6.1 names the first
 * four ("rollback immédiat"; the field complaint is the 24-hour watch's, src/runbook/watch); the others are the prerequisites of 3.1, 4.3, 5.6 and preflight.
 */
export const GO_CONDITIONS = {
  GOLDEN_DEVIATION: { runbook: '6.1', text: 'Écart > ±5 litres constaté entre ML_PP et SEP sur un golden case' },
  STOCK_INCOHERENCE: { runbook: '6.1', text: "Incohérence stock_journaliers après validation d'une réception ou sortie" },
  P0001_OR_RLS: { runbook: '6.1', text: 'Erreur P0001 ou blocage RLS inattendu' },
  FIELD_COMPLAINT: { runbook: '6.1', text: 'Réclamation terrain dans les 24h' },
  SMOKE_FAILED: { runbook: '4.5, 5.1–5.5', text: 'Smoke test NOK (si NOK → rollback immédiat)' },
  NO_VERIFIED_BACKUP: { runbook: '3.1, 4.2', text: 'Aucune modification PROD sans dump vérifié' },
  CHANGE_NOT_APPLIED: {
    runbook: '4.3',
    text: 'Les 2 fonctions remplacées, SECURITY DEFINER, search_path, aucun trigger ni policy modifié',
  },
  DRIFT: { runbook: '3.3, 4.1', text: 'Preflight: cible incompatible ou dérive par rapport au STAGING validé' },
  NO_SIGNOFF: { runbook: '5.6', text: 'Validation écrite responsable dépôt' },
  SIGNOFF_NO_GO: { runbook: '5.6, 7', text: 'Le responsable dépôt a signé NO-GO' },
  GATE_REJECTED: { runbook: '3.4, 5.6', text: 'Une validation du run a été refusée (créneau, GO)' },
  RESULT_MISSING: { runbook: '7', text: 'Résultat d’une étape absent ou illisible: rien ne prouve qu’elle a réussi' },
} as const;

export type GoCondition = keyof typeof GO_CONDITIONS;

export const GO_CONDITION_NAMES = Object.keys(GO_CONDITIONS) as [GoCondition, ...GoCondition[]];
