import type { CaseResult, DriftReport, GoldenReport } from '../results/golden.js';
import { maxOf, minOf, pushAll } from '../lists.js';

/**
 * Renderers of the golden verification (pure; golden-file tested). The markdown is a GitHub job
 * summary: inline SVG and data-URI images are stripped there, mermaid is rendered, so the chart of
 * deviations is a mermaid `xychart-beta`.
 */

const l1 = (x: number) => x.toFixed(1);
const signed = (x: number) => (Math.abs(x) < 0.05 ? '0.0' : `${x > 0 ? '+' : '−'}${Math.abs(x).toFixed(1)}`);
const opt = (x: number | null, f: (x: number) => string = l1) => (x === null ? '–' : f(x));
const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

function where(c: CaseResult): string {
  return `${c.where.file}${c.where.line !== undefined ? ` line ${c.where.line}` : ''}, row ${c.where.row}`;
}

// ---------------------------------------------------------------------------------------------
// text (CLI)

export function renderGoldenText(r: GoldenReport): string {
  const out: string[] = [];
  out.push(`Golden cases: ${r.passed ? 'PASS' : 'FAIL'} (${r.counts.passed}/${r.counts.cases} within ±${r.tolerance_l} L) · ${r.origin}`);
  out.push(
    `Profile ${r.profile} (${r.profile_chosen_by === 'option' ? 'given' : 'found from the cases'})${r.indistinguishable_from.length ? `; the cases cannot tell it from ${r.indistinguishable_from.join(', ')}` : ''}`,
  );
  out.push('');
  const rows = r.cases.map((c) => [
    c.reference,
    c.verdict,
    l1(c.engine_volume_15c_l),
    l1(c.sep_volume_15c_l),
    opt(c.mlpp_volume_15c_l),
    opt(c.mlpp_restated_15c_l, signed),
    opt(c.mlpp_effective_15c_l),
    signed(c.deviation_l),
    opt(c.mlpp_deviation_l, signed),
  ]);
  pushAll(
    out,
    table(['case', 'verdict', 'engine 15°C L', 'SEP L', 'ML_PP stored L', 'restated L', 'ML_PP eff. L', 'eng−SEP', 'ML_PP−SEP'], rows, [
      false,
      false,
      true,
      true,
      true,
      true,
      true,
      true,
      true,
    ]),
  );
  if (r.cases.some((c) => c.mlpp_volume_15c_l !== null))
    out.push('', "ML_PP's effective value (stored + its `astm53b restate` adjustments) is the one compared with SEP.");
  const failing = r.cases.filter((c) => c.verdict === 'FAIL');
  if (failing.length) {
    out.push('', 'Diagnosis:');
    for (const c of failing) out.push(`  ${c.reference} (${where(c)}): ${c.diagnosis.explanation}`);
  }
  out.push('', 'Profiles (volumes reproduced within the tolerance; SEP ρ15 / VCF reproduced; max and mean |engine − SEP|):');
  out.push(
    ...table(
      ['profile', 'volumes', 'ρ15', 'VCF', 'max L', 'mean L'],
      rankedProfiles(r).map((p) => [
        p.profile + (p.profile === r.profile ? ' *' : ''),
        `${p.reproduced}/${p.total}`,
        String(p.density15_matches),
        String(p.vcf_matches),
        opt(p.max_abs_deviation_l),
        opt(p.mean_abs_deviation_l),
      ]),
      [false, true, true, true, true, true],
    ).map((l) => `  ${l}`),
  );
  if (r.drift) pushAll(out, ['', ...driftText(r.drift)]);
  return `${out.join('\n')}\n`;
}

export function renderDriftText(d: DriftReport): string {
  return `${driftText(d).join('\n')}\n`;
}

function driftText(d: DriftReport): string[] {
  const out = [`Drift of stored 15 °C volumes against ASTM 53B (${d.profile}), stored − ASTM:`];
  out.push(
    ...table(
      ['tank', 'receptions', 'stored L', 'ASTM L', 'drift L'],
      [
        ...d.tanks.map((t) => [t.citerne, String(t.receptions), l1(t.stored_15c_l), l1(t.astm_15c_l), signed(t.drift_l)]),
        ['total', String(d.total.recomputed), l1(d.total.stored_15c_l), l1(d.total.astm_15c_l), signed(d.total.drift_l)],
      ],
      [false, true, true, true, true],
    ).map((l) => `  ${l}`),
  );
  const skipped = d.receptions.filter((x) => x.problem !== null);
  for (const s of skipped) out.push(`  not recomputed: reception ${s.reception_id} (${s.citerne}): ${s.problem}`);
  return out;
}

