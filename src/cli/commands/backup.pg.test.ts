import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { memoryLogger } from '../../logger.js';
import { TEST_DATABASE_URL, describePg, useFreshDatabase } from '../../testing/pg.js';
import type { CommandContext, CommandSpec } from '../command.js';
import { backupCommands } from './backup.js';
import { expectUserError as userError } from '../../testing/command.js';

function command(name: string): CommandSpec {
  const c = backupCommands.find((x) => x.name === name);
  if (!c) throw new Error(`no command ${name}`);
  return c;
}

async function run(name: string, values: CommandContext['values'], positionals: string[] = [], cwd = process.cwd()) {
  let out = '';
  const log = memoryLogger();
  const code = await command(name).run({ values, positionals, out: (t) => (out += t), log, cwd, env: process.env });
  return { code: code ?? 0, out, log: log.lines };
}

describePg('astm53b backup / backup verify / rollback', () => {
  const fx = useFreshDatabase('backup_cli', { fixture: true });
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'astm53b-backup-cli-'));
  });
  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('refuses missing options before touching anything', async () => {
    expect((await userError(run('backup', { url: fx().scratch.url }))).where?.field).toBe('out');
    // without --url: the embedded database of the working directory, which must exist
    expect((await userError(run('backup', { out: path.join(work, 'x') }, [], work))).code).toBe('NO_DATABASE');
    expect((await userError(run('rollback', { url: fx().scratch.url }))).where?.field).toBe('backup');
    expect((await userError(run('backup verify', {}, [path.join(work, 'absent')]))).code).toBe('BACKUP_INCOMPLETE');
    expect((await userError(run('backup', { url: 'postgresql://u:p@db.example.com:6543/postgres', out: path.join(work, 'y') }))).code).toBe(
      'TRANSACTION_POOLER',
    );
  });

  it('backup, then backup verify, then rollback, each exit 0 with a readable report', async () => {
    const dir = path.join(work, 'b');
    const b = await run('backup', { url: fx().scratch.url, out: dir });
    expect(b.code).toBe(0);
    expect(b.out).toMatch(/^backup of postgresql:\/\/postgres@127\.0\.0\.1:5432\/astm53b_backup_cli/);
    expect(b.out).toMatch(/verification: OK/);
    expect(b.out).toMatch(/tables +\d+\/\d+ equal/);
    expect(b.out).toMatch(/not compared: auth\. Supabase-managed/);

    const v = await run('backup verify', { url: TEST_DATABASE_URL!, json: true }, [dir]);
    expect(v.code).toBe(0);
    expect(JSON.parse(v.out)).toMatchObject({ ok: true, failures: [] });

    const r = await run('rollback', { url: fx().scratch.url, backup: dir });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/rollback of .*: OK/);
    expect(r.out).toMatch(/\[ \] Runbook 6\.2 step 4: redeploy the legacy app build/);
  });
});
