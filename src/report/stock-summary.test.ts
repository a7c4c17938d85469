import { describe, expect, it } from 'vitest';
import type { StockSummary } from '../runbook/stock-summary.js';
import { renderStockSummaryMarkdown, renderStockSummaryText } from './stock-summary.js';
import { expectGolden } from '../testing/golden.js';

/** Renderers are pure: compared byte for byte with golden files (UPDATE_GOLDEN=1 rewrites them). */
const golden = (name: string, actual: string) => expectGolden(import.meta.url, name, actual);

const summary: StockSummary = {
  stock: [
    {
      citerne: 'TANK1',
      produit: 'G.O',
      proprietaire_type: 'MONALUXE',
      capacite_totale: 500000,
      snapshot_ambiant: 117006,
      snapshot_15c: 116512.25,
      journal_date: '2026-02-24',
      journal_ambiant: 117006,
      journal_15c: 116512.25,
    },
    {
      citerne: 'TANK1',
      produit: 'G.O',
      proprietaire_type: 'PARTENAIRE',
      capacite_totale: 500000,
      snapshot_ambiant: 25272,
      snapshot_15c: 25105.4,
      journal_date: null,
      journal_ambiant: null,
      journal_15c: null,
    },
  ],
  waitingTrucks: [
    {
      id: '9a8cb953-d5f3-1065-326c-aa6aa0b7f2b3',
      plaque_camion: 'BAE 6173',
      produit: 'G.O',
      volume: '36500',
      date_chargement: '2026-02-23',
      statut: 'ARRIVE',
    },
  ],
};

describe('stock summary renderers', () => {
  it('renders aligned text', () => golden('stock-summary.txt', renderStockSummaryText(summary)));
  it('renders markdown', () => golden('stock-summary.md', renderStockSummaryMarkdown(summary)));
  it('says plainly when no truck is waiting', () => {
    expect(renderStockSummaryText({ ...summary, waitingTrucks: [] })).toContain('Trucks arrived but not yet received: 0');
    expect(renderStockSummaryMarkdown({ ...summary, waitingTrucks: [] })).toContain('_none_');
  });
});
