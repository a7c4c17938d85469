import { describe, expect, it } from 'vitest';
import { BUNDLE_FORMAT, REPRODUCIBILITY } from '../evidence/manifest.js';
import { renderChangelogEntry } from './changelog.js';
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
      },
      {
        reference: 'REC-02',
        sep_l: 39000,
        engine_l: 38996.9,
        mlpp_l: null,
        engine_deviation_l: -3.1,
        mlpp_deviation_l: null,
        verdict: 'PASS',
      },
      {
        reference: 'REC-03-with-a-long-name',
        sep_l: 37500,
        engine_l: 37504.6,
        mlpp_l: 37496.0,
        engine_deviation_l: 4.6,
        mlpp_deviation_l: -4.0,
        verdict: 'PASS',
      },
    ],
  },
  sep: [{ path: 'sep/WhatsApp Chat - SEP.txt', bytes: 812, sha256: h('c') }],
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
  flutterCommit: null,
  backup: { ...facts.backup!, verified: false, dumpMatchesManifest: false },
  golden: null,
  sep: [],
  applied: null,
  archives: [{ item: 'Archiver confirmation terrain SEP (mail / WhatsApp export)', present: false, evidence: 'no SEP file given' }],
};

describe('evidence renderers', () => {
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
