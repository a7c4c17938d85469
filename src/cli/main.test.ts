import { describe, expect, it } from 'vitest';
import { runCli } from '../testing/cli.js';
import { COMMANDS } from './registry.js';

describe('astm53b CLI', () => {
  it('lists every command in --help', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.stdout).toContain(`  ${c.name}`);
  });

  it.each(COMMANDS.map((c) => c.name))('answers --help for "%s" with its usage and every option', async (name) => {
    const spec = COMMANDS.find((c) => c.name === name)!;
    const r = await runCli([...name.split(' '), '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: astm53b ${name}`);
    for (const opt of Object.keys(spec.options)) expect(r.stdout).toContain(`--${opt}`);
  });

  it('refuses an unknown command with exit 2', async () => {
    const r = await runCli(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/UNKNOWN_COMMAND/);
  });

  it('refuses an unknown option, naming it', async () => {
    const r = await runCli(['db', 'init', '--scael', '3']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/BAD_ARGUMENTS: .*--scael/);
  });

  it.each([['0'], ['-2'], ['1.5'], ['abc']])('refuses --scale=%s before touching any database', async (scale) => {
    const r = await runCli(['db', 'init', `--scale=${scale}`, '--url', 'postgresql://nobody:pw@127.0.0.1:1/x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/BAD_OPTION: field scale: --scale must be a positive integer/);
    expect(r.stderr).not.toMatch(/DB_CONNECT/);
  });

  it('reads --url env:NAME from the environment and fails clearly when it is unset', async () => {
    const r = await runCli(['compat', '--url', 'env:NOPE_URL']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/environment variable NOPE_URL is not set/);
  });

  it("refuses Supabase's transaction pooler for db init, before connecting, without the password", async () => {
    const r = await runCli(['db', 'init', '--url', 'postgresql://postgres.ref:pooledpw@127.0.0.1:6543/postgres']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^TRANSACTION_POOLER: db init needs session state .* \(use the session pooler/);
    expect(r.stderr).not.toContain('pooledpw');
  });

  it('refuses --reset on a real server', async () => {
    const r = await runCli(['db', 'init', '--reset', '--url', 'postgresql://u:secretpw@127.0.0.1:1/x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--reset applies to the embedded database only/);
    expect(r.stderr).not.toContain('secretpw');
  });
});
