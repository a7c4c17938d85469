import { spawn } from 'node:child_process';
import { access, readdir } from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import { finished, type Writable } from 'node:stream';
import { UserError } from '../errors.js';
import { redact, secretsOf } from './secrets.js';

/**
 * The PostgreSQL client programs (pg_dump, pg_restore) as child processes. Which binary: a
 * pg_dump older than the server refuses to dump it, so the major version is checked before
 * anything runs, and a mismatch names both versions and the fix. How it connects: the
 * password travels in PGPASSWORD, never on argv (visible in `ps` to every local user).
 * What it says: stderr is kept (bounded) and redacted before it reaches an error.
 */
export type PgToolName = 'pg_dump' | 'pg_restore';

export interface PgTool {
  name: PgToolName;
  path: string;
  /** e.g. "15.20" */
  version: string;
  major: number;
}

const DEBIAN_ROOT = '/usr/lib/postgresql';

async function isExecutable(file: string): Promise<boolean> {
  return access(file, constants.X_OK).then(
    () => true,
    () => false,
  );
}

/** "pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)" → 15.20 */
export function parseToolVersion(text: string): { version: string; major: number } | undefined {
  const m = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(text);
  if (!m) return undefined;
  return { version: m[2] === undefined ? m[1]! : `${m[1]}.${m[2]}`, major: Number(m[1]) };
}

const versions = new Map<string, Promise<{ version: string; major: number } | undefined>>();

/** `file --version`, asked once per binary and process: a backup looks its tools up several times. */
function toolVersion(file: string): Promise<{ version: string; major: number } | undefined> {
  let v = versions.get(file);
  if (!v) {
    v = runProcess(file, ['--version'], { env: process.env }).then(
      (r) => (r.code === 0 ? parseToolVersion(r.stdout) : undefined),
      () => undefined,
    );
    versions.set(file, v);
  }
  return v;
}

/** Where to look, in order: PG_BIN alone when set; else /usr/lib/postgresql/<major>/bin (newest first), then PATH. */
export async function candidateDirs(env: NodeJS.ProcessEnv): Promise<string[]> {
  if (env.PG_BIN) return [env.PG_BIN];
  const dirs: string[] = [];
  const majors = await readdir(DEBIAN_ROOT).catch(() => [] as string[]);
  for (const m of majors.filter((x) => /^\d+$/.test(x)).sort((a, b) => Number(b) - Number(a))) dirs.push(path.join(DEBIAN_ROOT, m, 'bin'));
  for (const d of (env.PATH ?? '').split(path.delimiter)) if (d && !dirs.includes(d)) dirs.push(d);
  return dirs;
}

/**
 * The client whose major version is at least the server's: the same major when there is one
 * (what the server's own package ships), else the oldest newer one. Only an older client found:
 * a UserError naming both versions and the package to install.
 */
