import { createHash } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { UserError } from '../errors.js';
import { runWithoutAttempt } from '../results/run-context.js';

/**
 * Puts the PROD entry into ML_PP's CHANGELOG.md. The real file has four `## [Unreleased]`
 * headings and must never have an old entry modified, so the caller names one heading (its
 * text, plus which occurrence when the text is not unique) and only lines are added, at the end
 * of that heading's section: after the lines still pending under it (they stay where they
 * are, not under the new entry's heading), before the next heading of its level or above.
 * Every other byte of the file stays as it was. The entry is preceded by an HTML comment naming
 * it (the run's id, else the entry's hash): when the file already holds that comment, nothing
 * is added, so writing the same entry twice changes nothing.
 */
export type HeadingTarget = string | { heading: string; occurrence: number };

export interface Insertion {
  text: string;
  /** 1-based line of the heading the entry went under */
  headingLine: number;
  /** the comment that names the entry, e.g. `<!-- astm53b-entry: run 123 -->` */
  marker: string;
  /** the file already held this entry (its marker, at `markerLine`): nothing was added */
  already: boolean;
  /** 1-based line of the marker in the resulting text */
  markerLine: number;
  /** the exact text added, at `offset` in the new file (removing it gives the original back) */
  inserted: string;
  offset: number;
}

/** Heading lines outside fenced code blocks, with their 1-based line and the offset after their line end. */
interface Line {
  line: number;
  text: string;
  /** offsets of the line's first character and after its line end */
  start: number;
  end: number;
  crlf: boolean;
  terminated: boolean;
  heading: boolean;
  level: number;
}

function lines(text: string): Line[] {
  const out: Line[] = [];
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
    const heading = !fenced && /^#{1,6} /.test(content);
    if (/^\s*(```|~~~)/.test(content)) fenced = !fenced;
    out.push({ line, text: content, start, end, crlf, terminated: nl >= 0, heading, level: heading ? /^#+/.exec(content)![0].length : 0 });
    start = end;
  }
  return out;
}

export function describeTarget(t: HeadingTarget): string {
  return typeof t === 'string' ? t : `${t.heading} (occurrence ${t.occurrence})`;
}

/** The comment that names an entry: its run when there is one, else its text's hash. */
export function entryMarker(entry: string, runId?: string | null): string {
  const id = runId
    ? `run ${runWithoutAttempt(runId)}`
    : `sha256 ${createHash('sha256').update(entry.replace(/\r\n/g, '\n').trim()).digest('hex').slice(0, 16)}`;
  return `<!-- astm53b-entry: ${id} -->`;
}

export function insertChangelogEntry(
  changelogText: string,
  entry: string,
  opts: { under: HeadingTarget; file?: string; runId?: string | null },
): Insertion {
  const heading = (typeof opts.under === 'string' ? opts.under : opts.under.heading).trim();
  const file = opts.file ?? 'CHANGELOG.md';
  if (!/^#{1,6} \S/.test(heading)) {
    throw new UserError(
      'BAD_OPTION',
      `--under ${JSON.stringify(heading)} is not a markdown heading (it starts with one to six #, e.g. "## [Unreleased]")`,
      { where: { field: 'under' } },
    );
  }
  const all = lines(changelogText);
  // the entry already there wins over any check of the heading: a later release may have renamed or added one
  const marker = entryMarker(entry, opts.runId);
  const seen = all.find((l) => l.text.trim() === marker);
  if (seen) {
    const section = all.filter((l) => l.heading && l.line < seen.line && l.level <= 2).pop();
    return {
      text: changelogText,
      headingLine: section?.line ?? seen.line,
      marker,
      already: true,
      markerLine: seen.line,
      inserted: '',
      offset: seen.start,
    };
  }
  const hits = all.filter((h) => h.heading && h.text === heading);
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
  // the section ends at the next heading of its level or above; the entry goes after its last non-blank line
  const next = all.find((l) => l.line > hit.line && l.heading && l.level <= hit.level);
  const content = all.filter((l) => l.line > hit.line && (!next || l.line < next.line) && l.text.trim() !== '');
  const after = content.length ? content[content.length - 1]! : hit;
  const nl = hit.crlf ? '\r\n' : '\n';
  const body = entry.replace(/\r?\n/g, nl).replace(new RegExp(`(${nl})+$`), '') + nl;
  const rest = changelogText.slice(after.end);
  const nextIsBlank = rest === '' || /^\r?\n/.test(rest);
  // a blank line before and after keeps the entry from running into its neighbours
  const inserted = `${after.terminated ? '' : nl}${nl}${marker}${nl}${body}${nextIsBlank ? '' : nl}`;
  const markerLine = after.line + 2;
  return {
    text: changelogText.slice(0, after.end) + inserted + rest,
    headingLine: hit.line,
    marker,
    already: false,
    markerLine,
    inserted,
    offset: after.end,
  };
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

/** Inserts into the file on disk through a temporary file and a rename: never a half-written CHANGELOG; an entry already there is left alone. */
export async function insertChangelogFile(
  file: string,
  entry: string,
  under: HeadingTarget,
  opts: { text?: string; runId?: string | null } = {},
): Promise<Insertion> {
  const ins = insertChangelogEntry(opts.text ?? (await readChangelog(file)), entry, { under, file, runId: opts.runId ?? null });
  if (ins.already) return ins;
  const tmp = `${file}.astm53b-${process.pid}.tmp`;
  await writeFile(tmp, ins.text);
  await rename(tmp, file);
  return ins;
}
