// node scripts/pglite-template.mjs
//
// Regenerates the empty cluster every new embedded database is loaded from (src/db/pglite-template.ts):
// src/db/pglite-template.tar.br, PGlite's own initdb output for the installed @electric-sql/pglite,
// and src/db/pglite-template.json, what it is (PGlite version, PG_VERSION, pg_control and catalog
// versions, size, SHA-256). Run it after every PGlite upgrade: until then the CLI makes each cluster
// with initdb (more memory, same cluster) and src/db/pglite-template.test.ts fails.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants } from 'node:zlib';
import { PGlite } from '@electric-sql/pglite';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pgliteEntry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
const pgliteVersion = JSON.parse(readFileSync(path.join(path.dirname(pgliteEntry), '..', 'package.json'), 'utf8')).version;

const pg = new PGlite();
await pg.waitReady;
// written to disk now, not left to recovery at the first start of every copy
await pg.query('CHECKPOINT');
const control = (
  await pg.query('SELECT pg_control_version, catalog_version_no, version() AS v, current_setting($1) AS n FROM pg_control_system()', [
    'server_version_num',
  ])
).rows[0];
const tar = Buffer.from(await (await pg.dumpDataDir('none')).arrayBuffer());
await pg.close();

// a 16 MB window: the three databases of an empty cluster (template0, template1, postgres) are
// near-identical, so each after the first costs little (gzip's 32 kB window sees none of that)
const br = brotliCompressSync(tar, {
  params: {
    [constants.BROTLI_PARAM_QUALITY]: 11,
    [constants.BROTLI_PARAM_LGWIN]: 24,
    [constants.BROTLI_PARAM_SIZE_HINT]: tar.length,
  },
});
const manifest = {
  pglite: pgliteVersion,
  server_version: control.v,
  pg_version: String(Math.floor(Number(control.n) / 10000)),
  pg_control_version: control.pg_control_version,
  catalog_version_no: control.catalog_version_no,
  bytes: br.length,
  sha256: createHash('sha256').update(br).digest('hex'),
};
writeFileSync(path.join(root, 'src/db/pglite-template.tar.br'), br);
writeFileSync(path.join(root, 'src/db/pglite-template.json'), `${JSON.stringify(manifest, null, 2)}\n`);
console.log(`src/db/pglite-template.tar.br: ${br.length} bytes (${tar.length} uncompressed), PGlite ${pgliteVersion}`);
