import type { ResetResult } from '../results/staging-reset.js';

/** Pure renderer of a staging reset: counts before/after, the CDR checksum, what is left behind. */
export function renderResetText(r: ResetResult): string {
  const c = (k: keyof ResetResult['before']) => `${k} ${r.before[k]} → ${r.after[k]}`;
  return [
    `staging-reset ${r.file.display} (sha256 ${r.file.sha256}) → ${r.target}: ${r.ok ? 'DONE' : 'INVARIANT BROKEN, rolled back'}`,
    `environment: ${r.environment.explanation}`,
    `  ${(['receptions', 'sorties_produit', 'stocks_journaliers', 'log_actions_scoped', 'cours_de_route', 'stocks_snapshot'] as const).map(c).join('\n  ')}`,
    `cours_de_route checksum ${r.cdrBefore.checksum} → ${r.cdrAfter.checksum}`,
    ...r.problems.map((p) => `problem: ${p}`),
    `left behind: ${r.leftovers.snapshotWithStock.length} stocks_snapshot row(s) still showing stock, ${r.leftovers.cdrDecharge.length} cours de route in DECHARGE (cannot be received again)`,
    ...r.leftovers.snapshotWithStock.map(
      (s) => `  snapshot ${s.citerne} ${s.produit} ${s.proprietaire_type}: ${s.stock_ambiant} L (${s.stock_15c} L @15 °C)`,
    ),
    ...r.leftovers.cdrDecharge.map((x) => `  DECHARGE ${x.plaque_camion} (${x.date_chargement}) ${x.id}`),
    '',
  ].join('\n');
}
