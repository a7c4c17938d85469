import type { Logger } from '../logger.js';
import { hashFile, hashStream } from '../hash.js';
import { MANIFEST_NAME, ManifestForVerify, parseSums, SUMS_NAME } from './manifest.js';
import { openZipEntry, readZipDirectory } from './zip-reader.js';
import type { VerifyProblem, VerifyResult } from '../results/evidence.js';

export type { VerifyResult };

/**
 * The auditor's one command: every file inside the bundle is re-hashed straight from the zip
 * (streamed, nothing extracted) and compared with manifest.json and with SHA256SUMS. Anything
 * missing, extra, changed or unreadable is named. The zip's own SHA-256 is printed so it can be
 * compared with the one the run published: a bundle rewritten with consistent new sums is
 * caught only that way.
 */
const SMALL_LIMIT = 64 * 1024 * 1024;

export async function verifyBundle(zipPath: string, opts: { expectSha256?: string } = {}, log?: Logger): Promise<VerifyResult> {
  const entries = await readZipDirectory(zipPath);
  const zipDigest = await hashFile(zipPath);
  const problems: VerifyProblem[] = [];
  const actual = new Map<string, { sha256: string; bytes: number }>();
  const kept = new Map<string, Buffer>();
  const seen = new Set<string>();

  for (const e of entries) {
    if (e.name.endsWith('/')) continue; // a directory record carries no data
    if (seen.has(e.name)) {
      problems.push({ path: e.name, kind: 'inconsistent', problem: 'appears twice in the zip' });
      continue;
    }
    seen.add(e.name);
    const keep = e.name === MANIFEST_NAME || e.name === SUMS_NAME;
    const chunks: Buffer[] = [];
    let total = 0;
    try {
      const d = await hashStream(await openZipEntry(zipPath, e), (c) => {
        if (keep && (total += c.length) <= SMALL_LIMIT) chunks.push(c);
      });
      if (d.bytes !== e.size) throw new Error(`${d.bytes} bytes inflated, the zip directory says ${e.size}`);
      actual.set(e.name, d);
      if (keep) kept.set(e.name, Buffer.concat(chunks));
      log?.debug(`${e.name}: ${d.sha256}`);
    } catch (err) {
      problems.push({ path: e.name, kind: 'unreadable', problem: `cannot be read from the zip (${(err as Error).message}): damaged` });
    }
  }

  const sumsText = kept.get(SUMS_NAME)?.toString('utf8');
  let sums: Map<string, string> | null = null;
  if (sumsText === undefined) {
    if (!problems.some((p) => p.path === SUMS_NAME)) problems.push({ path: SUMS_NAME, kind: 'missing', problem: 'not in the zip' });
  } else {
    const parsed = parseSums(sumsText);
    for (const p of parsed.problems) problems.push({ path: SUMS_NAME, kind: 'inconsistent', problem: p });
    sums = parsed.entries;
  }

  let manifestFiles: Map<string, { sha256: string; bytes: number }> | null = null;
  let manifestInfo: VerifyResult['manifest'] = null;
  const manifestBytes = kept.get(MANIFEST_NAME);
  if (manifestBytes === undefined) {
    if (!problems.some((p) => p.path === MANIFEST_NAME)) problems.push({ path: MANIFEST_NAME, kind: 'missing', problem: 'not in the zip' });
  } else {
    let json: unknown;
    try {
      json = JSON.parse(manifestBytes.toString('utf8'));
    } catch (e) {
      problems.push({ path: MANIFEST_NAME, kind: 'unreadable', problem: `not valid JSON (${(e as Error).message})` });
    }
    if (json !== undefined) {
      const m = ManifestForVerify.safeParse(json);
      if (!m.success) {
        const i = m.error.issues[0];
        problems.push({
          path: MANIFEST_NAME,
          kind: 'unreadable',
          problem: `not an evidence manifest (${i?.path.join('.')}: ${i?.message})`,
        });
      } else {
        manifestFiles = new Map(m.data.files.map((f) => [f.path, { sha256: f.sha256, bytes: f.bytes }]));
        const raw = json as { decision?: unknown; runbook57?: { complete?: unknown } };
        manifestInfo = {
          decision: typeof raw.decision === 'string' ? raw.decision : null,
          complete: typeof raw.runbook57?.complete === 'boolean' ? raw.runbook57.complete : null,
        };
      }
    }
  }

  const unreadable = new Set(problems.filter((p) => p.kind === 'unreadable').map((p) => p.path));
  const paths = new Set<string>([...seen, ...(sums?.keys() ?? []), ...(manifestFiles?.keys() ?? [])]);
  for (const p of [...paths].sort()) {
    if (p === SUMS_NAME || unreadable.has(p)) continue;
    const inZip = seen.has(p);
    const inSums = sums?.has(p) ?? false;
    // manifest.json cannot list itself: SHA256SUMS vouches for it
    const inManifest = p === MANIFEST_NAME ? true : (manifestFiles?.has(p) ?? false);
    const listedIn = [inSums ? SUMS_NAME : null, inManifest && p !== MANIFEST_NAME ? MANIFEST_NAME : null].filter(Boolean).join(' and ');
    if (!inZip) {
      problems.push({ path: p, kind: 'missing', problem: `listed in ${listedIn} but not in the zip` });
      continue;
    }
    const notIn = [sums && !inSums ? SUMS_NAME : null, manifestFiles && !inManifest ? MANIFEST_NAME : null].filter(Boolean);
    if (notIn.length) {
      problems.push({ path: p, kind: 'extra', problem: `in the zip but not listed in ${notIn.join(' nor ')}` });
      continue;
    }
    const a = actual.get(p)!;
    const differs: string[] = [];
    const s = sums?.get(p);
    if (s !== undefined && s !== a.sha256) differs.push(`${SUMS_NAME} says ${s}`);
    const m = p === MANIFEST_NAME ? undefined : manifestFiles?.get(p);
    if (m && m.sha256 !== a.sha256) differs.push(`${MANIFEST_NAME} says ${m.sha256}`);
    if (m && m.bytes !== a.bytes) differs.push(`${MANIFEST_NAME} says ${m.bytes} bytes, it has ${a.bytes}`);
    if (differs.length) problems.push({ path: p, kind: 'changed', problem: `SHA-256 ${a.sha256}; ${differs.join('; ')}` });
  }

  const expected = opts.expectSha256?.toLowerCase() ?? null;
  const zipOk = expected === null || expected === zipDigest.sha256;
  return {
    ok: problems.length === 0 && zipOk,
    zip: { path: zipPath, bytes: zipDigest.bytes, sha256: zipDigest.sha256 },
    expectedZipSha256: expected,
    checked: actual.size,
    manifest: manifestInfo,
    problems,
  };
}
