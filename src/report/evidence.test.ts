import { describe, expect, it } from 'vitest';
import { BUNDLE_FORMAT, REPRODUCIBILITY } from '../evidence/manifest.js';
import { renderChangelogEntry } from './changelog.js';
import { CHART, caseLabels } from './golden-chart.js';
import { renderDeviationSvg, renderEvidenceHtml, renderEvidenceMarkdown, renderVerifyText } from './evidence.js';
import type { BundleManifest, EvidenceFacts, VerifyResult } from '../results/evidence.js';
import { expectGolden } from '../testing/golden.js';

/** Renderers are pure: compared byte for byte with golden files (UPDATE_GOLDEN=1 rewrites them). */
const golden = (name: string, actual: string) => expectGolden(import.meta.url, name, actual);

const h = (c: string) => c.repeat(64);
const facts: EvidenceFacts = {
  steps: [
    { file: 'results/preflight.json', passed: true, detail: null, at: '2026-03-11T19:02:00.000Z' },
    { file: 'results/sql-apply.json', passed: true, detail: 'applied', at: '2026-03-11T20:14:03.000Z' },
    { file: 'results/golden.json', passed: true, detail: null, at: null },
    { file: 'results/decision.json', passed: null, detail: 'GO', at: null },
  ],
  decision: 'GO',
  target: 'postgresql://app:***@db.example.com:5432/postgres',
  flutterCommit: 'c4b55ea',
  astmFlag: 'off',
  migrationAt: '2026-03-11T20:14:03.000Z',
  migrationAtSource: 'sql-apply.json',
  applied: { file: '2026-02-25_staging_validate_sortie_p0.sql', sha256: h('a'), status: 'applied', ok: true },
  backup: {
    dir: 'results/backup',
    dumpFile: 'results/backup/database.dump.age',
    sha256: h('b'),
    bytes: 1048576,
    dumpMatchesManifest: true,
    plaintextSha256: h('9'),
    takenAt: '2026-03-11T19:40:00.000Z',
    finishedAt: '2026-03-11T19:41:00.000Z',
    verifiedAt: '2026-03-11T19:42:00.000Z',
    verified: true,
  },
  golden: {
    file: 'results/golden.json',
    passed: true,
    tolerance_l: 5,
    profile: '1980/table/hydrometer',
    max_deviation_l: 4.6,
    cases: [
      {
        reference: 'REC-01 <TANK4>',
        sep_l: 38123.4,
        engine_l: 38124.6,
        mlpp_l: 38121.0,
        engine_deviation_l: 1.2,
        mlpp_deviation_l: -2.4,
        verdict: 'PASS',
        fault: null,
        explanation: null,
      },
      {
        reference: 'REC-02',
        sep_l: 39000,
        engine_l: 38996.9,
        mlpp_l: null,
        engine_deviation_l: -3.1,
        mlpp_deviation_l: null,
        verdict: 'PASS',
        fault: null,
        explanation: null,
      },
      {
        reference: 'REC-03-with-a-long-name',
        sep_l: 37500,
        engine_l: 37504.6,
        mlpp_l: 37496.0,
        engine_deviation_l: 4.6,
        mlpp_deviation_l: -4.0,
        verdict: 'PASS',
        fault: null,
        explanation: null,
      },
    ],
  },
  sep: [
    {
      path: 'sep/WhatsApp Chat - SEP.txt',
      bytes: 812,
      sha256: h('c'),
      kind: 'whatsapp',
      quote: ['2026-03-11 21:02 Chef SEP: REC-01 38123.4 L à 15°C, confirmé.', '  Bon pour GO <côté SEP>'],
      note: 'the messages of 2026-03-11, the sign-off day',
    },
    { path: 'sep/bordereau-REC-01.pdf', bytes: 48213, sha256: h('7'), kind: 'file', quote: null, note: null },
  ],
  reasons: [],
  decidedAt: '2026-03-11T20:31:10.000Z',
  signoff: {
    file: 'results/signoff.json',
    fields: [
      { field: 'who', value: 'Chef de dépôt Ngoma' },
      { field: 'role', value: 'responsable dépôt' },
      { field: 'decision', value: 'GO' },
      { field: 'at', value: '2026-03-11T20:30:00.000Z' },
      { field: 'gate', value: 'prod-go' },
      { field: 'comment', value: 'Smoke et golden OK, écarts < 5 L' },
      { field: 'runId', value: 'depot/astm53b-pipeline#42.1' },
    ],
  },
  triggeredBy: 'ops-lead',
  timeline: [
    { step: 'preflight', runbook: '3.3, 4.1', at: '2026-03-11T19:02:00.000Z', ms: null, outcome: 'passed' },
    { step: 'freeze on', runbook: '3.4, 4.1', at: '2026-03-11T19:30:00.000Z', ms: null, outcome: '14 tables refuse entries' },
    { step: 'backup (pg_dump)', runbook: '3.1, 4.2', at: '2026-03-11T19:41:00.000Z', ms: 60_000, outcome: '1048576 bytes' },
    { step: 'backup restore test', runbook: '3.1, 4.2', at: '2026-03-11T19:42:00.000Z', ms: 60_000, outcome: 'verified' },
    {
      step: 'change applied',
      runbook: '4.3',
      at: '2026-03-11T20:14:03.000Z',
      ms: 166,
      outcome: '2026-12-04_validate_sortie_p0_1.sql: applied',
    },
    { step: 'golden cases', runbook: '3.2, 5.6', at: '2026-03-11T20:15:00.000Z', ms: null, outcome: '3/3 within ±5 L' },
    { step: 'smoke', runbook: '4.5, 5.1–5.5', at: '2026-03-11T20:16:30.000Z', ms: null, outcome: 'PASS' },
    { step: 'sign-off (GO gate)', runbook: '5.6', at: '2026-03-11T20:30:00.000Z', ms: null, outcome: 'GO by Chef de dépôt Ngoma' },
    { step: 'decision', runbook: '6.1, 7', at: '2026-03-11T20:31:10.000Z', ms: null, outcome: 'GO' },
    { step: 'freeze off (release)', runbook: '3.4', at: '2026-03-11T20:32:00.000Z', ms: null, outcome: 'entries accepted again' },
  ],
  smoke: {
    file: 'results/smoke.json',
    passed: true,
    at: '2026-03-11T20:16:30.000Z',
    tank: 'TANK4',
    day: '2026-03-11',
    checks: [
      { id: '5.1', title: 'App user reads depots, tanks, stock', ran: true, passed: true, message: 'ok', failed: [] },
      { id: '5.3', title: 'Controlled reception', ran: true, passed: true, message: 'ok', failed: [] },
    ],
    figures: [
      {
        owner: 'MONALUXE',
        figure: 'journal',
        before: { amb: 120000, v15: 118900.4 },
        afterReception: { amb: 121000, v15: 119890.2 },
        afterSortie: { amb: 120600, v15: 119493.4 },
        afterRollback: { amb: 120000, v15: 118900.4 },
      },
    ],
    unchanged: true,
  },
  restate: {
    file: 'results/restate.json',
    status: 'restated',
    committed: true,
    message: '1 reception restated',
    receptions: [
      {
        reception: '0f95d0d7',
        date: '2026-02-20',
        tank: 'TANK4',
        owner: 'MONALUXE',
        stored_l: 37233.9,
        astm_l: 37137.7,
        delta_l: -96.2,
        action: 'booked',
      },
    ],
  },
  archives: [
    {
      item: 'Mettre à jour CHANGELOG.md (section [Unreleased] → PROD)',
      present: true,
      evidence: 'CHANGELOG-entry.md (generated from these results)',
    },
    { item: 'Archiver confirmation terrain SEP (mail / WhatsApp export)', present: true, evidence: 'sep/WhatsApp Chat - SEP.txt' },
  ],
  warnings: [],
};

