import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { UserError } from '../errors.js';
import { memoryLogger, silentLogger } from '../logger.js';
import { secretsOf } from '../db/secrets.js';
import { FLUTTER_COMMIT, MASKED_TARGET, writeSyntheticResults } from '../testing/evidence-results.js';
import { buildBundle, type BuildBundleOptions } from './bundle.js';
import { hashFile } from '../hash.js';
import { verifyBundle } from './verify.js';
// the fixture is a rehearsal on the embedded database, whose dump is plain SQL
import { SQL_DUMP_FILE } from '../results/files.js';
import { openZipEntry, readZipDirectory } from './zip-reader.js';
import type { BundleManifest } from '../results/evidence.js';

const root = mkdtempSync(path.join(tmpdir(), 'astm53b-bundle-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = (name: string) => path.join(root, `${++n}-${name}`);
const here = path.dirname(fileURLToPath(import.meta.url));

const NOW = new Date('2026-03-11T21:00:00.000Z');
const PIPELINE_SHA = '0123456789abcdef0123456789abcdef01234567';

async function setup(opts: Parameters<typeof writeSyntheticResults>[1] = {}): Promise<{ results: string; sep: string }> {
  const dir = fresh('case');
  const results = path.join(dir, 'astm53b-results');
  await writeSyntheticResults(results, opts);
  const sep = path.join(dir, 'evidence', 'WhatsApp Chat - SEP Congo.txt');
  mkdirSync(path.dirname(sep), { recursive: true });
  writeFileSync(sep, '11/03/2026 21:02 - Chef SEP: REC-2026-03-01 38123.4 L à 15°C, confirmé.\n');
  return { results, sep };
}

function options(results: string, sep: string[], extra: Partial<BuildBundleOptions> = {}): BuildBundleOptions {
  return {
    resultsDir: results,
    out: path.join(path.dirname(results), 'out', 'bundle.zip'),
    run: {
      repository: 'depot/astm53b-pipeline',
      runId: 'depot/astm53b-pipeline#42.1',
      runUrl: 'https://github.com/depot/astm53b-pipeline/actions/runs/42',
      actor: 'ops-lead',
    },
    sepEvidence: sep,
    // runbook 5.7: the CHANGELOG change is written by a pull request to ML_PP
    changelog: { pullRequest: 'https://github.com/VALERYkal/ml_pp_mvp/pull/77' },
    now: NOW,
    env: { GITHUB_SHA: PIPELINE_SHA },
    ...extra,
  };
}

async function entryText(zip: string, name: string): Promise<string> {
  const e = (await readZipDirectory(zip)).find((x) => x.name === name);
  if (!e) throw new Error(`${name} not in ${zip}`);
  const chunks: Buffer[] = [];
  for await (const c of await openZipEntry(zip, e)) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A copy of the bundle's entries, changed by `edit`, zipped again with the same writer. */
async function rezip(zip: string, out: string, edit: (entries: Map<string, Buffer>) => void): Promise<void> {
  const entries = new Map<string, Buffer>();
  for (const e of await readZipDirectory(zip)) {
    const chunks: Buffer[] = [];
    for await (const c of await openZipEntry(zip, e)) chunks.push(c as Buffer);
    entries.set(e.name, Buffer.concat(chunks));
  }
  edit(entries);
  const { ZipArchive } = (await import('archiver')) as unknown as { ZipArchive: new (o: object) => any };
  // another compression level than the bundle's: the same entries, other zip bytes
  const z = new ZipArchive({ zlib: { level: 1 } });
  const { createWriteStream } = await import('node:fs');
  const sink = createWriteStream(out);
  const done = new Promise<void>((r) => sink.on('close', () => r()));
  z.pipe(sink);
  for (const [name, data] of entries) z.append(data, { name, date: NOW });
  await z.finalize();
  await done;
}

describe('buildBundle', () => {
  it('bundles every result and SEP file with manifest, SHA256SUMS, reports and CHANGELOG entry, and verifies', async () => {
    const { results, sep } = await setup();
    const log = memoryLogger();
    const r = await buildBundle(options(results, [sep]), log);
    const names = (await readZipDirectory(r.out)).map((e) => e.name);
    // fixed order: generated files first, then results/ and sep/ sorted by path
    expect(names.slice(0, 5)).toEqual(['manifest.json', 'SHA256SUMS', 'report.html', 'report.md', 'CHANGELOG-entry.md']);
    const resultNames = names.filter((x) => x.startsWith('results/'));
    expect(resultNames).toEqual([...resultNames].sort());
    for (const f of [
      'preflight.json',
      'compat.json',
      'sql-apply.json',
      'golden.json',
      'smoke.json',
      'decision.json',
      'freeze-on.json',
      'freeze-off.json',
      'backup/manifest.json',
      'backup/verification.json',
      `backup/${SQL_DUMP_FILE}`,
      'backup/functions/public.validate_sortie.sql',
      'backup/tables/public.receptions.csv',
      'backup/auth-users.json',
    ]) {
      expect(names).toContain(`results/${f}`);
    }
    expect(names[names.length - 1]).toBe('sep/WhatsApp Chat - SEP Congo.txt');

    const m = JSON.parse(await entryText(r.out, 'manifest.json')) as BundleManifest;
    expect(m.decision).toBe('GO');
    expect(m.commits).toEqual({ pipeline: PIPELINE_SHA, pipelineFrom: 'GITHUB_SHA', flutterApp: FLUTTER_COMMIT });
    expect(m.target).toBe(MASKED_TARGET);
    expect(m.run.runId).toBe('depot/astm53b-pipeline#42.1');
    expect(m.times).toEqual({
      createdAt: NOW.toISOString(),
      migrationAt: '2026-03-11T20:14:03.000Z',
      firstStepAt: '2026-03-11T19:02:00.000Z',
      lastStepAt: '2026-03-11T20:14:03.000Z',
    });
    expect(m.runbook57.complete).toBe(true);
    expect(r.incomplete).toEqual([]);
    // every file with the bytes and SHA-256 of its source
    const dump = m.files.find((f) => f.path === `results/backup/${SQL_DUMP_FILE}`)!;
    expect(dump).toEqual({
      path: `results/backup/${SQL_DUMP_FILE}`,
      source: 'results',
      ...(await hashFile(path.join(results, 'backup', SQL_DUMP_FILE))),
    });
    expect(m.files.find((f) => f.path.startsWith('sep/'))).toMatchObject({ source: 'sep', ...(await hashFile(sep)) });
    expect(m.files.map((f) => f.path).sort()).toEqual(names.filter((x) => x !== 'manifest.json' && x !== 'SHA256SUMS').sort());

    const entry = await entryText(r.out, 'CHANGELOG-entry.md');
    expect(entry).toBe(r.changelogEntry);
    expect(entry.split('\n')[0]).toBe('## [2026-03-11] — Migration ASTM 53B (API MPMS 11.1) + DB-STRICT validate_sortie (PROD)');
    expect(entry).toContain(`Commit Flutter déployé : \`${FLUTTER_COMMIT}\``);
    expect(entry).toContain(`\`results/backup/${SQL_DUMP_FILE}\` (SHA-256 \`${dump.sha256}\``);
    expect(entry).toContain('`sep/WhatsApp Chat - SEP Congo.txt`');
    expect(entry).toContain('| REC-2026-03-03 | 37500.0 | +5.0 L | +7.2 L | FAIL |');

    const html = await entryText(r.out, 'report.html');
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/\s(src|href)=|url\(|@import|<script|<link/i);

    const v = await verifyBundle(r.out);
    expect(v.problems).toEqual([]);
    expect(v.ok).toBe(true);
    expect(v.checked).toBe(names.length);
    expect(v.zip.sha256).toBe(r.sha256);
    expect(v.manifest).toEqual({ decision: 'GO', complete: true });
    expect(log.lines.some((l) => l.includes(r.sha256))).toBe(true);
  });

  it('names the pipeline by the action’s repository and ref when a reusable workflow runs it from the app’s repository', async () => {
    const { results, sep } = await setup();
    const env = {
      GITHUB_SHA: 'a'.repeat(40), // the caller's (the app's) commit
      GITHUB_REPOSITORY: 'VALERYkal/ml_pp_mvp',
      GITHUB_ACTION_REPOSITORY: 'depot/astm53b-pipeline',
      GITHUB_ACTION_REF: 'v0.1.0',
    };
    const r = await buildBundle(options(results, [sep], { env }), silentLogger);
    expect(r.manifest.commits).toMatchObject({ pipeline: 'depot/astm53b-pipeline@v0.1.0', pipelineFrom: 'GITHUB_ACTION_REF' });
    // run from this repository's own ./actions/x, the runner leaves GITHUB_ACTION_REPOSITORY empty: GITHUB_SHA is the pipeline's
    const own = await buildBundle(
      options(results, [sep], { env: { ...env, GITHUB_ACTION_REPOSITORY: '', GITHUB_REPOSITORY: 'depot/astm53b-pipeline' } }),
      silentLogger,
    );
    expect(own.manifest.commits).toMatchObject({ pipeline: 'a'.repeat(40), pipelineFrom: 'GITHUB_SHA' });
  });

  it('SHA256SUMS passes `sha256sum -c` inside the unzipped bundle', async () => {
    const hasUnzip = spawnSync('unzip', ['-v']).status === 0;
    if (!hasUnzip) {
      if (process.env.CI) throw new Error('the unzip binary is missing on this CI runner: install it (apt-get install unzip)');
      console.warn('SKIPPED: `unzip` is not installed here; the sha256sum -c check needs it');
      return;
    }
    const { results, sep } = await setup();
    const r = await buildBundle(options(results, [sep]), silentLogger);
    const dir = fresh('unzipped');
    execFileSync('unzip', ['-q', r.out, '-d', dir]);
    const out = execFileSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: dir, encoding: 'utf8' });
    const lines = out.trim().split('\n');
    expect(lines.every((l) => l.endsWith(': OK'))).toBe(true);
    // every file but SHA256SUMS itself is covered
    const count = (d: string): number =>
      readdirSync(d, { withFileTypes: true }).reduce((k, e) => k + (e.isDirectory() ? count(path.join(d, e.name)) : 1), 0);
    expect(lines).toHaveLength(count(dir) - 1);
    // and a changed file makes it fail
    writeFileSync(path.join(dir, 'results', 'decision.json'), '{"decision":"NO-GO"}\n');
    expect(spawnSync('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: dir, encoding: 'utf8' }).stdout).toContain(
      'results/decision.json: FAILED',
    );
  });

  it('is byte-identical when built again from the same files at the same bundle time', async () => {
    const { results, sep } = await setup();
    const a = await buildBundle({ ...options(results, [sep]), out: path.join(results, '..', 'a.zip') }, silentLogger);
    const b = await buildBundle({ ...options(results, [sep]), out: path.join(results, '..', 'b.zip') }, silentLogger);
    expect(a.sha256).toBe(b.sha256);
    const c = await buildBundle(
      { ...options(results, [sep]), out: path.join(results, '..', 'c.zip'), now: new Date('2026-03-12T08:00:00.000Z') },
      silentLogger,
    );
    expect(c.sha256).not.toBe(a.sha256);
  });

  it('a flipped byte in a file inside the zip fails verify, naming the file', async () => {
    const { results, sep } = await setup();
    const r = await buildBundle(options(results, [sep]), silentLogger);
    for (const target of [`results/backup/${SQL_DUMP_FILE}`, 'results/golden.json']) {
      const bytes = readFileSync(r.out);
      const e = (await readZipDirectory(r.out)).find((x) => x.name === target)!;
      const local = e.localHeaderOffset;
      const dataStart = local + 30 + bytes.readUInt16LE(local + 26) + bytes.readUInt16LE(local + 28);
      const tampered = Buffer.from(bytes);
      const at = dataStart + Math.floor(e.compressedSize / 2);
      tampered[at] = tampered[at]! ^ 0x01;
      const file = path.join(path.dirname(r.out), `flipped-${path.basename(target)}.zip`);
      writeFileSync(file, tampered);
      const v = await verifyBundle(file);
      expect(v.ok).toBe(false);
      expect(v.problems.map((p) => p.path)).toEqual([target]);
      expect(['changed', 'unreadable']).toContain(v.problems[0]!.kind);
      expect(v.zip.sha256).not.toBe(r.sha256);
    }
  });

  it('a file added to or removed from the zip is named', async () => {
    const { results, sep } = await setup();
    const r = await buildBundle(options(results, [sep]), silentLogger);
    const dir = path.dirname(r.out);

    await rezip(r.out, path.join(dir, 'removed.zip'), (e) => e.delete('results/smoke.json'));
    const removed = await verifyBundle(path.join(dir, 'removed.zip'));
    expect(removed.ok).toBe(false);
    expect(removed.problems).toEqual([
      { path: 'results/smoke.json', kind: 'missing', problem: 'listed in SHA256SUMS and manifest.json but not in the zip' },
    ]);

    await rezip(r.out, path.join(dir, 'added.zip'), (e) => e.set('results/approval-forged.json', Buffer.from('{"decision":"GO"}\n')));
    const added = await verifyBundle(path.join(dir, 'added.zip'));
    expect(added.problems).toEqual([
      { path: 'results/approval-forged.json', kind: 'extra', problem: 'in the zip but not listed in SHA256SUMS nor manifest.json' },
    ]);

    // changed content, re-zipped cleanly: the hash comparison names it
    await rezip(r.out, path.join(dir, 'changed.zip'), (e) =>
      e.set('results/decision.json', Buffer.from('{"decision":"GO","forged":true}\n')),
    );
    const changed = await verifyBundle(path.join(dir, 'changed.zip'));
    expect(changed.problems.map((p) => [p.path, p.kind])).toEqual([['results/decision.json', 'changed']]);
    expect(changed.problems[0]!.problem).toMatch(/SHA256SUMS says [0-9a-f]{64}; manifest.json says [0-9a-f]{64}/);

    // the same untouched entries re-zipped verify: the check is on content, not zip bytes
    await rezip(r.out, path.join(dir, 'same.zip'), () => {});
    expect((await verifyBundle(path.join(dir, 'same.zip'))).ok).toBe(true);
    expect((await verifyBundle(path.join(dir, 'same.zip'), { expectSha256: r.sha256 })).ok).toBe(false);
    expect((await verifyBundle(r.out, { expectSha256: r.sha256.toUpperCase() })).ok).toBe(true);
  });

  it('lets no secret into any file of the bundle, and refuses a result file that carries one in clear', async () => {
    const url = 'postgresql://app:S3cr3t-P%40ss@db.example.com:5432/postgres';
    const secrets = secretsOf(url);
    expect(secrets).toContain('S3cr3t-P@ss');
    // the results hold the target masked, as the steps write it; the run fields carry the raw URL by mistake
    const { results, sep } = await setup();
    const r = await buildBundle(
      options(results, [sep], { secrets, run: { runId: `run with ${url}`, actor: 'S3cr3t-P@ss' } }),
      silentLogger,
    );
    for (const e of await readZipDirectory(r.out)) {
      const text = await entryText(r.out, e.name);
      for (const s of secrets) expect(text.includes(s), `${e.name} contains ${s}`).toBe(false);
    }
    expect(await entryText(r.out, 'manifest.json')).toContain(MASKED_TARGET);
    expect((await verifyBundle(r.out)).ok).toBe(true);

    const leaky = await setup({ smokeNote: `connected to ${url}` });
    const out = path.join(path.dirname(leaky.results), 'leaky.zip');
    const e = await buildBundle({ ...options(leaky.results, [leaky.sep], { secrets }), out }, silentLogger).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UserError);
    expect((e as UserError).code).toBe('SECRET_IN_EVIDENCE');
    expect((e as UserError).message).toContain('results/smoke.json');
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(path.dirname(out)).filter((f) => f.includes('partial'))).toEqual([]);
  });

  it('says what runbook 5.7 lacks, and still writes the bundle', async () => {
    const { results } = await setup({ decision: null, flutterCommit: null, withBackup: false });
    const r = await buildBundle(options(results, [], { env: {}, gitCwd: root }), memoryLogger());
    expect(r.manifest.decision).toBe('NONE');
    expect(r.manifest.commits.pipeline).toBe('unknown');
    expect(r.manifest.commits.flutterApp).toBeNull();
    expect(r.incomplete).toEqual([
      'Archiver hash commit Flutter déployé',
      'Archiver dump backup PROD utilisé',
      'Archiver confirmation terrain SEP (mail / WhatsApp export)',
    ]);
    expect(r.changelogEntry).toContain('### 🚀 Déploiement PROD — décision non enregistrée');
    expect(r.changelogEntry).toContain('Commit Flutter déployé : **NON ENREGISTRÉ**');
    expect(r.changelogEntry).toContain('Archives runbook 5.7 incomplètes');
    expect(await entryText(r.out, 'report.md')).toContain('INCOMPLETE (3 of 6 not done)');
    expect((await verifyBundle(r.out)).ok).toBe(true);
  });

  it('refuses bad input before writing anything', async () => {
    const { results, sep } = await setup();
    const out = path.join(path.dirname(results), 'never.zip');
    const fail = async (o: BuildBundleOptions) => {
      const e = await buildBundle(o, silentLogger).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(UserError);
      expect(existsSync(out)).toBe(false);
      return e as UserError;
    };
    const missingSep = await fail({ ...options(results, [sep, path.join(root, 'mail-sep.eml')]), out });
    expect(missingSep.code).toBe('SEP_FILE_MISSING');
    expect(missingSep.where?.file).toBe(path.join(root, 'mail-sep.eml'));
    expect((await fail({ ...options(path.join(root, 'nope'), []), out })).code).toBe('RESULTS_MISSING');
    expect((await fail({ ...options(results, [], { changelog: { date: '11/03/2026' } }), out })).where?.field).toBe('date');
    const changelog = path.join(path.dirname(results), 'CHANGELOG.md');
    writeFileSync(changelog, readFileSync(path.join(here, '__fixtures__', 'CHANGELOG.excerpt.md')));
    const ambiguous = await fail({
      ...options(results, [sep], { changelog: { insertInto: { file: changelog, under: '## [Unreleased]' } } }),
      out,
    });
    expect(ambiguous.code).toBe('CHANGELOG_HEADING_AMBIGUOUS');
  });

  it('inserts the entry into the CHANGELOG under the chosen heading, the rest byte-identical', async () => {
    const { results, sep } = await setup();
    const changelog = path.join(path.dirname(results), 'CHANGELOG.md');
    const original = readFileSync(path.join(here, '__fixtures__', 'CHANGELOG.excerpt.md'), 'utf8');
    writeFileSync(changelog, original);
    const r = await buildBundle(
      options(results, [sep], {
        changelog: { date: '2026-03-12', insertInto: { file: changelog, under: { heading: '## [Unreleased]', occurrence: 2 } } },
      }),
      silentLogger,
    );
    expect(r.changelogInsertion).toMatchObject({ file: changelog, headingLine: 89, already: false });
    const now = readFileSync(changelog, 'utf8');
    // one entry per run, whatever the attempt: #42.1 is run 42
    const marker = '<!-- astm53b-entry: run depot/astm53b-pipeline#42 -->\n';
    const at = now.indexOf(marker + r.changelogEntry);
    expect(at).toBeGreaterThan(0);
    expect(now.split('\n')[r.changelogInsertion!.markerLine - 1]).toBe(marker.trim());
    expect(r.changelogEntry.startsWith('## [2026-03-12] — ')).toBe(true);
    expect(now.slice(0, at - 1) + now.slice(at + marker.length + r.changelogEntry.length)).toBe(original);
    // at the end of that [Unreleased] section: the next heading of its level is the release that followed it
    expect(
      now
        .slice(at)
        .split('\n')
        .filter((l) => l.startsWith('## '))[1],
    ).toBe('## [2026-02-05] — GO-LIVE PROD EFFECTIF (Frontend + DB)');
    expect(r.manifest.changelog).toMatchObject({
      date: '2026-03-12',
      insertedInto: 'CHANGELOG.md',
      under: '## [Unreleased] (occurrence 2)',
    });
  });
});
