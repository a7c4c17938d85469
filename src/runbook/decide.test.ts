import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.js';
import { RESULTS, type ResultKind, type ResultOf } from '../results/files.js';
import { writeResult } from '../results/io.js';
import { SignOff as SignOffSchema } from '../results/signoff.js';
import { rehearsedResult } from '../testing/results.js';
import { decide } from './decide.js';

/** The decision's reading of result files without a database (the GO path needs a real verified backup: smoke.pg.test.ts). */
const root = mkdtempSync(join(tmpdir(), 'astm53b-decide-unit-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A results folder holding only the given files: results of the real rehearsal, changed through the contract, or raw text. */
async function folder(files: { [K in ResultKind]?: ResultOf<K> | string }): Promise<string> {
  const d = mkdtempSync(join(root, 'r-'));
  for (const [kind, v] of Object.entries(files) as [ResultKind, ResultOf<ResultKind> | string][]) {
    if (typeof v === 'string') writeFileSync(join(d, RESULTS[kind].file), v);
    else await writeResult(d, kind, v);
  }
  return d;
}

/** The rehearsal's smoke result, failed: 5.1 passed, 5.3 not run, 5.4 failed with one finding. */
async function failedSmoke(): Promise<ResultOf<'smoke'>> {
  const real = await rehearsedResult('smoke');
  const byId = (id: string) => real.checks.find((c) => c.id === id)!;
  return {
    ...real,
    passed: false,
    at: '2026-03-11T21:00:00.000Z',
    checks: [
      {
        ...byId('5.1'),
        title: 't',
        passed: true,
        message: 'ok',
        findings: [{ code: 'DEPOTS_READ', passed: true, condition: null, message: 'ok' }],
      },
      { ...byId('5.3'), title: 't', ran: false, passed: false, message: 'not run: x', findings: [] },
      {
        ...byId('5.4'),
        title: 't',
        ran: true,
        passed: false,
        message: 'x',
        findings: [{ code: 'P0_NOT_APPLIED', passed: false, condition: 'P0001_OR_RLS', message: 'legacy body' }],
      },
    ],
  };
}

describe('decide (files only)', () => {
  it('maps each failing smoke finding to its condition, once; a check that did not run adds nothing when a finding says why', async () => {
    const d = await decide({ resultsDir: await folder({ smoke: await failedSmoke() }) }, silentLogger);
    expect(d.reasons.filter((r) => r.source.endsWith('smoke.json')).map((r) => `${r.condition} ${r.message}`)).toEqual([
      'P0001_OR_RLS 5.4 P0_NOT_APPLIED: legacy body',
    ]);
  });

  it('a failed smoke with no failing finding still gives a reason per failed check', async () => {
    const smoke = await failedSmoke();
    const bare = { ...smoke, checks: [smoke.checks[1]!] };
    const d = await decide({ resultsDir: await folder({ smoke: bare }) }, silentLogger);
    expect(d.reasons.filter((r) => r.source.endsWith('smoke.json')).map((r) => `${r.condition} ${r.message}`)).toEqual([
      'SMOKE_FAILED 5.3: not run: x',
    ]);
  });

  it('a result that is not what its name says is unreadable: NO-GO naming the field', async () => {
    const d = await decide({ resultsDir: await folder({ smoke: JSON.stringify({ step: 'preflight', passed: true }) }) }, silentLogger);
    const r = d.reasons.find((x) => x.source.endsWith('smoke.json'))!;
    expect(r.condition).toBe('RESULT_MISSING');
    expect(r.message).toMatch(/^smoke result is not a smoke result: field step:/);
  });

  it('a dry-run or rejected apply is CHANGE_NOT_APPLIED; a passed flag never hides a failing golden case', async () => {
    const d = await decide(
      {
        resultsDir: await folder({
          sqlApply: { ...(await rehearsedResult('sqlApply')), ok: true, status: 'dry-run', violations: [] },
          golden: await (async () => {
            const g = await rehearsedResult('golden');
            const c = { ...g.cases[0]!, reference: 'SEP-1', verdict: 'FAIL' as const, deviation_l: 8.2, mlpp_deviation_l: null };
            return { ...g, passed: true, tolerance_l: 5, profile: '1980/table/hydrometer', cases: [c] };
          })(),
        }),
      },
      silentLogger,
    );
    expect(d.reasons.filter((r) => /sql-apply|golden/.test(r.source)).map((r) => `${r.condition} ${r.message}`)).toEqual([
      'CHANGE_NOT_APPLIED status dry-run',
      'GOLDEN_DEVIATION case SEP-1: engine − SEP 8.2 L, beyond ±5 L',
    ]);
  });

  it("a linked case failing on ML_PP's stored legacy value names `astm53b restate` as the remedy; once restated, it says so instead", async () => {
    const g = await rehearsedResult('golden');
    const legacy = g.cases.find((c) => c.mlpp_verdict === 'FAIL' && c.mlpp_restated_15c_l === null)!;
    expect(legacy).toBeDefined();
    const restated = { ...legacy, reference: 'SEP-R', mlpp_restated_15c_l: -80, mlpp_deviation_l: 12.5 };
    const d = await decide({ resultsDir: await folder({ golden: { ...g, cases: [legacy, restated] } }) }, silentLogger);
    const golden = d.reasons.filter((r) => r.source.endsWith('golden.json'));
    expect(golden.map((r) => r.condition)).toEqual(['GOLDEN_DEVIATION', 'GOLDEN_DEVIATION']);
    expect(golden[0]!.message).toBe(
      `case ${legacy.reference}: engine − SEP ${legacy.deviation_l} L, ML_PP − SEP ${legacy.mlpp_deviation_l} L, beyond ±5 L; ` +
        "ML_PP's value is the one stored, never restated: `astm53b restate` books its ASTM 53B restatement (one stocks_adjustments row per reception, as an app admin), then verify again",
    );
    expect(golden[1]!.message).toBe(
      `case SEP-R: engine − SEP ${legacy.deviation_l} L, ML_PP (effective) − SEP 12.5 L, beyond ±5 L; ML_PP's effective value already includes a restatement of -80 L and still differs from SEP`,
    );
  });

  it('a sign-off dated in the future is NO_SIGNOFF; a few minutes ahead (clock skew) is accepted', async () => {
    const now = new Date('2026-03-11T22:00:00Z');
    const signed = (at: string) => ({ who: 'J. K.', role: 'responsable dépôt', decision: 'GO' as const, at });
    const reasonsFor = async (at: string) =>
      (await decide({ resultsDir: await folder({ signoff: signed(at) }), now }, silentLogger)).reasons.filter((r) =>
        r.source.endsWith('signoff.json'),
      );
    expect(await reasonsFor('2026-03-12T00:30:00+01:00')).toEqual([
      expect.objectContaining({
        condition: 'NO_SIGNOFF',
        message:
          "the sign-off is dated 2026-03-12T00:30:00+01:00, in the future: 90 min after this decision (2026-03-11T22:00:00.000Z), beyond the 5 min of clock skew allowed; check the record and the signer's clock",
      }),
    ]);
    expect(await reasonsFor('2026-03-11T22:04:00Z')).toEqual([]);
    expect(await reasonsFor('2026-03-11T21:40:00Z')).toEqual([]);
    const d = await decide({ resultsDir: await folder({ signoff: signed('2026-03-11T23:00:00Z') }), now }, silentLogger);
    expect(d.inputs.find((i) => i.name === 'signoff')).toMatchObject({ status: 'failed' });
  });

  it('records every review of the run; a rejected gate other than the GO gate is GATE_REJECTED, the GO gate’s own rejection is the signed NO-GO', async () => {
    const runId = 'depot/app#42.1';
    const triggeredBy = { actor: 'ops-engineer', triggeringActor: 'ops-engineer' };
    const review = (environment: string, state: 'approved' | 'rejected', who: string, comment: string) => ({
      environment,
      via: 'environment-review' as const,
      state,
      who,
      comment,
      at: null,
    });
    const approvals = {
      format: 'astm53b-approvals/1' as const,
      runId,
      triggeredBy,
      readAt: '2026-03-11T22:41:00.000Z',
      reviews: [review('prod-start', 'rejected', 'ops-lead', 'Pas ce soir'), review('prod-go', 'rejected', 'chef-depot', 'écarts')],
    };
    const signoff = {
      who: 'chef-depot',
      role: 'responsable dépôt',
      decision: 'NO-GO' as const,
      at: '2026-03-11T22:40:00+00:00',
      comment: 'écarts',
      runId,
      environment: 'prod-go',
      triggeredBy,
    };
    const d = await decide(
      { resultsDir: await folder({ approvals, signoff }), runId, now: new Date('2026-03-11T22:42:00Z') },
      silentLogger,
    );
    expect(d.approvals).toEqual(approvals);
    expect(d.reasons.filter((r) => /signoff|approvals/.test(r.source)).map((r) => `${r.condition} ${r.message}`)).toEqual([
      'SIGNOFF_NO_GO chef-depot (responsable dépôt) signed NO-GO: écarts',
      'GATE_REJECTED prod-start rejected by ops-lead: Pas ce soir',
    ]);
    expect(d.inputs.find((i) => i.name === 'approvals')).toMatchObject({
      status: 'failed',
      detail: 'prod-start rejected by ops-lead, prod-go rejected by chef-depot',
    });
    // another run's record of reviews is no record of this run's
    const elsewhere = await decide({ resultsDir: await folder({ approvals }), runId: 'depot/app#43.1', now: new Date() }, silentLogger);
    expect(elsewhere.approvals).toBeNull();
    expect(elsewhere.reasons.filter((r) => r.source.endsWith('approvals.json')).map((r) => `${r.condition} ${r.message}`)).toEqual([
      'RESULT_MISSING approvals record of run depot/app#42.1, not of this run (depot/app#43.1)',
    ]);
  });

  it('reads the start gate held as an issue: a NO-GO or no answer is GATE_REJECTED (the migration did not start), a GO counts', async () => {
    const runId = 'depot/app#42.1';
    const issue = (outcome: 'approved' | 'rejected' | 'timeout') => ({
      format: 'astm53b-approval-issue/1' as const,
      runId,
      triggeredBy: { actor: 'ops-engineer', triggeringActor: 'ops-engineer' },
      environment: 'prod-start',
      issue: { number: 101, url: 'https://github.com/depot/app/issues/101' },
      approvers: ['ops-lead'],
      openedAt: '2026-03-11T21:00:00.000Z',
      deadline: '2026-03-11T23:00:00.000Z',
      closedAt: '2026-03-11T21:05:00.000Z',
      outcome,
      decidedBy:
        outcome === 'timeout'
          ? null
          : {
              environment: 'prod-start',
              via: 'approval-issue' as const,
              state: outcome,
              who: 'ops-lead',
              comment: outcome === 'approved' ? 'créneau validé' : 'pas ce soir',
              at: '2026-03-11T21:04:00Z',
              url: 'https://github.com/depot/app/issues/101#issuecomment-1',
            },
      ignored: [],
    });
    const start = async (outcome: 'approved' | 'rejected' | 'timeout') => {
      const d = await decide({ resultsDir: await folder({ startApprovalIssue: issue(outcome) }), runId, now: new Date() }, silentLogger);
      return {
        reasons: d.reasons.filter((r) => r.source.endsWith('approval-issue-start.json')).map((r) => `${r.condition} ${r.message}`),
        input: d.inputs.find((i) => i.name === 'approval-issue-start'),
      };
    };
    expect(await start('rejected')).toMatchObject({
      reasons: [
        'GATE_REJECTED prod-start rejected by ops-lead on approval issue #101 (https://github.com/depot/app/issues/101): pas ce soir',
      ],
      input: { status: 'failed' },
    });
    expect((await start('timeout')).reasons).toEqual([
      'GATE_REJECTED prod-start: no GO or NO-GO from ops-lead on approval issue #101 (https://github.com/depot/app/issues/101) by 2026-03-11T23:00:00.000Z; the migration did not start',
    ]);
    expect(await start('approved')).toMatchObject({ reasons: [], input: { status: 'passed' } });
  });

  it('a GO approved by the run’s own actor is NO_SIGNOFF (self-approval), and so is a record of another run', async () => {
    const runId = 'depot/app#42.1';
    const signoff = (who: string, run = runId) => ({
      who,
      role: 'responsable dépôt',
      decision: 'GO' as const,
      at: '2026-03-11T22:40:00+00:00',
      runId: run,
      environment: 'prod-go',
      triggeredBy: { actor: 'chef-depot', triggeringActor: 'chef-depot' },
    });
    const now = new Date('2026-03-11T22:42:00Z');
    const self = await decide(
      { resultsDir: await folder({ signoff: signoff('chef-depot') }), runId, now, actors: ['chef-depot'] },
      silentLogger,
    );
    expect(self.decision).toBe('NO-GO');
    expect(self.reasons.filter((r) => r.source.endsWith('signoff.json')).map((r) => `${r.condition} ${r.message}`)).toEqual([
      "NO_SIGNOFF self-approval refused: chef-depot approved the GO of a run triggered by chef-depot; the depot manager's GO must come from someone other than whoever started the run",
    ]);
    expect(self.inputs.find((i) => i.name === 'signoff')).toMatchObject({
      status: 'failed',
      detail: 'GO by chef-depot (responsable dépôt) at 2026-03-11T22:40:00+00:00, run triggered by chef-depot',
    });
    const other = await decide({ resultsDir: await folder({ signoff: signoff('boss', 'depot/app#41.1') }), runId, now }, silentLogger);
    expect(other.reasons.filter((r) => r.source.endsWith('signoff.json')).map((r) => r.message)).toEqual([
      'the sign-off names run depot/app#41.1, not this run (depot/app#42.1): it was made for another run and does not cover these results',
    ]);
  });

  it('the sign-off schema names the field at fault', () => {
    const bad = SignOffSchema.safeParse({ who: 'J. K.', role: 'responsable dépôt', decision: 'OK', at: '2026-03-11T22:40:00+01:00' });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]!.path).toEqual(['decision']);
    expect(
      SignOffSchema.safeParse({ who: 'J. K.', role: 'responsable dépôt', decision: 'GO', at: '2026-03-11T22:40:00+01:00' }).success,
    ).toBe(true);
    expect(SignOffSchema.safeParse({ who: 'J. K.', role: 'responsable dépôt', decision: 'GO', at: '2026-03-11' }).success).toBe(false);
    expect(
      SignOffSchema.safeParse({ who: 'J. K.', role: 'responsable dépôt', decision: 'GO', at: '2026-02-31T22:40:00+01:00' }).success,
    ).toBe(false);
  });

  it('a result missing because its step stopped on an error: the reason says what stopped it', async () => {
    const d = mkdtempSync(join(root, 'r-'));
    writeFileSync(join(d, 'smoke.error.txt'), 'DB_CONNECTION_LOST: the smoke lost its connection during 5.3\nmore\n');
    const r = await decide({ resultsDir: d }, silentLogger);
    const smoke = r.reasons.find((x) => x.source.endsWith('smoke.json'))!;
    expect(smoke.condition).toBe('RESULT_MISSING');
    expect(smoke.message).toBe('smoke result missing: the step stopped: DB_CONNECTION_LOST: the smoke lost its connection during 5.3');
    expect(r.reasons.find((x) => x.source.endsWith('golden.json'))!.message).toBe('golden result missing: no such file');
  });
});
