import type { SmokeResult } from '../results/smoke.js';

/** Renderers of the smoke result (pure): text for the CLI, markdown for the job summary. */

const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');
const mark = (passed: boolean, ran = true) => (!ran ? 'NOT RUN' : passed ? 'PASS' : 'FAIL');

function movementLines(r: SmokeResult): string[] {
  const out: string[] = [];
  const m = r.movements;
  if (m.otherOwnerReception) {
    const x = m.otherOwnerReception;
    out.push(
      `${x.owner} reception ${x.id} (partner ${x.partenaire_id}${x.partner_created ? ', a test partner created by the smoke' : ''}), so that the sortie has another owner's row of the day to leave alone: index ${x.index_avant} → ${x.index_apres} = ${x.volume_ambiant} L at ${x.temperature_c} °C; stored ${x.stored_15c ?? '–'} L @15 °C`,
    );
  }
  if (m.cdr) out.push(`test truck ${m.cdr.id} (plate "${m.cdr.plaque_camion}"), ${m.cdr.statut_after ?? '?'} after its reception`);
  if (m.reception) {
    const x = m.reception;
    out.push(
      `reception ${x.id}: index ${x.index_avant} → ${x.index_apres} = ${x.volume_ambiant} L at ${x.temperature_c} °C, ρobs ${x.densite_observee_kgm3} kg/m³; engine ${x.engine_15c} L @15 °C (ρ15 ${x.engine_density15}); stored ${x.stored_15c ?? '–'} L in ${x.stored_in ?? '–'}`,
    );
  }
  if (m.sortie) {
    const x = m.sortie;
    out.push(
      `sortie ${x.id}: index ${x.index_avant} → ${x.index_apres} = ${x.volume_ambiant ?? '–'} L at ${x.temperature_c} °C; 15 °C volume ${x.volume_15c_debited ?? '–'} L; statut ${x.statut ?? '?'}`,
    );
  }
  return out;
}

function rollbackLines(r: SmokeResult): string[] {
  const b = r.rollback;
  return [
    `transaction rolled back: nothing the smoke wrote was ever committed${r.movements.reception || r.movements.sortie ? ' (the rows above existed only inside it)' : ''}`,
    `${r.tank?.nom ?? 'the tank'} read afresh after the rollback, against before the smoke: ${b.unchanged ? 'unchanged' : 'CHANGED'}`,
    ...b.summary,
  ];
}

export function renderSmokeText(r: SmokeResult): string {
  const out: string[] = [];
  out.push(`Smoke ${r.passed ? 'PASS' : 'FAIL'} · ${r.target} (${r.environment}${r.frozen ? ', frozen' : ''}) · ${r.at}`);
  out.push(
    `as ${r.user.role} ${r.user.id} (${r.user.chosenBy}); tank ${r.tank?.nom ?? '–'} (${r.tank?.chosenBy ?? ''}); day ${r.day ?? '–'}; profile ${r.profile} (${r.profileSource}), ±${r.toleranceL} L`,
  );
  out.push('');
  for (const c of r.checks) {
    out.push(`${c.id} ${mark(c.passed, c.ran)}  ${c.title}`);
    if (!c.ran) out.push(`    ${c.message}`);
    for (const f of c.findings)
      out.push(`    ${f.passed ? 'ok  ' : 'FAIL'} ${f.code}: ${f.message}${f.condition ? ` [${f.condition}]` : ''}`);
  }
  out.push('', 'Movements:', ...movementLines(r).map((l) => `  ${l}`));
  out.push('', 'Rollback:', ...rollbackLines(r).map((l) => `  ${l}`));
  if (r.errors.length) out.push('', 'Unexpected SQL errors:', ...r.errors.map((e) => `  ${e.step}: ${e.code} ${e.message}`));
  return `${out.join('\n')}\n`;
}

export function renderSmokeMarkdown(r: SmokeResult): string {
  const out: string[] = [];
  out.push(`## Smoke tests (runbook 4.5, 5.1–5.5): ${r.passed ? '✅ PASS' : '❌ FAIL'}`, '');
  out.push(
    `Target \`${r.target}\` (${r.environment}${r.frozen ? ', frozen' : ''}), as **${r.user.role}** \`${r.user.id}\`, tank **${r.tank?.nom ?? '–'}**, day ${r.day ?? '–'}, profile \`${r.profile}\`, ±${r.toleranceL} L.`,
    '',
  );
  out.push('| check | result | finding | detail |', '| --- | --- | --- | --- |');
  for (const c of r.checks) {
    if (!c.findings.length) out.push(`| ${c.id} | ${mark(c.passed, c.ran)} | – | ${cell(c.message)} |`);
    for (const f of c.findings)
      out.push(
        `| ${c.id} | ${f.passed ? 'ok' : '**FAIL**'} | \`${f.code}\` | ${cell(f.message)}${f.condition ? ` (${f.condition})` : ''} |`,
      );
  }
  out.push('', '### Movements', '', ...movementLines(r).map((l) => `- ${cell(l)}`));
  out.push('', '### Rollback', '', ...rollbackLines(r).map((l) => `- ${cell(l)}`));
  if (r.errors.length)
    out.push('', '### Unexpected SQL errors', '', ...r.errors.map((e) => `- ${cell(`${e.step}: ${e.code} ${e.message}`)}`));
  return `${out.join('\n')}\n`;
}
