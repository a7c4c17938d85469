import { chmod, mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseTocLine } from './dump.js';
import { connectionForChild, findPgTool, parseToolVersion, runPgTool } from './pg-tools.js';
import { expectUserError as userError } from '../testing/command.js';

/** Fake client programs (small shell scripts) stand in for the versions this machine lacks. */
let root: string;

async function fakeBin(name: string, script: string): Promise<string> {
  const dir = path.join(root, name);
  await mkdir(dir, { recursive: true });
  for (const tool of ['pg_dump', 'pg_restore']) {
    const file = path.join(dir, tool);
    await writeFile(file, `#!/bin/sh\n${script.replaceAll('TOOL', tool)}\n`);
    await chmod(file, 0o755);
  }
  return dir;
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'astm53b-pgbin-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('choosing pg_dump / pg_restore', () => {
  it('reads the version line of every packaging', () => {
    expect(parseToolVersion('pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)\n')).toEqual({ version: '15.20', major: 15 });
    expect(parseToolVersion('pg_restore (PostgreSQL) 17.6\n')).toEqual({ version: '17.6', major: 17 });
    expect(parseToolVersion('pg_dump (PostgreSQL) 18beta1')).toEqual({ version: '18', major: 18 });
    expect(parseToolVersion('something else')).toBeUndefined();
  });

  it('refuses a client older than the server, naming both versions and the package to install', async () => {
    const dir = await fakeBin('old', 'echo "TOOL (PostgreSQL) 15.20"');
    const e = await userError(findPgTool('pg_dump', 17, { PG_BIN: dir, PATH: '' }));
    expect(e.code).toBe('PG_CLIENT_TOO_OLD');
    expect(e.message).toContain('pg_dump 15.20');
    expect(e.message).toContain('PostgreSQL 17');
    expect(e.hint).toContain('sudo apt-get install postgresql-client-17');
    expect(e.hint).toContain('PGDG');
  });

  it('takes a client of the same or a newer major', async () => {
    const dir = await fakeBin('new', 'echo "TOOL (PostgreSQL) 17.6"');
    expect(await findPgTool('pg_restore', 17, { PG_BIN: dir })).toMatchObject({
      path: path.join(dir, 'pg_restore'),
      major: 17,
      version: '17.6',
    });
    expect(await findPgTool('pg_dump', 15, { PG_BIN: dir })).toMatchObject({ major: 17 });
  });

  it('says where it looked when there is no client at all', async () => {
    const empty = path.join(root, 'empty');
    await mkdir(empty, { recursive: true });
    const e = await userError(findPgTool('pg_dump', 15, { PG_BIN: empty }));
    expect(e.code).toBe('PG_CLIENT_MISSING');
    expect(e.message).toContain(empty);
  });
});

describe('running a client program', () => {
  it('puts the password in PGPASSWORD, never on argv', () => {
    const c = connectionForChild('postgresql://app:p%40ss%2Fw0rd@db.example.com:5432/postgres?sslmode=require');
    expect(c.env).toEqual({ PGPASSWORD: 'p@ss/w0rd' });
    expect(c.dbname).toBe('postgresql://app@db.example.com:5432/postgres?sslmode=require');
  });

  it('runs the client in the C locale, so its messages are the English ones parsed here, and quotes its error lines', async () => {
    const dir = await fakeBin(
      'locale',
      'echo "TOOL (PostgreSQL) 15.20"; [ "$1" = "--version" ] && exit 0; echo "TOOL: error: locale=$LC_ALL" >&2; echo "Command was: CREATE FUNCTION f() ..." >&2; exit 1',
    );
    const tool = await findPgTool('pg_restore', 15, { PG_BIN: dir });
    const e = await userError(runPgTool({ tool, args: [] }));
    expect(e.message).toMatch(/failed \(exit 1\): pg_restore: error: locale=C$/);
  });

  it('stops the client when its signal is aborted', async () => {
    const dir = await fakeBin('slow', 'echo "TOOL (PostgreSQL) 15.20"; [ "$1" = "--version" ] && exit 0; exec sleep 30');
    const tool = await findPgTool('pg_dump', 15, { PG_BIN: dir });
    const stop = new AbortController();
    const run = userError(runPgTool({ tool, args: [], signal: stop.signal }));
    stop.abort();
    expect((await run).message).toMatch(/pg_dump 15\.20 failed \(signal SIGTERM\)/);
  });

  it('redacts the password from the error it reports', async () => {
    // a client that echoes its argv and its PGPASSWORD to stderr, then fails
    const dir = await fakeBin(
      'leaky',
      'echo "TOOL (PostgreSQL) 15.20"; [ "$1" = "--version" ] && exit 0; echo "args: $* pw: $PGPASSWORD" >&2; exit 1',
    );
    const tool = await findPgTool('pg_dump', 15, { PG_BIN: dir });
    const e = await userError(runPgTool({ tool, args: ['--format=custom'], url: 'postgresql://app:Sup3rSecret@db.example.com/postgres' }));
    expect(e.code).toBe('PG_TOOL_FAILED');
    expect(e.message).toContain('pw: ***');
    expect(e.message).toContain('--dbname=postgresql://app@db.example.com/postgres');
    expect(e.message).not.toContain('Sup3rSecret');
  });
});

describe('pg_restore --list lines', () => {
  it('splits multi-word descriptions', () => {
    expect(parseTocLine('3472; 2620 39835 TRIGGER public receptions receptions_after_ins postgres')).toEqual({
      id: 3472,
      type: 'TRIGGER',
      schema: 'public',
      tag: 'receptions receptions_after_ins postgres',
    });
    expect(parseTocLine('3650; 0 39482 TABLE DATA public citernes postgres')).toMatchObject({
      type: 'TABLE DATA',
      schema: 'public',
      tag: 'citernes postgres',
    });
    expect(parseTocLine('2138; 826 39905 DEFAULT ACL public DEFAULT PRIVILEGES FOR SEQUENCES postgres')).toMatchObject({
      type: 'DEFAULT ACL',
      schema: 'public',
    });
    expect(parseTocLine(';     Format: CUSTOM')).toBeUndefined();
  });
});
