import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANGE_FILES, PACKAGE_ROOT } from '../paths.js';
import type { Approvals } from '../results/approvals.js';
import type { Manifest } from '../results/backup.js';
import type { Decision } from '../results/decision.js';
import { PIPELINE_RELEASE } from '../testing/workflow/own-actions.js';
import { runWorkflow } from '../testing/workflow/run.js';
import type { EnvironmentConfig, RunReport } from '../testing/workflow/types.js';
import {
  APP_COMMIT,
  APP_REPOSITORY,
  applicationChecksums,
  artifactJson,
  bundleFile,
  demoDepot,
  DEMO_GOLDEN,
  isFrozen,
  LEAD,
  manifestChecksums,
  MANAGER,
  newScenarioKeys,
  verifyUploadedBundle,
  type Depot,
  type ScenarioKeys,
} from './scenarios.js';

const CALLER = 'examples/app-repository/astm53b-prod-depots.yml';
const P0_1 = `sql/${CHANGE_FILES.p0_1}`;
const CHANGELOG = readFileSync(path.join(PACKAGE_ROOT, 'src/evidence/__fixtures__/CHANGELOG.excerpt.md'), 'utf8');
const DEPOTS = ['kinshasa', 'lubumbashi'] as const;
type DepotName = (typeof DEPOTS)[number];
const MANAGERS: Record<DepotName, string> = { kinshasa: MANAGER, lubumbashi: 'chef-depot-lubumbashi' };

const sepMail = (d: DepotName) =>
  [
    'From: controle@sep.example',
    `To: ${MANAGERS[d]}@depot.example`,
    `Subject: Confirmation terrain ASTM 53B, dépôt ${d}`,
    'Date: Fri, 04 Dec 2026 09:12:00 +0000',
    'Content-Type: text/plain; charset=utf-8',
    '',
    `Les volumes à 15 °C des réceptions de contrôle de ${d} sont confirmés.`,
    '',
  ].join('\r\n');

/**
 * The README's caller for several depots (examples/app-repository/astm53b-prod-depots.yml), as
 * GitHub runs it: one dispatch, a matrix over two depots calling the reusable PROD workflow, each
 * depot with its own database, keys, golden file and environments. Kinshasa's manager approves its
 * GO gate; Lubumbashi's rejects his. Both legs share the run (its id, its artifacts, its reviews),
 * so this proves the depots never meet: each ends in its own documented state, each bundle holds
 * its own depot's results only, signed by its own key.
 */
