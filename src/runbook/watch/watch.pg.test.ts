import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parsePublicKey, parseSigningKey } from '../../crypto/signing.js';
import { buildBundle } from '../../evidence/bundle.js';
import { openZipEntry, readZipDirectory } from '../../evidence/zip-reader.js';
import { verifyBundle } from '../../evidence/verify.js';
import { silentLogger } from '../../logger.js';
import { CHANGE_FILES, sqlPath } from '../../paths.js';
import { loadRehearsalInputs } from '../../rehearsal/inputs.js';
import { rehearse } from '../../rehearsal/rehearse.js';
import { WatchResult } from '../../results/watch.js';
import { CDR_10, enterAfterGo, enterReception } from '../../rehearsal/after-go.js';
import { appTableChecksums } from '../../testing/checksums.js';
import { FakeGitHub, type RunState } from '../../testing/workflow/github-api.js';
import { describePg, useFreshDatabase } from '../../testing/pg.js';
import { watch, WATCH_ADDENDUM } from './index.js';

/**
 * The 24-hour watch on real PostgreSQL after a real GO (the remedied rehearsal on the database: our
 * P0.1, restatement, the depot manager's GO, freeze lifted, signed bundle), with GitHub's issues
 * API served by the workflow harness's local server. Each pass must leave every table as it was.
 */
const run = { runId: 'watch-1', actor: 'astm53b-watch' };

