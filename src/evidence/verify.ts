import type { Logger } from '../logger.js';
import { hashFile, hashStream } from '../hash.js';
import { signatureValid, type PublicKey } from '../crypto/signing.js';
import { MANIFEST_NAME, ManifestForVerify, parseSums, SIGNATURE_NAME, SUMS_NAME } from './manifest.js';
import { openZipEntry, readZipDirectory, type ZipEntry } from './zip-reader.js';
import { DEFAULT_ZIP_LIMITS, UnsafeZip, type ZipLimits } from './zip-safety.js';
import type { Authenticity, VerifyProblem, VerifyResult } from '../results/evidence.js';

export type { VerifyResult };

/**
 * The auditor's one command: every file inside the bundle is re-hashed straight from the zip
 * (streamed, nothing extracted) and compared with manifest.json and with SHA256SUMS. Anything
 * missing, extra, changed or unreadable is named. Those hashes alone prove the bundle agrees
 * with itself, which anyone able to rewrite it can arrange; with `publicKey`, manifest.json
 * must also carry the depot's Ed25519 signature, so a file changed and re-hashed is caught.
 * The zip's structure is checked first (zip-safety.ts): a hostile zip is refused before any
 * entry is inflated.
 */
const SMALL_LIMIT = 64 * 1024 * 1024;
/** vouched for by SHA256SUMS alone: manifest.json cannot list itself, nor the signature made over it */
const SELF_VOUCHED = new Set<string>([MANIFEST_NAME, SIGNATURE_NAME]);

export interface VerifyOptions {
  expectSha256?: string;
  /** the depot's signing.pub: authenticity is checked only with it */
  publicKey?: PublicKey;
  limits?: ZipLimits;
}

const NOT_CHECKED =
  "authenticity NOT checked (no --public-key): the hashes prove only that the files match this bundle's own manifest, which anyone able to rewrite the bundle can recompute; verify with the depot's signing.pub";

export async function verifyBundle(zipPath: string, opts: VerifyOptions = {}, log?: Logger): Promise<VerifyResult> {
  const expected = opts.expectSha256?.toLowerCase() ?? null;
  const digest = async () => {
    const d = await hashFile(zipPath);
    return { zip: { path: zipPath, bytes: d.bytes, sha256: d.sha256 }, expectedZipSha256: expected };
  };
  let entries: ZipEntry[];
  try {
    // first: a missing file or one that is no zip is the user's mistake, said as such
    entries = await readZipDirectory(zipPath, opts.limits ?? DEFAULT_ZIP_LIMITS);
  } catch (e) {
    if (!(e instanceof UnsafeZip)) throw e;
    const base = await digest();
    // nothing of a hostile zip is read, and nothing of it is vouched for
    return {
      ok: false,
      ...base,
      checked: 0,
      manifest: null,
      authenticity: { ...unchecked(opts, false, null), valid: opts.publicKey ? false : null },
      problems: [{ path: e.entry, kind: 'unsafe', problem: e.message.slice(e.message.indexOf(': ') + 2) }],
    };
  }
  const base = await digest();
  const zipOk = expected === null || expected === base.zip.sha256;
  const problems: VerifyProblem[] = [];
  const actual = new Map<string, { sha256: string; bytes: number }>();
  const kept = new Map<string, Buffer>();
  const seen = new Set<string>();

  for (const e of entries) {
    if (e.name.endsWith('/')) continue; // a directory record carries no data
    seen.add(e.name);
    const keep = e.name === MANIFEST_NAME || e.name === SUMS_NAME || e.name === SIGNATURE_NAME;
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
  let manifestKey: string | null = null;
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
        manifestKey = m.data.signature?.publicKeyFingerprint ?? null;
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
    const selfVouched = SELF_VOUCHED.has(p);
    const inManifest = selfVouched ? true : (manifestFiles?.has(p) ?? false);
    const listedIn = [inSums ? SUMS_NAME : null, inManifest && !selfVouched ? MANIFEST_NAME : null].filter(Boolean).join(' and ');
    if (!inZip) {
      // an unsigned bundle has no signature file to miss
      if (p !== SIGNATURE_NAME || inSums) problems.push({ path: p, kind: 'missing', problem: `listed in ${listedIn} but not in the zip` });
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
    const m = selfVouched ? undefined : manifestFiles?.get(p);
    if (m && m.sha256 !== a.sha256) differs.push(`${MANIFEST_NAME} says ${m.sha256}`);
    if (m && m.bytes !== a.bytes) differs.push(`${MANIFEST_NAME} says ${m.bytes} bytes, it has ${a.bytes}`);
    if (differs.length) problems.push({ path: p, kind: 'changed', problem: `SHA-256 ${a.sha256}; ${differs.join('; ')}` });
  }

  const authenticity = checkSignature(opts, manifestBytes, kept.get(SIGNATURE_NAME), manifestKey, problems);
  return {
    ok: problems.length === 0 && zipOk && authenticity.valid !== false,
    ...base,
    checked: actual.size,
    manifest: manifestInfo,
    authenticity,
    problems,
  };
}

function unchecked(opts: VerifyOptions, signed: boolean, manifestKey: string | null): Authenticity {
  return {
    checked: opts.publicKey !== undefined,
    signed,
    manifestKey,
    givenKey: opts.publicKey?.fingerprint ?? null,
    valid: null,
    statement: NOT_CHECKED,
  };
}

/**
 * With the depot's public key: the signature must be there, made by that key, over these exact
 * manifest bytes. The hashes above then tie every file to the signed manifest. A problem found
 * here is listed with the others (kind `signature`).
 */
function checkSignature(
  opts: VerifyOptions,
  manifestBytes: Buffer | undefined,
  sig: Buffer | undefined,
  manifestKey: string | null,
  problems: VerifyProblem[],
): Authenticity {
  const a = unchecked(opts, sig !== undefined, manifestKey);
  const key = opts.publicKey;
  if (!key) return a;
  const fail = (statement: string): Authenticity => {
    problems.push({ path: SIGNATURE_NAME, kind: 'signature', problem: statement });
    return { ...a, valid: false, statement };
  };
  if (manifestBytes === undefined) return fail('no readable manifest.json: nothing to check a signature against');
  if (sig === undefined) return fail(`the bundle is not signed (no ${SIGNATURE_NAME}): its authenticity cannot be established`);
  if (manifestKey !== key.fingerprint) {
    return fail(`${MANIFEST_NAME} says it was signed by ${manifestKey ?? 'no key'}; the key given (${key.source}) is ${key.fingerprint}`);
  }
  if (!signatureValid(manifestBytes, sig, key)) {
    return fail(
      `the signature does not match ${MANIFEST_NAME} for ${key.fingerprint}: the manifest was changed after it was signed, or signed by another key`,
    );
  }
  const clean = problems.length === 0;
  return {
    ...a,
    valid: true,
    statement: clean
      ? `${MANIFEST_NAME} is signed by ${key.fingerprint}, and every file has the hash it lists: this is the bundle the evidence job built`
      : `${MANIFEST_NAME} is signed by ${key.fingerprint}, but the files above differ from what it lists`,
  };
}
