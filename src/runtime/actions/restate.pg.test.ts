import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { RestateResult } from '../../results/restate.js';
import { leaks, runActionWith } from '../../testing/action.js';
import { describePg, useFreshDatabase } from '../../testing/pg.js';
import { restateAction } from './restate.js';

/** actions/restate as the runner drives it: INPUT_* in, restate.json, outputs and summary out, the step failed on a refusal. */
describePg('actions/restate', () => {
  const fx = useFreshDatabase('action_restate', { fixture: true });
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
    process.exitCode = undefined;
    vi.restoreAllMocks();
  });

  const url = () => {
    const u = new URL(fx().scratch.url);
    u.password = 'Rest4teSecret';
    return u.toString();
  };
  const runWith = (inputs: Record<string, string>) =>
    runActionWith(
      restateAction,
      { 'database-url': url(), 'output-dir': '$DIR/results', ...inputs },
      { GITHUB_RUN_ID: '77', GITHUB_REPOSITORY: 'depot/astm53b' },
    );
  const resultOf = async (dir: string) =>
    RestateResult.parse(JSON.parse(await readFile(path.join(dir, 'results', 'restate.json'), 'utf8')));

  it('a user RLS refuses fails the step with one line naming the user', async () => {
    const r = await runWith({ 'as-user': 'a53b0000-0000-4000-8000-000000000004', 'dry-run': 'true' });
    expect(process.exitCode).toBe(1);
    expect(r.stdout).toMatch(
      /::error::restate: RLS_REFUSED: row level security refused app user a53b0000-0000-4000-8000-000000000004 \(lecture@demo\.astm53b\.local, role lecture/,
    );
  });

  it('dry-run: proves and rolls back; then for real: 9 adjustments booked, outputs set, the run id in every reason', async () => {
    const dry = await runWith({ 'dry-run': 'true' });
    expect(process.exitCode).toBeUndefined();
    expect(dry.output).toMatch(/status<<.*\ndry-run\n/s);
    expect(dry.output).toMatch(/committed<<.*\nfalse\n/s);
    expect((await resultOf(dry.dir)).counts.booked).toBe(9);

    // the runner's INPUT_* stay set between the runs of one test: say it
    const r = await runWith({ 'dry-run': 'false' });
    expect(process.exitCode).toBeUndefined();
    expect(r.output).toMatch(/status<<.*\nrestated\n/s);
    expect(r.output).toMatch(/booked<<.*\n9\n/s);
    expect(r.output).toMatch(/delta-15c-l<<.*\n-577\.\d+\n/s);
    expect(r.output).toMatch(/result-file<<.*restate\.json\n/s);
    expect(r.summary).toContain('## Restatement of stored receptions (runbook §2, 3.2): ✅ RESTATED');
    const res = await resultOf(r.dir);
    expect(res.run.runId).toBe('depot/astm53b#77.1');
    expect(res.receptions.every((x) => x.reason!.startsWith('ASTM53B restatement, run depot/astm53b#77.1: ASTM 53B '))).toBe(true);
    expect(JSON.stringify(res) + r.summary).not.toContain('Rest4teSecret');
    expect(leaks(r.stdout, 'Rest4teSecret')).toEqual([]);

    const again = await runWith({ 'dry-run': 'false' });
    expect(process.exitCode).toBeUndefined();
    expect(again.output).toMatch(/status<<.*\nnothing-to-restate\n/s);
    expect(again.output).toMatch(/booked<<.*\n0\n/s);
  });
});
