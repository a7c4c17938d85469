import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANGE_FILES, PACKAGE_ROOT } from '../paths.js';
import type { ApprovalIssue } from '../results/approval-issue.js';
import type { Manifest } from '../results/backup.js';
import type { Decision } from '../results/decision.js';
import type { SignOff } from '../results/signoff.js';
import { ACTIONS_BOT, type IssueReply } from '../testing/workflow/github-api.js';
import { runWorkflow } from '../testing/workflow/run.js';
import type { RunReport } from '../testing/workflow/types.js';
import {
  APP_COMMIT,
  applicationChecksums,
  artifactJson,
  bundleFile,
  DEMO_GOLDEN,
  demoDepot,
  isFrozen,
  jobResults,
  LEAD,
  manifestChecksums,
  MANAGER,
  prodScenario,
  scenarioKeys,
  verifyUploadedBundle,
} from './scenarios.js';

/**
 * The PROD workflow with `approval: issue`, as a private repository without required reviewers
 * runs it: both gates are issues opened by actions/approval-gate on the local GitHub API, which
 * the scenario's people answer: the start (START_APPROVERS, the lead: GO unless the scenario says
 * otherwise), then the GO. GO_APPROVERS lists the depot manager and, by mistake, the engineer who
 * dispatches the run: his own "GO" is ignored. Four endings: the manager's GO (released), his
 * NO-GO (rolled back), nobody answering in time (rolled back), the lead refusing the start
 * (nothing touched).
 */
const ACTOR = 'ops-engineer';
const P0_1 = `sql/${CHANGE_FILES.p0_1}`;
const SEP_MAIL = 'evidence/sep/2026-12-04_confirmation-SEP.eml';
const CHANGELOG = readFileSync(path.join(PACKAGE_ROOT, 'src/evidence/__fixtures__/CHANGELOG.excerpt.md'), 'utf8');
/** the titles of the two issues a run opens (src/report/approval-issue.ts) */
const START_ISSUE = 'start the migration?';
const GO_ISSUE = 'GO / NO-GO of run';
const START_GO: IssueReply = { by: LEAD, body: 'GO créneau validé, équipe informée', onTitle: START_ISSUE };

async function runIssueGate(
  name: string,
  replies: IssueReply[],
  inputs: Record<string, string> = {},
  commitFiles: Record<string, string> = {},
  extra: { repositoryFiles?: Record<string, string>; vars?: Record<string, string>; startReplies?: IssueReply[] } = {},
) {
  const depot = await demoDepot(`wf_issue_${name}`);
  const before = await applicationChecksums(depot.db);
  const k = await scenarioKeys();
  const r = await runWorkflow(
    prodScenario(depot, k, {
      name: `issue-${name}`,
      actor: ACTOR,
      inputs: { 'flutter-commit': APP_COMMIT, 'golden-file': DEMO_GOLDEN, approval: 'issue', ...inputs },
      vars: { AGE_RECIPIENT: k.recipient, START_APPROVERS: LEAD, GO_APPROVERS: `@${MANAGER}, ${ACTOR}`, ...extra.vars },
      ...(extra.repositoryFiles ? { repositoryFiles: extra.repositoryFiles } : {}),
      issueReplies: [...(extra.startReplies ?? [START_GO]), ...replies.map((x) => ({ ...x, onTitle: GO_ISSUE }))],
      commitFiles,
    }),
  );
  return { depot, before, r };
}

const gateRequests = (r: RunReport) => r.apiRequests.filter((q) => q.job === 'go-gate-issue').map((q) => `${q.method} ${q.status}`);

