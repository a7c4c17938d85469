import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../testing/cli.js';

/**
 * The README's main job, as a user runs it: `astm53b rehearse` in an empty folder. The demo's
 * honest outcome is NO-GO for exactly three reasons, followed by a rollback proved equal to the
 * verified dump and a bundle that verifies.
 */
describe('astm53b rehearse (the README main job)', () => {
  let cwd: string;
  let r: { code: number; stdout: string; stderr: string };
  beforeAll(async () => {
    cwd = await mkdtemp(path.join(tmpdir(), 'astm53b-rehearse-'));
    // as `npm run rehearse` runs it: the runbook as written must end NO-GO
    r = await runCli(['rehearse', '--expect', 'NO-GO'], { cwd, env: {} });
  }, 180_000);
  afterAll(async () => {
    await rm(cwd, { recursive: true, force: true });
  });

  it('runs every runbook step in the PROD order and exits 0 (the NO-GO it expects)', () => {
    expect(r.stderr).not.toMatch(/internal error/);
    expect(r.code).toBe(0);
    const steps = [...r.stdout.matchAll(/^ {2}(ok {2}|FAIL) {2}(\S+)/gm)].map((m) => `${m[2]} ${m[1]!.trim()}`);
    expect(steps).toEqual([
      'preflight ok',
      'freeze-on ok',
      'backup ok',
      'sql-apply ok',
      'golden-verify FAIL',
      'smoke FAIL',
      'decide FAIL',
      'rollback ok',
      'freeze-off ok',
      'evidence ok',
    ]);
  });

  it('decides NO-GO for exactly the demo’s three real reasons', async () => {
    const d = JSON.parse(await readFile(path.join(cwd, '.astm53b/rehearsal/astm53b-results/decision.json'), 'utf8'));
    expect(d.decision).toBe('NO-GO');
    expect([...new Set(d.reasons.map((x: { condition: string }) => x.condition))].sort()).toEqual([
      'GOLDEN_DEVIATION',
      'NO_SIGNOFF',
      'STOCK_INCOHERENCE',
    ]);
  });

  it('leaves a bundle that the auditor’s command verifies', async () => {
    const v = await runCli(['evidence', 'verify', '.astm53b/rehearsal/astm53b-evidence.zip'], { cwd, env: {} });
    expect(v.code).toBe(0);
    const rb = JSON.parse(await readFile(path.join(cwd, '.astm53b/rehearsal/astm53b-results/rollback.json'), 'utf8'));
    expect(rb.ok).toBe(true);
  });

  it('ends by printing the command that rehearses the remedied run', () => {
    expect(r.stdout).toMatch(
      /The runbook as written ends NO-GO\. The remedied run .*\n {2}npx astm53b rehearse --change sql\/docs\/DB_CHANGES\/2026-12-04_validate_sortie_p0_1\.sql --restate --signoff FILE\n$/,
    );
  });

  it('leaves the embedded database as before the change: legacy validate_sortie, compatible', async () => {
    const c = await runCli(['compat'], { cwd, env: {} });
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/LEGACY body/);
  });
});
