import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { tarFiles } from './pg-control.js';
import { PgliteDb } from './pglite.js';
import { openScratchPglite, SCRATCH_SHARED_BUFFERS_MB } from './pglite-dump.js';
import {
  emptyClusterFromTemplate,
  installedPgliteVersion,
  TEMPLATE_MANIFEST_PATH,
  TEMPLATE_PATH,
  TemplateManifest,
} from './pglite-template.js';

/**
 * The committed empty cluster (src/db/pglite-template.tar.br) every new embedded database is loaded
 * from: that it is the installed PGlite's own initdb output, so that an upgrade cannot silently load
 * a stale one (regenerate it with `node scripts/pglite-template.mjs`), and that every cluster made
 * from it is a cluster of its own.
 */
const sysid = async (db: { query: PgliteDb['query'] }) =>
  (await db.query<{ id: string }>('SELECT system_identifier::text AS id FROM pg_control_system()')).rows[0]!.id;

const CLUSTER_FACTS = `SELECT c.pg_control_version, c.catalog_version_no, version() AS version,
  (SELECT json_agg(json_build_array(datname, pg_encoding_to_char(encoding), datlocprovider, datcollate, datctype, datistemplate, datallowconn) ORDER BY datname)
     FROM pg_database) AS databases,
  (SELECT json_agg(json_build_array(name, setting) ORDER BY name) FROM pg_settings WHERE source NOT IN ('default', 'session', 'client')) AS settings
  FROM pg_control_system() c`;

const textOf = (tar: Uint8Array, name: string) => {
  const f = tarFiles(tar).find((e) => e.name === name);
  return f ? Buffer.from(tar.subarray(f.start, f.start + f.size)).toString('utf8') : undefined;
};
// what a running cluster writes as it goes (statistics, the pid file, …) is not what initdb made
const MADE_BY_INITDB = (name: string) => !/^(postmaster\.(pid|opts)|pg_stat_tmp\/|pg_stat\/|pg_logical\/|pg_wal\/)/.test(name);

describe('the pre-made empty cluster of the embedded database', () => {
  const open: { close(): Promise<void> }[] = [];
  let work = '';
  afterAll(async () => {
    for (const db of open) await db.close().catch(() => {});
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('was made by the installed PGlite, and its manifest holds for the committed file', async () => {
    const manifest = TemplateManifest.parse(JSON.parse(await readFile(TEMPLATE_MANIFEST_PATH, 'utf8')));
    const bytes = await readFile(TEMPLATE_PATH);
    expect(manifest.pglite, 'the template is of another PGlite: run node scripts/pglite-template.mjs').toBe(installedPgliteVersion());
    expect(manifest.bytes).toBe(bytes.length);
    expect(manifest.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
  });

  it('is the cluster a fresh initdb of the installed PGlite makes: same versions, databases, settings, configuration and files', async () => {
    const manifest = TemplateManifest.parse(JSON.parse(await readFile(TEMPLATE_MANIFEST_PATH, 'utf8')));
    // PGlite's own initdb, as the CLI ran it before the template (no loadDataDir)
    const fresh = new PGlite();
    open.push(fresh);
    const fromTemplate = await PgliteDb.open(undefined);
    open.push(fromTemplate);
    const facts = (await fresh.query<Record<string, unknown>>(CLUSTER_FACTS)).rows[0]!;
    expect((await fromTemplate.query<Record<string, unknown>>(CLUSTER_FACTS)).rows[0]).toEqual(facts);
    expect(manifest).toMatchObject({
      server_version: facts.version,
      pg_control_version: facts.pg_control_version,
      catalog_version_no: facts.catalog_version_no,
    });

    const freshTar = new Uint8Array(await (await fresh.dumpDataDir('none')).arrayBuffer());
    const templateTar = new Uint8Array(await (await fromTemplate.instance.dumpDataDir('none')).arrayBuffer());
    const names = (tar: Uint8Array) =>
      tarFiles(tar)
        .map((f) => f.name)
        .filter(MADE_BY_INITDB)
        .sort();
    expect(names(templateTar)).toEqual(names(freshTar));
    for (const conf of ['PG_VERSION', 'postgresql.conf', 'postgresql.auto.conf', 'pg_hba.conf', 'pg_ident.conf']) {
      expect(textOf(templateTar, conf), conf).toBe(textOf(freshTar, conf));
    }
    expect(textOf(templateTar, 'PG_VERSION')?.trim()).toBe(manifest.pg_version);
  });

  it('gives every cluster made from it its own system identifier, kept when the cluster is opened again', async () => {
    const template = await emptyClusterFromTemplate();
    expect(template, 'the template is not loaded: see the first test').toBeDefined();
    const a = await PgliteDb.open(undefined);
    open.push(a);
    const b = await PgliteDb.open(undefined);
    open.push(b);
    const ids = [await sysid(a), await sysid(b)];
    expect(new Set(ids).size).toBe(2);

    work = await mkdtemp(path.join(tmpdir(), 'astm53b-pglite-template-'));
    const dir = path.join(work, 'pgdata');
    // on disk the folder is written from the template first, as initdb would make it, then opened
    const onDisk = await PgliteDb.open(dir);
    expect((await stat(path.join(dir, 'global/pg_control'))).mode & 0o777).toBe(0o600);
    expect((await stat(path.join(dir, 'base'))).mode & 0o777).toBe(0o700);
    const id = await sysid(onDisk);
    await onDisk.close();
    expect(ids).not.toContain(id);
    const again = await PgliteDb.open(dir);
    open.push(again);
    expect(await sysid(again)).toBe(id);
  });

  it('the scratch copy of a backup’s proof runs with small shared buffers: its files are in memory already', async () => {
    const scratch = await openScratchPglite();
    open.push(scratch);
    expect((await scratch.query<{ shared_buffers: string }>('SHOW shared_buffers')).rows[0]).toEqual({
      shared_buffers: `${SCRATCH_SHARED_BUFFERS_MB}MB`,
    });
  });
});
