import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateCondition } from '../testing/workflow/expressions.js';
import { loadWorkflow, type WorkflowModel } from '../testing/workflow/model.js';
import { jobCondition } from '../testing/workflow/run.js';
import type { Result } from '../testing/workflow/types.js';
import { PROD_WORKFLOW } from './scenarios.js';
import { PACKAGE_ROOT } from '../paths.js';

/**
 * The PROD workflow's routing, from its `if:` conditions alone: after each way a run can end,
 * which of go-gate, rollback, release and evidence run (GitHub's expression engine, the runner's
 * status functions). The scenarios (prod-*.e2e.test.ts) run some of these for real.
 */
type Outcomes = Record<string, [Result, Record<string, string>?]>;

const APPLIED = { 'backup-verified': 'true', change: 'applied' };
const CASES: [string, Outcomes, { 'go-gate': boolean; rollback: boolean; release: boolean }][] = [
  [
    'GO: everything passed, the manager approved',
    { preflight: ['success'], change: ['success', APPLIED], 'go-gate': ['success'], decide: ['success', { decision: 'GO' }] },
    { 'go-gate': true, rollback: false, release: true },
  ],
  [
    'NO-GO: checks failed, the manager approved anyway',
    { preflight: ['success'], change: ['failure', APPLIED], 'go-gate': ['success'], decide: ['success', { decision: 'NO-GO' }] },
    { 'go-gate': true, rollback: true, release: false },
  ],
  [
    'gate rejected',
    { preflight: ['success'], change: ['success', APPLIED], 'go-gate': ['failure'], decide: ['success', { decision: 'NO-GO' }] },
    { 'go-gate': true, rollback: true, release: false },
  ],
  [
    'gate failed (timed out, cancelled)',
    { preflight: ['success'], change: ['success', APPLIED], 'go-gate': ['cancelled'], decide: ['success', { decision: 'NO-GO' }] },
    { 'go-gate': true, rollback: true, release: false },
  ],
  [
    'the decision could not be made (decide job failed)',
    { preflight: ['success'], change: ['success', APPLIED], 'go-gate': ['success'], decide: ['failure', {}] },
    { 'go-gate': true, rollback: true, release: false },
  ],
  [
    'change job failed after the backup (apply rejected)',
    {
      preflight: ['success'],
      change: ['failure', { 'backup-verified': 'true', change: 'rejected' }],
      'go-gate': ['skipped'],
      decide: ['success', { decision: 'NO-GO' }],
    },
    { 'go-gate': false, rollback: true, release: false },
  ],
  [
    'backup failed: nothing changed, nothing to restore from',
    {
      preflight: ['success'],
      change: ['failure', { 'backup-verified': 'false', change: '' }],
      'go-gate': ['skipped'],
      decide: ['success', { decision: 'NO-GO' }],
    },
    { 'go-gate': false, rollback: false, release: false },
  ],
  [
    'start refused (prod-start rejected)',
    { preflight: ['failure'], change: ['skipped'], 'go-gate': ['skipped'], decide: ['success', { decision: 'NO-GO' }] },
    { 'go-gate': false, rollback: false, release: false },
  ],
];

let wf: WorkflowModel;
beforeAll(async () => {
  wf = await loadWorkflow(PACKAGE_ROOT, PROD_WORKFLOW);
});

const runs = (job: string, o: Outcomes, inputs: Record<string, unknown> = {}): boolean => {
  const results = new Map(Object.entries(o).map(([k, [result, outputs]]) => [k, { result, outputs: outputs ?? {} }]));
  return jobCondition(
    wf,
    wf.jobs.find((j) => j.id === job)!,
    results,
    { github: {}, inputs, vars: {} },
  );
};

describe('PROD workflow routing', () => {
  for (const [name, outcomes, expected] of CASES) {
    it(`${name}: go-gate ${expected['go-gate']}, rollback ${expected.rollback}, release ${expected.release}; decide and evidence always`, () => {
      const upTo = (jobs: string[]) => Object.fromEntries(Object.entries(outcomes).filter(([k]) => jobs.includes(k)));
      expect(runs('go-gate', upTo(['preflight', 'change']))).toBe(expected['go-gate']);
      expect(runs('decide', upTo(['preflight', 'change', 'go-gate']))).toBe(true);
      expect(runs('rollback', outcomes)).toBe(expected.rollback);
      expect(runs('release', outcomes)).toBe(expected.release);
      const ended: Outcomes = {
        ...outcomes,
        rollback: [expected.rollback ? 'success' : 'skipped'],
        release: [expected.release ? 'success' : 'skipped'],
      };
      expect(runs('evidence', ended)).toBe(true);
    });
  }

  it('a GO with a red ancestor does not release (success() looks at every job upstream)', () => {
    const o: Outcomes = {
      preflight: ['success'],
      change: ['failure', APPLIED],
      'go-gate': ['success'],
      decide: ['success', { decision: 'GO' }],
    };
    expect(runs('release', o)).toBe(false);
  });
});

