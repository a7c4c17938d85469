import { PGlite } from '@electric-sql/pglite';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
const f = () => (process.memoryUsage().rss/2**20).toFixed(0);
if (process.argv[2] === 'make') {
  const a = new PGlite(); await a.waitReady;
  const t = await a.dumpDataDir('none'); writeFileSync('/tmp/pgm-empty.tar', Buffer.from(await t.arrayBuffer()));
  const g = await a.dumpDataDir('gzip'); console.log('gzip size', g.size, 'tar', t.size);
  process.exit(0);
}
const blob = new Blob([readFileSync('/tmp/pgm-empty.tar')]);
const a = new PGlite({ dataDir: process.argv[3], loadDataDir: blob }); await a.waitReady;
console.log('main from tar', f(), (await a.query('select 1 as x')).rows);
const b = new PGlite({ loadDataDir: blob }); await b.waitReady;
console.log('scratch from tar', f(), 'maxRSS', (process.resourceUsage().maxRSS/1024).toFixed(0));
process.exit(0);
