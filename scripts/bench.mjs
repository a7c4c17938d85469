// npm run bench [-- --scale N[,N…]] [--runs K] [--url URL]
//
// Every figure is measured against a baseline in the same run, on the same data, and written to
// bench/results.json (value, unit, baseline, ratio, machine, scale) and bench/README.md.
//  1. `astm53b batch` on 100 000 rows vs the bare engine (vitest bench, src/cli/commands/astm.bench.ts).
//  2. `astm53b backup` with its verification, on the demo depot at each --scale N (default 100) on a real
//     PostgreSQL (--url or TEST_DATABASE_URL; skipped, and said so, without one), vs raw `pg_dump -Fc`
//     then `pg_restore` into an empty database. Each side runs as its own process under GNU time, so
//     the peak memory is our process's, not the harness's. K runs (default 3), alternating, median.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpus, freemem, hostname, tmpdir, totalmem } from 'node:os';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: {
    scale: { type: 'string', default: '100' },
    runs: { type: 'string', default: '3' },
    url: { type: 'string' },
    'skip-batch': { type: 'boolean' },
  },
});
const scales = values.scale.split(',').map(Number);
const runs = Number(values.runs);
if (scales.some((n) => !Number.isInteger(n) || n < 1) || !Number.isInteger(runs) || runs < 1) {
  console.error('--scale takes positive integers separated by commas, --runs a positive integer');
  process.exit(2);
}
const server = values.url ?? process.env.TEST_DATABASE_URL;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
const results = [];

function timed(cmd, args, env = {}) {
  // GNU time: elapsed seconds and peak RSS (KiB) of the command's process
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', cmd, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const [secs, kib] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { s: secs, rssMB: kib / 1024 };
}

