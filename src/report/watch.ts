import type { WatchResult } from '../results/watch.js';

/** The watch pass as text (CLI) and markdown (job summary): the verdict first, then each check, the movements off ASTM, the complaints. */
export function renderWatchText(w: WatchResult): string {
  const lines = [
    `watch of ${w.target} at ${w.at}: ${w.decision === 'GO-HOLDS' ? 'GO holds (nothing found)' : 'NO-GO under runbook 6.1: a person decides the rollback'}`,
    `  GO         run ${w.go.goRunId}, decided ${w.go.decidedAt}; bundle ${w.go.bundle} SHA-256 ${w.go.bundleSha256}${w.go.signatureValid === null ? ' (signature not checked)' : w.go.signatureValid ? ' (signature valid)' : ' (SIGNATURE INVALID)'}`,
    `  window     ${w.window.hours} h, until ${w.window.endsAt}${w.window.over ? ' (over)' : ''}${w.window.closing ? '; closing pass' : ''}`,
    ...w.checks.map((c) => `  ${c.passed ? '✓' : '✗'} ${c.id.padEnd(10)} ${c.findings.map((f) => f.message).join('; ')}`),
    ...w.movements
      .filter((m) => m.deviation_l === null || Math.abs(m.deviation_l) > w.toleranceL)
      .map(
        (m) =>
          `    ${m.kind} ${m.id} ${m.citerne ?? ''} ${m.date}: stored ${m.stored_15c_l ?? '—'} L, ASTM ${m.astm_15c_l ?? '—'} L${m.problem ? ` (${m.problem})` : ''}`,
      ),
    ...w.complaints.map(
      (c) => `  complaint  ${c.who} ${c.when}${c.issue ? ` #${c.issue.number} ${c.issue.url}` : ' (given by hand)'}: ${c.what}`,
    ),
    ...(w.incident
      ? [
          `  incident   ${w.incident.action === 'none' ? 'no GitHub repository given: open it by hand (runbook 6.3)' : `issue #${w.incident.number} ${w.incident.action} ${w.incident.url}`}`,
        ]
      : []),
    ...(w.addendum
      ? [`  addendum   ${w.addendum.path} SHA-256 ${w.addendum.sha256}${w.addendum.signed ? ' (signed)' : ' (NOT signed)'}`]
      : []),
  ];
  return `${lines.join('\n')}\n`;
}

export function renderWatchMarkdown(w: WatchResult): string {
  return [
    `## ASTM53B watch after the GO ${w.decision === 'GO-HOLDS' ? '✅ GO holds' : '❌ NO-GO (runbook 6.1)'}`,
    '',
    ...(w.reasons.length ? [...w.reasons.map((r) => `- **${r.runbook} ${r.condition}**: ${r.message}`), ''] : []),
    '```',
    renderWatchText(w).trimEnd(),
    '```',
    '',
  ].join('\n');
}