const manifest: BundleManifest = {
  format: BUNDLE_FORMAT,
  createdAt: '2026-03-11T21:00:00.000Z',
  run: {
    repository: 'depot/astm53b-pipeline',
    runId: 'depot/astm53b-pipeline#42.1',
    runUrl: 'https://github.com/depot/astm53b-pipeline/actions/runs/42',
    actor: 'ops-lead',
  },
  commits: { pipeline: '0123456789abcdef0123456789abcdef01234567', pipelineFrom: 'GITHUB_SHA', flutterApp: 'c4b55ea' },
  target: facts.target,
  times: {
    createdAt: '2026-03-11T21:00:00.000Z',
    migrationAt: facts.migrationAt,
    firstStepAt: '2026-03-11T19:02:00.000Z',
    lastStepAt: '2026-03-11T20:14:03.000Z',
  },
  decision: 'GO',
  runbook57: { complete: true, items: facts.archives },
  steps: facts.steps,
  changelog: { entryFile: 'CHANGELOG-entry.md', date: '2026-03-11', title: 'Migration ASTM 53B', insertedInto: null, under: null },
  warnings: [],
  reproducibility: REPRODUCIBILITY,
  signature: { algorithm: 'Ed25519', publicKeyFingerprint: `SHA256:${h('5')}`, file: 'manifest.json.sig' },
  files: [
    { path: 'results/backup/database.dump.age', bytes: 1048576, sha256: h('b'), source: 'results' },
    { path: 'results/golden.json', bytes: 925, sha256: h('d'), source: 'results' },
    { path: 'sep/WhatsApp Chat - SEP.txt', bytes: 812, sha256: h('c'), source: 'sep' },
  ],
};