// 1. batch ---------------------------------------------------------------------------------------
if (!values['skip-batch']) {
  const out = path.join(tmpdir(), `astm53b-bench-batch-${process.pid}.json`);
  execFileSync('npx', ['vitest', 'bench', '--run', '--project', 'unit', '--outputJson', out, 'src/cli/commands/astm.bench.ts'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const tasks = JSON.parse(readFileSync(out, 'utf8')).files.flatMap((f) => f.groups.flatMap((g) => g.benchmarks));
  const find = (re) => tasks.find((t) => re.test(t.name));
  const base = find(/baseline/);
  const ours = find(/astm53b batch/);
  results.push({
    name: 'astm53b batch, 100 000 rows, CSV in and out',
    value: round(ours.mean / 1000),
    unit: 's',
    baseline: { name: 'the bare engine on the same inputs, no CSV', value: round(base.mean / 1000), unit: 's' },
    ratio: round(ours.mean / base.mean, 2),
    samples: ours.sampleCount ?? ours.samples?.length ?? null,
  });
  rmSync(out, { force: true });
}

// 2. backup ---------------------------------------------------------------------------------------
let machinePg = null;
if (!server) {
  console.error('bench: no --url and no TEST_DATABASE_URL: the backup benchmark is skipped');
} else {
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  const major = Math.floor(Number((await admin.query('SHOW server_version_num')).rows[0].server_version_num) / 10000);
  machinePg = (await admin.query('SHOW server_version')).rows[0].server_version;
  for (const scale of scales) {
    const name = `astm53b_bench_s${scale}`;
    const urlOf = (db) => Object.assign(new URL(server), { pathname: `/${db}` }).toString();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
    const source = urlOf(name);
    const bin = path.join(root, 'bin/astm53b.cjs');
    console.error(`bench: building the demo depot at --scale ${scale} in ${name}`);
    const init = timed(process.execPath, [bin, 'db', 'init', '--url', source, '--scale', String(scale)]);
    const c = new pg.Client({ connectionString: source });
    await c.connect();
    await c.query('VACUUM ANALYZE');
    const rows = Number(
      (
        await c.query(
          'SELECT (SELECT count(*) FROM receptions) + (SELECT count(*) FROM sorties_produit) + (SELECT count(*) FROM stocks_journaliers) + (SELECT count(*) FROM log_actions) AS n',
        )
      ).rows[0].n,
    );
    await c.end();
    const tools = `/usr/lib/postgresql/${major}/bin`;
    const work = mkdtempSync(path.join(tmpdir(), 'astm53b-bench-'));
    const floor = [];
    const ours = [];
    let dumpBytes = 0;
    try {
      for (let k = 0; k < runs; k++) {
        const order = k % 2 === 0 ? ['floor', 'ours'] : ['ours', 'floor'];
        for (const side of order) {
          if (side === 'floor') {
            const file = path.join(work, `floor-${k}.dump`);
            const scratch = `astm53b_bench_floor_${k}`;
            await admin.query(`DROP DATABASE IF EXISTS ${scratch} WITH (FORCE)`);
            const t0 = performance.now();
            const d = timed(`${tools}/pg_dump`, ['-Fc', '-f', file, '-d', source]);
            await admin.query(`CREATE DATABASE ${scratch}`);
            const r = timed(`${tools}/pg_restore`, ['--no-owner', '-d', urlOf(scratch), file]);
            floor.push({ s: (performance.now() - t0) / 1000, dump: d.s, restore: r.s });
            dumpBytes = statSync(file).size;
            await admin.query(`DROP DATABASE ${scratch} WITH (FORCE)`);
            rmSync(file, { force: true });
          } else {
            const dir = path.join(work, `ours-${k}`);
            const t = timed(process.execPath, [bin, 'backup', '--url', source, '--out', dir]);
            const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
            const verification = JSON.parse(readFileSync(path.join(dir, 'verification.json'), 'utf8'));
            if (!verification.ok) throw new Error(`our backup did not verify: ${verification.failures.join('; ')}`);
            ours.push({
              ...t,
              dumpBytes: manifest.files[0].bytes,
              compression: manifest.dump.compression,
              restoreMs: verification.restore.ms,
            });
            rmSync(dir, { recursive: true, force: true });
          }
        }
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    }
    const f = median(floor.map((x) => x.s));
    const o = median(ours.map((x) => x.s));
    const peak = Math.max(...ours.map((x) => x.rssMB));
    results.push({
      name: `astm53b backup with its verification, demo depot --scale ${scale}`,
      scale,
      movement_rows: rows,
      dump_bytes: dumpBytes,
      our_dump_bytes: ours[0]?.dumpBytes ?? null,
      our_compression: ours[0]?.compression ?? null,
      value: round(o, 2),
      unit: 's',
      baseline: {
        name: 'raw pg_dump -Fc, then pg_restore into an empty database',
        value: round(f, 2),
        unit: 's',
        dump_s: round(median(floor.map((x) => x.dump)), 2),
        restore_s: round(median(floor.map((x) => x.restore)), 2),
      },
      ratio: round(o / f, 2),
      target_ratio: 1.3,
      peak_memory: { value: round(peak, 1), unit: 'MB', target: 150, what: 'peak RSS of the astm53b process (GNU time %M)' },
      runs,
      all_runs_s: { ours: ours.map((x) => round(x.s, 2)), baseline: floor.map((x) => round(x.s, 2)) },
      fixture_build_s: round(init.s, 1),
    });
  }
  await admin.end();
}

const machine = {
  host: hostname(),
  cpus: cpus().length,
  cpu: cpus()[0]?.model ?? 'unknown',
  memory_gb: round(totalmem() / 2 ** 30, 1),
  free_memory_gb_at_start: round(freemem() / 2 ** 30, 1),
  node: process.version,
  postgresql: machinePg,
};
const doc = { generated_at: new Date().toISOString(), machine, results };
writeFileSync(path.join(root, 'bench/results.json'), `${JSON.stringify(doc, null, 2)}\n`);

const row = (r) =>
  `| ${r.name} | ${r.baseline.name} | ${r.value} ${r.unit} | ${r.baseline.value} ${r.baseline.unit} | **${r.ratio}×**${r.target_ratio ? ` (target ≤ ${r.target_ratio})` : ''} | ${r.peak_memory ? `${r.peak_memory.value} MB (target ≤ ${r.peak_memory.target})` : '—'} |`;
const readme = [
  '# Benchmarks',
  '',
  '`npm run bench [-- --scale N[,N…]] [--runs K] [--url URL]` (scripts/bench.mjs) measures each figure against a baseline',
  'in the same run, on the same data, and writes `bench/results.json` (value, unit, baseline, ratio, machine, scale) and',
  'this table. Never a timed assertion in a test. The backup benchmark needs a PostgreSQL (`--url` or',
  '`TEST_DATABASE_URL`, a role that may create databases); without one it is skipped and says so.',
  '',
  `Last run: ${doc.generated_at}, ${machine.cpus} cores (${machine.cpu}), ${machine.memory_gb} GB, Node ${machine.node}${machine.postgresql ? `, PostgreSQL ${machine.postgresql}` : ''}.`,
  '',
  '| benchmark | baseline | ours | baseline | ratio | peak memory |',
  '| --- | --- | --- | --- | --- | --- |',
  ...results.map(row),
  '',
  ...results
    .filter((r) => r.scale)
    .map(
      (r) =>
        `- Backup at --scale ${r.scale}: ${r.movement_rows} movement rows; baseline dump ${(r.dump_bytes / 2 ** 20).toFixed(1)} MiB (pg_dump's default compression), ours ${(r.our_dump_bytes / 2 ** 20).toFixed(1)} MiB (--compress ${r.our_compression}); ` +
        `baseline split: pg_dump ${r.baseline.dump_s} s + pg_restore ${r.baseline.restore_s} s; median of ${r.runs} runs (ours ${r.all_runs_s.ours.join(', ')} s; baseline ${r.all_runs_s.baseline.join(', ')} s).`,
    ),
  ...(results.some((r) => r.scale)
    ? [
        '',
        'Ours is the whole step: the snapshot reads (checksums of every table, three CSV snapshots, both functions, auth.users, catalog), the dump, ' +
          `the scratch restore fed by the dump as it is written, and the comparison. Both sides run on the same ${machine.cpus} cores with the source and the scratch ` +
          'database on one server, the worst case: on a real depot the source-side reads run on the PROD server, not on the runner.',
      ]
    : []),
  '',
].join('\n');
writeFileSync(path.join(root, 'bench/README.md'), readme);
console.log(readme);
