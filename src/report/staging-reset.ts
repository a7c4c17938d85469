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

const COUNTED = ['receptions', 'sorties_produit', 'stocks_journaliers', 'log_actions_scoped', 'cours_de_route', 'stocks_snapshot'] as const;

/** The job summary of actions/staging-reset. */
export function renderResetMarkdown(r: ResetResult): string {
  const lines = [
    `### Staging reset "CDR only" (runbook 3.5) ${r.ok ? '✅ done' : '❌ invariant broken, rolled back'}`,
    '',
    `\`${r.file.display}\` (SHA-256 \`${r.file.sha256}\`) on \`${r.target}\`; ${r.environment.explanation}`,
    '',
    '| table | before | after |',
    '| --- | ---: | ---: |',
    ...COUNTED.map((k) => `| ${k} | ${r.before[k]} | ${r.after[k]} |`),
    '',
    `cours_de_route checksum: \`${r.cdrBefore.checksum}\` → \`${r.cdrAfter.checksum}\` ${r.cdrBefore.checksum === r.cdrAfter.checksum ? '(unchanged)' : '(CHANGED)'}`,
  ];
  if (r.problems.length) lines.push('', '**Problems**', '', ...r.problems.map((p) => `- ${p}`));
  const left = r.leftovers;
  if (left.snapshotWithStock.length || left.cdrDecharge.length) {
    lines.push('', '**Left behind**', '');
    for (const s of left.snapshotWithStock)
      lines.push(`- stocks_snapshot ${s.citerne} ${s.produit} ${s.proprietaire_type}: ${s.stock_ambiant} L (${s.stock_15c} L @15 °C)`);
    for (const x of left.cdrDecharge)
      lines.push(`- cours de route ${x.plaque_camion} (${x.date_chargement}) in DECHARGE: cannot be received again`);
  }
  return `${lines.join('\n')}\n`;
}
