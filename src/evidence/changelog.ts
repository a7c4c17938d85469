import { readFile, rename, writeFile } from 'node:fs/promises';
import { UserError } from '../errors.js';

/**
 * Puts the PROD entry into ML_PP's CHANGELOG.md. The real file has four `## [Unreleased]`
 * headings and must never have an old entry modified, so the caller names one heading (its
 * text, plus which occurrence when the text is not unique) and only lines are added, right
 * after that heading: every other byte of the file stays as it was.
 */
export type HeadingTarget = string | { heading: string; occurrence: number };

export interface Insertion {
  text: string;
  /** 1-based line of the heading the entry went under */
  headingLine: number;
  /** the exact text added, at `offset` in the new file (removing it gives the original back) */
  inserted: string;
  offset: number;
}

/** Heading lines outside fenced code blocks, with their 1-based line and the offset after their line end. */
function headings(text: string): { line: number; text: string; end: number; crlf: boolean; terminated: boolean }[] {
  const out: { line: number; text: string; end: number; crlf: boolean; terminated: boolean }[] = [];
  let fenced = false;
  let start = 0;
  let line = 0;
  while (start < text.length) {
    line++;
    const nl = text.indexOf('\n', start);
    const end = nl < 0 ? text.length : nl + 1;
    const raw = text.slice(start, nl < 0 ? text.length : nl);
    const crlf = raw.endsWith('\r');
    const content = (crlf ? raw.slice(0, -1) : raw).trimEnd();
    if (/^\s*(```|~~~)/.test(content)) fenced = !fenced;
    else if (!fenced && /^#{1,6} /.test(content)) out.push({ line, text: content, end, crlf, terminated: nl >= 0 });
    start = end;
  }
  return out;
}

export function describeTarget(t: HeadingTarget): string {
  return typeof t === 'string' ? t : `${t.heading} (occurrence ${t.occurrence})`;
}

export function insertChangelogEntry(changelogText: string, entry: string, opts: { under: HeadingTarget; file?: string }): Insertion {
  const heading = (typeof opts.under === 'string' ? opts.under : opts.under.heading).trim();
  const file = opts.file ?? 'CHANGELOG.md';
  if (!/^#{1,6} \S/.test(heading)) {
    throw new UserError(
      'BAD_OPTION',
      `--under ${JSON.stringify(heading)} is not a markdown heading (it starts with one to six #, e.g. "## [Unreleased]")`,
      { where: { field: 'under' } },
    );
  }
  const hits = headings(changelogText).filter((h) => h.text === heading);
  if (!hits.length) {
    throw new UserError(
      'CHANGELOG_HEADING_MISSING',
      `no heading ${JSON.stringify(heading)}: the entry goes right after one existing heading`,
      { where: { file, field: 'under' } },
    );
  }
  let hit = hits[0]!;
  if (typeof opts.under === 'string') {
    if (hits.length > 1) {
      throw new UserError(
        'CHANGELOG_HEADING_AMBIGUOUS',
        `${hits.length} headings ${JSON.stringify(heading)} (lines ${hits.map((h) => h.line).join(', ')}): say which one`,
        {
          where: { file, field: 'under' },
          hint: `give the occurrence, 1 to ${hits.length} (--occurrence N)`,
        },
      );
    }
  } else {
    const n = opts.under.occurrence;
    if (!Number.isInteger(n) || n < 1 || n > hits.length) {
      throw new UserError(
        'CHANGELOG_HEADING_MISSING',
        `occurrence ${n} of ${JSON.stringify(heading)} does not exist: the file has ${hits.length} (lines ${hits.map((h) => h.line).join(', ')})`,
        {
          where: { file, field: 'occurrence' },
        },
      );
    }
    hit = hits[n - 1]!;
  }
  const nl = hit.crlf ? '\r\n' : '\n';
  const body = entry.replace(/\r?\n/g, nl).replace(new RegExp(`(${nl})+$`), '') + nl;
  const rest = changelogText.slice(hit.end);
  const nextIsBlank = rest === '' || /^\r?\n/.test(rest);
  // a blank line before and after keeps the entry from running into its neighbours
  const inserted = `${hit.terminated ? '' : nl}${nl}${body}${nextIsBlank ? '' : nl}`;
  return { text: changelogText.slice(0, hit.end) + inserted + rest, headingLine: hit.line, inserted, offset: hit.end };
}

export async function readChangelog(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new UserError('CHANGELOG_MISSING', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      where: { file },
    });
  }
}

/** Inserts into the file on disk through a temporary file and a rename: never a half-written CHANGELOG. Returns the heading's line. */
export async function insertChangelogFile(file: string, entry: string, under: HeadingTarget, text?: string): Promise<number> {
  const ins = insertChangelogEntry(text ?? (await readChangelog(file)), entry, { under, file });
  const tmp = `${file}.astm53b-${process.pid}.tmp`;
  await writeFile(tmp, ins.text);
  await rename(tmp, file);
  return ins.headingLine;
}
