import { describe, expect, it } from 'vitest';
import { SignOff as SignOffSchema } from '../results/signoff.js';
import { signoffFromApprovals, type EnvironmentApproval } from './signoff.js';

const ctx = { environment: 'prod-go', role: 'responsable dépôt', runId: '42', now: new Date('2026-03-11T22:40:00Z') };
const review = (login: string, state: string, env = 'prod-go', comment = ''): EnvironmentApproval => ({
  environments: [{ name: env }],
  state,
  comment,
  user: { login },
});

describe('signoffFromApprovals', () => {
  it('records the last review of the GO gate, valid against the decision schema', () => {
    const s = signoffFromApprovals(
      [
        review('eng', 'approved', 'prod-start'),
        review('chef-depot', 'rejected', 'prod-go', 'écart TANK4'),
        review('chef-depot', 'approved', 'prod-go', 'OK après recontrôle'),
      ],
      ctx,
    );
    expect(s).toEqual({
      format: 'astm53b-signoff/1',
      who: 'chef-depot',
      role: 'responsable dépôt',
      decision: 'GO',
      at: '2026-03-11T22:40:00.000+00:00',
      comment: 'OK après recontrôle — GitHub review of environment prod-go, run 42',
    });
    expect(SignOffSchema.safeParse(s).success).toBe(true);
  });

  it('turns a rejection into a NO-GO sign-off', () => {
    expect(signoffFromApprovals([review('chef-depot', 'rejected')], ctx).decision).toBe('NO-GO');
  });

  it('refuses to invent a sign-off when the gate was never reviewed', () => {
    expect(() => signoffFromApprovals([review('eng', 'approved', 'prod-start')], ctx)).toThrow(
      /no review of environment "prod-go" in run 42/,
    );
  });
});