function table(head: string[], rows: string[][], right: boolean[]): string[] {
  const w = head.map((h, i) =>
    maxOf(
      rows.map((r) => r[i]!.length),
      h.length,
    ),
  );
  const line = (r: string[]) =>
    r
      .map((v, i) => (right[i] ? v.padStart(w[i]!) : v.padEnd(w[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), ...rows.map(line)];
}

function rankedProfiles(r: GoldenReport) {
  // the same order as the discovery: chosen first, then by volumes, printed figures, mean deviation
  return [...r.profiles].sort(
    (a, b) =>
      Number(b.profile === r.profile) - Number(a.profile === r.profile) ||
      b.reproduced - a.reproduced ||
      b.density15_matches + b.vcf_matches - (a.density15_matches + a.vcf_matches) ||
      (a.mean_abs_deviation_l ?? Infinity) - (b.mean_abs_deviation_l ?? Infinity),
  );
}

// ---------------------------------------------------------------------------------------------
// markdown (job summary)

export function renderGoldenMarkdown(r: GoldenReport): string {
  const out: string[] = [];
  out.push(`## Golden cases: ${r.passed ? '✅ PASS' : '❌ FAIL'}`, '');
  out.push(
    `**${r.counts.passed}/${r.counts.cases}** cases within **±${r.tolerance_l} L** of SEP` +
      (r.counts.mlpp_compared
        ? ` (ML_PP's effective value, stored + restatement adjustments, compared on ${r.counts.mlpp_compared})`
        : '') +
      ` · largest deviation ${l1(r.max_deviation_l)} L · source \`${r.origin}\``,
    '',
  );
  out.push(
    `Profile \`${r.profile}\` (${r.profile_chosen_by === 'option' ? 'given' : 'found from the cases'})` +
      (r.indistinguishable_from.length
        ? `; the cases cannot tell it from ${r.indistinguishable_from.map((p) => `\`${p}\``).join(', ')}`
        : '') +
      '.',
    '',
  );
  out.push(
    '| case | verdict | engine 15 °C (L) | SEP (L) | ML_PP stored (L) | ML_PP effective (L) | engine − SEP (L) | ML_PP − SEP (L) |',
    '|---|---|---:|---:|---:|---:|---:|---:|',
  );
  for (const c of r.cases) {
    out.push(
      `| ${cell(c.reference)} | ${c.verdict === 'PASS' ? '✅ PASS' : '❌ FAIL'} | ${l1(c.engine_volume_15c_l)} | ${l1(c.sep_volume_15c_l)} | ${opt(c.mlpp_volume_15c_l)} | ${opt(c.mlpp_effective_15c_l)}${c.mlpp_restated_15c_l === null ? '' : ` (${signed(c.mlpp_restated_15c_l)} restated)`} | ${signed(c.deviation_l)} | ${opt(c.mlpp_deviation_l, signed)} |`,
    );
  }
  out.push('', ...chart(r), '');
  const failing = r.cases.filter((c) => c.verdict === 'FAIL');
  const passing = r.cases.filter((c) => c.verdict === 'PASS');
  if (failing.length) {
    out.push('### Failing cases', '');
    for (const c of failing) out.push(...caseBlock(c));
  }
  if (passing.length) {
    out.push('<details><summary>Passing cases</summary>', '');
    for (const c of passing) out.push(...caseBlock(c));
    out.push('</details>', '');
  }
  out.push('### Which profile reproduces SEP', '');
  out.push(
    '| profile | volumes within ±' +
      `${r.tolerance_l} L | SEP ρ15 reproduced | SEP VCF reproduced | max \\|engine − SEP\\| (L) | mean (L) |`,
    '|---|---:|---:|---:|---:|---:|',
  );
  for (const p of rankedProfiles(r)) {
    const name = p.profile === r.profile ? `**\`${p.profile}\`**` : `\`${p.profile}\``;
    out.push(
      `| ${name} | ${p.reproduced}/${p.total}${p.errors ? ` (${p.errors} out of table)` : ''} | ${p.density15_matches} | ${p.vcf_matches} | ${opt(p.max_abs_deviation_l)} | ${opt(p.mean_abs_deviation_l)} |`,
    );
  }
  out.push('');
  if (r.drift) pushAll(out, driftMarkdown(r.drift));
  return `${out.join('\n')}\n`;
}

function caseBlock(c: CaseResult): string[] {
  const m = c.mlpp;
  return [
    `#### ${c.verdict === 'PASS' ? '✅' : '❌'} ${cell(c.reference)} (${cell(where(c))})`,
    '',
    `${l1(c.volume_observe_l)} L at ${l1(c.temperature_c)} °C, density ${c.densite_observee_kgm3} kg/m³${c.reception_id ? ` · reception \`${c.reception_id}\`${m?.citerne ? ` (${cell(m.citerne)})` : ''}` : ''}`,
    '',
    '| | engine | SEP | ML_PP |',
    '|---|---:|---:|---:|',
    `| ρ15 (kg/m³) | ${l1(c.engine_density15_kgm3)} | ${opt(c.sep_density15_kgm3)} | ${m?.densite_a_15 == null ? '–' : `${m.densite_a_15} (observed)`} |`,
    `| VCF | ${c.engine_vcf} | ${c.sep_vcf ?? '–'} | – |`,
    `| volume at 15 °C (L) | ${l1(c.engine_volume_15c_l)} | ${l1(c.sep_volume_15c_l)} | ${opt(c.mlpp_volume_15c_l)}${m?.stored_column ? ` (${m.stored_column})` : ''} |`,
    ...(c.mlpp_restated_15c_l === null
      ? []
      : [
          `| restated (\`stocks_adjustments\`, L) | | | ${signed(c.mlpp_restated_15c_l)} |`,
          `| effective at 15 °C (L) | | | ${opt(c.mlpp_effective_15c_l)} |`,
        ]),
    `| deviation from SEP (L) | ${signed(c.deviation_l)} | | ${opt(c.mlpp_deviation_l, signed)} |`,
    '',
    `${c.verdict === 'PASS' ? '' : '**Diagnosis:** '}${cell(c.diagnosis.explanation)}`,
    '',
  ];
}

