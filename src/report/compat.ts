import type { CompatItem, CompatResult } from '../results/compat.js';

/** Pure renderers of a compat result. Only what needs attention is listed item by item. */

const mark = (i: CompatItem) => (i.status === 'ok' ? 'ok' : i.optional ? `${i.status} (optional)` : i.status.toUpperCase());

function line(i: CompatItem): string {
  const detail = [i.expected ? `expected ${i.expected}` : undefined, i.found ? `found ${i.found}` : undefined].filter(Boolean).join(', ');
  return `${mark(i).padEnd(20)} ${i.kind.padEnd(8)} ${i.name}${detail ? `  (${detail})` : ''}`;
}

export function renderCompatText(r: CompatResult, opts: { verbose?: boolean } = {}): string {
  const shown = opts.verbose ? r.items : r.items.filter((i) => i.status !== 'ok' && !i.optional);
  return [
    `compat: ${r.target} (${r.server.engine} ${r.server.version})`,
    `${r.compatible ? 'COMPATIBLE' : 'NOT COMPATIBLE'}: ${r.counts.ok} ok, ${r.counts.missing} missing, ${r.counts.different} different, of ${r.items.length - r.optionalMissing} required (${r.optionalMissing} optional absent)`,
    ...shown.map(line),
    ...r.security.map((f) => `security: ${f.name}: ${f.finding}`),
    ...(opts.verbose && !r.security.length ? ['security: no finding (row level security is on wherever ML_PP uses it)'] : []),
    ...r.notes.map((n) => `note: ${n}`),
    '',
  ].join('\n');
}

export function renderCompatMarkdown(r: CompatResult): string {
  const attention = r.items.filter((i) => i.status !== 'ok' && !i.optional);
  const rows = attention.map((i) => `| ${mark(i)} | ${i.kind} | \`${i.name}\` | ${i.expected ?? ''} | ${i.found ?? ''} |`);
  return [
    `### Compatibility: ${r.compatible ? '✅ compatible' : '❌ not compatible'}`,
    '',
    `${r.server.engine} ${r.server.version}; ${r.counts.ok} ok, ${r.counts.missing} missing, ${r.counts.different} different, of ${r.items.length - r.optionalMissing} required; ${r.optionalMissing} optional absent.`,
    '',
    ...(rows.length ? ['| status | kind | object | expected | found |', '| --- | --- | --- | --- | --- |', ...rows, ''] : []),
    ...(r.security.length
      ? [
          '**Security findings** (not needed by the pipeline, for the depot to fix):',
          '',
          ...r.security.map((f) => `- ⚠️ \`${f.name}\`: ${f.finding}`),
          '',
        ]
      : []),
    ...r.notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
}
