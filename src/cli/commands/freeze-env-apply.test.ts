import { describe, expect, it } from 'vitest';
import { changeFileWriter, ourP0Text } from '../../testing/change-files.js';
import type { CommandContext, CommandSpec } from '../command.js';
import { commandNamed } from '../registry.js';
import { expectUserError as userError, runCommand } from '../../testing/command.js';

/** Bad input is refused with a UserError naming file, line or field, before any connection is tried. */
const write = changeFileWriter();
// nothing listens there: reaching the database would fail differently (DB_CONNECT)
const URL = 'postgresql://postgres:S3cretPw@127.0.0.1:1/none';

const run = (name: string, values: CommandContext['values'], positionals: string[] = []) =>
  runCommand(commandNamed(name) as CommandSpec, values, positionals);

describe('astm53b apply: input checks before the database', () => {
  it('a missing file names the file', async () => {
    const e = await userError(run('apply', { url: URL }, ['no/such/file.sql']));
    expect(e.describe()).toMatch(/^FILE_NOT_FOUND: no\/such\/file\.sql: cannot read change file: ENOENT/);
  });

  it('a psql meta-command, a ROLLBACK or a SET ROLE inside the file is refused naming its line', async () => {
    const meta = await userError(run('apply', { url: URL }, [write('meta.sql', 'SELECT 1;\n\\i other.sql\n')]));
    expect([meta.code, meta.where?.line]).toEqual(['SQL_META_COMMAND', 2]);
    const rb = await userError(run('apply', { url: URL }, [write('rb.sql', 'BEGIN;\nSELECT 1;\n\nROLLBACK;\n')]));
    expect([rb.code, rb.where?.line]).toEqual(['BAD_CHANGE_FILE', 4]);
    const role = await userError(run('apply', { url: URL }, [write('role.sql', `${ourP0Text()}\nSET ROLE anon;\n`)]));
    expect(role.message).toMatch(/would change who the rest of the file/);
    expect((await userError(run('apply', { url: URL }, [write('empty.sql', '-- nothing\nBEGIN;\nCOMMIT;\n')]))).message).toBe(
      'the file has no SQL statement',
    );
  });

  it('bad options name their field', async () => {
    const p0 = write('p0.sql', ourP0Text());
    expect((await userError(run('apply', { url: URL, 'expect-functions': 'validate_sortie; DROP TABLE x' }, [p0]))).where?.field).toBe(
      'expect-functions',
    );
    expect((await userError(run('apply', { url: URL, 'lock-timeout-ms': '5s' }, [p0]))).where?.field).toBe('lock-timeout-ms');
    expect((await userError(run('apply', { url: URL, 'run-id': 'a b' }, [p0]))).where?.field).toBe('run-id');
  });

  it("refuses Supabase's transaction pooler, which would lose the transaction and the lock", async () => {
    const e = await userError(
      run('apply', { url: 'postgresql://postgres.abcdefghij:pw@aws-0-eu.pooler.supabase.com:6543/postgres' }, [
        write('p.sql', ourP0Text()),
      ]),
    );
    expect(e.code).toBe('TRANSACTION_POOLER');
  });

  it('reaches the database only once the inputs are valid (and never prints the password)', async () => {
    const e = await userError(run('apply', { url: URL }, [write('ok.sql', ourP0Text())]));
    expect(e.code).toBe('DB_CONNECT');
    expect(e.describe()).not.toContain('S3cretPw');
  });
});

describe('astm53b env, freeze, staging-reset: input checks', () => {
  it('env set takes staging or prod, and a well-formed project ref that the connection must carry', async () => {
    expect((await userError(run('env set', { url: URL }, ['production']))).where?.field).toBe('ENV');
    expect((await userError(run('env set', { url: URL, 'project-ref': 'ABC' }, ['staging']))).where?.field).toBe('project-ref');
    expect((await userError(run('env set', { url: URL, 'project-ref': 'abcdefghij' }, ['staging']))).message).toMatch(
      /names no Supabase project/,
    );
  });

  it('freeze takes on/off/status; on needs a reason', async () => {
    expect((await userError(run('freeze', { url: URL }, ['maybe']))).code).toBe('BAD_ARGUMENTS');
    expect((await userError(run('freeze', { url: URL, 'window-minutes': '-1' }, ['on']))).where?.field).toBe('window-minutes');
  });

  it('staging-reset names a missing --file', async () => {
    expect((await userError(run('staging-reset', { url: URL, file: 'nope.sql' }))).where?.file).toBe('nope.sql');
  });
});
