import type { PreflightResult } from '../results/preflight.js';

/** Pure renderers of a preflight result (CLI text and job summary). */

const touches = (r: PreflightResult['changeFiles'][number]) =>
  [...r.touches.functions.map((f) => `${f}()`), ...r.touches.triggers, ...r.touches.policies, ...r.touches.tables].join(', ') ||
  'nothing recognised';

const securityCount = (r: PreflightResult) =>
  r.compat.security.length ? `; ${r.compat.security.length} security finding${r.compat.security.length > 1 ? 's' : ''} (see warnings)` : '';

export function renderPreflightText(r: PreflightResult): string {
  const lines = [
    `preflight: ${r.passed ? 'PASS' : 'FAIL'} on ${r.target} (${r.server.engine} ${r.server.version}), environment ${r.environment.env}`,
    ...r.failures.map((f) => `  FAIL ${f.code}: ${f.message}`),
    ...r.warnings.map((w) => `  warn: ${w}`),
    `golden: ${r.golden.file} (${r.golden.cases} cases, sha256 ${r.golden.sha256})`,
    ...r.changeFiles.map((c) => `change: ${c.file} sha256 ${c.sha256} (${c.statements} statements; touches ${touches(c)})`),
    `compat: ${r.compat.compatible ? 'compatible' : 'NOT compatible'} (${r.compat.counts.missing} missing, ${r.compat.counts.different} different${securityCount(r)})`,
    `drift: ${r.drift ? (r.drift.changes.length ? `${r.drift.changes.length} difference(s) from ${r.drift.baseline}` : `none (${r.drift.objectsCompared} objects compared with ${r.drift.baseline})`) : 'not checked (no baseline)'}`,
    `deployment: flutter commit ${r.deployment.flutterCommit ?? 'not given'}, ASTM flag ${r.deployment.astmFlag ?? 'not declared'}; the database ${r.deployment.databaseComputes15c ? `computes 15 °C volumes itself (${r.deployment.computeTriggers.join(', ')})` : 'stores the 15 °C volume the app sends'}`,
    `GASOIL receptions in the database: ${r.gasoilReceptions.length}`,
    `trucks arrived, not received: ${r.pendingTrucks.length ? r.pendingTrucks.map((t) => `${t.plaque_camion} (${t.id})`).join(', ') : 'none'}`,
    `app activity (last ${r.activity.windowMinutes} min): ${r.activity.writing ? r.activity.seen.join('; ') : 'none'}`,
  ];
  return `${lines.join('\n')}\n`;
}

export function renderPreflightMarkdown(r: PreflightResult): string {
  const row = (k: string, v: string) => `| ${k} | ${v.replace(/\|/g, '\\|')} |`;
  return [
    `### Preflight: ${r.passed ? '✅ PASS' : '❌ FAIL'}`,
    '',
    ...r.failures.map((f) => `- **${f.code}**: ${f.message}`),
    ...r.warnings.map((w) => `- ⚠️ ${w}`),
    '',
    '| item | value |',
    '| --- | --- |',
    row('target', `${r.target} (${r.server.engine} ${r.server.version})`),
    row('environment', `${r.environment.env}: ${r.environment.explanation}`),
    row('golden file', `\`${r.golden.file}\` — ${r.golden.cases} cases, sha256 \`${r.golden.sha256}\``),
    ...r.changeFiles.map((c) => row('change file', `\`${c.file}\` — sha256 \`${c.sha256}\`; touches ${touches(c)}`)),
    row(
      'compat',
      (r.compat.compatible ? 'compatible' : `NOT compatible: ${r.compat.counts.missing} missing, ${r.compat.counts.different} different`) +
        securityCount(r),
    ),
    row(
      'drift',
      r.drift
        ? r.drift.changes.length
          ? r.drift.changes.map((d) => `${d.kind} \`${d.name}\` ${d.change}`).join('<br>')
          : `none (${r.drift.objectsCompared} objects)`
        : 'not checked',
    ),
    row('Flutter commit / ASTM flag', `${r.deployment.flutterCommit ?? '—'} / ${r.deployment.astmFlag ?? '—'}`),
    row(
      '15 °C computed by',
      r.deployment.databaseComputes15c
        ? `the database (${r.deployment.computeTriggers.join(', ')})`
        : 'the app (the database stores what it is sent)',
    ),
    row('GASOIL receptions', String(r.gasoilReceptions.length)),
    row('trucks waiting (receive after ASTM validation)', r.pendingTrucks.map((t) => t.plaque_camion).join(', ') || 'none'),
    row('app activity', r.activity.writing ? r.activity.seen.join('; ') : 'none'),
    '',
  ].join('\n');
}