describe('PROD workflow routing with approval: issue (no required reviewers)', () => {
  const issue = { approval: 'issue' };
  const env = { approval: 'environment-reviewers' };
  const applied: Outcomes = { preflight: ['success'], change: ['success', APPLIED] };

  it('runs the issue gate instead of the environment gate, and only once the change is applied', () => {
    expect([runs('go-gate', applied, issue), runs('go-gate-issue', applied, issue)]).toEqual([false, true]);
    expect([runs('go-gate', applied, env), runs('go-gate-issue', applied, env)]).toEqual([true, false]);
    const failed: Outcomes = { preflight: ['success'], change: ['failure', { 'backup-verified': 'false', change: '' }] };
    expect(runs('go-gate-issue', failed, issue)).toBe(false);
  });

  it('starts the change only once the start is approved: by prod-start’s reviewer, or on the start issue', () => {
    const pre: Outcomes = { preflight: ['success'] };
    expect([runs('start-gate-issue', pre, issue), runs('start-gate-issue', pre, env)]).toEqual([true, false]);
    expect(runs('start-gate-issue', { preflight: ['failure'] }, issue)).toBe(false);
    const change = (gate: Result, inputs: Record<string, unknown>, preflight: Result = 'success') =>
      runs('change', { preflight: [preflight], 'start-gate-issue': [gate] }, inputs);
    expect(change('success', issue)).toBe(true);
    expect(change('skipped', env)).toBe(true);
    // a NO-GO or no answer on the start issue fails that job: nothing starts, decide and evidence still run
    expect(change('failure', issue)).toBe(false);
    expect(change('skipped', issue)).toBe(false);
    expect(change('skipped', env, 'failure')).toBe(false);
    const refused: Outcomes = {
      preflight: ['success'],
      'start-gate-issue': ['failure'],
      change: ['skipped'],
      'go-gate': ['skipped'],
      'go-gate-issue': ['skipped'],
      decide: ['success', { decision: 'NO-GO' }],
    };
    expect([runs('decide', refused, issue), runs('rollback', refused, issue), runs('release', refused, issue)]).toEqual([
      true,
      false,
      false,
    ]);
    expect(runs('evidence', { ...refused, rollback: ['skipped'], release: ['skipped'], changelog: ['skipped'] }, issue)).toBe(true);
  });

  it('releases on a GO through either gate, never when the gate failed (no answer in time) or a job before it failed', () => {
    const go = (gate: Result, other: Result, change: Result = 'success'): Outcomes => ({
      preflight: ['success'],
      change: [change, APPLIED],
      'go-gate-issue': [gate],
      'go-gate': [other],
      decide: ['success', { decision: 'GO' }],
    });
    expect(runs('release', go('success', 'skipped'), issue)).toBe(true);
    expect(runs('release', go('failure', 'skipped'), issue)).toBe(false);
    expect(runs('release', go('success', 'skipped', 'failure'), issue)).toBe(false);
    expect(runs('release', go('skipped', 'skipped'), issue)).toBe(false);
    const timedOut: Outcomes = { ...go('failure', 'skipped'), decide: ['success', { decision: 'NO-GO' }] };
    expect([runs('decide', timedOut, issue), runs('rollback', timedOut, issue)]).toEqual([true, true]);
  });
});

describe('PROD change job: the steps after a failure', () => {
  const step = (label: string) => wf.jobs.find((j) => j.id === 'change')!.steps.find((s) => s.label === label || s.id === label)!;
  const when = (label: string, steps: Record<string, Result>) =>
    evaluateCondition(
      step(label).if,
      { steps: Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, { outcome: v, conclusion: v, outputs: {} }])) },
      {
        success: () => !Object.values(steps).includes('failure'),
        failure: () => Object.values(steps).includes('failure'),
        cancelled: () => false,
      },
    );
  const LIFT = 'Lift the freeze (a step before the change failed, nothing was changed)';

  it('lifts the freeze when the freeze held and any step before the change failed, and sits before the change', () => {
    expect(when(LIFT, { freeze: 'success', backup: 'failure' })).toBe(true);
    expect(when(LIFT, { freeze: 'success', backup: 'success', 'plaintext-guard': 'failure' })).toBe(true);
    expect(when(LIFT, { freeze: 'success', backup: 'success', 'plaintext-guard': 'success', 'upload-backup': 'failure' })).toBe(true);
    expect(when(LIFT, { freeze: 'success', backup: 'success', 'plaintext-guard': 'success', 'upload-backup': 'success' })).toBe(false);
    expect(when(LIFT, { freeze: 'failure', backup: 'skipped' })).toBe(false);
    // evaluated before sql-apply: a failure it sees cannot have come from the change
    const steps = wf.jobs.find((j) => j.id === 'change')!.steps;
    expect(steps.findIndex((s) => s.label === LIFT)).toBe(steps.findIndex((s) => s.id === 'apply') - 1);
  });

  it('runs the smoke once the change is applied, even after golden-verify failed, never without it', () => {
    expect(when('./actions/smoke', { freeze: 'success', backup: 'success', apply: 'success', golden: 'failure' })).toBe(true);
    expect(when('./actions/smoke', { freeze: 'success', backup: 'success', apply: 'failure', golden: 'skipped' })).toBe(false);
  });
});
