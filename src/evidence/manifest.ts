import { z } from 'zod';

import { BUNDLE_FILES, BUNDLE_FORMAT, READABLE_BUNDLE_FORMATS } from '../results/evidence.js';

/**
 * How the bundle's manifest.json and SHA256SUMS are written and read back (the schema and the
 * file names are the results contract's: src/results/evidence.ts).
 */
export const MANIFEST_NAME = BUNDLE_FILES.manifest;
export const SUMS_NAME = BUNDLE_FILES.sums;
export const SIGNATURE_NAME = BUNDLE_FILES.signature;
export const REPORT_MD = BUNDLE_FILES.reportMd;
export const REPORT_HTML = BUNDLE_FILES.reportHtml;
export const CHANGELOG_ENTRY = BUNDLE_FILES.changelogEntry;
export { BUNDLE_FORMAT };
export { RESULTS_PREFIX, SEP_PREFIX } from '../results/evidence.js';

export const REPRODUCIBILITY =
  'Entries are written in a fixed order (generated files, then results/ and sep/ sorted by path) with mode 0644 and one date, the bundle time. ' +
  'Given the same files and the same bundle time, the zip is byte-identical with the same zlib; the bundle time (createdAt, the entry dates, ' +
  'the reports) and anything the steps recorded about their own run differ from one build to the next. SHA-256 of every file is what is verified, not the zip bytes.';

/** What `evidence verify` needs of a manifest; other fields may change between versions. */
export const ManifestForVerify = z
  .object({
    format: z.enum(READABLE_BUNDLE_FORMATS),
    /** format 2: the key manifest.json.sig was made with; absent or null: unsigned */
    signature: z.strictObject({ algorithm: z.string(), publicKeyFingerprint: z.string(), file: z.string() }).nullish(),
    files: z.array(z.object({ path: z.string(), bytes: z.number().int().nonnegative(), sha256: z.string().regex(/^[0-9a-f]{64}$/) })),
  })
  .passthrough();

/** `sha256sum` format: "<hex>  <path>", one per line, sorted by path. */
export function renderSums(files: readonly { path: string; sha256: string }[]): string {
  return [...files]
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    .map((f) => `${f.sha256}  ${f.path}\n`)
    .join('');
}

export function parseSums(text: string): { entries: Map<string, string>; problems: string[] } {
  const entries = new Map<string, string>();
  const problems: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (line === '') return;
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line);
    if (!m) problems.push(`${SUMS_NAME} line ${i + 1} is not "<sha256>  <path>"`);
    else if (entries.has(m[2]!)) problems.push(`${SUMS_NAME} lists ${m[2]} twice`);
    else entries.set(m[2]!, m[1]!);
  });
  return { entries, problems };
}
