import { describe, expect, it } from 'vitest';
import { renderDecisionMarkdown, renderDecisionText } from './decision.js';
import { renderSmokeMarkdown, renderSmokeText } from './smoke.js';
import type { Decision } from '../results/decision.js';
import type { SmokeResult } from '../results/smoke.js';
import { expectGolden } from '../testing/golden.js';

/** Renderers are pure: compared byte for byte with golden files (UPDATE_GOLDEN=1 rewrites them). */
const golden = (name: string, actual: string) => expectGolden(import.meta.url, name, actual);

const decision: Decision = {
  step: 'decide',
  decision: 'NO-GO',
  at: '2026-03-11T22:45:00.000Z',
  resultsDir: 'astm53b-results',
  inputs: [
    { name: 'preflight', file: 'astm53b-results/preflight.json', status: 'passed', detail: 'passed' },
    {
      name: 'backup',
      file: 'astm53b-results/backup/verification.json',
      status: 'passed',
      detail: 'verified dump of postgresql://postgres@db/prod, 7 file(s) re-hashed',
    },
    { name: 'sql-apply', file: 'astm53b-results/sql-apply.json', status: 'passed', detail: 'applied' },
    { name: 'golden', file: 'astm53b-results/golden.json', status: 'failed', detail: '7/8 within ±5 L (1980/table/hydrometer)' },
    { name: 'smoke', file: 'astm53b-results/smoke.json', status: 'failed', detail: '5.1 ok, 5.2 ok, 5.3 ok, 5.4 FAIL, 5.5 ok' },
    {
      name: 'signoff',
      file: 'astm53b-results/signoff.json',
      status: 'passed',
      detail: 'GO by J. Kabila (responsable dépôt) at 2026-03-11T23:40:00+01:00',
    },
  ],
  signoff: { who: 'J. Kabila', role: 'responsable dépôt', decision: 'GO', at: '2026-03-11T23:40:00+01:00', comment: 'écarts | vus' },
  approvals: null,
  reasons: [
    {
      condition: 'GOLDEN_DEVIATION',
      runbook: '6.1',
      rule: 'Écart > ±5 litres constaté entre ML_PP et SEP sur un golden case',
      source: 'astm53b-results/golden.json',
      message: 'case SEP-3: engine − SEP -8.5 L, beyond ±5 L',
    },
    {
      condition: 'STOCK_INCOHERENCE',
      runbook: '6.1',
      rule: "Incohérence stock_journaliers après validation d'une réception ou sortie",
      source: 'astm53b-results/smoke.json',
      message:
        '5.4 JOURNAL_SNAPSHOT_AGREE: journal and snapshot disagree after the sortie: journal MONALUXE moved by -400 L / -396.8 L @15 °C, snapshot by 0 L / 0 L @15 °C',
    },
  ],
};

const owner = (o: 'MONALUXE' | 'PARTENAIRE', amb: number, v15: number) => ({
  owner: o,
  journalDate: amb ? '2026-03-10' : null,
  journal: { amb, v15 },
  snapshot: { amb, v15 },
  actuel: { amb, v15 },
});
const tank1 = { MONALUXE: owner('MONALUXE', 120000, 119010.5), PARTENAIRE: owner('PARTENAIRE', 25272, 25101.3) };