/** Bars: engine − SEP; a line: ML_PP − SEP when compared; two flat lines: the tolerance band. */
function chart(r: GoldenReport): string[] {
  const eng = r.cases.map((c) => c.deviation_l);
  const mlpp = r.cases.map((c) => c.mlpp_deviation_l);
  const hasMlpp = mlpp.some((x) => x !== null);
  const values = [...eng, ...mlpp.filter((x): x is number => x !== null), r.tolerance_l, -r.tolerance_l];
  const top = Math.ceil(maxOf(values) + 1);
  const bottom = Math.floor(minOf(values) - 1);
  const n = (x: number) => String(Math.round(x * 10) / 10);
  const labels = r.cases.map((c) => `"${c.reference.replaceAll('"', "'")}"`).join(', ');
  const lines = [
    '```mermaid',
    'xychart-beta',
    `  title "Deviation from SEP (L), band ±${r.tolerance_l} L"`,
    `  x-axis [${labels}]`,
    `  y-axis "litres" ${bottom} --> ${top}`,
    `  bar [${eng.map(n).join(', ')}]`,
    ...(hasMlpp ? [`  line [${mlpp.map((x) => (x === null ? '0' : n(x))).join(', ')}]`] : []),
    `  line [${eng.map(() => n(r.tolerance_l)).join(', ')}]`,
    `  line [${eng.map(() => n(-r.tolerance_l)).join(', ')}]`,
    '```',
    '',
    `_Bars: engine − SEP per case${hasMlpp ? '; first line: ML_PP (effective) − SEP (0 where not compared)' : ''}; flat lines: the ±${r.tolerance_l} L band._`,
  ];
  return lines;
}

function driftMarkdown(d: DriftReport): string[] {
  const out = [
    '### Drift of the stored 15 °C volumes (runbook §2, dérive volumétrique)',
    '',
    `Stored (\`volume_15c\`, else \`volume_corrige_15c\`) − ASTM 53B recomputation (\`${d.profile}\`) of the ${d.total.receptions} validated receptions in the database.`,
    '',
    '| tank | receptions | stored (L) | ASTM (L) | drift (L) |',
    '|---|---:|---:|---:|---:|',
    ...d.tanks.map((t) => `| ${cell(t.citerne)} | ${t.receptions} | ${l1(t.stored_15c_l)} | ${l1(t.astm_15c_l)} | ${signed(t.drift_l)} |`),
    `| **total** | ${d.total.recomputed} | ${l1(d.total.stored_15c_l)} | ${l1(d.total.astm_15c_l)} | **${signed(d.total.drift_l)}** |`,
    '',
    '<details><summary>Per reception</summary>',
    '',
    '| reception | date | tank | owner | ambient (L) | °C | density | stored (L) | ASTM (L) | drift (L) |',
    '|---|---|---|---|---:|---:|---:|---:|---:|---:|',
    ...d.receptions.map(
      (x) =>
        `| \`${x.reception_id}\` | ${x.date_reception ?? '–'} | ${cell(x.citerne)} | ${x.proprietaire_type} | ${opt(x.volume_ambiant_l)} | ${opt(x.temperature_c)} | ${x.densite_kgm3 ?? '–'} | ${opt(x.stored_15c_l)} | ${opt(x.astm_15c_l)} | ${x.problem ? cell(x.problem) : opt(x.drift_l, signed)} |`,
    ),
    '',
    '</details>',
    '',
  ];
  return out;
}