const noGo: EvidenceFacts = {
  ...facts,
  decision: 'NO-GO',
  signoff: null,
  restate: null,
  flutterCommit: null,
  backup: { ...facts.backup!, verified: false, dumpMatchesManifest: false },
  golden: null,
  sep: [],
  applied: null,
  archives: [{ item: 'Archiver confirmation terrain SEP (mail / WhatsApp export)', present: false, evidence: 'no SEP file given' }],
};

/** A NO-GO as the rehearsal of the runbook as written ends: legacy receptions, ML_PP's P0, a SEP typo, a rejected gate. */
const reasonsNoGo: EvidenceFacts = {
  ...facts,
  decision: 'NO-GO',
  applied: { file: '2026-02-25_staging_validate_sortie_p0.sql', sha256: h('a'), status: 'applied', ok: true },
  golden: {
    ...facts.golden!,
    passed: false,
    cases: [
      {
        ...facts.golden!.cases[0]!,
        reference: 'DEMO-CDR-1',
        mlpp_deviation_l: 95.9,
        verdict: 'FAIL',
        fault: 'mlpp',
        explanation: 'ML_PP stored the legacy linear correction',
      },
      {
        ...facts.golden!.cases[1]!,
        reference: 'DEMO-CDR-2',
        engine_deviation_l: 8.0,
        verdict: 'FAIL',
        fault: 'sep',
        explanation: "SEP's figures do not hold together",
      },
    ],
  },
  reasons: [
    {
      condition: 'GOLDEN_DEVIATION',
      runbook: '6.1',
      rule: 'Écart > ±5 litres constaté entre ML_PP et SEP sur un golden case',
      source: 'golden.json',
      message: 'case DEMO-CDR-1: engine − SEP -0.3 L, ML_PP − SEP 95.917 L, beyond ±5 L',
    },
    {
      condition: 'GOLDEN_DEVIATION',
      runbook: '6.1',
      rule: 'Écart > ±5 litres constaté entre ML_PP et SEP sur un golden case',
      source: 'golden.json',
      message: 'case DEMO-CDR-2: engine − SEP 8 L, beyond ±5 L',
    },
    {
      condition: 'STOCK_INCOHERENCE',
      runbook: '6.1',
      rule: "Incohérence stock_journaliers après validation d'une réception ou sortie",
      source: 'smoke.json',
      message: "5.4 OTHER_OWNERS_UNTOUCHED: validate_sortie moved another owner's stock: PARTENAIRE journal moved by -400 L",
    },
    {
      condition: 'SIGNOFF_NO_GO',
      runbook: '5.6, 7',
      rule: 'Le responsable dépôt a signé NO-GO',
      source: 'signoff.json',
      message: 'Chef de dépôt Ngoma (responsable dépôt) signed NO-GO: écarts trop grands',
    },
  ],
  signoff: {
    file: 'results/signoff.json',
    fields: [
      { field: 'who', value: 'Chef de dépôt Ngoma' },
      { field: 'role', value: 'responsable dépôt' },
      { field: 'decision', value: 'NO-GO' },
      { field: 'at', value: '2026-03-11T20:30:00.000Z' },
      { field: 'gate', value: 'prod-go' },
      { field: 'comment', value: 'écarts trop grands' },
      { field: 'triggeredBy', value: 'ops-lead' },
      { field: 'reviewId', value: '8812' },
    ],
  },
  timeline: [
    ...facts.timeline.filter((e) => !['decision', 'freeze off (release)'].includes(e.step)),
    { step: 'decision', runbook: '6.1, 7', at: '2026-03-11T20:31:10.000Z', ms: null, outcome: 'NO-GO' },
    { step: 'rollback', runbook: '6.2', at: '2026-03-11T20:33:05.000Z', ms: 95_000, outcome: 'restored and proven equal to the dump' },
  ],
};
const noGoManifest: BundleManifest = { ...manifest, decision: 'NO-GO' };

