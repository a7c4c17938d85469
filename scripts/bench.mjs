// npm run bench [-- --scale N[,N…]] [--runs K] [--url URL] [--skip-batch] [--skip-embedded] [--only batch|server|embedded] [--report-only]
//
// Every figure is measured against a baseline in the same run, on the same data, and written to
// bench/results.json (value, unit, baseline, ratio, machine, scale) and bench/README.md.
//  1. `astm53b batch` on 100 000 rows vs the bare engine (vitest bench, src/cli/commands/astm.bench.ts).
//  2. On the demo depot at each --scale N (default 100) on a real PostgreSQL (--url or TEST_DATABASE_URL;
//     skipped, and said so, without one), against the floor: a streamed `pg_dump -Fc -Z1 | pg_restore`
//     into an empty database (the fastest way to produce a dump and restore it once), measured in the
//     same run on the same data:
//     a. `astm53b backup` with its verification (the step alone);
//     b. the freeze window of `astm53b rehearse --url` (freeze on → decision, as the rehearsal prints
//        it; no sign-off is waited for), each run on a fresh copy of the depot (CREATE DATABASE …
//        TEMPLATE, not timed). The runbook as written (ML_PP's P0, NO-GO, rolled back after the
//        decision): the remedied run cannot end GO on the scaled demo (see bench/README.md).
//     Each side runs as its own process under GNU time, so the peak memory is our process's, not the
//     harness's. K runs (default 3), the three sides in rotating order, medians.
//  3. The peak memory of `npm run rehearse` (the embedded database, the runbook as written), K runs.
// --only NAME measures one of them (batch: 1, server: 2, embedded: 3) and replaces only its entries in
// bench/results.json, stamped with their own date and machine; the other entries are kept as they were.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpus, freemem, hostname, tmpdir, totalmem } from 'node:os';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
    'skip-embedded': { type: 'boolean' },
    // one section alone (batch, server, embedded), merged into the existing bench/results.json
    only: { type: 'string' },
    // rewrites bench/README.md from bench/results.json, measuring nothing
    'report-only': { type: 'boolean' },
  },
});
const scales = values.scale.split(',').map(Number);
const runs = Number(values.runs);
if (scales.some((n) => !Number.isInteger(n) || n < 1) || !Number.isInteger(runs) || runs < 1) {
  console.error('--scale takes positive integers separated by commas, --runs a positive integer');
  process.exit(2);
}
const only = values.only;
if (only !== undefined && !['batch', 'server', 'embedded'].includes(only)) {
  console.error('--only takes batch, server or embedded');
  process.exit(2);
}
const wanted = (section) => only === undefined || only === section;
/** Which section an entry of bench/results.json comes from. */
const sectionOf = (r) => (r.all_runs_mb ? 'embedded' : r.scale ? 'server' : 'batch');
const server = values.url ?? process.env.TEST_DATABASE_URL;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (x, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
const results = [];

function timed(cmd, args, { env = {}, cwd = root, ok = [0] } = {}) {
  // GNU time: elapsed seconds and peak RSS (KiB) of the command's process (of the largest one, for a shell pipeline)
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', cmd, ...args], {
    encoding: 'utf8',
    cwd,
    env: { ...process.env, ...env },
    maxBuffer: 64 << 20,
  });
  if (!ok.includes(r.status)) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const [secs, kib] = r.stderr.trim().split('\n').pop().split(' ').map(Number);
  return { s: secs, rssMB: kib / 1024, stdout: r.stdout, stderr: r.stderr, status: r.status };
}
const bin = path.join(root, 'bin/astm53b.cjs');

