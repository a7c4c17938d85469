import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { PACKAGE_ROOT, sqlPath, CHANGE_FILES } from '../../paths.js';
import { runCli } from '../../testing/cli.js';

/** Bad inputs stop preflight before it connects: the URL here is unreachable on purpose. */
const URL = 'postgresql://postgres:pfSecret@127.0.0.1:1/none';
const golden = path.join(PACKAGE_ROOT, 'golden/demo-golden-cases.csv');
const p0 = sqlPath(CHANGE_FILES.p0);

describe('astm53b preflight: bad input touches nothing', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'astm53b-pf-'));
  });

  const expectInputError = async (args: string[], pattern: RegExp) => {
    const r = await runCli(['preflight', '--url', URL, ...args], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(pattern);
    expect(r.stderr).not.toMatch(/DB_CONNECT/);
    expect(r.stderr).not.toContain('pfSecret');
  };

  it('refuses a flutter commit that is not a hash', () =>
    expectInputError(['--golden', golden, '--change', p0, '--flutter-commit', 'v1.2-final'], /BAD_INPUT: field flutter-commit/));
  it('refuses an ASTM flag other than on/off', () =>
    expectInputError(['--golden', golden, '--change', p0, '--astm-flag', 'maybe'], /field astm-flag/));
  it('refuses a missing golden file, naming it', () =>
    expectInputError(['--golden', 'nope.csv', '--change', p0], /FILE_NOT_FOUND: nope\.csv/));
  it('requires at least one change file', () => expectInputError(['--golden', golden], /MISSING_INPUT: field change/));

  it('refuses a change file that would escape its transaction, naming file and line', async () => {
    await writeFile(path.join(dir, 'bad.sql'), 'BEGIN;\nSELECT 1;\nROLLBACK;\n');
    await expectInputError(['--golden', golden, '--change', 'bad.sql'], /BAD_CHANGE_FILE: bad\.sql:3: "ROLLBACK"/);
  });

  it('refuses a baseline that is not a fingerprint, naming the field', async () => {
    await writeFile(
      path.join(dir, 'base.json'),
      JSON.stringify({ schemas: ['public'], entries: [{ kind: 'table', name: 'x', value: 'y' }], sha256: 'z' }),
    );
    await expectInputError(
      ['--golden', golden, '--change', p0, '--baseline', 'base.json'],
      /BAD_BASELINE: base\.json field entries\.0\.kind/,
    );
  });
});
