import type { BundleManifest, EvidenceFacts, GoldenFacts, ReasonFacts, VerifyResult } from '../results/evidence.js';
import { pushAll } from '../lists.js';
import { renderDeviationSvg } from './golden-chart.js';
import { esc } from './html.js';
import { remedyOf } from './remedies.js';

export { esc } from './html.js';
export { renderDeviationSvg } from './golden-chart.js';

/**
 * The bundle's report.md and report.html (and the evidence job's summary, which is report.md):
 * written for the depot manager first (the decision, every reason with what to do about it, the
 * sign-off, the freeze window's timeline, the smoke and golden figures, the runbook 5.7
 * checklist), then for the auditor (run, commits, backup, files, how to verify). Both are drawn
 * from one list of sections so they always say the same thing; the HTML is self-contained
 * (inline CSS, inline SVG, no external resource) so it reads offline years later.
 */
export interface BundleView {
  /** the manifest as it stands before the generated files are added: files = results and SEP files */
  manifest: BundleManifest;
  facts: EvidenceFacts;
}

/** A point with points under it: one condition of a NO-GO and its findings. */
interface Item {
  head: string;
  /** what to do about it */
  todo: string;
  sub: string[];
}

interface Section {
  id: string;
  title: string;
  lines: string[];
  items?: Item[];
  /** text quoted as it was written (SEP's own words) */
  quote?: { cite: string; lines: string[] }[];
  table?: { head: string[]; rows: string[][]; align?: ('l' | 'r')[] };
  chart?: GoldenFacts;
  /** further tables after the first */
  tables?: { caption: string; head: string[]; rows: string[][]; align?: ('l' | 'r')[] }[];
}

const yesNo = (b: boolean | null) => (b === null ? '–' : b ? 'yes' : 'NO');
const pass = (b: boolean | null) => (b === null ? '–' : b ? 'PASS' : 'FAIL');
const l1 = (x: number | null) => (x === null ? '–' : `${x > 0 ? '+' : ''}${x.toFixed(1)}`);
const litres = (x: number | null) => (x === null ? '–' : x.toFixed(1));
const hms = (iso: string) => iso.slice(11, 19);

