import type { StockSummary } from '../runbook/stock-summary.js';
import { maxOf } from '../lists.js';

/** Pure renderers: the same summary as aligned text (CLI) and as markdown (job summary). */

/** 0.1 L with a space between thousands, independent of the machine's locale data. */
export function litres(v: number | null | undefined): string {
  if (v === null || v === undefined) return '—';
  const [int, dec] = Math.abs(v).toFixed(1).split('.') as [string, string];
  return `${v < 0 ? '-' : ''}${int.replace(/\B(?=(\d{3})+(?!\d))/g, ' ')}.${dec}`;
}

function table(header: string[], rows: string[][], align: ('l' | 'r')[]): string {
  const widths = header.map((h, i) =>
    maxOf(
      rows.map((r) => (r[i] ?? '').length),
      h.length,
    ),
  );
  const fmt = (r: string[]) =>
    r
      .map((c, i) => (align[i] === 'r' ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}

function stockCells(s: StockSummary): string[][] {
  return s.stock.map((r) => [
    r.citerne,
    r.produit,
    r.proprietaire_type,
    litres(r.snapshot_ambiant),
    litres(r.snapshot_15c),
    r.journal_date ?? '—',
    litres(r.journal_ambiant),
    litres(r.journal_15c),
    litres(r.capacite_totale),
  ]);
}

const STOCK_HEADER = [
  'tank',
  'product',
  'owner',
  'snapshot L',
  'snapshot L@15°C',
  'journal day',
  'journal L',
  'journal L@15°C',
  'capacity L',
];
const TRUCK_HEADER = ['plate', 'product', 'volume L', 'loaded on', 'status', 'cours_de_route id'];
const truckCells = (s: StockSummary) =>
  s.waitingTrucks.map((t) => [t.plaque_camion, t.produit ?? '—', t.volume ?? '—', t.date_chargement, t.statut, t.id]);

export function renderStockSummaryText(s: StockSummary): string {
  const out = ['Stock per tank and owner', table(STOCK_HEADER, stockCells(s), ['l', 'l', 'l', 'r', 'r', 'l', 'r', 'r', 'r']), ''];
  out.push(`Trucks arrived but not yet received: ${s.waitingTrucks.length} (runbook 3.3: receive them only after the ASTM validation)`);
  if (s.waitingTrucks.length) out.push(table(TRUCK_HEADER, truckCells(s), ['l', 'l', 'r', 'l', 'l', 'l']));
  return out.join('\n') + '\n';
}

function mdTable(header: string[], rows: string[][]): string {
  const esc = (c: string) => c.replace(/\|/g, '\\|');
  return [
    `| ${header.map(esc).join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

export function renderStockSummaryMarkdown(s: StockSummary): string {
  return [
    '### Stock per tank and owner',
    '',
    mdTable(STOCK_HEADER, stockCells(s)),
    '',
    `### Trucks arrived but not yet received (${s.waitingTrucks.length})`,
    '',
    s.waitingTrucks.length ? mdTable(TRUCK_HEADER, truckCells(s)) : '_none_',
    '',
  ].join('\n');
}
