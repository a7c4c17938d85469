import { describe, expect, it } from 'vitest';
import { CompatResult } from '../results/compat.js';
import { PreflightResult } from '../results/preflight.js';
import { expectGolden, goldenInput } from '../testing/golden.js';
import { renderCompatMarkdown, renderCompatText } from './compat.js';
import { renderPreflightMarkdown, renderPreflightText } from './preflight.js';

/** Renderers are pure: compared byte for byte with golden files (UPDATE_GOLDEN=1 rewrites them); inputs were written by the real steps. */
const golden = (name: string, actual: string) => expectGolden(import.meta.url, name, actual);

describe('preflight and compat renderers', () => {
  it('preflight of the demo depot: text and job summary', () => {
    const r = goldenInput(import.meta.url, 'preflight', PreflightResult);
    golden('preflight.txt', renderPreflightText(r));
    golden('preflight.md', renderPreflightMarkdown(r));
  });
  it('compat of the demo depot: text, verbose text and job summary', () => {
    const r = goldenInput(import.meta.url, 'compat', CompatResult);
    golden('compat.txt', renderCompatText(r));
    golden('compat-verbose.txt', renderCompatText(r, { verbose: true }));
    golden('compat.md', renderCompatMarkdown(r));
  });
  it('renders only what needs attention, in text and markdown', () => {
    const real = goldenInput(import.meta.url, 'compat', CompatResult);
    const items = real.items.map((i) => (i.kind === 'role' && i.name === 'anon' ? { ...i, status: 'missing' as const } : i));
    const required = items.filter((i) => !i.optional);
    const count = (status: string) => required.filter((i) => i.status === status).length;
    const r = CompatResult.parse({
      ...real,
      target: 'postgresql://u:***@h/db',
      compatible: false,
      items,
      counts: { ok: count('ok'), missing: count('missing'), different: count('different') },
      optionalMissing: 0,
    });
    const text = renderCompatText(r);
    expect(text).toMatch(/NOT COMPATIBLE: \d+ ok, 1 missing, 0 different, of \d+ required \(0 optional absent\)/);
    expect(text).toMatch(/MISSING\s+role\s+anon/);
    expect(text).not.toMatch(/^ok /m);
    const md = renderCompatMarkdown(r);
    expect(md).toContain('| MISSING | role | `anon` |');
  });

  it('a security finding is shown apart, and leaves the target compatible (text, markdown, preflight warning)', () => {
    const real = goldenInput(import.meta.url, 'compat', CompatResult);
    const finding = {
      kind: 'rls' as const,
      name: 'public.stocks_snapshot',
      finding:
        "row level security is off (PROD has it on): any role granted the table (on Supabase anon and authenticated, through the API) reads and writes every row. No step relies on it; the smoke's 5.1 shows what anon reads",
    };
    const r = CompatResult.parse({ ...real, security: [finding] });
    golden('compat-security.txt', renderCompatText(r));
    golden('compat-security.md', renderCompatMarkdown(r));
    expect(renderCompatText(r)).toMatch(/^COMPATIBLE: /m);
    const pf = goldenInput(import.meta.url, 'preflight', PreflightResult);
    const text = renderPreflightText(
      PreflightResult.parse({ ...pf, compat: r, warnings: [...pf.warnings, `security: ${finding.name}: ${finding.finding}`] }),
    );
    expect(text).toMatch(/^preflight: PASS /);
    expect(text).toContain('  warn: security: public.stocks_snapshot: row level security is off');
    expect(text).toContain('compat: compatible (0 missing, 0 different; 1 security finding (see warnings))');
  });
});