describe('evidence renderers', () => {
  it('opens a NO-GO with the decision, then every reason with its runbook condition and what to do', () => {
    const md = renderEvidenceMarkdown({ manifest: noGoManifest, facts: reasonsNoGo });
    golden('evidence-report-nogo.md', md);
    golden('evidence-report-nogo.html', renderEvidenceHtml({ manifest: noGoManifest, facts: reasonsNoGo }));
    expect(md.startsWith('# ASTM 53B migration: NO-GO on postgresql://app:***@db.example.com:5432/postgres\n\n## Decision\n')).toBe(true);
    const decision = md.slice(0, md.indexOf('## Sign-off'));
    // every reason is there, under its condition, with the remedy its cause calls for
    for (const r of reasonsNoGo.reasons) expect(decision).toContain(r.message.replaceAll('\n', ' '));
    expect(decision).toMatch(
      /GOLDEN_DEVIATION \(runbook 6\.1: [^)]+\)[^\n]*\n\s+What to do: restate the receptions stored with the legacy formula: `astm53b restate`/,
    );
    expect(decision).toMatch(/What to do: re-read the SEP slip of DEMO-CDR-2/);
    expect(decision).toMatch(
      /STOCK_INCOHERENCE[^\n]*\n\s+What to do: apply the corrected change file sql\/docs\/DB_CHANGES\/2026-12-04_validate_sortie_p0_1\.sql instead of 2026-02-25_staging_validate_sortie_p0\.sql/,
    );
    expect(decision).toMatch(/SIGNOFF_NO_GO[^\n]*\n\s+What to do: address the depot manager's comment/);
    expect(decision).toContain('Rolled back to the verified dump at 2026-03-11T20:33:05.000Z');
  });
  it('shows the sign-off as recorded: every field it has, the optional ones named, who triggered the run', () => {
    const md = renderEvidenceMarkdown({ manifest: noGoManifest, facts: reasonsNoGo });
    const signoff = md.slice(md.indexOf('## Sign-off'), md.indexOf('## Timeline'));
    for (const row of [
      '| signed by | Chef de dépôt Ngoma |',
      '| decision | NO-GO |',
      '| when | 2026-03-11T20:30:00.000Z |',
      '| gate | prod-go |',
      '| comment | écarts trop grands |',
      '| run triggered by | ops-lead |',
      '| reviewId | 8812 |',
    ])
      expect(signoff).toContain(row);
    // a record by hand without the optional fields: the run's actor is who triggered it
    const byHand = renderEvidenceMarkdown({
      manifest,
      facts: {
        ...facts,
        signoff: {
          file: 'results/signoff.json',
          fields: facts.signoff!.fields.filter((f) => ['who', 'role', 'decision', 'at'].includes(f.field)),
        },
      },
    });
    const part = byHand.slice(byHand.indexOf('## Sign-off'), byHand.indexOf('## Timeline'));
    expect(part).not.toContain('| gate |');
    expect(part).not.toContain('| comment |');
    expect(part).toContain('| run triggered by | ops-lead |');
    const none = renderEvidenceMarkdown({ manifest: noGoManifest, facts: { ...reasonsNoGo, signoff: null } });
    expect(none).toContain('NO sign-off recorded: the depot manager neither approved nor rejected this run.');
  });
  it('lays out the freeze window with times since the freeze and durations', () => {
    const md = renderEvidenceMarkdown({ manifest, facts });
    expect(md).toContain('Freeze window: 2026-03-11T19:30:00.000Z to 2026-03-11T20:32:00.000Z, 1 h 02 min (entries accepted again).');
    expect(md).toContain('| 2026-03-11 19:41:00 | +11 min 00 s | backup (pg_dump) | 3.1, 4.2 | 1 min 00 s | 1048576 bytes |');
    expect(md).toContain('| 2026-03-11 19:02:00 | −28 min 00 s | preflight |');
    const rolled = renderEvidenceMarkdown({ manifest: noGoManifest, facts: reasonsNoGo });
    expect(rolled).toContain('1 h 03 min (ended by the rollback; entries stay refused until the freeze is lifted)');
  });
  it('shows the smoke figures before, during and after, and the restatement per reception', () => {
    const md = renderEvidenceMarkdown({ manifest, facts });
    expect(md).toContain('| MONALUXE | journal | 120000.0 / 118900.4 | 121000.0 / 119890.2 | 120600.0 / 119493.4 | 120000.0 / 118900.4 |');
    expect(md).toContain('| 0f95d0d7 | 2026-02-20 | TANK4 | MONALUXE | 37233.9 | 37137.7 | -96.2 | booked |');
  });
  it('renders the report in markdown', () => golden('evidence-report.md', renderEvidenceMarkdown({ manifest, facts })));
  it('renders a self-contained HTML report with the deviation chart', () => {
    const html = renderEvidenceHtml({ manifest, facts });
    golden('evidence-report.html', html);
    // readable offline: nothing fetched from anywhere
    expect(html).not.toMatch(/\s(src|href)=|url\(|@import|<script|<link/i);
    expect(html).toContain('REC-01 &lt;TANK4&gt;');
    expect(html).not.toContain('<TANK4>');
  });
  it('draws the ±5 L band and marks a point outside it', () => {
    const svg = renderDeviationSvg({ ...facts.golden!, cases: [{ ...facts.golden!.cases[0]!, mlpp_deviation_l: 7.2 }] });
    expect(svg).toContain('+5 L');
    expect(svg).toContain('−5 L');
    // the ML_PP point at +7.2 L is red, the engine point at +1.2 L is not
    expect(svg).toMatch(/<rect [^>]*fill="#b00020"><title>REC-01 &lt;TANK4&gt;: ML_PP − SEP 7.2 L/);
    expect(svg).toMatch(/<circle [^>]*fill="#1f5fbf"><title>REC-01 &lt;TANK4&gt;: engine − SEP 1.2 L/);
  });
  it('renders the CHANGELOG entry of a GO in ML_PP PROD style', () =>
    golden(
      'changelog-entry-go.md',
      renderChangelogEntry(facts, {
        date: '2026-03-11',
        title: 'Migration ASTM 53B',
        run: { runId: 'depot/astm53b-pipeline#42.1', actor: 'ops-lead', pipelineCommit: '0123456' },
      }),
    ));
  it('renders a NO-GO entry saying what is missing', () => {
    const entry = renderChangelogEntry(noGo, { date: '2026-03-11', title: 'Migration ASTM 53B' });
    golden('changelog-entry-nogo.md', entry);
    expect(entry).toContain('### 🚀 Déploiement PROD — NO-GO (rollback)');
    expect(entry).toContain('Commit Flutter déployé : **NON ENREGISTRÉ**');
  });
  it('renders a failed verification naming every file', () => {
    const r: VerifyResult = {
      ok: false,
      zip: { path: 'bundle.zip', bytes: 19084, sha256: h('e') },
      expectedZipSha256: h('f'),
      checked: 19,
      manifest: { decision: 'GO', complete: true },
      authenticity: {
        checked: true,
        signed: true,
        manifestKey: `SHA256:${h('5')}`,
        givenKey: `SHA256:${h('5')}`,
        valid: false,
        statement: `the signature does not match manifest.json for SHA256:${h('5')}: the manifest was changed after it was signed, or signed by another key`,
      },
      problems: [
        { path: 'results/decision.json', kind: 'changed', problem: `SHA-256 ${h('1')}; SHA256SUMS says ${h('2')}` },
        { path: 'results/smoke.json', kind: 'missing', problem: 'listed in SHA256SUMS and manifest.json but not in the zip' },
      ],
    };
    golden('evidence-verify.txt', renderVerifyText(r));
  });
});

describe('the golden chart', () => {
  const caseOf = (reference: string, engine: number, mlpp: number | null) => ({
    ...facts.golden!.cases[0]!,
    reference,
    engine_deviation_l: engine,
    mlpp_deviation_l: mlpp,
  });
  /** the boxes the case names take, as the chart estimates them: never overlapping, on any number of cases */
  it.each([3, 8, 25, 120, 2000])('places %i case names without overlap, each within its room', (n) => {
    const refs = Array.from({ length: n }, (_, i) => `REC-2026-03-${String(i + 1).padStart(4, '0')}-TANK4`);
    const step = (CHART.width - CHART.left - CHART.right) / n;
    const labels = caseLabels(refs, step);
    const box = (l: (typeof labels)[number]) => {
      const w = l.text.length * CHART.small * 0.65;
      const cx = CHART.left + step * (l.index + 0.5);
      return { x0: cx - w / 2, x1: cx + w / 2, row: l.row };
    };
    const boxes = labels.map(box);
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++)
        if (boxes[i]!.row === boxes[j]!.row) expect(boxes[i]!.x1 <= boxes[j]!.x0 || boxes[j]!.x1 <= boxes[i]!.x0).toBe(true);
    expect(labels.length).toBeGreaterThan(0);
    for (const l of labels) expect(l.text.length).toBeGreaterThanOrEqual(4);
  });
  it('writes the values on the points when there is room, and says where they are when there is not', () => {
    const few = renderDeviationSvg({ ...facts.golden!, cases: [caseOf('DEMO-CDR-1', -0.3, 95.9), caseOf('DEMO-CDR-2', 8, 0.4)] });
    expect(few).toContain('>−0.3</text>');
    expect(few).toContain('>+95.9</text>');
    expect(few).toContain('>+8.0</text>');
    // a band squeezed by a 96 L deviation: one axis label for it, not three on top of each other
    expect(few).toContain('>0 ±5</text>');
    expect(few).not.toContain('>+5 L</text>');
    const many = renderDeviationSvg({
      ...facts.golden!,
      cases: Array.from({ length: 60 }, (_, i) => caseOf(`C${i}`, 1, 2)),
    });
    expect(many).not.toContain('class="value"');
    expect(many).toContain('they are in the table below');
  });
});
