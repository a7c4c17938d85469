import { describe, it } from 'vitest';
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
});
