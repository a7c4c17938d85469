import type { EvidenceFacts } from '../results/evidence.js';
import { RESULTS } from '../results/files.js';

/**
 * Runbook 5.7: the CHANGELOG entry in ML_PP's own "→ PROD" style (`## [date] — Titre (PROD)`,
 * then 🚀 Déploiement PROD, Database, Validation technique, Sécurité, ⚠️ Statut, Impact, Type),
 * in French like the file it goes into. Everything it states comes from the results: the date,
 * the Flutter commit, the backup used with its SHA-256, the SEP files, the measured deviations
 * and the decision. What is missing is said, not left out.
 */
export interface ChangelogEntryOptions {
  /** YYYY-MM-DD of the heading */
  date: string;
  title: string;
  run?: { runId?: string | null; actor?: string | null; pipelineCommit?: string | null };
}

export const DEFAULT_CHANGELOG_TITLE = 'Migration ASTM 53B (API MPMS 11.1) + DB-STRICT validate_sortie';

const MISSING = '**NON ENREGISTRÉ**';
const code = (s: string) => `\`${s.replaceAll('`', "'")}\``;
const litres = (x: number | null) => (x === null ? '–' : `${x > 0 ? '+' : x < 0 ? '−' : ''}${Math.abs(x).toFixed(1)} L`);

function deploymentHeading(decision: string): string {
  if (decision === 'GO') return '### 🚀 Déploiement PROD — GO contrôlé';
  if (decision === 'NO-GO') return '### 🚀 Déploiement PROD — NO-GO (rollback)';
  return '### 🚀 Déploiement PROD — décision non enregistrée';
}

