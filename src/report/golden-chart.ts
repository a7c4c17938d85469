import type { GoldenFacts } from '../results/evidence.js';
import { maxOf } from '../lists.js';
import { esc } from './html.js';

/**
 * Deviation of each golden case from SEP in litres, engine and ML_PP, against the ±tolerance
 * band (runbook 3.2: ±5 L), readable at a glance: every text is horizontal and placed where no
 * other can be (the case names on one or two rows, shortened to the room they have; the values
 * beside their points, the engine's to the left, ML_PP's to the right, when a case has the room
 * for both; the band's labels merged into one when the band is too thin for three). A point
 * outside the band is drawn in red.
 */
export const CHART = { width: 880, height: 320, left: 64, right: 16, top: 40, bottom: 56, font: 11, small: 10 } as const;
/** a generous width of one character of the sans-serif fonts at `small` px, so estimated boxes hold the real ones */
const CHAR_W = 0.65;

/** a white outline under a value, so the band's lines never strike through it */
const HALO = 'stroke="#fff" stroke-width="3" paint-order="stroke"';
const f1 = (v: number) => v.toFixed(1);
const signed = (v: number) => `${v > 0 ? '+' : v < 0 ? '−' : ''}${Math.abs(v).toFixed(1)}`;

/** Case names: one row, else two alternating rows, shortened to their room; every k-th when even that is too tight. */
export function caseLabels(refs: string[], step: number): { text: string; row: number; index: number }[] {
  const charW = CHART.small * CHAR_W;
  const longest = maxOf(
    refs.map((r) => r.length),
    1,
  );
  const rows = longest * charW + 6 <= step ? 1 : 2;
  const maxChars = Math.floor((rows * step - 8) / charW);
  const every = maxChars >= 4 ? 1 : Math.ceil((4 * charW + 8) / (rows * step));
  const chars = Math.floor((every * rows * step - 8) / charW);
  const out: { text: string; row: number; index: number }[] = [];
  refs.forEach((r, i) => {
    if (i % every !== 0) return;
    const text = r.length > chars ? `${r.slice(0, chars - 1)}…` : r;
    out.push({ text, row: rows === 1 ? 0 : (i / every) % 2, index: i });
  });
  return out;
}

export function renderDeviationSvg(g: GoldenFacts): string {
  const { width: W, height: H, left, right, top, bottom } = CHART;
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
  const step = plotW / n;
  const x = (i: number) => left + step * (i + 0.5);
  const bandPx = y(-tol) - y(tol);
  const parts: string[] = [
    `<svg role="img" aria-label="Golden cases: deviation from SEP in litres against the ±${tol} L band" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="sans-serif" font-size="${CHART.font}">`,
    `<rect x="${left}" y="${f1(y(tol))}" width="${plotW}" height="${f1(bandPx)}" fill="#e3f4e8"/>`,
    `<line x1="${left}" x2="${W - right}" y1="${f1(y(0))}" y2="${f1(y(0))}" stroke="#888"/>`,
    `<line x1="${left}" x2="${W - right}" y1="${f1(y(tol))}" y2="${f1(y(tol))}" stroke="#0a7a2f" stroke-dasharray="4 3"/>`,
    `<line x1="${left}" x2="${W - right}" y1="${f1(y(-tol))}" y2="${f1(y(-tol))}" stroke="#0a7a2f" stroke-dasharray="4 3"/>`,
    `<line x1="${left}" x2="${left}" y1="${top}" y2="${H - bottom}" stroke="#888"/>`,
    `<text class="legend" x="${left}" y="14">deviation from SEP in litres: ● engine − SEP (left value), ■ ML_PP − SEP (right value)</text>`,
    `<text class="legend" x="${left}" y="28" fill="#0a7a2f">green band: within ±${tol} L (runbook 3.2); red: outside it</text>`,
  ];
  // the axis: three labels when the band leaves room for them, else one for the band
  const axis = (v: number, text: string) =>
    parts.push(`<text class="axis" x="${left - 6}" y="${f1(y(v) + 4)}" text-anchor="end">${text}</text>`);
  if (bandPx / 2 >= CHART.font + 2) {
    axis(tol, `+${tol} L`);
    axis(0, '0');
    axis(-tol, `−${tol} L`);
  } else axis(0, `0 ±${tol}`);
  if (y(yMax) + CHART.font + 2 < y(tol)) axis(yMax * 0.95, `${signed(yMax * 0.95)}`);
  if (y(-yMax) - CHART.font - 2 > y(-tol)) axis(-yMax * 0.95, `${signed(-yMax * 0.95)}`);

  // the room a value label takes (the longest, at `small` px) with its gap to the point; a case needs two
  const valueRoom =
    maxOf(
      values.map((v) => signed(v).length),
      1,
    ) *
      CHART.small *
      CHAR_W +
    12;
  const withValues = step >= 2 * valueRoom;
  const outside = (v: number) => Math.abs(v) > tol + 1e-9;
  g.cases.forEach((c, i) => {
    const cx = x(i);
    if (c.engine_deviation_l !== null) {
      const v = c.engine_deviation_l;
      parts.push(
        `<circle cx="${f1(cx - 5)}" cy="${f1(y(v))}" r="4" fill="${outside(v) ? '#b00020' : '#1f5fbf'}"><title>${esc(c.reference)}: engine − SEP ${f1(v)} L</title></circle>`,
      );
      if (withValues)
        parts.push(
          `<text class="value" x="${f1(cx - 11)}" y="${f1(y(v) + 3.5)}" text-anchor="end" font-size="${CHART.small}" fill="#1f5fbf" ${HALO}>${signed(v)}</text>`,
        );
    }
    if (c.mlpp_deviation_l !== null) {
      const v = c.mlpp_deviation_l;
      parts.push(
        `<rect x="${f1(cx + 1)}" y="${f1(y(v) - 4)}" width="8" height="8" fill="${outside(v) ? '#b00020' : '#d9822b'}"><title>${esc(c.reference)}: ML_PP − SEP ${f1(v)} L</title></rect>`,
      );
      if (withValues)
        parts.push(
          `<text class="value" x="${f1(cx + 12)}" y="${f1(y(v) + 3.5)}" font-size="${CHART.small}" fill="#a35a12" ${HALO}>${signed(v)}</text>`,
        );
    }
  });
  for (const l of caseLabels(
    g.cases.map((c) => c.reference),
    step,
  ))
    parts.push(
      `<text class="case" x="${f1(x(l.index))}" y="${H - bottom + 16 + l.row * 14}" text-anchor="middle" font-size="${CHART.small}">${esc(l.text)}</text>`,
    );
  if (!withValues && g.cases.length)
    parts.push(`<text class="legend" x="${left}" y="${H - 6}">too many cases for values on the points: they are in the table below</text>`);
  parts.push('</svg>');
  return parts.join('\n');
}
