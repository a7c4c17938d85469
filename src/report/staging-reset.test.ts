import { describe, it } from 'vitest';
import { ResetResult } from '../results/staging-reset.js';
import { expectGolden, goldenInput } from '../testing/golden.js';
import { renderResetMarkdown, renderResetText } from './staging-reset.js';

/** Renderers are pure: compared byte for byte with golden files (UPDATE_GOLDEN=1 rewrites them); the input was written by the real step. */
const golden = (name: string, actual: string) => expectGolden(import.meta.url, name, actual);

describe('staging-reset renderers', () => {
  it('text and job summary of a reset of the demo depot', () => {
    const r = goldenInput(import.meta.url, 'staging-reset', ResetResult);
    golden('staging-reset.txt', renderResetText(r));
    golden('staging-reset.md', renderResetMarkdown(r));
  });
  it('names every problem when the invariant broke', () => {
    const r = goldenInput(import.meta.url, 'staging-reset', ResetResult);
    const broken = { ...r, ok: false, problems: ['cours_de_route changed: 12 rows checksum 1a2b…, before 12 rows checksum 9f8e…'] };
    golden('staging-reset-broken.md', renderResetMarkdown(broken));
  });
});
