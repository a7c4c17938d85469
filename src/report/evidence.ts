import type { BundleManifest, EvidenceFacts, GoldenFacts, VerifyResult } from '../results/evidence.js';
import { maxOf, pushAll } from '../lists.js';

/**
 * The bundle's report.md and report.html: what an auditor reads first. Both are drawn from one
 * list of sections so they always say the same thing; the HTML is self-contained (inline CSS,
 * inline SVG, no external resource) so it reads offline years later.
 */
export interface BundleView {
  /** the manifest as it stands before the generated files are added: files = results and SEP files */
  manifest: BundleManifest;
  facts: EvidenceFacts;
}

interface Section {
  title: string;
  lines: string[];
  table?: { head: string[]; rows: string[][]; align?: ('l' | 'r')[] };
  chart?: GoldenFacts;
}

const yesNo = (b: boolean | null) => (b === null ? '–' : b ? 'yes' : 'NO');
const pass = (b: boolean | null) => (b === null ? '–' : b ? 'PASS' : 'FAIL');
const l1 = (x: number | null) => (x === null ? '–' : `${x > 0 ? '+' : ''}${x.toFixed(1)}`);

function sections({ manifest: m, facts: f }: BundleView): Section[] {
  const out: Section[] = [];
  const missing = m.runbook57.items.filter((i) => !i.present);
  out.push({
    title: 'Summary',
    lines: [
      `Decision: ${m.decision === 'NONE' ? 'NONE (no decision.json in the results)' : m.decision}`,
      `Runbook 5.7 archives: ${m.runbook57.complete ? 'complete' : `INCOMPLETE (${missing.length} missing): no ASTM53B migration is valid without them`}`,
      `Bundle created: ${m.createdAt}`,
      `Migration time: ${m.times.migrationAt ?? 'not recorded'}`,
      `Steps recorded: ${m.times.firstStepAt ?? '–'} to ${m.times.lastStepAt ?? '–'}`,
      `Run: ${m.run.runId ?? '–'}${m.run.actor ? ` by ${m.run.actor}` : ''}${m.run.repository ? ` in ${m.run.repository}` : ''}`,
      ...(m.run.runUrl ? [`Run page: ${m.run.runUrl}`] : []),
      `Pipeline commit: ${m.commits.pipeline} (${m.commits.pipelineFrom})`,
      `Deployed Flutter commit: ${m.commits.flutterApp ?? 'not recorded'}`,
      `Target: ${m.target ?? '–'}`,
    ],
  });
  out.push({
    title: 'Runbook 5.7 archives',
    lines: [],
    table: {
      head: ['archive', 'present', 'evidence'],
      rows: m.runbook57.items.map((i) => [i.item, i.present ? 'yes' : 'MISSING', i.evidence]),
    },
  });
  out.push({
    title: 'Steps',
    lines: m.steps.length ? [] : ['No step result in the results folder.'],
    ...(m.steps.length
      ? {
          table: {
            head: ['file', 'passed', 'detail', 'at'],
            rows: m.steps.map((s) => [s.file, pass(s.passed), s.detail ?? '', s.at ?? '']),
          },
        }
      : {}),
  });
  const g = f.golden;
  out.push(
    g
      ? {
          title: 'Golden cases: ML_PP and engine against SEP',
          lines: [
            `${g.cases.filter((c) => c.verdict === 'PASS').length}/${g.cases.length} within ±${g.tolerance_l} L${g.profile ? `, profile ${g.profile}` : ''}${g.max_deviation_l !== null ? `, largest deviation ${g.max_deviation_l.toFixed(1)} L` : ''} (${g.file})`,
          ],
          table: {
            head: ['case', 'SEP 15 °C (L)', 'ML_PP − SEP (L)', 'engine − SEP (L)', 'verdict'],
            rows: g.cases.map((c) => [c.reference, c.sep_l.toFixed(1), l1(c.mlpp_deviation_l), l1(c.engine_deviation_l), c.verdict ?? '–']),
            align: ['l', 'r', 'r', 'r', 'l'],
          },
          chart: g,
        }
      : { title: 'Golden cases', lines: ['No golden.json in the results: the measured ML_PP vs SEP deviations are not recorded.'] },
  );
  const b = f.backup;
  out.push({
    title: 'Backup used',
    lines: b
      ? [
          `Dump: ${b.dumpFile}, ${b.bytes} bytes, SHA-256 ${b.sha256}${b.takenAt ? `, taken ${b.takenAt}` : ''}${b.plaintextSha256 ? ` (age-encrypted; the plaintext it decrypts to has SHA-256 ${b.plaintextSha256})` : ''}`,
          `Matches the backup manifest: ${yesNo(b.dumpMatchesManifest)}; restore test (verification.json): ${b.verified === null ? 'not recorded' : b.verified ? 'passed' : 'FAILED'}`,
        ]
      : ['No backup folder in the results.'],
  });
  out.push({
    title: 'SEP field confirmation',
    lines: f.sep.length
      ? f.sep.map((s) => `${s.path}: ${s.bytes} bytes, SHA-256 ${s.sha256}`)
      : ['No SEP confirmation file (mail / WhatsApp export) given.'],
  });
  if (m.warnings.length) out.push({ title: 'Warnings', lines: m.warnings });
  out.push({
    title: 'Files',
    lines: [
      'manifest.json lists these files and the generated ones (reports, CHANGELOG entry); SHA256SUMS covers all of them, manifest.json and its signature manifest.json.sig when signed.',
    ],
    table: { head: ['file', 'bytes', 'SHA-256'], rows: m.files.map((x) => [x.path, String(x.bytes), x.sha256]), align: ['l', 'r', 'l'] },
  });
  out.push({
    title: 'How to verify',
    lines: [
      ...(m.signature
        ? [
            `astm53b evidence verify BUNDLE.zip --public-key signing.pub   (re-hashes every file inside the zip against manifest.json and SHA256SUMS, and checks manifest.json's ${m.signature.algorithm} signature by ${m.signature.publicKeyFingerprint})`,
            'gh attestation verify BUNDLE.zip --repo OWNER/REPO   (the PROD workflow attests the zip: built by that workflow run)',
          ]
        : [
            'astm53b evidence verify BUNDLE.zip   (re-hashes every file inside the zip against manifest.json and SHA256SUMS)',
            'This bundle is NOT signed: its hashes show it agrees with itself, not who built it.',
          ]),
      'or: unzip BUNDLE.zip -d bundle && cd bundle && sha256sum -c SHA256SUMS',
      'Compare the SHA-256 of the zip itself with the one the run published (the evidence step output sha256).',
      `Reproducibility: ${m.reproducibility}`,
    ],
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// markdown

const mdCell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

export function renderEvidenceMarkdown(view: BundleView): string {
  const out: string[] = [`# Evidence bundle: ASTM 53B migration, decision ${view.manifest.decision}`, ''];
  for (const s of sections(view)) {
    out.push(`## ${s.title}`, '');
    for (const l of s.lines) out.push(`- ${l}`);
    if (s.lines.length) out.push('');
    if (s.table) {
      out.push(`| ${s.table.head.map(mdCell).join(' | ')} |`);
      out.push(`|${s.table.head.map((_, i) => (s.table!.align?.[i] === 'r' ? '---:' : '---')).join('|')}|`);
      for (const r of s.table.rows) out.push(`| ${r.map(mdCell).join(' | ')} |`);
      out.push('');
    }
  }
  return `${out.join('\n').trimEnd()}\n`;
}

// ---------------------------------------------------------------------------------------------
// HTML

export const esc = (s: string): string =>
  s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');

const CSS = `body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1d1d1f}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
td.r{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}td{word-break:break-all}
.bad{color:#b00020;font-weight:600}.good{color:#0a7a2f;font-weight:600}svg{max-width:100%;height:auto}
@media print{body{margin:0}}`;

const VERDICT_CLASS: Record<string, string> = {
  PASS: 'good',
  yes: 'good',
  GO: 'good',
  FAIL: 'bad',
  NO: 'bad',
  MISSING: 'bad',
  'NO-GO': 'bad',
};

export function renderEvidenceHtml(view: BundleView): string {
  const out: string[] = [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<title>Evidence bundle: ASTM 53B migration, decision ${esc(view.manifest.decision)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    `<h1>Evidence bundle: ASTM 53B migration, decision <span class="${VERDICT_CLASS[view.manifest.decision] ?? ''}">${esc(view.manifest.decision)}</span></h1>`,
  ];
  for (const s of sections(view)) {
    out.push(`<h2>${esc(s.title)}</h2>`);
    if (s.lines.length) pushAll(out, ['<ul>', ...s.lines.map((l) => `<li>${esc(l)}</li>`), '</ul>']);
    if (s.chart) out.push(renderDeviationSvg(s.chart));
    if (s.table) {
      const t = s.table;
      out.push('<table>', `<tr>${t.head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>`);
      for (const r of t.rows) {
        out.push(
          `<tr>${r
            .map((c, i) => {
              const cls = [t.align?.[i] === 'r' ? 'r' : '', VERDICT_CLASS[c] ?? ''].filter(Boolean).join(' ');
              return `<td${cls ? ` class="${cls}"` : ''}>${esc(c)}</td>`;
            })
            .join('')}</tr>`,
        );
      }
      out.push('</table>');
    }
  }
  out.push('</body>', '</html>');
  return `${out.join('\n')}\n`;
}

/**
 * Deviation of each golden case from SEP in litres, engine and ML_PP, against the ±tolerance
 * band (runbook 3.2: ±5 L). A point outside the band is drawn in red.
 */
export function renderDeviationSvg(g: GoldenFacts): string {
  const W = 720;
  const H = 300;
  const left = 56;
  const right = 16;
  const top = 28;
  const bottom = 64;
  const tol = g.tolerance_l;
  const values = g.cases.flatMap((c) => [c.engine_deviation_l, c.mlpp_deviation_l]).filter((v): v is number => v !== null);
  const yMax = maxOf(
    values.map((v) => Math.abs(v) * 1.15),
    Math.max(tol * 1.5, 1),
  );
  const plotH = H - top - bottom;
  const plotW = W - left - right;
  const y = (v: number) => top + plotH / 2 - (v / yMax) * (plotH / 2);
  const n = Math.max(g.cases.length, 1);
  const x = (i: number) => left + (plotW * (i + 0.5)) / n;
  const f = (v: number) => v.toFixed(1);
  const parts: string[] = [
    `<svg role="img" aria-label="Golden cases: deviation from SEP in litres against the ±${tol} L band" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<rect x="${left}" y="${f(y(tol))}" width="${plotW}" height="${f(y(-tol) - y(tol))}" fill="#e3f4e8"/>`,
    `<line x1="${left}" x2="${W - right}" y1="${f(y(0))}" y2="${f(y(0))}" stroke="#888"/>`,
    `<line x1="${left}" x2="${W - right}" y1="${f(y(tol))}" y2="${f(y(tol))}" stroke="#0a7a2f" stroke-dasharray="4 3"/>`,
    `<line x1="${left}" x2="${W - right}" y1="${f(y(-tol))}" y2="${f(y(-tol))}" stroke="#0a7a2f" stroke-dasharray="4 3"/>`,
    `<line x1="${left}" x2="${left}" y1="${top}" y2="${H - bottom}" stroke="#888"/>`,
    `<text x="${left - 6}" y="${f(y(tol) + 4)}" text-anchor="end">+${tol} L</text>`,
    `<text x="${left - 6}" y="${f(y(-tol) + 4)}" text-anchor="end">−${tol} L</text>`,
    `<text x="${left - 6}" y="${f(y(0) + 4)}" text-anchor="end">0</text>`,
    `<text x="${left - 6}" y="${f(y(yMax) + 10)}" text-anchor="end">${f(yMax)}</text>`,
    `<text x="${left}" y="16">deviation from SEP (L): ● engine − SEP, ■ ML_PP − SEP; green band ±${tol} L</text>`,
  ];
  g.cases.forEach((c, i) => {
    const cx = x(i);
    const outside = (v: number) => Math.abs(v) > tol + 1e-9;
    if (c.engine_deviation_l !== null) {
      const v = c.engine_deviation_l;
      parts.push(
        `<circle cx="${f(cx - 5)}" cy="${f(y(v))}" r="4" fill="${outside(v) ? '#b00020' : '#1f5fbf'}"><title>${esc(c.reference)}: engine − SEP ${f(v)} L</title></circle>`,
      );
    }
    if (c.mlpp_deviation_l !== null) {
      const v = c.mlpp_deviation_l;
      parts.push(
        `<rect x="${f(cx + 1)}" y="${f(y(v) - 4)}" width="8" height="8" fill="${outside(v) ? '#b00020' : '#d9822b'}"><title>${esc(c.reference)}: ML_PP − SEP ${f(v)} L</title></rect>`,
      );
    }
    const label = c.reference.length > 14 ? `${c.reference.slice(0, 13)}…` : c.reference;
    parts.push(`<text transform="translate(${f(cx)} ${H - bottom + 12}) rotate(35)" font-size="10">${esc(label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

// ---------------------------------------------------------------------------------------------
// verify (CLI)

export function renderVerifyText(r: VerifyResult): string {
  const out: string[] = [];
  out.push(`${r.ok ? 'VERIFIED' : 'NOT VERIFIED'}: ${r.zip.path}`);
  out.push(
    `  zip SHA-256  ${r.zip.sha256} (${r.zip.bytes} bytes)${r.expectedZipSha256 ? (r.expectedZipSha256 === r.zip.sha256 ? ' = expected' : ` ≠ expected ${r.expectedZipSha256}`) : ''}`,
  );
  out.push(`  files        ${r.checked} checked against manifest.json and SHA256SUMS`);
  if (r.manifest)
    out.push(
      `  decision     ${r.manifest.decision ?? '–'}; runbook 5.7 archives ${r.manifest.complete === null ? '–' : r.manifest.complete ? 'complete' : 'INCOMPLETE'}`,
    );
  const a = r.authenticity;
  out.push(`  authenticity ${a.valid === true ? 'SIGNED' : a.valid === false ? 'FAILED' : 'NOT CHECKED'}: ${a.statement}`);
  for (const p of r.problems) out.push(`  ✗ ${p.path}: ${p.problem}`);
  return `${out.join('\n')}\n`;
}
