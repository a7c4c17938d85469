import { createServer } from 'node:net';
import { createScratchDatabase } from '../../db/scratch.js';
import type { JobModel, ServiceModel } from './model.js';
import { ScenarioError } from './types.js';

/**
 * Service containers, stood in for: a `postgres` service becomes a fresh, empty database on the
 * scenario's PostgreSQL server (serviceServer, the tests' TEST_DATABASE_URL), created when the
 * job starts and dropped when it ends, as a container is. Its version is that server's, not the
 * image tag's. A step reaches a service at localhost:<host port>/<POSTGRES_DB>; every
 * connection string in a step's inputs, env and script that names exactly that host, port,
 * user and database is redirected to the stand-in. Only that: the run's other URLs (the target
 * database in a secret) may sit on the same server and port and must stay as they are.
 */
export interface ServiceStandIn {
  id: string;
  url: string;
  hostPort: string;
  containerPort: string;
  user: string;
  database: string;
  drop(): Promise<void>;
}

// a tag, a digest, or both (the workflows pin the image by digest)
const POSTGRES_IMAGE = /^(?:docker\.io\/(?:library\/)?)?postgres(?::[\w.-]+)?(?:@sha256:[0-9a-f]{64})?$/;

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function standIn(
  job: string,
  svc: ServiceModel,
  index: number,
  server: string | undefined,
  refuse: boolean,
): Promise<ServiceStandIn> {
  if (!POSTGRES_IMAGE.test(svc.image)) throw new ScenarioError(`job ${job}: no stand-in for service ${svc.id} (${svc.image})`);
  const [hostPort, containerPort] = ((p) => (p.includes(':') ? p.split(':') : [String(49152 + index), p]))(svc.ports[0] ?? '5432');
  const user = svc.env.POSTGRES_USER ?? 'postgres';
  const database = svc.env.POSTGRES_DB ?? user;
  const base = { id: svc.id, hostPort: hostPort!, containerPort: containerPort!, user, database };
  if (refuse) return { ...base, url: `postgresql://${user}@127.0.0.1:${await closedPort()}/${database}`, drop: async () => {} };
  if (!server)
    throw new ScenarioError(`job ${job}: service ${svc.id} needs a PostgreSQL server to stand in for it (scenario.serviceServer)`);
  const db = await createScratchDatabase(server, `svc_${svc.id}`);
  return { ...base, url: db.url, drop: db.drop };
}

export async function startServices(job: JobModel, server: string | undefined, refuse: readonly string[]): Promise<ServiceStandIn[]> {
  const out: ServiceStandIn[] = [];
  try {
    for (const [i, svc] of job.services.entries()) out.push(await standIn(job.id, svc, i, server, refuse.includes(svc.id)));
  } catch (e) {
    await Promise.all(out.map((s) => s.drop()));
    throw e;
  }
  return out;
}

/** The `job.services` context: each service's id, network and mapped ports. */
export function servicesContext(services: readonly ServiceStandIn[]): Record<string, unknown> {
  return Object.fromEntries(
    services.map((s) => [s.id, { id: `svc-${s.id}`, network: 'github_network_standin', ports: { [s.containerPort]: s.hostPort } }]),
  );
}

export function redirectToServices(text: string, services: readonly ServiceStandIn[]): string {
  if (!services.length) return text;
  return text.replace(/postgres(?:ql)?:\/\/[^\s'"]+/g, (found) => {
    let u: URL;
    try {
      u = new URL(found);
    } catch {
      return found;
    }
    const db = decodeURIComponent(u.pathname.replace(/^\//, ''));
    const svc = services.find(
      (s) =>
        ['localhost', '127.0.0.1'].includes(u.hostname) &&
        (u.port || '5432') === s.hostPort &&
        (decodeURIComponent(u.username) || s.user) === s.user &&
        (db || s.user) === s.database,
    );
    return svc ? svc.url + u.search : found;
  });
}