const smoke: SmokeResult = {
  step: 'smoke',
  passed: false,
  target: 'postgresql://postgres@db/prod',
  at: '2026-03-11T22:30:00.000Z',
  run: { runId: 'o/r#1.1', actor: 'ops' },
  environment: 'prod',
  frozen: true,
  p0Applied: true,
  user: { id: 'a53b0000-0000-4000-8000-000000000001', role: 'admin', chosenBy: '--as-user' },
  lectureUser: 'a53b0000-0000-4000-8000-000000000004',
  profile: '1980/table/hydrometer',
  profileSource: 'golden.json (golden verification)',
  toleranceL: 5,
  tank: {
    id: '57da330a-1305-4582-be45-ceab0f1aa795',
    nom: 'TANK1',
    produitId: '22222222-2222-2222-2222-222222222222',
    capacite_utile: 500000,
    chosenBy: 'PARTENAIRE also holds stock in it',
  },
  day: '2026-03-11',
  movements: {
    otherOwnerReception: {
      id: 'r0000000-0000-4000-8000-000000000002',
      owner: 'PARTENAIRE',
      partenaire_id: 'f1a865a7-91f1-cdc2-ff6f-4c6dd69ca40c',
      partner_created: false,
      index_avant: 300000,
      index_apres: 300500,
      temperature_c: 25,
      densite_observee_kgm3: 836.5,
      volume_ambiant: 500,
      stored_15c: 495.8,
      sent_volume_corrige_15c: 495.8,
    },
    cdr: { id: 'c0000000-0000-4000-8000-000000000001', plaque_camion: 'ASTM53B-SMOKE o/r#1.1', statut_after: 'DECHARGE' },
    reception: {
      id: 'r0000000-0000-4000-8000-000000000001',
      index_avant: 100000,
      index_apres: 101000,
      temperature_c: 25.5,
      densite_observee_kgm3: 836.5,
      volume_ambiant: 1000,
      engine_15c: 991.2,
      engine_density15: 843.8,
      stored_15c: 991.2,
      stored_in: 'volume_corrige_15c',
      sent_volume_corrige_15c: 991.2,
    },
    sortie: {
      id: 's0000000-0000-4000-8000-000000000001',
      index_avant: 200000,
      index_apres: 200400,
      temperature_c: 24.5,
      densite_observee_kgm3: 836.5,
      volume_ambiant: 400,
      engine_15c: 396.8,
      volume_15c_debited: 396.8,
      statut: 'validee',
      validated_by: 'a53b0000-0000-4000-8000-000000000001',
    },
  },
  figures: null,
  rollback: {
    rolledBack: true,
    afterRollback: tank1,
    figures: [],
    unchanged: true,
    summary: [
      'v_stock_actuel: equal to before the smoke, to the litre, for every owner',
      'snapshot: equal to before the smoke, to the litre, for every owner',
      'journal: equal to before the smoke, to the litre, for every owner',
    ],
  },
  checks: [
    {
      id: '5.1',
      title: 'Connexion DB',
      runbook: '5.1',
      ran: true,
      passed: true,
      message: 'ok (1 finding(s))',
      findings: [{ code: 'DEPOTS_READ', passed: true, condition: null, message: 'the admin reads 1 of the 1 depot(s)' }],
    },
    {
      id: '5.4',
      title: 'Sortie contrôlée',
      runbook: '5.4',
      ran: true,
      passed: false,
      message: 'PARTENAIRE debited | too; journal and snapshot disagree',
      findings: [
        {
          code: 'OTHER_OWNER_ROW_ON_DAY',
          passed: true,
          condition: null,
          message: 'PARTENAIRE had no journal row for TANK1 on 2026-03-11: the smoke received 500 L for PARTENAIRE',
        },
        {
          code: 'JOURNAL_DEBIT',
          passed: true,
          condition: null,
          message: 'journal MONALUXE moved by -400 L / -396.8 L @15 °C; expected -400 L / -396.8 L @15 °C',
        },
        {
          code: 'OTHER_OWNERS_UNTOUCHED',
          passed: false,
          condition: 'STOCK_INCOHERENCE',
          message: "validate_sortie moved another owner's stock: PARTENAIRE journal moved by -400 L / -396.8 L @15 °C",
        },
        {
          code: 'JOURNAL_SNAPSHOT_AGREE',
          passed: false,
          condition: 'STOCK_INCOHERENCE',
          message: 'journal and snapshot disagree | after the sortie',
        },
      ],
    },
  ],
  errors: [],
};

describe('decision and smoke renderers', () => {
  it('decision text', () => golden('decision.txt', renderDecisionText(decision)));
  it('decision markdown', () => golden('decision.md', renderDecisionMarkdown(decision)));
  it('decision markdown with the reviews of the run’s gates', () =>
    golden(
      'decision-reviews.md',
      renderDecisionMarkdown({
        ...decision,
        approvals: {
          format: 'astm53b-approvals/1',
          runId: 'depot/app#42.1',
          triggeredBy: { actor: 'ops-engineer', triggeringActor: 'ops-lead' },
          readAt: '2026-03-11T22:41:00.000Z',
          reviews: [
            {
              environment: 'prod-start',
              via: 'environment-review',
              state: 'approved',
              who: 'ops-lead',
              comment: 'Créneau validé',
              at: null,
            },
            { environment: 'prod-go', via: 'environment-review', state: 'rejected', who: 'J. Kabila', comment: 'écarts | TANK4', at: null },
          ],
        },
      }),
    ));
  it('a GO says so and lists no reason', () => {
    const md = renderDecisionMarkdown({ ...decision, decision: 'GO', reasons: [] });
    expect(md).toContain('✅ GO');
    expect(md).not.toContain('### Reasons');
  });
  it('smoke text', () => golden('smoke.txt', renderSmokeText(smoke)));
  it('smoke markdown', () => golden('smoke.md', renderSmokeMarkdown(smoke)));
});
