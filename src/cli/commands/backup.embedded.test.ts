import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newDepotKeys } from '../../crypto/keys.js';
import { PgliteDb } from '../../db/pglite.js';
import { EMBEDDED_DIR } from '../../db/target.js';
import { memoryLogger, silentLogger } from '../../logger.js';
import { initFixture } from '../../runbook/db-init.js';
import type { CommandContext, CommandSpec } from '../command.js';
import { backupCommands } from './backup.js';
import { expectUserError as userError } from '../../testing/command.js';

/** `astm53b backup` / `backup verify` / `rollback` without --url: the embedded database of the working directory. */
function command(name: string): CommandSpec {
  const c = backupCommands.find((x) => x.name === name);
  if (!c) throw new Error(`no command ${name}`);
  return c;
}

async function run(name: string, values: CommandContext['values'], positionals: string[], cwd: string) {
  let out = '';
  const log = memoryLogger();
  const code = await command(name).run({ values, positionals, out: (t) => (out += t), log, cwd, env: {} });
  return { code: code ?? 0, out, log: log.lines };
}

describe('astm53b backup / backup verify / rollback on the embedded database', () => {
  let cwd: string;
  let empty: string;
  beforeAll(async () => {
    cwd = await mkdtemp(path.join(tmpdir(), 'astm53b-backup-cli-embedded-'));
    empty = await mkdtemp(path.join(tmpdir(), 'astm53b-backup-cli-empty-'));
    const db = await PgliteDb.open(path.join(cwd, EMBEDDED_DIR));
    try {
      await initFixture(db, { scale: 1, seed: 1 }, silentLogger);
    } finally {
      await db.close();
    }
  });
  afterAll(async () => {
    for (const d of [cwd, empty]) if (d) await rm(d, { recursive: true, force: true });
  });

  it('refuses a working directory without an embedded database, and creates none', async () => {
    const e = await userError(run('backup', { out: path.join(empty, 'b') }, [], empty));
    expect(e.code).toBe('NO_DATABASE');
    expect(e.hint).toMatch(/db init/);
    expect((await userError(run('rollback', { backup: path.join(empty, 'b') }, [], empty))).code).toBe('NO_DATABASE');
  });

  it('backup, then backup verify (no server needed), then rollback, each exit 0', async () => {
    const dir = path.join(cwd, 'backup');
    const b = await run('backup', { out: dir }, [], cwd);
    expect(b.code).toBe(0);
    expect(b.out).toMatch(
      /^backup of embedded PGlite \(\.astm53b\/pgdata\) \(PGlite \d+\.\d+, plain dump by @electric-sql\/pglite-tools\/pg_dump/,
    );
    expect(b.out).toMatch(/verification: OK/);
    expect(b.out).toMatch(/database\.sql +\d+ B {2}sha256 [0-9a-f]{64}/);
    const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8'));
    expect(manifest.dump).toMatchObject({ engine: 'pglite', format: 'plain' });

    const v = await run('backup verify', { json: true }, [dir], cwd);
    expect(v.code).toBe(0);
    expect(JSON.parse(v.out)).toMatchObject({ ok: true, failures: [] });

    // a late rollback checks the GO first: a file that is no verified bundle stops it before the target is touched
    const junk = path.join(cwd, 'not-a-bundle.zip');
    await writeFile(junk, 'PK not a zip');
    const pub = (await newDepotKeys(path.join(cwd, 'keys'))).files.find((f) => path.basename(f.path) === 'signing.pub')!.path;
    const refused = await userError(run('rollback', { backup: dir, 'go-bundle': junk, 'public-key': pub }, [], cwd));
    expect([refused.code, refused.where?.file]).toEqual(['NOT_A_BUNDLE', junk]);
    expect((await userError(run('rollback', { backup: dir, 'go-bundle': junk }, [], cwd))).where?.field).toBe('public-key');
    expect((await userError(run('rollback', { backup: dir, 'public-key': junk }, [], cwd))).where?.field).toBe('go-bundle');

    const r = await run('rollback', { backup: dir }, [], cwd);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/rollback of embedded PGlite .*: OK/);
    expect(r.out).toMatch(/plain SQL dump ran in one transaction/);
  });
});
