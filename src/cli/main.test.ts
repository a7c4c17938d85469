import { describe, expect, it } from 'vitest';
import { sqlPath, CHANGE_FILES } from '../paths.js';
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

describe('astm53b group words', () => {
  it.each([
    ['db', ['db init', 'db status', 'db load-schema']],
    ['env', ['env set', 'env show']],
    ['golden', ['golden verify', 'golden drift', 'golden schema']],
    ['evidence', ['evidence build', 'evidence verify']],
    ['backup', ['backup verify']],
  ])('"%s --help" lists the commands under it', async (group, members) => {
    const r = await runCli([group, '--help']);
    expect(r.code).toBe(0);
    for (const m of members) expect(r.stdout).toMatch(new RegExp(`^  ${m} +\\S`, 'm'));
  });

  it('a group word alone is not a command: exit 2 with the list', async () => {
    const r = await runCli(['db']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^UNKNOWN_COMMAND: astm53b db is not a command/);
    expect(r.stderr).toContain('  db init');
  });
});

describe('astm53b negative numbers: the option says what is wrong with its value', () => {
  // nothing listens there: a check that passed would fail differently (DB_CONNECT)
  const url = 'postgresql://nobody:pw@127.0.0.1:1/x';
  const cases: [string, string[], string, string, RegExp][] = [
    [
      'golden verify',
      ['golden', 'verify', 'golden/demo-golden-cases.csv'],
      'tolerance-l',
      '-5',
      /^BAD_OPTION: field tolerance-l: --tolerance-l must be a number of litres ≥ 0 \(dot decimal\), got "-5"\n$/,
    ],
    [
      'smoke',
      ['smoke', '--url', url],
      'tolerance-l',
      '-5',
      /^BAD_OPTION: field tolerance-l: --tolerance-l must be a number of litres ≥ 0 \(dot decimal\), got "-5"\n$/,
    ],
    [
      'sql-apply',
      ['sql-apply', sqlPath(CHANGE_FILES.p0), '--url', url],
      'lock-timeout-ms',
      '-1',
      /^BAD_OPTION: field lock-timeout-ms: --lock-timeout-ms must be a whole number of milliseconds between 1 and 3600000, got "-1"\n$/,
    ],
    [
      'staging-reset',
      ['staging-reset', '--url', url],
      'lock-timeout-ms',
      '-1',
      /^BAD_OPTION: field lock-timeout-ms: --lock-timeout-ms must be a whole number of milliseconds between 1 and 3600000, got "-1"\n$/,
    ],
    ['db init', ['db', 'init', '--url', url], 'scale', '-5', /^BAD_OPTION: field scale: --scale must be a positive integer, got "-5"\n$/],
  ];
  for (const [name, argv, option, value, message] of cases) {
    it.each([
      [`--${option} ${value}`, [`--${option}`, value]],
      [`--${option}=${value}`, [`--${option}=${value}`]],
    ])(`${name} %s`, async (_, given) => {
      const r = await runCli([...argv, ...given]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/ambiguous|DB_CONNECT/);
    });
  }
});