export function renderChangelogEntry(results: EvidenceFacts, opts: ChangelogEntryOptions): string {
  const r = results;
  const out: string[] = [];
  out.push(`## [${opts.date}] — ${opts.title} (PROD)`, '');

  out.push(deploymentHeading(r.decision), '');
  out.push(`- Date exacte de migration : ${r.migrationAt ? code(r.migrationAt) : MISSING}`);
  out.push(`- Commit Flutter déployé : ${r.flutterCommit ? code(r.flutterCommit) : MISSING}`);
  out.push(`- Flag ASTM déclaré : ${r.astmFlag ?? 'non déclaré'}`);
  out.push(`- Décision GO/NO-GO : **${r.decision === 'NONE' ? 'aucune décision enregistrée' : r.decision}**`);
  const run = opts.run;
  if (run?.runId || run?.actor || run?.pipelineCommit) {
    out.push(
      `- Exécution pipeline astm53b : ${[run.runId ? code(run.runId) : null, run.actor ? `par ${run.actor}` : null, run.pipelineCommit ? `commit ${code(run.pipelineCommit)}` : null].filter(Boolean).join(', ')}`,
    );
  }
  if (r.target) out.push(`- Cible : ${code(r.target)}`);
  out.push('');

  out.push('### Database', '');
  if (r.applied) {
    out.push(`- Fichier appliqué : ${code(r.applied.file)}${r.applied.sha256 ? ` (SHA-256 ${code(r.applied.sha256)})` : ''}`);
    out.push(
      `  - statut : ${r.applied.status ?? 'non précisé'}, preuve 4.3 : ${r.applied.ok === null ? 'non précisée' : r.applied.ok ? 'OK' : 'ÉCHEC'}`,
    );
  } else {
    out.push(`- Aucun résultat sql-apply dans les résultats : ${MISSING}`);
  }
  out.push('');

  out.push('### Validation technique', '');
  const g = r.golden;
  if (g) {
    const within = g.cases.filter((c) => c.verdict === 'PASS').length;
    out.push(
      `- Cas golden ML_PP vs SEP : ${within}/${g.cases.length} dans ±${g.tolerance_l} L${g.max_deviation_l !== null ? `, écart max ${g.max_deviation_l.toFixed(1)} L` : ''}${g.profile ? `, profil ${code(g.profile)}` : ''}`,
    );
    out.push('- Écarts mesurés :', '');
    out.push('  | référence | SEP (L) | ML_PP − SEP | moteur − SEP | verdict |');
    out.push('  |---|---:|---:|---:|---|');
    for (const c of g.cases) {
      out.push(
        `  | ${c.reference.replaceAll('|', '/')} | ${c.sep_l.toFixed(1)} | ${litres(c.mlpp_deviation_l)} | ${litres(c.engine_deviation_l)} | ${c.verdict ?? '–'} |`,
      );
    }
    out.push('');
  } else {
    out.push(`- Écarts ML_PP vs SEP : ${MISSING} (pas de golden.json)`);
  }
  for (const s of r.steps) {
    if (s.passed === null && s.detail === null) continue;
    // where the entry itself went: not a step of the migration, and unknown when the entry is proposed
    if (s.file.endsWith(`/${RESULTS.changelog.file}`)) continue;
    out.push(`- ${code(s.file)} : ${[s.passed === null ? null : s.passed ? '✅' : '❌', s.detail].filter(Boolean).join(' ')}`);
  }
  out.push('');

  out.push('### Sécurité', '');
  const b = r.backup;
  if (b) {
    out.push(
      `- Backup PROD effectué avant migration : ${code(b.dumpFile)} (SHA-256 ${code(b.sha256)}, ${b.bytes} octets${b.takenAt ? `, pris le ${b.takenAt}` : ''})`,
    );
    if (b.plaintextSha256) out.push(`  - chiffré (age) ; SHA-256 du dump en clair : ${code(b.plaintextSha256)}`);
    out.push(
      `  - restauration de contrôle : ${b.verified === null ? 'non enregistrée' : b.verified ? 'OK (verification.json)' : 'ÉCHEC (verification.json)'}`,
    );
    if (!b.dumpMatchesManifest) out.push('  - ⚠️ le dump du bundle ne correspond pas au manifeste du backup');
  } else {
    out.push(`- Backup PROD utilisé : ${MISSING}`);
  }
  if (r.sep.length) {
    out.push('- Confirmation terrain SEP archivée :');
    for (const s of r.sep) out.push(`  - ${code(s.path)} (SHA-256 ${code(s.sha256)})`);
  } else {
    out.push(`- Confirmation terrain SEP (mail / WhatsApp) : ${MISSING}`);
  }
  out.push('');

  out.push('### ⚠️ Statut', '');
  if (r.decision === 'GO') out.push('- GO contrôlé / sous surveillance');
  else if (r.decision === 'NO-GO') {
    const rb = r.steps.find((s) => s.file.endsWith(`/${RESULTS.rollback.file}`));
    out.push(
      `- NO-GO : rollback (runbook 6.2) ${rb ? (rb.passed ? `restauré depuis le dump vérifié et prouvé (${code(rb.file)})` : `**ÉCHEC** (${code(rb.file)})`) : MISSING}`,
    );
  } else out.push(`- Décision : ${r.decision === 'NONE' ? 'aucune' : r.decision}`);
  const missing = r.archives.filter((a) => !a.present);
  out.push(
    missing.length
      ? `- Archives runbook 5.7 incomplètes : ${missing.map((a) => a.item).join(' ; ')}. Aucune migration ASTM53B ne sera considérée valide sans ces archives.`
      : '- Archives runbook 5.7 complètes (bundle de preuves vérifiable : `astm53b evidence verify`)',
  );
  out.push('');

  out.push('### Impact', '');
  out.push('- Volumes à 15 °C selon ASTM D1250 / API MPMS 11.1 Tables 53B/54B');
  out.push('- `validate_sortie` durci (DB-STRICT : SECURITY DEFINER, `search_path=public`)');
  out.push('');

  out.push('### Type', '');
  out.push('- MIGRATION PROD (VOLUMÉTRIE / DB-STRICT)');
  return `${out.join('\n')}\n`;
}