describePg('astm53b watch after a GO (real PostgreSQL, GitHub issues on the local API server)', () => {
  const fx = useFreshDatabase('watch', { fixture: true });
  let tmp = '';
  let goBundle = '';
  let goSha = '';
  let api: FakeGitHub;
  let state: RunState;
  let token = '';
  const keys = generateKeyPairSync('ed25519');
  const signingKey = parseSigningKey(keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), { file: 'signing.key' });
  const publicKey = parsePublicKey(keys.publicKey.export({ type: 'spki', format: 'pem' }).toString(), { file: 'signing.pub' });
  const gh = () => ({ apiUrl: api.url, repository: 'depot/astm53b-pipeline', token });
  const pass = (name: string, extra: Partial<Parameters<typeof watch>[1]> = {}) =>
    watch(fx().db, { goBundle, publicKey, outDir: path.join(tmp, name), github: gh(), run, ...extra }, silentLogger);

  beforeAll(async () => {
    tmp = await mkdtemp(path.join(tmpdir(), 'astm53b-watch-'));
    const signoff = path.join(tmp, 'go.json');
    await writeFile(signoff, JSON.stringify({ who: 'M. Kabeya', role: 'responsable dépôt', decision: 'GO', at: new Date().toISOString() }));
    const inputs = await loadRehearsalInputs({ changes: [sqlPath(CHANGE_FILES.p0_1)], signoff });
    const r = await rehearse(
      fx().db,
      { outDir: path.join(tmp, 'go'), inputs, restate: true, run: { runId: 'go-1', actor: 'ops' } },
      silentLogger,
    );
    expect(r.decision.decision).toBe('GO');
    // the PROD workflow signs its bundle with the depot's key: so does this GO
    const signed = await buildBundle({ resultsDir: r.resultsDir, out: path.join(tmp, 'go-signed.zip'), signingKey }, silentLogger);
    goBundle = signed.out;
    goSha = signed.sha256;
    state = {
      owner: 'depot',
      repo: 'astm53b-pipeline',
      runId: 1,
      environments: new Map(),
      reviews: [],
      issues: [],
      issueReplies: [],
      commits: new Map(),
    };
    api = await FakeGitHub.start(state);
    token = api.issueToken('watch', { issues: 'write' });
  }, 240_000);
  afterAll(async () => {
    await api?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('right after the GO: every check passes, GO holds, nothing written to the database', async () => {
    const before = await appTableChecksums(fx().db);
    const w = await pass('p1');
    expect(w.checks.map((c) => [c.id, c.passed])).toEqual([
      ['coherence', true],
      ['movements', true],
      ['function', true],
      ['complaints', true],
    ]);
    expect(w.decision).toBe('GO-HOLDS');
    expect(w.go.bundleSha256).toBe(goSha);
    expect(w.go.signatureValid).toBe(true);
    expect(w.incident).toBeNull();
    expect(w.window).toMatchObject({ hours: 24, over: false, closing: false });
    expect(w.addendum).toBeNull();
    expect(WatchResult.parse(JSON.parse(await readFile(path.join(tmp, 'p1', 'watch.json'), 'utf8')))).toEqual(w);
    expect(await appTableChecksums(fx().db)).toEqual(before);
    expect(api.requests.filter((q) => q.method !== 'GET')).toEqual([]);
  });

  it('a day of entries on the migrated app: each reception and sortie is checked against ASTM of its own inputs; GO holds', async () => {
    await enterAfterGo(fx().db, 'astm');
    const w = await pass('p2');
    expect(w.movements.map((m) => m.kind).sort()).toEqual(['reception', 'sortie']);
    for (const m of w.movements) expect(Math.abs(m.deviation_l!)).toBeLessThanOrEqual(5);
    expect(w.decision).toBe('GO-HOLDS');
  });

  it('a reception stored with the legacy formula after the GO: NO-GO under 6.1, incident issue opened', async () => {
    const id = await enterReception(fx().db, 'legacy', CDR_10, {
      index_avant: 700000,
      index_apres: 736000,
      temperature_c: 29,
      densite: 837.4,
    });
    const w = await pass('p3');
    const off = w.movements.find((m) => m.id === id)!;
    expect(Math.abs(off.deviation_l!)).toBeGreaterThan(5);
    expect(w.decision).toBe('NO-GO');
    expect(w.reasons).toEqual([expect.objectContaining({ runbook: '6.1', condition: expect.stringMatching(/Écart > ±5 litres/) })]);
    expect(w.incident).toMatchObject({ action: 'opened', number: 101 });
    expect(state.issues![0]).toMatchObject({ title: 'ASTM53B incident after the GO of run go-1', labels: ['astm53b-incident'] });
    expect(state.issues![0]!.body).toContain(id);
  });

  it('a field complaint (an issue labelled since the GO, one given by hand): NO-GO, the incident issue gets a comment', async () => {
    state.issues!.push(
      {
        number: 2,
        title: 'old complaint',
        body: null,
        labels: ['astm53b-reclamation'],
        state: 'closed',
        login: 'x',
        createdAt: new Date('2020-01-01'),
        comments: [],
      },
      {
        number: 3,
        title: 'Écart au déchargement camion BAF 2405',
        body: 'Le client compte 40 L de moins que le bon',
        labels: ['astm53b-reclamation'],
        state: 'open',
        login: 'chef-de-quai',
        createdAt: new Date(),
        comments: [],
      },
    );
    const w = await pass('p4', {
      complaints: [
        { source: 'input', who: 'M. Kabeya', what: 'le jaugeage TANK4 ne colle pas', when: new Date().toISOString(), issue: null },
      ],
    });
    expect(w.complaints.map((c) => [c.source, c.who, c.issue?.number ?? null])).toEqual([
      ['input', 'M. Kabeya', null],
      ['issue', 'chef-de-quai', 3],
    ]);
    expect(w.reasons.map((r) => r.condition)).toContain('Réclamation terrain dans les 24h');
    expect(w.incident).toMatchObject({ action: 'commented', number: 101 });
    expect(state.issues![0]!.comments).toHaveLength(1);
    expect(state.issues![0]!.comments[0]!.body).toContain('Réclamation terrain');
  });

  it('validate_sortie changed after the GO (a hotfix by hand): its drift is a finding', async () => {
    const db = fx().db;
    const def = (await db.query<{ d: string }>("SELECT pg_get_functiondef('public.validate_sortie(uuid)'::regprocedure) AS d")).rows[0]!.d;
    await db.query(def.replace(/\bbegin\b/i, 'begin\n  -- hotfix by hand'));
    const w = await pass('p5', { github: undefined });
    const fn = w.checks.find((c) => c.id === 'function')!;
    expect(fn.passed).toBe(false);
    expect(fn.findings[0]!.message).toMatch(/public\.validate_sortie\(.*\) differs from the body the GO applied/);
    expect(w.incident).toEqual({ action: 'none', number: null, url: null });
  });

  it('the closing pass after 24 h: watch.json in a signed addendum bundle that names the GO bundle’s SHA-256', async () => {
    const decidedAt = JSON.parse(await readFile(path.join(tmp, 'p1', 'watch.json'), 'utf8')).go.decidedAt as string;
    const w = await pass('close', { now: new Date(Date.parse(decidedAt) + 25 * 3_600_000), signingKey, github: undefined });
    expect(w.window).toMatchObject({ over: true, closing: true });
    expect(w.addendum).toMatchObject({ path: WATCH_ADDENDUM, signed: true });
    const zip = path.join(tmp, 'close', WATCH_ADDENDUM);
    const v = await verifyBundle(zip, { publicKey });
    expect(v.ok).toBe(true);
    expect(v.authenticity.valid).toBe(true);
    expect(v.zip.sha256).toBe(w.addendum!.sha256);
    const entry = (await readZipDirectory(zip)).find((e) => e.name === 'results/watch.json')!;
    const chunks: Buffer[] = [];
    for await (const c of await openZipEntry(zip, entry)) chunks.push(c as Buffer);
    const inside = WatchResult.parse(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    expect(inside.go.bundleSha256).toBe(goSha);
    expect(inside.decision).toBe('NO-GO');
  });
});