describe('PROD workflow, approval issue: the actor says GO (ignored), then the manager says GO', () => {
  let run: Awaited<ReturnType<typeof runIssueGate>>;
  beforeAll(async () => {
    run = await runIssueGate(
      'go',
      [
        { by: ACTOR, body: 'GO' },
        { by: MANAGER, body: 'GO — chiffres SEP conformes' },
      ],
      { 'change-file': P0_1, restate: 'true', 'sep-files': SEP_MAIL },
      // runbook 5.7: a GO bundle needs SEP's confirmation
      { [SEP_MAIL]: 'From: controle@sep.example\r\nSubject: Confirmation terrain ASTM 53B\r\n\r\nVolumes confirmés.\r\n' },
      // the app's CHANGELOG, where the GO's entry goes as a pull request
      { repositoryFiles: { 'CHANGELOG.md': CHANGELOG }, vars: { CHANGELOG_OCCURRENCE: '1' } },
    );
  });
  afterAll(async () => {
    await run?.r.dispose();
    await run?.depot.close();
  });

  it('opens one issue showing the decision so far, the golden and smoke summaries and the run, records the manager’s GO, closes it; GO, released', async () => {
    const { r } = run;
    expect(jobResults(r), r.describe()).toEqual({
      preflight: 'success',
      'start-gate-issue': 'success',
      change: 'success',
      'go-gate': 'skipped',
      'go-gate-issue': 'success',
      decide: 'success',
      rollback: 'skipped',
      release: 'success',
      changelog: 'success',
      evidence: 'success',
    });
    // the go-ahead to start, given by the lead on the first issue, then the GO's
    expect(r.issues.map((x) => [x.number, x.title, x.state])).toEqual([
      [101, `astm53b: start the migration? run ${r.runId} (prod-start, runbook 3.4)`, 'closed'],
      [102, `astm53b: GO / NO-GO of run ${r.runId} (prod-go, runbook 5.6)`, 'closed'],
    ]);
    expect(r.issues[0]!.body).toContain(`| change-file | \`${P0_1}\` |`);
    expect(r.issues[0]!.body).toContain('Preflight (runbook 3.1–3.4)');
    const issue = r.issues[1]!;
    expect(issue.title).toBe(`astm53b: GO / NO-GO of run ${r.runId} (prod-go, runbook 5.6)`);
    expect(issue.body).toContain(`https://github.com/depot/astm53b-pipeline/actions/runs/${r.runId}`);
    expect(issue.body).toContain('## Golden cases: ✅ PASS');
    expect(issue.body).toContain('## Smoke tests (runbook 4.5, 5.1–5.5): ✅ PASS');
    // the decision so far: everything passed, only the sign-off is missing
    expect(issue.body).toMatch(/## GO \/ NO-GO \(runbook 6\.1, 7\): ⛔ NO-GO[\s\S]*NO_SIGNOFF/);
    expect(issue.body).toContain(`@${MANAGER}`);
    expect(issue.body).not.toMatch(new RegExp(`\\*\\*To answer, [^*]*@${ACTOR}`));
    expect([issue.state, issue.stateReason]).toEqual(['closed', 'completed']);
    expect(issue.comments.at(-1)!.login).toBe(ACTIONS_BOT);
    expect(issue.comments.at(-1)!.body).toMatch(new RegExp(`^Recorded: \\*\\*GO\\*\\* by @${MANAGER}`));
    expect(gateRequests(r)).toEqual(['POST 201', 'GET 200', 'POST 201', 'PATCH 200']);

    const signoff = await artifactJson<SignOff>(r, 'results-approval-gate', 'signoff.json');
    expect(signoff).toMatchObject({
      who: MANAGER,
      decision: 'GO',
      via: 'approval-issue',
      environment: 'prod-go',
      runId: `depot/astm53b-pipeline#${r.runId}.1`,
      triggeredBy: { actor: ACTOR, triggeringActor: ACTOR },
      issue: { number: issue.number },
    });
    expect(signoff.comment).toMatch(/^chiffres SEP conformes — comment on approval issue #102/);
    const asked = await artifactJson<ApprovalIssue>(r, 'results-approval-gate', 'approval-issue.json');
    expect(asked).toMatchObject({ outcome: 'approved', approvers: [MANAGER], decidedBy: { who: MANAGER, state: 'approved' } });
    expect(asked.ignored.map((x) => `${x.who}: ${x.reason}`)).toEqual([`${ACTOR}: started the run`]);

    const decision = await artifactJson<Decision>(r, 'results-decision', 'decision.json');
    expect([decision.decision, decision.reasons]).toEqual(['GO', []]);
    expect(decision.inputs.find((x) => x.name === 'approval-issue')).toMatchObject({ status: 'passed' });
    expect(decision.inputs.find((x) => x.name === 'approval-issue-start')).toMatchObject({
      status: 'passed',
      detail: expect.stringMatching(new RegExp(`^issue #101 approved by ${LEAD} at `)),
    });
    // the GO's CHANGELOG entry went out as a pull request, whichever gate gave the GO
    expect(r.repository.pulls).toHaveLength(1);
    expect(await isFrozen(run.depot.db)).toBe(false);
  });

  it('bundles the sign-off and the approval issue record, verified and signed', async () => {
    const v = await verifyUploadedBundle(run.r);
    expect([v.ok, v.signedByDepot, v.decision]).toEqual([true, true, 'GO']);
    expect(JSON.parse(await bundleFile(v.zip, 'results/approval-issue.json'))).toMatchObject({ outcome: 'approved' });
    expect(JSON.parse(await bundleFile(v.zip, 'results/signoff.json'))).toMatchObject({ who: MANAGER, via: 'approval-issue' });
  });
});

async function expectRolledBack({ depot, before, r }: Awaited<ReturnType<typeof runIssueGate>>) {
  const manifest = await artifactJson<Manifest>(r, 'backup', 'manifest.json');
  expect(await applicationChecksums(depot.db)).toEqual(manifestChecksums(manifest));
  expect(await applicationChecksums(depot.db)).toEqual(before);
  expect(await isFrozen(depot.db)).toBe(true);
}

describe('PROD workflow, approval issue: the manager answers NO-GO with a comment', () => {
  const comment = 'écarts golden au-delà de 5 L';
  let run: Awaited<ReturnType<typeof runIssueGate>>;
  beforeAll(async () => {
    run = await runIssueGate('nogo', [
      { by: 'passant', body: 'GO' },
      { by: MANAGER, body: `NO-GO: ${comment}` },
    ]);
  });
  afterAll(async () => {
    await run?.r.dispose();
    await run?.depot.close();
  });

  it('records who said NO-GO, when and why, in the decision and the bundle; rolled back to the dump and frozen', async () => {
    const { r } = run;
    expect(jobResults(r), r.describe()).toMatchObject({
      'go-gate': 'skipped',
      'go-gate-issue': 'success',
      rollback: 'success',
      release: 'skipped',
    });
    const decision = await artifactJson<Decision>(r, 'results-decision', 'decision.json');
    expect(decision.decision).toBe('NO-GO');
    const nogo = decision.reasons.find((x) => x.condition === 'SIGNOFF_NO_GO')!;
    expect(nogo.message).toMatch(
      new RegExp(`^${MANAGER} \\(responsable dépôt\\) signed NO-GO: ${comment} — comment on approval issue #102`),
    );
    expect(decision.signoff).toMatchObject({ who: MANAGER, decision: 'NO-GO', via: 'approval-issue' });
    expect(Date.parse(decision.signoff!.at)).toBe(r.issues[1]!.comments.find((c) => c.login === MANAGER)!.at.setMilliseconds(0));
    const asked = await artifactJson<ApprovalIssue>(r, 'results-approval-gate', 'approval-issue.json');
    expect(asked.ignored.map((x) => `${x.who}: ${x.reason}`)).toEqual(['passant: not a listed approver']);
    expect(r.issues[1]!.state).toBe('closed');
    await expectRolledBack(run);
    const v = await verifyUploadedBundle(r);
    expect([v.ok, v.decision]).toEqual([true, 'NO-GO']);
    expect(JSON.parse(await bundleFile(v.zip, 'results/signoff.json'))).toMatchObject({ who: MANAGER, decision: 'NO-GO' });
  });
});

describe('PROD workflow, approval issue: only the actor answers, and the wait runs out', () => {
  let run: Awaited<ReturnType<typeof runIssueGate>>;
  beforeAll(async () => {
    // 0.05 min: three seconds of waiting, as the bounded wait of a real run would end after its timeout-minutes
    run = await runIssueGate('timeout', [{ by: ACTOR, body: 'GO' }], {}, {}, { vars: { APPROVAL_TIMEOUT_MINUTES: '0.05' } });
  });
  afterAll(async () => {
    await run?.r.dispose();
    await run?.depot.close();
  });

  it('fails the gate without a sign-off, closes the issue as not planned, decides NO-GO saying so, and rolls back', async () => {
    const { r } = run;
    expect(jobResults(r), r.describe()).toMatchObject({
      'go-gate-issue': 'failure',
      decide: 'success',
      rollback: 'success',
      release: 'skipped',
    });
    expect(r.step('go-gate-issue', './actions/approval-gate').annotations.find((a) => a.level === 'error')!.message).toMatch(
      /no GO or NO-GO from an approver on issue #102 within 0\.05 min: no sign-off \(NO-GO\)/,
    );
    expect([r.issues[1]!.state, r.issues[1]!.stateReason]).toEqual(['closed', 'not_planned']);
    const asked = await artifactJson<ApprovalIssue>(r, 'results-approval-gate', 'approval-issue.json');
    expect(asked).toMatchObject({ outcome: 'timeout', decidedBy: null, ignored: [{ who: ACTOR, reason: 'started the run' }] });
    expect(r.artifacts.get('results-approval-gate')!.files).not.toContain('signoff.json');
    const decision = await artifactJson<Decision>(r, 'results-decision', 'decision.json');
    expect(decision.decision).toBe('NO-GO');
    expect(decision.signoff).toBeNull();
    expect(decision.reasons.filter((x) => x.condition === 'NO_SIGNOFF').map((x) => x.message)).toEqual([
      'no written validation by the depot manager (sign-off record absent)',
      expect.stringMatching(
        new RegExp(`^approval issue #102 \\(https://github.com/depot/astm53b-pipeline/issues/102\\): no GO or NO-GO from ${MANAGER} by `),
      ),
    ]);
    await expectRolledBack(run);
  });
});

describe('PROD workflow, approval issue: the lead refuses the start', () => {
  let run: Awaited<ReturnType<typeof runIssueGate>>;
  beforeAll(async () => {
    run = await runIssueGate(
      'start-refused',
      [],
      {},
      {},
      {
        // the dispatcher cannot give the go-ahead himself: his GO is ignored, the lead's NO-GO decides
        startReplies: [
          { by: ACTOR, body: 'GO', onTitle: START_ISSUE },
          { by: LEAD, body: 'NO-GO: camions attendus ce soir, créneau refusé', onTitle: START_ISSUE },
        ],
      },
    );
  });
  afterAll(async () => {
    await run?.r.dispose();
    await run?.depot.close();
  });

  it('starts nothing: no freeze, no backup, no change, no GO issue; the refusal with who and why in the decision and the bundle', async () => {
    const { r, depot, before } = run;
    expect(jobResults(r), r.describe()).toEqual({
      preflight: 'success',
      'start-gate-issue': 'failure',
      change: 'skipped',
      'go-gate': 'skipped',
      'go-gate-issue': 'skipped',
      decide: 'success',
      rollback: 'skipped',
      release: 'skipped',
      changelog: 'skipped',
      evidence: 'success',
    });
    expect(r.issues.map((x) => [x.title.startsWith(`astm53b: ${START_ISSUE}`), x.state, x.stateReason])).toEqual([
      [true, 'closed', 'completed'],
    ]);
    expect(await applicationChecksums(depot.db)).toEqual(before);
    expect(await isFrozen(depot.db)).toBe(false);
    expect(r.artifacts.has('backup')).toBe(false);
    const asked = await artifactJson<ApprovalIssue>(r, 'results-approval-start', 'approval-issue-start.json');
    expect(asked).toMatchObject({ environment: 'prod-start', outcome: 'rejected', ignored: [{ who: ACTOR, reason: 'started the run' }] });
    const decision = await artifactJson<Decision>(r, 'results-decision', 'decision.json');
    expect(decision.decision).toBe('NO-GO');
    expect(decision.reasons.filter((x) => x.condition === 'GATE_REJECTED').map((x) => x.message)).toEqual([
      `prod-start rejected by ${LEAD} on approval issue #101 (https://github.com/depot/astm53b-pipeline/issues/101): camions attendus ce soir, créneau refusé`,
    ]);
    const v = await verifyUploadedBundle(r);
    expect([v.ok, v.signedByDepot, v.decision]).toEqual([true, true, 'NO-GO']);
    expect(JSON.parse(await bundleFile(v.zip, 'results/approval-issue-start.json'))).toMatchObject({ outcome: 'rejected' });
  });
});