describe('PROD over two depots from the app repository’s matrix caller: one GO, one rejected', () => {
  const depots = {} as Record<DepotName, Depot>;
  const keys = {} as Record<DepotName, ScenarioKeys>;
  const before = {} as Record<DepotName, Record<string, string>>;
  let r: RunReport;
  beforeAll(async () => {
    for (const d of DEPOTS) {
      depots[d] = await demoDepot(`wf_depot_${d}`);
      keys[d] = await newScenarioKeys();
      before[d] = await applicationChecksums(depots[d].db);
    }
    const golden = readFileSync(path.join(PACKAGE_ROOT, DEMO_GOLDEN), 'utf8');
    const perDepot = <T>(f: (d: DepotName) => Record<string, T>) => Object.assign({}, ...DEPOTS.map(f)) as Record<string, T>;
    r = await runWorkflow({
      name: 'depots',
      workflow: CALLER,
      // dispatched in the app's repository, where the caller lives: its run, artifacts and pull requests
      repository: APP_REPOSITORY,
      actor: 'ops-engineer',
      inputs: { 'flutter-commit': APP_COMMIT, 'change-file': P0_1, restate: true },
      // each depot's golden cases in the app's repository, where the caller says
      commitFiles: perDepot((d) => ({ [`golden/${d}/receptions.csv`]: golden, [`evidence/${d}/sep.eml`]: sepMail(d) })),
      publicCommits: {
        [APP_REPOSITORY]: [{ sha: APP_COMMIT, message: 'feat(astm): ASTM 53B engine', date: '2026-12-03T17:40:00Z', author: 'VALERYkal' }],
      },
      repositoryFiles: { 'CHANGELOG.md': CHANGELOG },
      vars: { CHANGELOG_OCCURRENCE: '1' },
      environments: perDepot((d): Record<string, EnvironmentConfig> => ({
        [`prod-start-${d}`]: { secrets: { DATABASE_URL: depots[d].url }, vars: { AGE_RECIPIENT: keys[d].recipient }, reviewers: [LEAD] },
        [`prod-${d}`]: {
          secrets: { DATABASE_URL: depots[d].url, AGE_IDENTITY: keys[d].ageIdentity, EVIDENCE_SIGNING_KEY: keys[d].signingKey },
          vars: { AGE_RECIPIENT: keys[d].recipient },
        },
        [`prod-go-${d}`]: { reviewers: [MANAGERS[d]] },
      })),
      reviews: {
        ...perDepot((d) => ({ [`prod-start-${d}`]: { state: 'approved' as const, by: LEAD, comment: `Créneau ${d} validé` } })),
        'prod-go-kinshasa': { state: 'approved', by: MANAGERS.kinshasa, comment: 'Kinshasa : chiffres SEP conformes, GO' },
        'prod-go-lubumbashi': { state: 'rejected', by: MANAGERS.lubumbashi, comment: 'Lubumbashi : bordereau SEP manquant' },
      },
      serviceServer: process.env.TEST_DATABASE_URL!,
      minuteMs: 4_000,
    });
  });
  afterAll(async () => {
    await r?.dispose();
    for (const d of DEPOTS) await depots[d]?.close();
  });

  const leg = (d: DepotName, job: string) => `migrate (${d}) / ${job}`;
  const perDepotKeys = () => Object.fromEntries(DEPOTS.map((d) => [`keys/${d}/signing.pub`, readFileSync(keys[d].signingPub, 'utf8')]));

  it('runs each depot’s jobs behind its own environments; one depot’s rejection does not stop the other (fail-fast: false)', () => {
    const results = Object.fromEntries(r.jobs.map((j) => [j.id, `${j.result}${j.environment ? ` [${j.environment}]` : ''}`]));
    expect(results, r.describe()).toMatchObject({
      [leg('kinshasa', 'preflight')]: 'success [prod-start-kinshasa]',
      [leg('kinshasa', 'change')]: 'success [prod-kinshasa]',
      [leg('kinshasa', 'go-gate')]: 'success [prod-go-kinshasa]',
      [leg('kinshasa', 'rollback')]: 'skipped',
      [leg('kinshasa', 'release')]: 'success [prod-kinshasa]',
      [leg('kinshasa', 'changelog')]: 'success',
      [leg('kinshasa', 'evidence')]: 'success [prod-kinshasa]',
      [leg('lubumbashi', 'preflight')]: 'success [prod-start-lubumbashi]',
      [leg('lubumbashi', 'change')]: 'success [prod-lubumbashi]',
      [leg('lubumbashi', 'go-gate')]: 'failure [prod-go-lubumbashi]',
      [leg('lubumbashi', 'rollback')]: 'success [prod-lubumbashi]',
      [leg('lubumbashi', 'release')]: 'skipped',
      [leg('lubumbashi', 'changelog')]: 'skipped',
      [leg('lubumbashi', 'evidence')]: 'success [prod-lubumbashi]',
      migrate: 'failure',
    });
    // every artifact carries its depot: no upload met another's name in the shared run
    expect([...r.artifacts.keys()].every((a) => DEPOTS.some((d) => a.startsWith(`${d}.`)))).toBe(true);
    expect([...r.artifacts.keys()]).toEqual(expect.arrayContaining(DEPOTS.flatMap((d) => [`${d}.backup`, `${d}.evidence-bundle`])));
  });

  it('leaves Kinshasa migrated and released, Lubumbashi rolled back to its own dump and frozen', async () => {
    expect(await isFrozen(depots.kinshasa.db)).toBe(false);
    const kin = await applicationChecksums(depots.kinshasa.db);
    expect(Object.keys(kin).filter((t) => kin[t] !== before.kinshasa[t])).toEqual(['public.stocks_adjustments']);
    const lubManifest = await artifactJson<Manifest>(r, 'lubumbashi.backup', 'manifest.json');
    expect(await applicationChecksums(depots.lubumbashi.db)).toEqual(manifestChecksums(lubManifest));
    expect(await applicationChecksums(depots.lubumbashi.db)).toEqual(before.lubumbashi);
    expect(await isFrozen(depots.lubumbashi.db)).toBe(true);
    const ledger = (d: DepotName) => depots[d].db.query<{ state: string }>('SELECT state FROM astm53b.apply_ledger');
    expect((await ledger('kinshasa')).rows.map((x) => x.state)).toEqual(['applied']);
    expect((await ledger('lubumbashi')).rows.map((x) => x.state)).toEqual(['undone']);
  });

  it('records each depot’s decision from its own gates only, under a run id that names the depot', async () => {
    for (const d of DEPOTS) {
      const decision = await artifactJson<Decision>(r, `${d}.results-decision`, 'decision.json');
      const approvals = await artifactJson<Approvals>(r, `${d}.results-decision`, 'approvals.json');
      expect(approvals.runId).toBe(`${APP_REPOSITORY}#${r.runId}.1@${d}`);
      expect(approvals.reviews.map((x) => x.environment).sort()).toEqual([`prod-go-${d}`, `prod-start-${d}`]);
      expect(decision.signoff).toMatchObject({ who: MANAGERS[d], runId: `${APP_REPOSITORY}#${r.runId}.1@${d}` });
    }
    expect((await artifactJson<Decision>(r, 'kinshasa.results-decision', 'decision.json')).decision).toBe('GO');
    const lub = await artifactJson<Decision>(r, 'lubumbashi.results-decision', 'decision.json');
    expect(lub.decision).toBe('NO-GO');
    expect(lub.signoff).toMatchObject({ decision: 'NO-GO', comment: expect.stringMatching(/^Lubumbashi : bordereau SEP manquant/) });
  });

  it('uploads one bundle per depot, signed by that depot’s key only, holding that depot’s results', async () => {
    const kin = await verifyUploadedBundle(r, 'kinshasa.evidence-bundle', keys.kinshasa.signingPub);
    const lub = await verifyUploadedBundle(r, 'lubumbashi.evidence-bundle', keys.lubumbashi.signingPub);
    expect([kin.ok, kin.signedByDepot, kin.decision]).toEqual([true, true, 'GO']);
    expect([lub.ok, lub.signedByDepot, lub.decision]).toEqual([true, true, 'NO-GO']);
    expect(path.basename(kin.zip)).toBe(`astm53b-evidence-${r.runId}-kinshasa.zip`);
    // another depot's key does not vouch for this bundle
    expect((await verifyUploadedBundle(r, 'kinshasa.evidence-bundle', keys.lubumbashi.signingPub)).signedByDepot).toBe(false);
    const backup = JSON.parse(await bundleFile(lub.zip, 'results/backup/manifest.json')) as Manifest;
    expect(backup.source.database).toBe(new URL(depots.lubumbashi.url).pathname.slice(1));
    await expect(bundleFile(lub.zip, 'results/changelog.json')).rejects.toThrow(/not in/);
    expect(await bundleFile(kin.zip, 'sep/sep.eml')).toMatch(/dépôt kinshasa/);
  });

  it('opens one CHANGELOG pull request, for the depot that went GO, on its own branch and marker', () => {
    expect(r.repository.pulls).toMatchObject([{ number: 1, head: `astm53b/changelog-run-${r.runId}-kinshasa`, state: 'open' }]);
    const proposed = r.repository.branches.get(`astm53b/changelog-run-${r.runId}-kinshasa`)!.files.get('CHANGELOG.md')!;
    expect(proposed).toContain(`<!-- astm53b-entry: run ${APP_REPOSITORY}#${r.runId}@kinshasa -->`);
  });

  it('rolls back Kinshasa late only from the backup its signed GO recorded: another backup, or a NO-GO’s, is refused untouched', async () => {
    const lateRun = (depot: DepotName, artifacts: Record<string, string>) =>
      runWorkflow({
        name: `late-rollback-${depot}`,
        // called from the app's repository too, so that its GO run's artifacts are the ones it downloads
        workflow: '.github/workflows/reusable-astm53b-late-rollback.yml',
        repository: APP_REPOSITORY,
        inputs: { 'go-run-id': String(r.runId), replay: false, reason: `réclamation ${depot}`, depot },
        // every depot's signing.pub, committed side by side: each GO bundle is checked with its own depot's
        commitFiles: perDepotKeys(),
        environments: {
          [`prod-rollback-${depot}`]: {
            secrets: {
              DATABASE_URL: depots[depot].url,
              AGE_IDENTITY: keys[depot].ageIdentity,
              EVIDENCE_SIGNING_KEY: keys[depot].signingKey,
            },
            reviewers: [MANAGERS[depot]],
          },
        },
        reviews: { [`prod-rollback-${depot}`]: { state: 'approved', by: MANAGERS[depot], comment: `Rollback tardif ${depot}` } },
        // the GO run's artifacts, as the API serves them to download-artifact with run-id
        earlierRuns: { [String(r.runId)]: artifacts },
        serviceServer: process.env.TEST_DATABASE_URL!,
        minuteMs: 4_000,
      });
    const all = Object.fromEntries([...r.artifacts.keys()].map((a) => [a, r.artifactDir(a)]));
    const kinBefore = await applicationChecksums(depots.kinshasa.db);
    const lubBefore = await applicationChecksums(depots.lubumbashi.db);
    const refusal = (late: RunReport) =>
      late
        .job('rollback')
        .steps.find((x) => x.uses === `${PIPELINE_RELEASE.repository}/actions/rollback@${PIPELINE_RELEASE.tag}`)!
        .annotations.map((a) => a.message)
        .join('\n');
    const untouched = async () => {
      expect(await applicationChecksums(depots.kinshasa.db)).toEqual(kinBefore);
      expect(await isFrozen(depots.kinshasa.db)).toBe(false);
      expect(await applicationChecksums(depots.lubumbashi.db)).toEqual(lubBefore);
    };
    // Kinshasa's signed GO, but another backup in its place: not the one the GO recorded
    const swapped = await lateRun('kinshasa', { ...all, 'kinshasa.backup': all['lubumbashi.backup']! });
    try {
      expect(swapped.job('rollback').result, swapped.describe()).toBe('failure');
      expect(refusal(swapped)).toMatch(/BACKUP_NOT_OF_THIS_GO: .*manifest\.json is not the backup the GO of .*@kinshasa recorded/);
      await untouched();
    } finally {
      await swapped.dispose();
    }
    // Lubumbashi's run of the same id ended NO-GO: there is no GO to roll back
    const nogo = await lateRun('lubumbashi', all);
    try {
      expect(nogo.job('rollback').result, nogo.describe()).toBe('failure');
      expect(refusal(nogo)).toMatch(/NOT_A_GO_BUNDLE: .* records NO-GO/);
      expect(await applicationChecksums(depots.lubumbashi.db)).toEqual(lubBefore);
    } finally {
      await nogo.dispose();
    }
    const kinManifest = await artifactJson<Manifest>(r, 'kinshasa.backup', 'manifest.json');
    const late = await lateRun('kinshasa', all);
    try {
      expect(late.job('rollback').result, late.describe()).toBe('success');
      expect(late.job('rollback').environment).toBe('prod-rollback-kinshasa');
      expect(await applicationChecksums(depots.kinshasa.db)).toEqual(manifestChecksums(kinManifest));
      expect(await isFrozen(depots.kinshasa.db)).toBe(true);
      expect(await applicationChecksums(depots.lubumbashi.db)).toEqual(lubBefore);
      const rb = await artifactJson<{ ok: boolean; run: { runId: string }; goRun: { runId: string; signatureValid: boolean } }>(
        late,
        'results-late-rollback',
        'rollback.json',
      );
      expect(rb.ok).toBe(true);
      expect(rb.run.runId).toBe(`${APP_REPOSITORY}#${late.runId}.1@kinshasa`);
      expect(rb.goRun).toMatchObject({ runId: `${APP_REPOSITORY}#${r.runId}.1@kinshasa`, signatureValid: true });
    } finally {
      await late.dispose();
    }
  });
});
