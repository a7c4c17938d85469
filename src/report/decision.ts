import type { Decision } from '../results/decision.js';

/** Renderers of the GO/NO-GO decision (pure; golden-file tested). */

const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

export function renderDecisionText(d: Decision): string {
  const out = [`Decision: ${d.decision} (${d.resultsDir})`, ''];
  for (const i of d.inputs) out.push(`  ${i.name.padEnd(9)} ${i.status.padEnd(10)} ${i.detail}`);
  if (d.reasons.length) {
    out.push('', `Reasons (${d.reasons.length}):`);
    for (const r of d.reasons) out.push(`  [${r.condition}] runbook ${r.runbook}: ${r.message} (${r.source})`);
  }
  return `${out.join('\n')}\n`;
}

export function renderDecisionMarkdown(d: Decision): string {
  const out = [`## GO / NO-GO (runbook 6.1, 7): ${d.decision === 'GO' ? '✅ GO' : '⛔ NO-GO'}`, ''];
  if (d.signoff)
    out.push(
      `Signed **${d.signoff.decision}** by ${cell(d.signoff.who)} (${cell(d.signoff.role)}) at ${d.signoff.at}${d.signoff.comment ? `: “${cell(d.signoff.comment)}”` : ''}.`,
      '',
    );
  if (d.approvals?.reviews.length) {
    const t = d.approvals.triggeredBy;
    out.push(
      `Run triggered by ${cell(t.actor)}${t.triggeringActor === t.actor ? '' : `, re-run by ${cell(t.triggeringActor)}`}. Reviews of its gates:`,
      '',
      '| gate | review | by | comment |',
      '| --- | --- | --- | --- |',
    );
    for (const r of d.approvals.reviews) out.push(`| ${cell(r.environment)} | ${r.state} | ${cell(r.who)} | ${cell(r.comment)} |`);
    out.push('');
  }
  out.push('| step | file | status | detail |', '| --- | --- | --- | --- |');
  for (const i of d.inputs)
    out.push(`| ${i.name} | \`${cell(i.file)}\` | ${i.status === 'passed' ? 'passed' : `**${i.status}**`} | ${cell(i.detail)} |`);
  if (d.reasons.length) {
    out.push('', '### Reasons', '', '| condition | runbook | rule | finding |', '| --- | --- | --- | --- |');
    for (const r of d.reasons) out.push(`| \`${r.condition}\` | ${r.runbook} | ${cell(r.rule)} | ${cell(r.message)} |`);
  }
  return `${out.join('\n')}\n`;
}
