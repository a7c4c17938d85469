import type { ApplyResult } from '../results/sql-apply.js';

/** Pure renderers of an apply result (runbook 4.3): verdict, the two functions, every change. */

const VERDICT: Record<ApplyResult['status'], string> = {
  applied: 'APPLIED and committed',
  'already-applied': 'ALREADY APPLIED: nothing done',
  'dry-run': 'DRY RUN passed: rolled back, nothing changed',
  rejected: 'REJECTED: rolled back, nothing changed',
  drift: 'DRIFT: the ledger says applied, the live catalog says otherwise; nothing done',
};

const yes = (b: boolean) => (b ? 'yes' : 'no');

export function renderApplyText(r: ApplyResult): string {
  const lines = [
    `apply ${r.file.display} → ${r.target}`,
    `${VERDICT[r.status]}`,
    `sha256 ${r.file.sha256} (${r.file.bytes} bytes, ${r.file.statements} statements${r.file.droppedTransactionControl.length ? `, own BEGIN/COMMIT at line${r.file.droppedTransactionControl.length > 1 ? 's' : ''} ${r.file.droppedTransactionControl.join(', ')} replaced by the pipeline's transaction` : ''})`,
    `run ${r.run.runId} by ${r.run.actor}`,
    `fingerprint before ${r.fingerprintBefore.sha256}`,
    `fingerprint after  ${r.fingerprintAfter.sha256}`,
  ];
  if (r.ledger && r.status === 'already-applied')
    lines.push(`ledger: applied ${r.ledger.appliedAt}, run ${r.ledger.runId}, by ${r.ledger.appliedBy}`);
  for (const f of r.functions) {
    lines.push(
      `  ${f.problems.length ? 'FAIL' : 'ok  '} ${f.signature ?? f.name}: replaced ${yes(f.replaced)}, SECURITY DEFINER ${yes(f.securityDefiner)}, search_path ${f.searchPath ?? '(none)'}`,
    );
  }
  if (r.diff.length) lines.push('changes:', ...r.diff.map((d) => `  ${d.change} ${d.kind} ${d.name}`));
  if (r.dataChanges.length) {
    lines.push(
      `rows changed${r.allowData ? ` (declared: ${r.allowData})` : ''}:`,
      ...r.dataChanges.map((d) => `  ${d.table}: +${d.inserted} ~${d.updated} -${d.deleted}`),
    );
  }
  if (r.violations.length) lines.push('problems:', ...r.violations.map((v) => `  ${v}`));
  return `${lines.join('\n')}\n`;
}

export function renderApplyMarkdown(r: ApplyResult): string {
  const icon = r.ok ? '✅' : '❌';
  const out = [
    `### SQL apply (runbook 4.3): ${icon} ${VERDICT[r.status]}`,
    '',
    `\`${r.file.display}\`, sha256 \`${r.file.sha256}\`, run \`${r.run.runId}\` by ${r.run.actor}.`,
    '',
    `Catalog fingerprint before \`${r.fingerprintBefore.sha256.slice(0, 16)}…\`, after \`${r.fingerprintAfter.sha256.slice(0, 16)}…\` (${r.fingerprintAfter.entries.length} objects).`,
    '',
  ];
  if (r.functions.length) {
    out.push('| function | replaced | SECURITY DEFINER | search_path | verdict |', '| --- | --- | --- | --- | --- |');
    for (const f of r.functions) {
      out.push(
        `| \`${f.signature ?? f.name}\` | ${yes(f.replaced)} | ${yes(f.securityDefiner)} | ${f.searchPath ?? '—'} | ${f.problems.length ? `❌ ${f.problems.join('; ')}` : '✅'} |`,
      );
    }
    out.push('');
  }
  const others = r.diff.filter((d) => !r.functions.some((f) => f.signature === d.name && d.kind === 'function'));
  out.push(
    others.length ? `**Other changes (forbidden): ${others.length}**` : 'No trigger, policy, RLS switch, grant or other function changed.',
    '',
  );
  for (const d of others) out.push(`- ${d.change} ${d.kind} \`${d.name}\``);
  if (others.length) out.push('');
  out.push(
    r.dataChanges.length
      ? `**Rows of application tables changed${r.allowData ? ` (declared: ${r.allowData})` : ' (not declared: forbidden)'}**`
      : 'No row of an application table changed.',
    '',
  );
  for (const d of r.dataChanges) out.push(`- \`${d.table}\`: ${d.inserted} inserted, ${d.updated} updated, ${d.deleted} deleted`);
  if (r.dataChanges.length) out.push('');
  if (r.status === 'drift') out.push(...r.violations.map((v) => `- ❌ ${v}`), '');
  return out.join('\n');
}