/** 75 s → "1 min 15 s"; 0.4 s → "0.4 s" */
export function duration(ms: number): string {
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** Reasons grouped by their runbook condition, in the order decide found them; each with its remedy. */
function reasonItems(f: EvidenceFacts): Item[] {
  const groups = new Map<string, { first: ReasonFacts; remedies: Map<string, string[]> }>();
  for (const r of f.reasons) {
    const g = groups.get(r.condition) ?? { first: r, remedies: new Map<string, string[]>() };
    groups.set(r.condition, g);
    const remedy = remedyOf(r, f);
    g.remedies.set(remedy, [...(g.remedies.get(remedy) ?? []), r.message]);
  }
  const items: Item[] = [];
  for (const [condition, g] of groups) {
    for (const [remedy, messages] of g.remedies)
      items.push({
        head: `${condition} (runbook ${g.first.runbook}: ${g.first.rule})${messages.length > 1 ? `, ${messages.length} findings` : ''}`,
        todo: `What to do: ${remedy}.`,
        sub: messages,
      });
  }
  return items;
}

function outcomeLine(f: EvidenceFacts): string {
  const last = (step: string) => f.timeline.filter((e) => e.step === step).at(-1);
  const rollback = last('rollback');
  const release = last('freeze off (release)');
  if (rollback) return `Rolled back to the verified dump at ${rollback.at} (${rollback.outcome}).`;
  if (release) return `Released at ${release.at}: ${release.outcome}.`;
  return 'Neither a rollback nor a release is recorded in the results.';
}

function decisionSection(m: BundleManifest, f: EvidenceFacts): Section {
  const lines =
    m.decision === 'NONE'
      ? ['No decision.json in the results: the run did not reach its decision. Nothing here is a GO.']
      : [
          `${m.decision}${f.decidedAt ? `, decided at ${f.decidedAt}` : ''}. ${outcomeLine(f)}`,
          f.reasons.length
            ? `${f.reasons.length} reason(s) the migration is not valid, each with the runbook condition it meets and what to do:`
            : m.decision === 'GO'
              ? 'Every check passed and the depot manager signed GO.'
              : 'decision.json gives no reason.',
        ];
  return { id: 'decision', title: 'Decision', lines, items: reasonItems(f) };
}

const SIGNOFF_LABELS: Record<string, string> = {
  who: 'signed by',
  role: 'role',
  decision: 'decision',
  at: 'when',
  gate: 'gate',
  environment: 'gate (environment)',
  comment: 'comment',
  runId: 'run',
  triggeredBy: 'run triggered by',
};

function signoffSection(m: BundleManifest, f: EvidenceFacts): Section {
  const triggered = m.run.actor ?? f.triggeredBy;
  const rows = f.signoff ? f.signoff.fields.map((x) => [SIGNOFF_LABELS[x.field] ?? x.field, x.value]) : [];
  const hasTrigger = f.signoff?.fields.some((x) => x.field === 'triggeredBy') ?? false;
  if (!hasTrigger) rows.push(['run triggered by', triggered ?? 'not recorded']);
  return {
    id: 'signoff',
    title: 'Sign-off (runbook 5.6)',
    lines: f.signoff
      ? [`As recorded in ${f.signoff.file}.`]
      : ['NO sign-off recorded: the depot manager neither approved nor rejected this run.'],
    table: { head: ['', ''], rows },
  };
}

function timelineSection(f: EvidenceFacts): Section {
  const on = f.timeline.find((e) => e.step === 'freeze on');
  const end = [...f.timeline].reverse().find((e) => e.step === 'freeze off (release)' || e.step === 'rollback');
  const window =
    on && end
      ? `Freeze window: ${on.at} to ${end.at}, ${duration(Date.parse(end.at) - Date.parse(on.at))} (${end.step === 'rollback' ? 'ended by the rollback; entries stay refused until the freeze is lifted' : 'entries accepted again'}).`
      : on
        ? `Freeze on at ${on.at}; its end is not recorded.`
        : 'No freeze is recorded.';
  const t0 = on ? Date.parse(on.at) : null;
  return {
    id: 'timeline',
    title: 'Timeline of the freeze window',
    lines: [
      window,
      ...(f.timeline.length ? ['Times are UTC, as the results files record them; a step whose file holds no time is not listed.'] : []),
    ],
    ...(f.timeline.length
      ? {
          table: {
            head: ['time (UTC)', 'since freeze on', 'step', 'runbook', 'took', 'outcome'],
            rows: f.timeline.map((e) => [
              `${e.at.slice(0, 10)} ${hms(e.at)}`,
              t0 === null ? '–' : `${Date.parse(e.at) < t0 ? '−' : '+'}${duration(Math.abs(Date.parse(e.at) - t0))}`,
              e.step,
              e.runbook,
              e.ms === null ? '–' : duration(e.ms),
              e.outcome,
            ]),
            align: ['l', 'r', 'l', 'l', 'r', 'l'],
          },
        }
      : {}),
  };
}

const bal = (b: { amb: number; v15: number } | null) => (b === null ? '–' : `${b.amb.toFixed(1)} / ${b.v15.toFixed(1)}`);

function smokeSection(f: EvidenceFacts): Section {
  const s = f.smoke;
  if (!s)
    return {
      id: 'smoke',
      title: 'Smoke checks (runbook 4.5, 5.1–5.5)',
      lines: ['No smoke.json in the results: the smoke did not run or did not finish.'],
    };
  return {
    id: 'smoke',
    title: 'Smoke checks (runbook 4.5, 5.1–5.5)',
    lines: [
      `${pass(s.passed)} at ${s.at}, tank ${s.tank ?? '–'}, day ${s.day ?? '–'}. The controlled reception and sortie ran in one transaction that was rolled back: the tank after it is ${s.unchanged ? 'exactly as before' : 'NOT as before'}.`,
    ],
    table: {
      head: ['check', 'result', 'what it checks', 'findings that failed'],
      rows: s.checks.map((c) => [
        c.id,
        c.ran ? pass(c.passed) : 'NOT RUN',
        c.title,
        c.failed.length ? c.failed.join('; ') : c.ran ? '–' : c.message,
      ]),
    },
    ...(s.figures.length
      ? {
          tables: [
            {
              caption: `${s.tank ?? 'The tank'}'s figures before and after, ambient / 15 °C litres`,
              head: ['owner', 'figure', 'before the smoke', 'after the reception', 'after the sortie', 'after the rollback'],
              rows: s.figures.map((x) => [
                x.owner,
                x.figure,
                bal(x.before),
                bal(x.afterReception),
                bal(x.afterSortie),
                bal(x.afterRollback),
              ]),
              align: ['l', 'l', 'r', 'r', 'r', 'r'],
            },
          ],
        }
      : {}),
  };
}

function goldenSection(f: EvidenceFacts): Section {
  const g = f.golden;
  if (!g)
    return {
      id: 'golden',
      title: 'Golden cases',
      lines: ['No golden.json in the results: the measured ML_PP vs SEP deviations are not recorded.'],
    };
  return {
    id: 'golden',
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
  };
}

function restateSection(f: EvidenceFacts): Section | null {
  const r = f.restate;
  if (!r) return null;
  return {
    id: 'restate',
    title: 'Restatement per reception (runbook §2)',
    lines: [`${r.status}${r.committed ? ', committed' : ', nothing committed'}: ${r.message}`],
    table: {
      head: ['reception', 'date', 'tank', 'owner', 'stored 15 °C (L)', 'ASTM 53B (L)', 'restated by (L)', 'action'],
      rows: r.receptions.map((x) => [
        x.reception,
        x.date ?? '–',
        x.tank,
        x.owner,
        litres(x.stored_l),
        litres(x.astm_l),
        l1(x.delta_l),
        x.action,
      ]),
      align: ['l', 'l', 'l', 'l', 'r', 'r', 'r', 'l'],
    },
  };
}

function sepSection(f: EvidenceFacts): Section {
  const KIND = { mail: 'mail', whatsapp: 'WhatsApp export', file: 'file' } as const;
  return {
    id: 'sep',
    title: 'SEP field confirmation',
    lines: f.sep.length
      ? f.sep.map((s) => `${s.path} (${KIND[s.kind]}): ${s.bytes} bytes, SHA-256 ${s.sha256}${s.note ? `; ${s.note}` : ''}`)
      : ['No SEP confirmation file (mail / WhatsApp export) given.'],
    quote: f.sep.filter((s) => s.quote !== null).map((s) => ({ cite: `${s.path}, as SEP wrote it`, lines: s.quote! })),
  };
}

function sections({ manifest: m, facts: f }: BundleView): Section[] {
  const out: Section[] = [];
  const missing = m.runbook57.items.filter((i) => !i.present);
  out.push(decisionSection(m, f), signoffSection(m, f), timelineSection(f), smokeSection(f), goldenSection(f));
  const restate = restateSection(f);
  if (restate) out.push(restate);
  out.push({
    id: 'runbook57',
    title: 'Runbook 5.7 checklist',
    lines: [
      m.runbook57.complete
        ? 'Complete: every archive runbook 5.7 asks for is done.'
        : `INCOMPLETE (${missing.length} of ${m.runbook57.items.length} not done): “Aucune migration ASTM53B ne sera considérée valide sans ces archives.”`,
    ],
    table: {
      head: ['item', 'done', 'evidence'],
      rows: m.runbook57.items.map((i) => [i.item, i.present ? 'yes' : 'NO', i.evidence]),
    },
  });
  out.push(sepSection(f));
  out.push({
    id: 'run',
    title: 'Run (for the auditor)',
    lines: [
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
  const b = f.backup;
  out.push({
    id: 'backup',
    title: 'Backup used',
    lines: b
      ? [
          `Dump: ${b.dumpFile}, ${b.bytes} bytes, SHA-256 ${b.sha256}${b.takenAt ? `, taken ${b.takenAt}` : ''}${b.plaintextSha256 ? ` (age-encrypted; the plaintext it decrypts to has SHA-256 ${b.plaintextSha256})` : ''}`,
          `Matches the backup manifest: ${yesNo(b.dumpMatchesManifest)}; restore test (verification.json): ${b.verified === null ? 'not recorded' : b.verified ? 'passed' : 'FAILED'}`,
        ]
      : ['No backup folder in the results.'],
  });
  out.push({
    id: 'steps',
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
  if (m.warnings.length) out.push({ id: 'warnings', title: 'Warnings', lines: m.warnings });
  out.push({
    id: 'files',
    title: 'Files',
    lines: [
      'manifest.json lists these files and the generated ones (reports, CHANGELOG entry); SHA256SUMS covers all of them, manifest.json and its signature manifest.json.sig when signed.',
    ],
    table: { head: ['file', 'bytes', 'SHA-256'], rows: m.files.map((x) => [x.path, String(x.bytes), x.sha256]), align: ['l', 'r', 'l'] },
  });
  out.push({
    id: 'verify',
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

const headline = (m: BundleManifest) =>
  `ASTM 53B migration: ${m.decision === 'NONE' ? 'NO DECISION' : m.decision}${m.target ? ` on ${m.target}` : ''}`;

// ---------------------------------------------------------------------------------------------
// markdown (report.md and the evidence job's summary)

const mdCell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

function mdTable(out: string[], t: { head: string[]; rows: string[][]; align?: ('l' | 'r')[] }): void {
  out.push(`| ${t.head.map(mdCell).join(' | ')} |`);
  out.push(`|${t.head.map((_, i) => (t.align?.[i] === 'r' ? '---:' : '---')).join('|')}|`);
  for (const r of t.rows) out.push(`| ${r.map(mdCell).join(' | ')} |`);
  out.push('');
}

export function renderEvidenceMarkdown(view: BundleView): string {
  const out: string[] = [`# ${headline(view.manifest)}`, ''];
  for (const s of sections(view)) {
    out.push(`## ${s.title}`, '');
    for (const l of s.lines) out.push(`- ${l}`);
    if (s.lines.length) out.push('');
    if (s.items?.length) {
      s.items.forEach((it, i) => {
        out.push(`${i + 1}. **${it.head}**  `, `   ${it.todo}`);
        for (const x of it.sub) out.push(`   - ${x.replaceAll('\n', ' ')}`);
      });
      out.push('');
    }
    for (const q of s.quote ?? []) {
      out.push(`${q.cite}:`, '');
      // SEP's text, not markup: an angle bracket stays a character
      for (const l of q.lines) out.push(`> ${l.replaceAll('<', '\\<')}`);
      out.push('');
    }
    if (s.table) mdTable(out, s.table);
    for (const t of s.tables ?? []) {
      out.push(`${t.caption}:`, '');
      mdTable(out, t);
    }
  }
  return `${out.join('\n').trimEnd()}\n`;
}

// ---------------------------------------------------------------------------------------------
// HTML (report.html)

const CSS = `body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1rem auto;max-width:72rem;padding:0 1rem;color:#1d1d1f}
h1{font-size:1.5rem;margin:.4rem 0}h2{font-size:1.15rem;margin-top:1.6rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
#verdict{border-left:8px solid #888;padding:.3rem .9rem;margin-bottom:.6rem}#verdict.go{border-color:#0a7a2f;background:#eef8f1}#verdict.nogo{border-color:#b00020;background:#fdf0f2}
#verdict h2{border:0;margin:.4rem 0 .2rem}ol.reasons{padding-left:1.4rem;margin:.3rem 0}ol.reasons>li{margin:.3rem 0}ol.reasons .todo{font-weight:600;color:#1d1d1f}ol.reasons ul{font-size:12px;color:#444;margin:.1rem 0;padding-left:1.1rem}
blockquote{margin:.3rem 0 .8rem;padding:.2rem .8rem;border-left:4px solid #ccc;color:#333;white-space:pre-wrap}
table{border-collapse:collapse;margin:.5rem 0}th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}caption{text-align:left;font-weight:600;padding:.2rem 0}
td.r{text-align:right;font-variant-numeric:tabular-nums}th{background:#f3f3f3}td{overflow-wrap:anywhere}
.bad{color:#b00020;font-weight:600}.good{color:#0a7a2f;font-weight:600}svg{max-width:100%;height:auto}
@media print{body{margin:0}}`;

const VERDICT_CLASS: Record<string, string> = {
  PASS: 'good',
  yes: 'good',
  GO: 'good',
  FAIL: 'bad',
  NO: 'bad',
  MISSING: 'bad',
  'NOT RUN': 'bad',
  'NO-GO': 'bad',
};

function htmlTable(out: string[], t: { caption?: string; head: string[]; rows: string[][]; align?: ('l' | 'r')[] }): void {
  out.push('<table>');
  if (t.caption) out.push(`<caption>${esc(t.caption)}</caption>`);
  if (t.head.some((h) => h)) out.push(`<tr>${t.head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr>`);
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

function htmlSection(out: string[], s: Section): void {
  out.push(`<h2>${esc(s.title)}</h2>`);
  if (s.lines.length) pushAll(out, ['<ul>', ...s.lines.map((l) => `<li>${esc(l)}</li>`), '</ul>']);
  if (s.items?.length) {
    out.push('<ol class="reasons">');
    for (const it of s.items)
      out.push(
        `<li><strong>${esc(it.head)}</strong><div class="todo">${esc(it.todo)}</div>${it.sub.length ? `<ul>${it.sub.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>` : ''}</li>`,
      );
    out.push('</ol>');
  }
  for (const q of s.quote ?? []) out.push(`<p>${esc(q.cite)}:</p>`, `<blockquote>${q.lines.map(esc).join('\n')}</blockquote>`);
  if (s.chart) out.push(renderDeviationSvg(s.chart));
  if (s.table) htmlTable(out, s.table);
  for (const t of s.tables ?? []) htmlTable(out, t);
}

export function renderEvidenceHtml(view: BundleView): string {
  const m = view.manifest;
  const all = sections(view);
  const out: string[] = [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(headline(m))}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    `<header id="verdict" class="${m.decision === 'GO' ? 'go' : 'nogo'}">`,
    `<h1>ASTM 53B migration: <span class="${VERDICT_CLASS[m.decision] ?? 'bad'}">${esc(m.decision === 'NONE' ? 'NO DECISION' : m.decision)}</span></h1>`,
  ];
  // the decision and its reasons open the page, inside the banner: the first thing a person sees
  const [decision, ...rest] = all;
  htmlSection(out, decision!);
  out.push('</header>');
  for (const s of rest) {
    out.push(`<section id="${s.id}">`);
    htmlSection(out, s);
    out.push('</section>');
  }
  out.push('</body>', '</html>');
  return `${out.join('\n')}\n`;
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
