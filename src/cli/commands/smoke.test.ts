import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CommandContext, CommandSpec } from '../command.js';
import { smokeCommands } from './smoke.js';
import { expectUserError as userError, runCommand } from '../../testing/command.js';

const dir = mkdtempSync(join(tmpdir(), 'astm53b-smoke-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function command(name: string): CommandSpec {
  const c = smokeCommands.find((x) => x.name === name);
  if (!c) throw new Error(`no command ${name}`);
  return c;
}

const run = (name: string, values: CommandContext['values']) => runCommand(command(name), values, [], { cwd: dir });

// the URL names a server that does not exist: a bad option must be refused before any connection is tried
const url = 'postgresql://nobody:secret@127.0.0.1:1/none';

describe('astm53b smoke: bad input is refused before connecting', () => {
  it('names the field of a bad --as-user, --citerne, --tolerance-l, --profile', async () => {
    expect((await userError(run('smoke', { url, 'as-user': 'admin' }))).describe()).toMatch(
      /^BAD_OPTION: field as-user: --as-user "admin" is not an ML_PP id/,
    );
    expect((await userError(run('smoke', { url, citerne: '1234' }))).where?.field).toBe('citerne');
    expect((await userError(run('smoke', { url, 'tolerance-l': '-1' }))).where?.field).toBe('tolerance-l');
    expect((await userError(run('smoke', { url, profile: '1999/table/hydrometer' }))).code).toBe('BAD_PROFILE');
  });

  it('reads the profile from a golden.json, naming the file and field when it is not one', async () => {
    writeFileSync(join(dir, 'not-golden.json'), JSON.stringify({ passed: true }));
    const e = await userError(run('smoke', { url, 'golden-result': 'not-golden.json' }));
    expect(e.describe()).toBe(
      'BAD_INPUT: not-golden.json field profile: not-golden.json has no "profile" (is it a golden.json of golden-verify?)',
    );
    writeFileSync(join(dir, 'odd-golden.json'), JSON.stringify({ profile: '2004/none/x' }));
    expect((await userError(run('smoke', { url, 'golden-result': 'odd-golden.json' }))).code).toBe('BAD_PROFILE');
    expect((await userError(run('smoke', { url, 'golden-result': 'absent.json' }))).describe()).toMatch(
      /^MISSING_INPUT: absent.json: cannot read absent.json: ENOENT/,
    );
  });
});

describe('astm53b decide', () => {
  it('an empty results folder is NO-GO (exit 1) with a reason per missing result, never GO', async () => {
    const empty = mkdtempSync(join(dir, 'empty-'));
    const r = await run('decide', { results: empty, json: true });
    expect(r.code).toBe(1);
    const d = JSON.parse(r.out);
    expect(d.decision).toBe('NO-GO');
    expect(d.reasons.map((x: { condition: string }) => x.condition)).toEqual([
      'RESULT_MISSING',
      'NO_VERIFIED_BACKUP',
      'RESULT_MISSING',
      'RESULT_MISSING',
      'RESULT_MISSING',
      'NO_SIGNOFF',
    ]);
  });

  it('prints markdown with every reason and its runbook rule', async () => {
    const empty = mkdtempSync(join(dir, 'md-'));
    const r = await run('decide', { results: empty, markdown: true });
    expect(r.out).toContain('⛔ NO-GO');
    expect(r.out).toContain('| `NO_SIGNOFF` | 5.6 | Validation écrite responsable dépôt |');
  });
});
