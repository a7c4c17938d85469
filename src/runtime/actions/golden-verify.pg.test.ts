import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, expect, it, vi } from 'vitest';
import { leaks, runActionWith } from '../../testing/action.js';
import { describePg, useFreshDatabase } from '../../testing/pg.js';
import { goldenVerifyAction } from './golden-verify.js';

/** The golden-verify action as the runner drives it: INPUT_* in, outputs, summary and annotations out. */
describePg('actions/golden-verify', () => {
  const fx = useFreshDatabase('action_golden', { fixture: true });
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
    process.exitCode = undefined;
    vi.restoreAllMocks();
  });

  const runWith = (inputs: Record<string, string>) => runActionWith(goldenVerifyAction, { ...inputs, 'output-dir': '$DIR/results' });

  it('passes on the demo file alone and sets its outputs', async () => {
    const r = await runWith({ 'golden-file': 'golden/demo-golden-cases.csv' });
    expect(process.exitCode).toBeUndefined();
    expect(r.output).toMatch(/passed<<.*\ntrue\n/s);
    expect(r.output).toMatch(/cases<<.*\n8\n/s);
    expect(r.output).toMatch(/max-deviation-l<<.*\n0\.5\n/s);
    expect(r.summary).toContain('## Golden cases: ✅ PASS');
    expect(r.summary).toContain('```mermaid');
  });

  it('with the database: fails, annotates each case on its line of the golden file, never prints the password', async () => {
    const u = new URL(fx().scratch.url);
    u.password = 'G0ldenSecret';
    const r = await runWith({ 'golden-file': 'golden/demo-golden-cases.csv', 'database-url': u.toString() });
    expect(process.exitCode).toBe(1);
    expect(r.output).toMatch(/passed<<.*\nfalse\n/s);
    const annotations = r.stdout.split('\n').filter((l) => l.startsWith('::error title=golden-verify%3A DEMO-CDR'));
    expect(annotations).toHaveLength(8);
    expect(annotations[0]).toContain('file=golden/demo-golden-cases.csv,line=2');
    expect(annotations[7]).toContain('line=9');
    expect(r.stdout).toMatch(/::error::golden-verify: 8 of 8 golden case\(s\) outside ±5 L/);
    expect(r.summary).toContain('dérive volumétrique');
    const json = await readFile(path.join(r.dir, 'results', 'golden.json'), 'utf8');
    expect(JSON.parse(json).cases[0].mlpp_verdict).toBe('FAIL');
    expect(json + r.summary).not.toContain('G0ldenSecret');
    expect(leaks(r.stdout, 'G0ldenSecret')).toEqual([]);
  });

  it("a bad tolerance input is the user's fault", async () => {
    await runWith({ 'golden-file': 'golden/demo-golden-cases.csv', 'tolerance-l': 'five' });
    expect(process.exitCode).toBe(1);
  });
});