// 1. batch ---------------------------------------------------------------------------------------
const reportOnly = values['report-only'] === true;
if (!values['skip-batch'] && !reportOnly && wanted('batch')) {
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

// 2. backup and freeze window against the streamed dump-and-restore floor -----------------------------
let machinePg = null;
if (reportOnly || !wanted('server')) {
  // nothing measured
} else if (!server) {
  console.error('bench: no --url and no TEST_DATABASE_URL: the backup and freeze-window benchmarks are skipped');
} else {
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  const major = Math.floor(Number((await admin.query('SHOW server_version_num')).rows[0].server_version_num) / 10000);
  machinePg = (await admin.query('SHOW server_version')).rows[0].server_version;
  const tools = `/usr/lib/postgresql/${major}/bin`;
  const urlOf = (db) => Object.assign(new URL(server), { pathname: `/${db}` }).toString();
  // our own names only (the pid: other sessions may share the server)
  const tag = `astm53b_bench_${process.pid}`;
  for (const scale of scales) {
    const name = `${tag}_s${scale}`;
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
    const source = urlOf(name);
    const work = mkdtempSync(path.join(tmpdir(), 'astm53b-bench-'));
    const floor = [];
    const ours = [];
    const rehearsals = [];
    let init;
    let rows = 0;
    try {
      console.error(`bench: building the demo depot at --scale ${scale} in ${name}`);
      init = timed(process.execPath, [bin, 'db', 'init', '--url', source, '--scale', String(scale)]);
      const c = new pg.Client({ connectionString: source });
      await c.connect();
      await c.query('VACUUM ANALYZE');
      rows = Number(
        (
          await c.query(
            'SELECT (SELECT count(*) FROM receptions) + (SELECT count(*) FROM sorties_produit) + (SELECT count(*) FROM stocks_journaliers) + (SELECT count(*) FROM log_actions) AS n',
          )
        ).rows[0].n,
      );
      await c.end();
      const sides = ['floor', 'backup', 'rehearse'];
      // Untimed, before each timed side: a checkpoint, so that no side pays for the dirty buffers and
      // WAL of the side before it or of its own fresh copy (CREATE DATABASE … TEMPLATE WAL-logs every
      // page of the depot on PostgreSQL 15+), through a checkpoint that falls in its timed part.
      // Needs superuser or pg_checkpoint; without it the runs go on as before.
      const settle = () => admin.query('CHECKPOINT').catch(() => undefined);
      for (let k = 0; k < runs; k++) {
        for (const side of [...sides.slice(k % 3), ...sides.slice(0, k % 3)]) {
          if (side === 'floor') {
            const scratch = `${tag}_floor`;
            await admin.query(`DROP DATABASE IF EXISTS ${scratch} WITH (FORCE)`);
            await admin.query(`CREATE DATABASE ${scratch}`);
            await settle();
            const t = timed('bash', [
              '-o',
              'pipefail',
              '-c',
              `"$0" -Fc -Z1 -d "$1" | "$2" --no-owner --exit-on-error -d "$3"`,
              `${tools}/pg_dump`,
              source,
              `${tools}/pg_restore`,
              urlOf(scratch),
            ]);
            floor.push({ s: t.s });
            await admin.query(`DROP DATABASE ${scratch} WITH (FORCE)`);
          } else if (side === 'backup') {
            const dir = path.join(work, `backup-${k}`);
            await settle();
            const t = timed(process.execPath, [bin, 'backup', '--url', source, '--out', dir]);
            const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
            const verification = JSON.parse(readFileSync(path.join(dir, 'verification.json'), 'utf8'));
            if (!verification.ok) throw new Error(`our backup did not verify: ${verification.failures.join('; ')}`);
            ours.push({ s: t.s, rssMB: t.rssMB, dumpBytes: manifest.files[0].bytes, compression: manifest.dump.compression });
            rmSync(dir, { recursive: true, force: true });
          } else {
            // a fresh copy each time (not timed): whatever the run leaves, the next one starts from the same depot
            const copy = `${tag}_rehearse`;
            await admin.query(`DROP DATABASE IF EXISTS ${copy} WITH (FORCE)`);
            await admin.query(`CREATE DATABASE ${copy} TEMPLATE ${name}`);
            const dir = path.join(work, `rehearse-${k}`);
            await settle();
            const t = timed(process.execPath, [bin, 'rehearse', '--url', urlOf(copy), '--expect', 'NO-GO', '--out', dir]);
            const window = /^freeze window \(freeze on → decision\): ([\d.]+) s$/m.exec(t.stdout);
            if (!window) throw new Error(`the rehearsal printed no freeze window:\n${t.stdout.slice(-2000)}`);
            // each step's duration, from the progress lines (✔ name (runbook …) 12.3 s: …)
            const steps = Object.fromEntries(
              [...t.stderr.matchAll(/^[✔✖] (\S+) \(runbook [^)]*\) ([\d.]+) s:/gm)].map((m) => [m[1], Number(m[2])]),
            );
            rehearsals.push({ s: Number(window[1]), total: t.s, rssMB: t.rssMB, steps });
            rmSync(dir, { recursive: true, force: true });
            await admin.query(`DROP DATABASE ${copy} WITH (FORCE)`);
          }
          console.error(`bench: --scale ${scale} run ${k + 1}/${runs} ${side} done`);
        }
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
      // a run that failed leaves its scratch or copy behind: ours, by name
      for (const db of [name, `${tag}_floor`, `${tag}_rehearse`]) await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    }
    const f = median(floor.map((x) => x.s));
    const floorInfo = {
      name: 'pg_dump -Fc -Z1 streamed into pg_restore, into an empty database',
      value: round(f, 2),
      unit: 's',
      all_runs_s: floor.map((x) => round(x.s, 2)),
    };
    const o = median(ours.map((x) => x.s));
    results.push({
      name: `astm53b backup with its verification, demo depot --scale ${scale}`,
      scale,
      movement_rows: rows,
      our_dump_bytes: ours[0]?.dumpBytes ?? null,
      our_compression: ours[0]?.compression ?? null,
      value: round(o, 2),
      unit: 's',
      baseline: floorInfo,
      ratio: round(o / f, 2),
      target_ratio: 1.1,
      peak_memory: {
        value: round(Math.max(...ours.map((x) => x.rssMB)), 1),
        unit: 'MB',
        target: 150,
        what: 'peak RSS of the astm53b process (GNU time %M), highest of the runs',
      },
      runs,
      all_runs_s: ours.map((x) => round(x.s, 2)),
      fixture_build_s: round(init.s, 1),
    });
    const w = median(rehearsals.map((x) => x.s));
    const stepNames = [...new Set(rehearsals.flatMap((x) => Object.keys(x.steps)))];
    results.push({
      name: `freeze window of rehearse --url (runbook as written, NO-GO), demo depot --scale ${scale}`,
      scale,
      movement_rows: rows,
      value: round(w, 2),
      unit: 's',
      what: 'freeze on → decision, as the rehearsal prints it; no human wait in it (no sign-off is waited for)',
      baseline: floorInfo,
      ratio: round(w / f, 2),
      target_ratio: 1.5,
      peak_memory: {
        value: round(Math.max(...rehearsals.map((x) => x.rssMB)), 1),
        unit: 'MB',
        what: 'peak RSS of the astm53b rehearse process (GNU time %M), highest of the runs',
      },
      runs,
      all_runs_s: rehearsals.map((x) => round(x.s, 2)),
      whole_run_s: rehearsals.map((x) => round(x.total, 2)),
      median_step_s: Object.fromEntries(stepNames.map((n) => [n, round(median(rehearsals.map((x) => x.steps[n] ?? 0)), 1)])),
    });
  }
  await admin.end();
}

// 3. peak memory of the embedded rehearsal ------------------------------------------------------------
if (!values['skip-embedded'] && !reportOnly && wanted('embedded')) {
  const peaks = [];
  for (let k = 0; k < runs; k++) {
    // its own folder: the embedded rehearsal recreates ./.astm53b/pgdata where it runs
    const cwd = mkdtempSync(path.join(tmpdir(), 'astm53b-bench-embedded-'));
    try {
      const t = timed(process.execPath, [bin, 'rehearse', '--expect', 'NO-GO'], { cwd });
      const window = /^freeze window \(freeze on → decision\): ([\d.]+) s$/m.exec(t.stdout);
      peaks.push({ rssMB: t.rssMB, s: t.s, window: window ? Number(window[1]) : null });
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
    console.error(`bench: embedded rehearsal run ${k + 1}/${runs} done`);
  }
  results.push({
    name: 'npm run rehearse (embedded database, runbook as written), peak memory',
    value: round(Math.max(...peaks.map((x) => x.rssMB)), 1),
    unit: 'MB',
    target: 600,
    what: 'peak RSS of the astm53b rehearse process (GNU time %M), highest of the runs',
    runs,
    all_runs_mb: peaks.map((x) => round(x.rssMB, 1)),
    all_runs_s: peaks.map((x) => round(x.s, 1)),
    freeze_window_s: peaks.map((x) => x.window),
  });
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
const resultsFile = path.join(root, 'bench/results.json');
let doc;
if (reportOnly) doc = JSON.parse(readFileSync(resultsFile, 'utf8'));
else if (only && !results.length) {
  // e.g. --only server without a server: the old entries stay, not replaced by nothing
  console.error(`bench: --only ${only} measured nothing; bench/results.json is left as it was`);
  process.exit(1);
} else if (only) {
  // one section measured: its entries replace the old ones where they stood, with their own date and machine
  const old = JSON.parse(readFileSync(resultsFile, 'utf8'));
  const fresh = results.map((r) => ({ ...r, measured_at: new Date().toISOString(), machine: { ...machine } }));
  const kept = old.results.filter((r) => sectionOf(r) !== only);
  const at = old.results.findIndex((r) => sectionOf(r) === only);
  const merged = at < 0 ? [...kept, ...fresh] : [...kept.slice(0, at), ...fresh, ...kept.slice(at)];
  doc = { ...old, results: merged };
} else doc = { generated_at: new Date().toISOString(), machine, results };
if (!reportOnly) writeFileSync(resultsFile, `${JSON.stringify(doc, null, 2)}\n`);
if (reportOnly || only) {
  Object.assign(machine, doc.machine);
  results.splice(0, results.length, ...doc.results);
}

const met = (ratio, target) => (ratio <= target ? 'met' : `not met, ${round(ratio / target, 2)}× over`);
const row = (r) =>
  r.baseline
    ? `| ${r.name} | ${r.baseline.name} | ${r.value} ${r.unit} | ${r.baseline.value} ${r.baseline.unit} | **${r.ratio}×**${r.target_ratio ? ` (target ≤ ${r.target_ratio}: ${met(r.ratio, r.target_ratio)})` : ''} | ${r.peak_memory ? `${r.peak_memory.value} MB${r.peak_memory.target ? ` (target ≤ ${r.peak_memory.target})` : ''}` : '—'} |`
    : `| ${r.name} | — | — | — | — | **${r.value} MB** (target ≤ ${r.target}: ${met(r.value, r.target)}) |`;
/** Each run against the floor of its own round (the runs are listed in round order): how much of a ratio is the load of the moment. */
const perRound = (r) => {
  const xs = r.all_runs_s.map((s, k) => round(s / r.baseline.all_runs_s[k], 2));
  return xs.length === r.baseline.all_runs_s.length ? `; against the floor of the same round ${xs.join(', ')}, median ${median(xs)}` : '';
};
const notes = results.flatMap((r) => {
  if (r.name.startsWith('astm53b backup'))
    return [
      `- Backup at --scale ${r.scale}: ${r.movement_rows} movement rows; our dump ${(r.our_dump_bytes / 2 ** 20).toFixed(1)} MiB (--compress ${r.our_compression}); ` +
        `median of ${r.runs} runs (ours ${r.all_runs_s.join(', ')} s; floor ${r.baseline.all_runs_s.join(', ')} s${perRound(r)}).`,
    ];
  if (r.name.startsWith('freeze window'))
    return [
      `- Freeze window at --scale ${r.scale}: median of ${r.runs} runs (${r.all_runs_s.join(', ')} s${perRound(r)}; the whole rehearsal process ${r.whole_run_s.join(', ')} s); ` +
        `median per step: ${Object.entries(r.median_step_s)
          .map(([n, v]) => `${n} ${v} s`)
          .join(', ')}.`,
    ];
  if (r.all_runs_mb)
    return [
      `- Embedded rehearsal: peak RSS per run ${r.all_runs_mb.join(', ')} MB (${r.all_runs_s.join(', ')} s)` +
        (r.measured_at ? `; measured ${r.measured_at} (\`--only embedded\`, Node ${r.machine.node}).` : '.'),
      '  No initdb in the run: every new cluster is a copy of the committed empty cluster (src/db/pglite-template.ts), given its own',
      "  system identifier (PGlite's initdb runs in two more WebAssembly instances: about 800 MB at that moment). The scratch copy of",
      "  the backup's proof (in memory) has 16 MB of shared buffers: its files are in memory already. At the peak the rehearsal's",
      '  database and the scratch copy are both resident: sampled every 20 ms on two runs, about 330 MB before the backup (Node,',
      "  the CLI and the rehearsal's database), about 180 MB more once the scratch copy is open, a little more to the end.",
    ];
  return [];
});
/** Where a target is missed, what the measurements say about why (bench/README.md). */
function whyNot() {
  const backup = results.find((r) => r.name.startsWith('astm53b backup'));
  const freeze = results.find((r) => r.name.startsWith('freeze window'));
  const memory = results.find((r) => r.all_runs_mb);
  const out = [];
  if (backup && backup.ratio > backup.target_ratio)
    out.push(
      `- **Backup, ${backup.ratio}× for ≤ ${backup.target_ratio}×.** Beyond the floor's dump and restore the step checksums every table of`,
      '  the source beside pg_dump and every table of the restored copy as it loads (the same server, the same 2 cores, already',
      "  busy with the floor's own pg_dump, pg_restore and their two backends), writes the dump to its file and proves it",
      '  (SHA-256 re-read, table of contents, every block decompressed), and writes the three CSV snapshots. Those come from the',
      '  restored copy once pg_restore has built its primary keys, while it builds the other indexes, no longer from a second',
      '  read of the source (in an A/B run of that change, the code before and after it interleaved with the floor, 4 rounds',
      '  on a machine loaded about 8 deep by other sessions: 2.02× before, 1.20× after, faster in each round). The checksum',
      '  reads run without parallel workers, one process each beside the restore rather than a gather competing with it for',
      '  the cores (6 rounds, floor and backup only: same-round median 1.49× → 1.36×, faster in 5 of 6). What is left is',
      '  mostly the two checksum reads, which are the proof itself; on a real depot the source-side one runs on the PROD',
      "  server, not on the runner's cores.",
    );
  if (freeze && freeze.ratio > freeze.target_ratio)
    out.push(
      `- **Freeze window, ${freeze.ratio}× for ≤ ${freeze.target_ratio}×.** The window holds the whole backup step: ${freeze.median_step_s.backup ?? '?'} s of it,`,
      `  ${freeze.median_step_s.backup ? round(freeze.median_step_s.backup / freeze.baseline.value, 2) : '?'}× the floor by itself; then the change file, the golden cases (${freeze.median_step_s['golden-verify'] ?? '?'} s: the drift report recomputes every`,
      '  validated reception, each density/temperature pair solved once, and golden.json lists every one of them), the smoke',
      '  and the decision, which reads every result (preflight.json and golden.json list every reception: about 85 MB at',
      "  --scale 100) and re-hashes the backup's files. The window cannot come near 1.5× before the backup comes near the floor.",
    );
  if (memory && memory.value > memory.target)
    out.push(
      `- **Embedded rehearsal memory, ${memory.value} MB for ≤ ${memory.target} MB.** At the peak two PGlite instances are resident: the`,
      "  rehearsal's database and the in-memory scratch copy of the backup's proof, each PostgreSQL compiled to WebAssembly with",
      '  its own code and memory. No initdb runs (every new cluster is a copy of the committed empty one) and the scratch copy',
      '  has 16 MB of shared buffers; what remains is the two instances themselves.',
    );
  return out.length ? ['', '## Targets not met', '', ...out] : [];
}

const readme = [
  '# Benchmarks',
  '',
  '`npm run bench [-- --scale N[,N…]] [--runs K] [--url URL] [--skip-batch] [--skip-embedded]` (scripts/bench.mjs) measures each',
  'figure against a baseline in the same run, on the same data, and writes `bench/results.json` (value, unit, baseline, ratio,',
  'target, machine, scale) and this table. Never a timed assertion in a test. The backup and freeze-window benchmarks need a',
  'PostgreSQL (`--url` or `TEST_DATABASE_URL`, a role that may create databases); without one they are skipped and say so.',
  '`--only batch|server|embedded` measures one section and replaces only its entries, stamped with their own date and machine.',
  '',
  `Last run: ${doc.generated_at}, ${machine.cpus} cores (${machine.cpu}), ${machine.memory_gb} GB, Node ${machine.node}${machine.postgresql ? `, PostgreSQL ${machine.postgresql}` : ''}.`,
  '',
  '| benchmark | baseline | ours | baseline | ratio | peak memory |',
  '| --- | --- | --- | --- | --- | --- |',
  ...results.map(row),
  '',
  ...notes,
  ...(results.some((r) => r.scale)
    ? [
        '',
        'The floor is the fastest way to produce a dump and restore it once: `pg_dump -Fc -Z1` piped into `pg_restore` into an empty',
        'database, nothing written to disk, nothing checked. The backup is the whole step: the snapshot reads (checksums of every',
        'table, both functions, auth.users, catalog), the dump written to its file and, as it is written, restored into a',
        'scratch database, the three CSV snapshots written from that copy, and the comparison. The freeze window is `rehearse --url` (the runbook as written,',
        'NO-GO) from freeze on to the decision: freeze, backup, change file, golden cases, smoke, decision (the rollback comes',
        'after the decision and is not in it); each run on a fresh copy of the depot. The remedied run (`--change …p0_1.sql',
        '--restate`) cannot end GO on the scaled demo: `db init --scale N` adds receptions whose restatement would take more',
        'than the stock the tanks hold, so the proof of `restate` refuses it (v_stock_actuel clamps at 0); it is not timed here.',
        `Everything runs on the same ${machine.cpus} cores with the source and the scratch database on one server, the worst case: on a`,
        'real depot the source-side reads run on the PROD server, not on the runner. The machine may be shared with other',
        "sessions' tests (the runs of each side are listed above, with each one against the floor of its own round): read the",
        'ratios of medians of interleaved runs, not the seconds. Each timed side starts after a CHECKPOINT (untimed), so that none pays for',
        'the dirty buffers and WAL left by the side before it or by the copy of the depot made for it.',
      ]
    : []),
  ...whyNot(),
  '',
].join('\n');
writeFileSync(path.join(root, 'bench/README.md'), readme);
console.log(readme);
