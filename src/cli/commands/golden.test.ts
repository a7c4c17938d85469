import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CommandContext, CommandSpec } from '../command.js';
import { goldenCommands } from './golden.js';
import { expectUserError as userError, runCommand } from '../../testing/command.js';

const dir = mkdtempSync(join(tmpdir(), 'astm53b-golden-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function command(name: string): CommandSpec {
  return goldenCommands.find((c) => c.name === name)!;
}

const run = (name: string, values: CommandContext['values'], positionals: string[] = []) => runCommand(command(name), values, positionals);

describe('astm53b golden', () => {
  it('schema prints the committed JSON Schema', async () => {
    expect((await run('golden schema', {})).out).toBe(readFileSync('golden/golden-cases.schema.json', 'utf8'));
  });

  it('verify: exit 0 on the demo file, --json in the documented shape, --markdown for a job summary', async () => {
    const text = await run('golden verify', {}, ['golden/demo-golden-cases.csv']);
    expect(text.code).toBe(0);
    const json = await run('golden verify', { json: true }, ['golden/demo-golden-cases.csv']);
    const j = JSON.parse(json.out);
    expect(j.passed).toBe(true);
    expect(j.cases).toHaveLength(8);
    expect(j.cases[0]).toMatchObject({ reference: 'DEMO-CDR-1', verdict: 'PASS', sep_volume_15c_l: 37138, mlpp_volume_15c_l: null });
    expect((await run('golden verify', { markdown: true }, ['golden/demo-golden-cases.csv'])).out).toContain('## Golden cases: ✅ PASS');
  });

  it('verify: exit 1 when a case fails, and the diagnosis names the implied temperature', async () => {
    // DEMO-CDR-3 typed at 26.8 °C instead of SEP's 20.8 °C
    const p = join(dir, 'typo.csv');
    writeFileSync(p, readFileSync('golden/demo-golden-cases.csv', 'utf8').replace('33569,20.8,', '33569,26.8,'));
    const r = await run('golden verify', { json: true }, [p]);
    expect(r.code).toBe(1);
    const c = JSON.parse(r.out).cases.find((x: { reference: string }) => x.reference === 'DEMO-CDR-3');
    expect(c.verdict).toBe('FAIL');
    expect(c.diagnosis.implied_temperature_c).toBeCloseTo(20.8, 0);
    expect(c.diagnosis.explanation).toMatch(/^SEP's VCF implies 20\.\d °C; the record says 26\.8 °C: check the field sheet\.$/);
  });

  it('verify: --tolerance-l and --profile are honoured and checked', async () => {
    const r = await run('golden verify', { json: true, profile: '2004/full/digital', 'tolerance-l': '0.25' }, [
      'golden/demo-golden-cases.csv',
    ]);
    const j = JSON.parse(r.out);
    expect(j.profile).toBe('2004/full/digital');
    expect(j.tolerance_l).toBe(0.25);
    expect(r.code).toBe(1);
    expect((await userError(run('golden verify', { profile: '1980/exact' }, ['golden/demo-golden-cases.csv']))).code).toBe('BAD_PROFILE');
    expect((await userError(run('golden verify', { 'tolerance-l': '5,0' }, ['golden/demo-golden-cases.csv']))).code).toBe('BAD_OPTION');
    expect((await userError(run('golden verify', {}, []))).code).toBe('BAD_ARGUMENTS');
  });

  it('verify: a bad file is exit 2 material, naming file, line and column', async () => {
    const p = join(dir, 'bad.csv');
    writeFileSync(p, readFileSync('golden/demo-golden-cases.csv', 'utf8').replace('37553,27.2,836.5', '37553,27.2,0.8365'));
    const e = await userError(run('golden verify', {}, [p]));
    expect(e.code).toBe('GOLDEN_DENSITY_UNIT');
    expect(e.where).toEqual({ file: p, line: 5, row: 4, field: 'densite_observee_kgm3' });
  });
});
