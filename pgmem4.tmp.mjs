import { PGlite } from '@electric-sql/pglite';
const f = () => (process.memoryUsage().rss/2**20).toFixed(0);
const a = new PGlite({ dataDir: '/tmp/pgm-dd' }); await a.waitReady;
console.log('open', f(), 'maxRSS', (process.resourceUsage().maxRSS/1024).toFixed(0));
await a.close();
process.exit(0);
