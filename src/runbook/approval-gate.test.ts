import { describe, expect, it } from 'vitest';
import { SignOff as SignOffSchema } from '../results/signoff.js';
import { approversOfDepot, effectiveApprovers, judgeComments, parseApprovers, signoffFromIssue, verdictOf } from './approval-gate.js';
import { signoffProblems } from './signoff.js';

const triggeredBy = { actor: 'ops-engineer', triggeringActor: 'ops-engineer' };
const gate = { environment: 'prod-go', approvers: ['chef-depot', 'adjoint'], triggeredBy };
const c = (who: string, body: string, s: number) => ({
  who,
  body,
  at: `2026-03-11T22:${String(s).padStart(2, '0')}:00Z`,
  url: `https://github.com/depot/app/issues/101#issuecomment-${s}`,
});

describe('verdictOf', () => {
  it('reads GO or NO-GO as the first word, any case, the rest as the comment', () => {
    expect(verdictOf('GO')).toEqual({ state: 'approved', comment: '' });
    expect(verdictOf('  go — chiffres SEP conformes\nmerci')).toEqual({ state: 'approved', comment: 'chiffres SEP conformes\nmerci' });
    expect(verdictOf('NO-GO: écart TANK4')).toEqual({ state: 'rejected', comment: 'écart TANK4' });
    expect(verdictOf('no-go')).toEqual({ state: 'rejected', comment: '' });
  });
  it('is not fooled by words that start like a verdict, or a verdict later in the text', () => {
    for (const body of ['GOOD', 'GO-LIVE demain', 'NO GO', 'Je dis GO', '', 'GO_AHEAD']) expect(verdictOf(body), body).toBeNull();
  });
});

describe('judgeComments', () => {
  it('takes the first verdict of a listed approver; the actor’s own GO, strangers and chatter do not count, with why', () => {
    const r = judgeComments(
      [
        c('ops-engineer', 'GO', 1),
        c('passant', 'GO', 2),
        c('chef-depot', 'Je regarde les écarts', 3),
        c('Chef-Depot', 'NO-GO écart TANK4', 4),
        c('adjoint', 'GO', 5),
      ],
      gate,
    );
    expect(r.decided).toEqual({
      environment: 'prod-go',
      via: 'approval-issue',
      state: 'rejected',
      who: 'Chef-Depot',
      comment: 'écart TANK4',
      at: '2026-03-11T22:04:00Z',
      url: 'https://github.com/depot/app/issues/101#issuecomment-4',
    });
    expect(r.ignored.map((x) => `${x.who}: ${x.reason}`)).toEqual([
      'ops-engineer: started the run',
      'passant: not a listed approver',
      'chef-depot: no GO or NO-GO at its start',
    ]);
  });
  it('a listed approver who re-ran the run does not count either; no verdict at all is null', () => {
    const rerun = { ...gate, triggeredBy: { actor: 'ops-engineer', triggeringActor: 'adjoint' } };
    expect(judgeComments([c('adjoint', 'GO', 1)], rerun)).toMatchObject({ decided: null, ignored: [{ reason: 'started the run' }] });
  });

  it('never takes an edited comment as a verdict: whoever dispatched the run may edit an approver’s comment', () => {
    // the approver wrote "NO-GO …" at :05; someone with write access turned it into "GO" at :06
    const edited = { ...c('chef-depot', 'GO', 5), updatedAt: '2026-03-11T22:06:00Z' };
    expect(judgeComments([edited], gate)).toMatchObject({ decided: null, ignored: [{ reason: 'edited after it was posted' }] });
    // an unedited one (updated_at equal to created_at, as GitHub sends it) still counts
    expect(judgeComments([{ ...c('chef-depot', 'GO', 5), updatedAt: c('x', '', 5).at }], gate).decided).toMatchObject({
      state: 'approved',
    });
  });
});

describe('approvers', () => {
  it('parses logins separated by commas, spaces or newlines, with or without @, once each', () => {
    expect(parseApprovers('@chef-depot, adjoint\nchef-depot')).toEqual(['chef-depot', 'adjoint']);
  });
  it('refuses an empty list, a string that is no login, and a list of nobody but the run’s starters', () => {
    expect(() => parseApprovers(' ,\n')).toThrow(/no approver given/);
    expect(() => parseApprovers('chef depot;x')).toThrow(/"depot;x" is not a GitHub login/);
    expect(() => effectiveApprovers(['Ops-Engineer'], triggeredBy)).toThrow(/every listed approver \(Ops-Engineer\) started this run/);
    expect(effectiveApprovers(['ops-engineer', 'chef-depot'], triggeredBy)).toEqual(['chef-depot']);
  });
  it('gives a depot of several its own approvers only, and refuses a depot that has none rather than fall back to a shared list', () => {
    const map = JSON.stringify({ kinshasa: '@chef-kin', lubumbashi: ['chef-lub', 'adjoint-lub'] });
    expect(approversOfDepot('kinshasa', map)).toEqual(['chef-kin']);
    expect(approversOfDepot('lubumbashi', map)).toEqual(['chef-lub', 'adjoint-lub']);
    expect(() => approversOfDepot('goma', map)).toThrow(/depot goma has no approvers in approvers-by-depot \(kinshasa, lubumbashi\)/);
    expect(() => approversOfDepot('kinshasa', '')).toThrow(/must be a JSON object giving each depot its approvers/);
    expect(() => approversOfDepot('kinshasa', 'chef-kin')).toThrow(/approvers-by-depot is not JSON/);
  });
});

describe('signoffFromIssue', () => {
  it('is a sign-off dated when the comment was written, naming the run, who started it and the issue; it passes the one check', () => {
    const r = judgeComments([c('chef-depot', 'GO chiffres conformes', 7)], gate).decided!;
    const s = signoffFromIssue(r, {
      role: 'responsable dépôt',
      runId: 'depot/app#42.1',
      triggeredBy,
      issue: { number: 101, url: 'https://github.com/depot/app/issues/101' },
    });
    expect(SignOffSchema.parse(s)).toEqual({
      format: 'astm53b-signoff/1',
      who: 'chef-depot',
      role: 'responsable dépôt',
      decision: 'GO',
      at: '2026-03-11T22:07:00.000+00:00',
      comment: 'chiffres conformes — comment on approval issue #101, run depot/app#42.1',
      runId: 'depot/app#42.1',
      environment: 'prod-go',
      via: 'approval-issue',
      triggeredBy,
      issue: {
        number: 101,
        url: 'https://github.com/depot/app/issues/101',
        commentUrl: 'https://github.com/depot/app/issues/101#issuecomment-7',
      },
    });
    expect(signoffProblems(s, { runId: 'depot/app#42.1', now: new Date('2026-03-11T22:10:00Z'), actors: ['ops-engineer'] })).toEqual([]);
  });
});
