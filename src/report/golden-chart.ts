import type { GoldenFacts } from '../results/evidence.js';
import { maxOf } from '../lists.js';
import { esc } from './html.js';

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
