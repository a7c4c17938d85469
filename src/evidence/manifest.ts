import { z } from 'zod';
import type { ArchiveItem, StepOutcome } from './results-facts.js';

/**
 * The bundle's `manifest.json`: who ran what, on which commits and target, when, with which
 * decision, and every file of the bundle with its bytes and SHA-256. `SHA256SUMS` covers the
 * same files plus manifest.json itself, so either can be checked and each vouches for the other.
 */
export const BUNDLE_FORMAT = 'astm53b-evidence/1';
export const MANIFEST_NAME = 'manifest.json';
export const SUMS_NAME = 'SHA256SUMS';
export const REPORT_MD = 'report.md';
export const REPORT_HTML = 'report.html';
export const CHANGELOG_ENTRY = 'CHANGELOG-entry.md';
export const RESULTS_PREFIX = 'results/';
export const SEP_PREFIX = 'sep/';

export const REPRODUCIBILITY =
  'Entries are written in a fixed order (generated files, then results/ and sep/ sorted by path) with mode 0644 and one date, the bundle time. ' +
  'Given the same files and the same bundle time, the zip is byte-identical with the same zlib; the bundle time (createdAt, the entry dates, ' +
  'the reports) and anything the steps recorded about their own run differ from one build to the next. SHA-256 of every file is what is verified, not the zip bytes.';

export type BundleFileSource = 'results' | 'sep' | 'generated';

export interface BundleFile {
  path: string;
  bytes: number;
  sha256: string;
  source: BundleFileSource;
}

export interface RunInfo {
  repository: string | null;
  runId: string | null;
  runUrl: string | null;
  actor: string | null;
}

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  createdAt: string;
  run: RunInfo;
  commits: { pipeline: string; pipelineFrom: 'option' | 'GITHUB_SHA' | 'git' | 'unknown'; flutterApp: string | null };
  /** as the steps recorded it (masked), passed through redact once more */
  target: string | null;
  times: { createdAt: string; migrationAt: string | null; firstStepAt: string | null; lastStepAt: string | null };
  decision: string;
  runbook57: { complete: boolean; items: ArchiveItem[] };
  steps: StepOutcome[];
  changelog: { entryFile: string; date: string; title: string; insertedInto: string | null; under: string | null };
  warnings: string[];
  reproducibility: string;
  /** every file of the bundle but manifest.json and SHA256SUMS */
  files: BundleFile[];
}

/** What `evidence verify` needs of a manifest; other fields may change between versions. */
export const ManifestForVerify = z
  .object({
    format: z.literal(BUNDLE_FORMAT),
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
