import { describe, expect, it } from 'vitest';
import { Approvals as ApprovalsSchema } from '../results/approvals.js';
import { SignOff as SignOffSchema, type SignOff } from '../results/signoff.js';
import { approvalsRecord, signoffFromApprovals, signoffProblems, startApprovalProblem, type EnvironmentApproval } from './signoff.js';

const now = new Date('2026-03-11T22:40:00Z');
const run = { runId: 'depot/app#42.1', triggeredBy: { actor: 'ops-engineer', triggeringActor: 'ops-engineer' }, now };
const gate = { environment: 'prod-go', role: 'responsable dépôt', now };
const review = (login: string, state: string, env = 'prod-go', comment = ''): EnvironmentApproval => ({
  environments: [{ name: env }],
  state,
  comment,
  user: { login },
});

describe('approvalsRecord and signoffFromApprovals', () => {
  it('records every approval and rejection of the run with who, comment and environment; the sign-off is the last review of the GO gate', () => {
    const record = approvalsRecord(
      [
        review('ops-lead', 'approved', 'prod-start', 'Créneau validé'),
        review('chef-depot', 'rejected', 'prod-go', ' écart TANK4 '),
        review('chef-depot', 'approved', 'prod-go', 'OK après recontrôle'),
      ],
      run,
    );
    expect(ApprovalsSchema.safeParse(record).success).toBe(true);
    expect(record.reviews.map((r) => [r.environment, r.state, r.who, r.comment])).toEqual([
      ['prod-start', 'approved', 'ops-lead', 'Créneau validé'],
      ['prod-go', 'rejected', 'chef-depot', 'écart TANK4'],
      ['prod-go', 'approved', 'chef-depot', 'OK après recontrôle'],
    ]);
    expect(record).toMatchObject({ runId: 'depot/app#42.1', triggeredBy: run.triggeredBy });
    const s = signoffFromApprovals(record, gate);
    expect(s).toEqual({
      format: 'astm53b-signoff/1',
      who: 'chef-depot',
      role: 'responsable dépôt',
      decision: 'GO',
      at: '2026-03-11T22:40:00.000+00:00',
      comment: 'OK après recontrôle — GitHub review of environment prod-go, run depot/app#42.1',
      runId: 'depot/app#42.1',
      environment: 'prod-go',
      via: 'environment-review',
      triggeredBy: { actor: 'ops-engineer', triggeringActor: 'ops-engineer' },
    });
    expect(SignOffSchema.safeParse(s).success).toBe(true);
  });

  it('turns a rejection into a NO-GO sign-off, keeping who and the comment', () => {
    const s = signoffFromApprovals(approvalsRecord([review('chef-depot', 'rejected', 'prod-go', 'on reste en legacy')], run), gate);
    expect(s).toMatchObject({ decision: 'NO-GO', who: 'chef-depot', comment: expect.stringMatching(/^on reste en legacy — /) });
  });

  it('invents no sign-off when the GO gate was never reviewed, but keeps the other gates’ reviews', () => {
    const record = approvalsRecord([review('ops-lead', 'rejected', 'prod-start', 'pas ce soir')], run);
    expect(record.reviews).toHaveLength(1);
    expect(signoffFromApprovals(record, gate)).toBeNull();
  });
});

