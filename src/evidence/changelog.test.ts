import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { insertChangelogEntry } from './changelog.js';
import { expectUserErrorSync as userError } from '../testing/command.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const excerpt = readFileSync(path.join(here, '__fixtures__', 'CHANGELOG.excerpt.md'), 'utf8');
const entry =
  '## [2026-03-11] — Migration ASTM 53B (PROD)\n\n### 🚀 Déploiement PROD — GO contrôlé\n\n- Commit Flutter déployé : `c4b55ea`\n';

describe('insertChangelogEntry', () => {
  it('goes at the end of the chosen [Unreleased] section, named by its marker, and leaves every other byte as it was', () => {
    for (const occurrence of [1, 2]) {
      const r = insertChangelogEntry(excerpt, entry, { under: { heading: '## [Unreleased]', occurrence }, runId: '42' });
      expect(r.headingLine).toBe(occurrence === 1 ? 9 : 89);
      expect(r.already).toBe(false);
      // removing what was added gives the original back, byte for byte
      expect(r.text.slice(0, r.offset) + r.text.slice(r.offset + r.inserted.length)).toBe(excerpt);
      expect(r.text.length).toBe(excerpt.length + r.inserted.length);
      const lines = r.text.split('\n');
      expect(lines[r.markerLine - 1]).toBe('<!-- astm53b-entry: run 42 -->');
      expect(lines[r.markerLine]).toBe('## [2026-03-11] — Migration ASTM 53B (PROD)');
      // the old entries are untouched and still in order
      expect(r.text.indexOf('## [2026-04-12] — Finance fournisseur lot (PROD)')).toBeGreaterThan(0);
      expect(r.text.split('## [Unreleased]').length - 1).toBe(2);
    }
    // the first [Unreleased] is empty: the entry comes right after it, before the last PROD entry
    const first = insertChangelogEntry(excerpt, entry, { under: { heading: '## [Unreleased]', occurrence: 1 }, runId: '42' }).text.split(
      '\n',
    );
    expect(first.slice(8, 13)).toEqual([
      '## [Unreleased]',
      '',
      '<!-- astm53b-entry: run 42 -->',
      '## [2026-03-11] — Migration ASTM 53B (PROD)',
      '',
    ]);
  });

  it('leaves the lines pending under [Unreleased] where they are: the entry goes after them, before the next release', () => {
    const text = '# Changelog\n## [Unreleased]\n- existing item\n\n### Fixed\n- a fix\n\n## [1.0] — old\n- old item\n';
    const r = insertChangelogEntry(text, entry, { under: '## [Unreleased]', runId: '7' });
    expect(r.text).toBe(
      `# Changelog\n## [Unreleased]\n- existing item\n\n### Fixed\n- a fix\n\n<!-- astm53b-entry: run 7 -->\n${entry}\n## [1.0] — old\n- old item\n`,
    );
    expect(r.markerLine).toBe(8);
  });

  it('adds nothing the second time: the marker names the run, or the entry’s hash without one', () => {
    const once = insertChangelogEntry(excerpt, entry, { under: { heading: '## [Unreleased]', occurrence: 2 }, runId: '42' });
    const twice = insertChangelogEntry(once.text, entry.replace('c4b55ea', 'other'), {
      under: { heading: '## [Unreleased]', occurrence: 1 },
      runId: '42',
    });
    expect(twice).toMatchObject({ already: true, text: once.text, inserted: '', markerLine: once.markerLine });
    // found before the heading is even resolved: an ambiguous or renamed heading does not stop a re-run
    expect(insertChangelogEntry(once.text, entry, { under: '## [Unreleased]', runId: '42' })).toMatchObject({ already: true });
    expect(insertChangelogEntry(once.text, entry, { under: '## [Renamed]', runId: '42' })).toMatchObject({ already: true });
    const noRun = insertChangelogEntry(excerpt, entry, { under: '## [2026-04-12] — Finance fournisseur lot (PROD)' });
    expect(noRun.marker).toMatch(/^<!-- astm53b-entry: sha256 [0-9a-f]{16} -->$/);
    expect(insertChangelogEntry(noRun.text, entry, { under: '## [2026-04-12] — Finance fournisseur lot (PROD)' }).already).toBe(true);
    // another entry without a run is another entry
    expect(
      insertChangelogEntry(noRun.text, `${entry}- autre\n`, { under: '## [2026-04-12] — Finance fournisseur lot (PROD)' }).already,
    ).toBe(false);
  });

  it('keeps the entry apart from a heading followed directly by another', () => {
    const text = '# Changelog\n## [Unreleased]\n## [1.0]\n';
    const r = insertChangelogEntry(text, entry, { under: '## [Unreleased]', runId: '1' });
    expect(r.text).toBe(`# Changelog\n## [Unreleased]\n\n<!-- astm53b-entry: run 1 -->\n${entry}\n## [1.0]\n`);
  });

  it('keeps CRLF files CRLF and handles a heading on the last line without a newline', () => {
    const crlf = '# C\r\n## [Unreleased]\r\n\r\n## [1.0]\r\n';
    const r = insertChangelogEntry(crlf, 'a\nb\n', { under: '## [Unreleased]', runId: '9' });
    expect(r.text).toBe('# C\r\n## [Unreleased]\r\n\r\n<!-- astm53b-entry: run 9 -->\r\na\r\nb\r\n\r\n## [1.0]\r\n');
    expect(insertChangelogEntry('# C\n## [Unreleased]', 'a\n', { under: '## [Unreleased]', runId: '9' }).text).toBe(
      '# C\n## [Unreleased]\n\n<!-- astm53b-entry: run 9 -->\na\n',
    );
  });

  it('refuses an ambiguous heading, naming the lines and the way out', () => {
    const e = userError(() => insertChangelogEntry(excerpt, entry, { under: '## [Unreleased]' }));
    expect(e.code).toBe('CHANGELOG_HEADING_AMBIGUOUS');
    expect(e.message).toContain('lines 9, 89');
    expect(e.hint).toContain('1 to 2');
  });

  it('refuses a missing heading or occurrence, and a heading text that is not a heading', () => {
    expect(userError(() => insertChangelogEntry(excerpt, entry, { under: '## [Released]', file: 'CHANGELOG.md' })).where).toEqual({
      file: 'CHANGELOG.md',
      field: 'under',
    });
    expect(
      userError(() => insertChangelogEntry(excerpt, entry, { under: { heading: '## [Unreleased]', occurrence: 3 } })).message,
    ).toContain('the file has 2');
    expect(userError(() => insertChangelogEntry(excerpt, entry, { under: 'Unreleased' })).code).toBe('BAD_OPTION');
  });

  it('targets a unique heading by its text, and ignores look-alikes inside code fences', () => {
    const r = insertChangelogEntry(excerpt, entry, { under: '## [2026-04-12] — Finance fournisseur lot (PROD)' });
    expect(r.headingLine).toBe(11);
    const fenced = '## [Unreleased]\n\n```\n## [Unreleased]\n```\n';
    expect(insertChangelogEntry(fenced, 'x\n', { under: '## [Unreleased]' }).headingLine).toBe(1);
  });
});
