import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newDepotKeys } from '../crypto/keys.js';
import { readSigningKey, readPublicKey } from '../crypto/signing.js';
import { buildBundle } from '../evidence/bundle.js';
import { verifyBundle } from '../evidence/verify.js';
import { silentLogger } from '../logger.js';
import { CHANGE_FILES, sqlPath } from '../paths.js';
import { loadRehearsalInputs } from '../rehearsal/inputs.js';
import { rehearse } from '../rehearsal/rehearse.js';
import { WatchResult } from '../results/watch.js';
import { enterAfterGo } from '../rehearsal/after-go.js';
import { runWorkflow } from '../testing/workflow/run.js';
import type { FakeIssue } from '../testing/workflow/github-api.js';
import type { Scenario } from '../testing/workflow/types.js';
import { applicationChecksums, demoDepot, type Depot } from './scenarios.js';

/**
 * The scheduled watch workflow as GitHub runs it, after a real GO on the demo depot (the remedied
 * rehearsal on the database, its bundle signed with the depot's key from `keys new` and uploaded as
 * the GO run's evidence-bundle artifact): a pass with a field complaint fails NO-GO and opens the
 * incident issue through the local GitHub API; a closing pass without one uploads the signed
 * addendum. Neither writes to the database.
 */
const WATCH_WORKFLOW = '.github/workflows/astm53b-watch.yml';
const GO_RUN = '4242';

describe('astm53b-watch.yml: the 24 hours after a GO', () => {
  let depot: Depot;
  let tmp = '';
  let artifactDir = '';
  let keysDir = '';
  beforeAll(async () => {
    depot = await demoDepot('wf_watch');
    tmp = await mkdtemp(path.join(tmpdir(), 'astm53b-wf-watch-'));
    keysDir = path.join(tmp, 'keys');
    await newDepotKeys(keysDir);
    const signoff = path.join(tmp, 'go.json');
    await writeFile(signoff, JSON.stringify({ who: 'M. Kabeya', role: 'responsable dépôt', decision: 'GO', at: new Date().toISOString() }));
    const inputs = await loadRehearsalInputs({ changes: [sqlPath(CHANGE_FILES.p0_1)], signoff });
    const r = await rehearse(
      depot.db,
      { outDir: path.join(tmp, 'go'), inputs, restate: true, run: { runId: GO_RUN, actor: 'ops' } },
      silentLogger,
    );
    expect(r.decision.decision).toBe('GO');
    artifactDir = path.join(tmp, 'go-artifact');
    await mkdir(artifactDir);
    const signingKey = await readSigningKey(path.join(keysDir, 'signing.key'));
    await buildBundle(
      { resultsDir: r.resultsDir, out: path.join(artifactDir, `astm53b-evidence-${GO_RUN}.zip`), signingKey },
      silentLogger,
    );
    // the depot works on the migrated app after the GO
    await enterAfterGo(depot.db, 'astm');
  });
  afterAll(async () => {
    await depot?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  const scenario = async (name: string, inputs: Record<string, string | boolean>, issues: FakeIssue[]): Promise<Scenario> => ({
    name,
    workflow: WATCH_WORKFLOW,
    inputs,
    vars: { ASTM53B_GO_RUN_ID: GO_RUN },
    environments: {
      'prod-watch': {
        secrets: {
          WATCH_DATABASE_URL: depot.url,
          EVIDENCE_SIGNING_KEY: await readFile(path.join(keysDir, 'signing.key'), 'utf8'),
        },
      },
    },
    commitFiles: { 'keys/signing.pub': await readFile(path.join(keysDir, 'signing.pub'), 'utf8') },
    earlierRuns: { [GO_RUN]: { 'evidence-bundle': artifactDir } },
    serviceServer: process.env.TEST_DATABASE_URL!,
    issues,
  });

  it('a field complaint issue since the GO: the job fails NO-GO under 6.1, the incident issue is opened, nothing written', async () => {
    const before = await applicationChecksums(depot.db);
    // GitHub dates an issue to the second: one opened in the GO's own second would read as before it
    await new Promise((r) => setTimeout(r, 1100));
    const issues: FakeIssue[] = [
      {
        number: 1,
        title: 'Camion BAE 6173: 40 L de moins au client',
        body: 'le client conteste le volume à 15 °C',
        labels: ['astm53b-reclamation'],
        state: 'open',
        login: 'chef-de-quai',
        createdAt: new Date(),
        comments: [],
      },
    ];
    const report = await runWorkflow(await scenario('watch: complaint', {}, issues));
    try {
      expect(report.job('watch').result, report.describe()).toBe('failure');
      const step = report.step('watch', 'watch');
      expect(step.outputs.decision).toBe('NO-GO');
      expect(step.outputs['incident-issue']).toBe('101');
      expect(issues[1]).toMatchObject({ title: `ASTM53B incident after the GO of run ${GO_RUN}`, labels: ['astm53b-incident'] });
      expect(issues[1]!.body).toContain('Réclamation terrain dans les 24h');
      const w = WatchResult.parse(JSON.parse(await readFile(path.join(report.artifactDir(`watch-${report.runId}`), 'watch.json'), 'utf8')));
      expect(w.complaints.map((c) => c.issue?.number)).toEqual([1]);
      expect(w.go.signatureValid).toBe(true);
      expect(w.checks.filter((c) => !c.passed).map((c) => c.id)).toEqual(['complaints']);
      // the token read the GO run's artifact and wrote only issues
      expect(report.apiRequests.filter((q) => q.method !== 'GET').map((q) => `${q.method} ${q.path} ${q.status}`)).toEqual([
        'POST /repos/depot/astm53b-pipeline/issues 201',
      ]);
      expect(report.describe()).not.toContain('scenario-db-password');
      expect(await applicationChecksums(depot.db)).toEqual(before);
    } finally {
      await report.dispose();
    }
  });

  it('the closing pass (dispatched with close): GO holds, the signed addendum is uploaded and verifies with signing.pub', async () => {
    const report = await runWorkflow(await scenario('watch: close', { close: true }, []));
    try {
      expect(report.job('watch').result, report.describe()).toBe('success');
      expect(report.step('watch', 'watch').outputs).toMatchObject({ decision: 'GO-HOLDS', closing: 'true' });
      const zip = path.join(report.artifactDir('watch-addendum'), 'astm53b-watch-addendum.zip');
      const v = await verifyBundle(zip, { publicKey: await readPublicKey(path.join(keysDir, 'signing.pub')) });
      expect(v.ok).toBe(true);
      expect(v.authenticity.valid).toBe(true);
    } finally {
      await report.dispose();
    }
  });
});