describe('signoffProblems: the one check a sign-off passes before it counts', () => {
  const signed = (over: Partial<SignOff> = {}): SignOff => ({
    who: 'chef-depot',
    role: 'responsable dépôt',
    decision: 'GO',
    at: '2026-03-11T22:30:00Z',
    runId: 'depot/app#42.1',
    triggeredBy: { actor: 'ops-engineer', triggeringActor: 'ops-engineer' },
    ...over,
  });
  const fields = (s: SignOff, j: Parameters<typeof signoffProblems>[1]) => signoffProblems(s, j).map((p) => p.field);

  it('accepts a record of this run, dated before now, by someone who did not start it; a re-run attempt is the same run', () => {
    expect(signoffProblems(signed(), { runId: 'depot/app#42.1', now, actors: ['ops-engineer'] })).toEqual([]);
    expect(signoffProblems(signed(), { runId: 'depot/app#42.2', now })).toEqual([]);
  });

  it('keeps the depots of one matrix run apart: a record of one depot does not cover another depot of the same run', () => {
    const kin = signed({ runId: 'depot/app#42.1@kinshasa' });
    expect(signoffProblems(kin, { runId: 'depot/app#42.2@kinshasa', now })).toEqual([]);
    expect(fields(kin, { runId: 'depot/app#42.1@lubumbashi', now })).toEqual(['runId']);
    expect(fields(kin, { runId: 'depot/app#42.1', now })).toEqual(['runId']);
  });

  it('refuses a record of another run, or none in a workflow run, or any run in a rehearsal', () => {
    expect(signoffProblems(signed(), { runId: 'depot/app#43.1', now })).toEqual([
      {
        field: 'runId',
        message:
          'the sign-off names run depot/app#42.1, not this run (depot/app#43.1): it was made for another run and does not cover these results',
      },
    ]);
    expect(signoffProblems(signed({ runId: undefined }), { runId: 'depot/app#43.1', now })[0]!.message).toMatch(
      /^the sign-off names no run: in workflow run depot\/app#43\.1 only a record made in this run counts/,
    );
    expect(fields(signed(), { rehearsal: true, now })).toEqual(['runId']);
    expect(fields(signed({ runId: undefined }), { rehearsal: true, now })).toEqual([]);
    // astm53b decide by hand: no run to hold it to
    expect(fields(signed({ runId: undefined }), { now })).toEqual([]);
  });

  it('refuses a record dated beyond the clock skew allowed', () => {
    expect(fields(signed({ at: '2026-03-11T22:44:00Z' }), { runId: 'depot/app#42.1', now })).toEqual([]);
    expect(signoffProblems(signed({ at: '2026-03-11T23:40:00+01:00' }), { runId: 'depot/app#42.1', now })).toEqual([]);
    expect(signoffProblems(signed({ at: '2026-03-12T00:30:00+01:00' }), { runId: 'depot/app#42.1', now })).toEqual([
      {
        field: 'at',
        message:
          "the sign-off is dated 2026-03-12T00:30:00+01:00, in the future: 50 min after this decision (2026-03-11T22:40:00.000Z), beyond the 5 min of clock skew allowed; check the record and the signer's clock",
      },
    ]);
  });

  it('refuses a GO signed by whoever started the run (actor, re-runner, any case), from the record or from the run', () => {
    const self = signed({ who: 'Ops-Engineer' });
    expect(signoffProblems(self, { runId: 'depot/app#42.1', now })).toEqual([
      {
        field: 'who',
        message:
          "self-approval refused: Ops-Engineer approved the GO of a run triggered by ops-engineer; the depot manager's GO must come from someone other than whoever started the run",
      },
    ]);
    const rerun = signed({ who: 'chef-depot', triggeredBy: { actor: 'ops-engineer', triggeringActor: 'chef-depot' } });
    expect(signoffProblems(rerun, { runId: 'depot/app#42.1', now })[0]!.message).toMatch(/triggered by ops-engineer, re-run by chef-depot/);
    // a record without triggeredBy is held to the run's own actors
    expect(fields(signed({ triggeredBy: undefined }), { runId: 'depot/app#42.1', now, actors: ['chef-depot'] })).toEqual(['who']);
    // refusing one's own run is no approval: a NO-GO counts whoever signs it
    expect(fields(signed({ who: 'ops-engineer', decision: 'NO-GO' }), { runId: 'depot/app#42.1', now })).toEqual([]);
  });
});

describe('startApprovalProblem: the go-ahead of the start gate (runbook 3.4)', () => {
  const record = (reviews: { environment: string; state: 'approved' | 'rejected'; who: string; comment?: string }[]) => ({
    format: 'astm53b-approvals/1' as const,
    runId: 'depot/app#42.1@kin',
    triggeredBy: { actor: 'ops-engineer', triggeringActor: 'ops-engineer' },
    readAt: '2026-03-11T21:00:00.000Z',
    reviews: reviews.map((r) => ({ via: 'environment-review' as const, comment: '', at: null, ...r })),
  });
  it('holds when the last review of that environment is an approval by someone who did not start the run', () => {
    expect(
      startApprovalProblem(record([{ environment: 'prod-start-kin', state: 'approved', who: 'ops-lead' }]), 'prod-start-kin'),
    ).toBeNull();
  });
  it('refuses no review (an environment without a reviewer), a rejection, a self-approval, another depot’s approval', () => {
    expect(startApprovalProblem(record([]), 'prod-start-kin')).toMatch(/^prod-start-kin was not reviewed in run depot\/app#42\.1@kin/);
    expect(
      startApprovalProblem(
        record([{ environment: 'prod-start-kin', state: 'rejected', who: 'ops-lead', comment: 'pas ce soir' }]),
        'prod-start-kin',
      ),
    ).toBe('prod-start-kin was rejected by ops-lead: pas ce soir');
    expect(
      startApprovalProblem(record([{ environment: 'prod-start-kin', state: 'approved', who: 'Ops-Engineer' }]), 'prod-start-kin'),
    ).toMatch(/^self-approval refused: Ops-Engineer approved prod-start-kin/);
    expect(startApprovalProblem(record([{ environment: 'prod-start-lub', state: 'approved', who: 'ops-lead' }]), 'prod-start-kin')).toMatch(
      /was not reviewed/,
    );
  });
});