export async function findPgTool(name: PgToolName, serverMajor: number, env: NodeJS.ProcessEnv = process.env): Promise<PgTool> {
  const found: PgTool[] = [];
  for (const dir of await candidateDirs(env)) {
    const file = path.join(dir, name);
    if (!(await isExecutable(file))) continue;
    const v = await toolVersion(file);
    if (v && !found.some((f) => f.path === file)) found.push({ name, path: file, ...v });
  }
  const usable = found.filter((t) => t.major >= serverMajor).sort((a, b) => a.major - b.major);
  const exact = usable.find((t) => t.major === serverMajor);
  if (exact ?? usable[0]) return (exact ?? usable[0])!;
  const install = `sudo apt-get install postgresql-client-${serverMajor} (Ubuntu runner: add the PGDG apt repository apt.postgresql.org first), or set PG_BIN to its bin folder`;
  if (found.length === 0) {
    throw new UserError(
      'PG_CLIENT_MISSING',
      `${name} not found${env.PG_BIN ? ` in PG_BIN=${env.PG_BIN}` : ` in ${DEBIAN_ROOT}/*/bin or PATH`}; the server is PostgreSQL ${serverMajor}`,
      { hint: install },
    );
  }
  const newest = found.sort((a, b) => b.major - a.major)[0]!;
  throw new UserError(
    'PG_CLIENT_TOO_OLD',
    `${name} ${newest.version} (${newest.path}) is older than the server, PostgreSQL ${serverMajor}: ${name} must be version ${serverMajor} or newer`,
    { hint: install },
  );
}

/** libpq settings for a child process: the URL without its password on argv, the password in env. */
export function connectionForChild(url: string): { dbname: string; env: Record<string, string> } {
  const u = new URL(url);
  const env: Record<string, string> = {};
  const password = u.password ? decodeURIComponent(u.password) : u.searchParams.get('password');
  if (password) env.PGPASSWORD = password;
  u.password = '';
  u.searchParams.delete('password');
  return { dbname: u.toString(), env };
}

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** the last 16 kB, redacted (progress lines left out) */
  stderr: string;
}

const STDERR_KEEP = 16_384;

export interface ProcessOptions {
  env: NodeJS.ProcessEnv;
  secrets?: readonly string[];
  /** stdout is streamed into it, with backpressure; an error on it kills the child. Ended when the child exits. */
  stdoutTo?: Writable;
  /** otherwise stdout is kept in memory (short answers: --version, --list) up to this many bytes */
  maxStdout?: number;
  /** the child's stdin is a pipe, handed out as `stdin` (else it reads nothing) */
  stdin?: boolean;
  /** each stderr line as it arrives; returning true keeps it out of `stderr` (progress chatter) */
  onStderrLine?: (line: string) => boolean | void;
  /** aborting it terminates the child (SIGTERM) */
  signal?: AbortSignal;
}

export interface StartedProcess {
  /** the child's stdin when `stdin` was asked for; writes after the child died fail, never throw */
  stdin: Writable | null;
  done: Promise<ProcessResult>;
  kill(): void;
}

/** Spawns a program without a shell; `done` settles when it has exited and its stdout sink is flushed. */
export function startProcess(file: string, args: readonly string[], opts: ProcessOptions): StartedProcess {
  const child = spawn(file, args, { env: opts.env, stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  // a child that exits early makes our next write fail with EPIPE: the writer sees it, nothing crashes
  child.stdin?.on('error', () => {});
  if (opts.signal?.aborted) child.kill();
  else opts.signal?.addEventListener('abort', () => child.kill(), { once: true });
  const done = new Promise<ProcessResult>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    let partial = '';
    const max = opts.maxStdout ?? 16 * 1024 * 1024;
    const sink = opts.stdoutTo;
    let sinkError: Error | undefined;
    sink?.on('error', (e) => {
      sinkError ??= e;
      child.kill();
      // a paused stdout never ends, and the child's 'close' waits for it: drain what is left
      child.stdout!.resume();
    });
    child.stdout!.on('data', (chunk: Buffer) => {
      if (sink) {
        if (sinkError) return;
        if (!sink.write(chunk)) {
          child.stdout!.pause();
          sink.once('drain', () => child.stdout!.resume());
        }
      } else if (stdout.length < max) stdout += chunk.toString('utf8');
    });
    const keep = (line: string) => {
      if (opts.onStderrLine?.(line) === true) return;
      stderr = `${stderr}${line}\n`.slice(-STDERR_KEEP);
    };
    child.stderr!.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop()!;
      for (const line of lines) keep(line);
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (partial) keep(partial);
      const settle = () => {
        if (sinkError) return reject(sinkError);
        resolve({ code, signal, stdout, stderr: redact(stderr, opts.secrets ?? []) });
      };
      // a sink destroyed by its reader (the step gave up) never emits finish: settle on close too
      if (sink && !sinkError && !sink.destroyed) {
        sink.end();
        finished(sink, () => settle());
      } else settle();
    });
  });
  return { stdin: child.stdin, done, kill: () => child.kill() };
}

export function runProcess(file: string, args: readonly string[], opts: ProcessOptions): Promise<ProcessResult> {
  return startProcess(file, args, opts).done;
}

export interface ToolRun {
  tool: PgTool;
  args: string[];
  /** set for tools that connect */
  url?: string;
  /** application_name of the connection, so an operator (or a test) can find it in pg_stat_activity */
  appName?: string;
  stdoutTo?: Writable;
  maxStdout?: number;
  stdin?: boolean;
  onStderrLine?: (line: string) => boolean | void;
  signal?: AbortSignal;
}

/** Starts a client program; `done` rejects with a UserError carrying its (redacted) stderr on a non-zero exit. */
export function startPgTool(run: ToolRun): StartedProcess {
  const secrets = run.url ? secretsOf(run.url) : [];
  // messages in English whatever the runner's locale: progress and error lines are parsed
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C', PGAPPNAME: run.appName ?? `astm53b-${run.tool.name}` };
  const args = [...run.args];
  if (run.url) {
    const c = connectionForChild(run.url);
    Object.assign(env, c.env);
    args.unshift(`--dbname=${c.dbname}`);
  }
  const started = startProcess(run.tool.path, args, {
    env,
    secrets,
    ...(run.stdoutTo ? { stdoutTo: run.stdoutTo } : {}),
    ...(run.maxStdout ? { maxStdout: run.maxStdout } : {}),
    ...(run.stdin ? { stdin: true } : {}),
    ...(run.onStderrLine ? { onStderrLine: run.onStderrLine } : {}),
    ...(run.signal ? { signal: run.signal } : {}),
  });
  const done = started.done.then((r) => {
    if (r.code !== 0) {
      // the lines that say what went wrong, not the SQL text pg_restore echoes after them ("Command was: …")
      const lines = r.stderr.trim().split('\n');
      const said = lines.filter((l) => /^(pg_dump|pg_restore): (error|fatal|detail|hint): /.test(l));
      const last = (said.length ? said : lines).slice(-6).join(' | ');
      throw new UserError(
        'PG_TOOL_FAILED',
        `${run.tool.name} ${run.tool.version} failed (${r.signal ? `signal ${r.signal}` : `exit ${r.code}`}): ${last || 'no message'}`,
      );
    }
    return r;
  });
  return { ...started, done };
}

export function runPgTool(run: ToolRun): Promise<ProcessResult> {
  return startPgTool(run).done;
}
