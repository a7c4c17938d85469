import type { Owner } from '../../results/smoke.js';

export const SMOKE_MARK = 'ASTM53B-SMOKE';

/** The controlled movements: known meter indices, temperature and observed density (runbook 5.3). */
export const SMOKE_MOVEMENTS = {
  reception: { index_avant: 100000, index_apres: 101000, temperature_c: 25.5, densite_observee_kgm3: 836.5 },
  sortie: { index_avant: 200000, index_apres: 200400, temperature_c: 24.5, densite_observee_kgm3: 836.5 },
  // more than the sortie, so that a debit reaching the other owner's row shows in full, never hidden by a clamp at 0
  otherOwnerReception: { index_avant: 300000, index_apres: 300500, temperature_c: 25, densite_observee_kgm3: 836.5 },
} as const;

/** The owner the smoke's movements belong to, and the one they must leave alone. */
export const SMOKE_OWNER: Owner = 'MONALUXE';
export const OTHER_OWNER: Owner = 'PARTENAIRE';
