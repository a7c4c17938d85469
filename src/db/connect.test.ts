import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../testing/cli.js';

/**
 * A target that cannot be reached ends in one line naming it (masked) within the connect
 * timeout: exit 2, never "internal error". The timeout is libpq's: connect_timeout in the URL or
 * PGCONNECT_TIMEOUT, in seconds.
 */
const sockets: Socket[] = [];
const listen = async (onConnection: (s: Socket) => void): Promise<{ server: Server; port: number }> => {
  const server = createServer((s) => {
    sockets.push(s);
    onConnection(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port };
};

let silent: { server: Server; port: number };
let slammer: { server: Server; port: number };
beforeAll(async () => {
  // accepts and never answers, as a host behind a firewall that drops packets after the handshake
  silent = await listen(() => {});
  // accepts and closes at once, as a proxy with nothing behind it
  slammer = await listen((s) => s.destroy());
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await Promise.all([silent, slammer].map(({ server }) => new Promise((r) => server.close(r))));
});

const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l !== '' && !l.startsWith('· ') && !l.startsWith('! '));

async function timed(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const t = Date.now();
  const r = await runCli(argv, { env });
  return { ...r, ms: Date.now() - t };
}

describe('connecting to a target that does not answer', () => {
  it('an unroutable host (10.255.255.1) with PGCONNECT_TIMEOUT=2: exit 2 within seconds, naming the masked target', async () => {
    const r = await timed(['compat', '--url', 'postgresql://ops:N0tThis@10.255.255.1:5432/app'], { PGCONNECT_TIMEOUT: '2' });
    expect(r.code).toBe(2);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/^DB_CONNECT: cannot connect to postgresql:\/\/ops:\*\*\*@10\.255\.255\.1:5432\/app: /);
    expect(r.stderr).not.toMatch(/internal error|N0tThis|^\s+at /m);
    expect(r.ms).toBeLessThan(8000);
  });

  it('a server that accepts and never answers: the connect timeout of the URL fires, and the message says how long it waited', async () => {
    const r = await timed(['compat', '--url', `postgresql://ops:N0tThis@127.0.0.1:${silent.port}/app?connect_timeout=2`]);
    expect(r.code).toBe(2);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `^DB_CONNECT: cannot connect to postgresql://ops:\\*\\*\\*@127\\.0\\.0\\.1:${silent.port}/app\\?connect_timeout=2: .*timeout`,
      ),
    );
    expect(r.stderr).toMatch(/no answer within 2 s/);
    expect(r.ms).toBeGreaterThanOrEqual(1900);
    expect(r.ms).toBeLessThan(6000);
  });

  it('a server that closes the socket at once ("Connection terminated unexpectedly"): exit 2, not a bug', async () => {
    const r = await timed(['db', 'status', '--url', `postgresql://ops:N0tThis@127.0.0.1:${slammer.port}/app`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^DB_CONNECT: cannot connect to postgresql:\/\/ops:\*\*\*@127\.0\.0\.1:\d+\/app: Connection terminated unexpectedly\n$/,
    );
  });

  it('a connect timeout that is not whole seconds is refused before connecting, naming where it was read', async () => {
    const env = await timed(['compat', '--url', `postgresql://ops@127.0.0.1:${silent.port}/app`], { PGCONNECT_TIMEOUT: '2s' });
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/^BAD_CONNECT_TIMEOUT: field PGCONNECT_TIMEOUT: PGCONNECT_TIMEOUT must be whole seconds, got "2s"/);
    const url = await timed(['compat', '--url', `postgresql://ops@127.0.0.1:${silent.port}/app?connect_timeout=x`]);
    expect(url.stderr).toMatch(/^BAD_CONNECT_TIMEOUT: field url: connect_timeout in the URL must be whole seconds/);
    expect(env.ms + url.ms).toBeLessThan(1500);
  });
});
