import { describe, it } from 'vitest';
import { FreezeResult } from '../results/freeze.js';
import { expectGolden, goldenInput } from '../testing/golden.js';
import { renderFreezeMarkdown, renderFreezeText } from './freeze.js';

/** Renderers are pure: compared byte for byte with golden files (UPDATE_GOLDEN=1 rewrites them); inputs were written by the real step. */
const golden = (name: string, actual: string) => expectGolden(import.meta.url, name, actual);

describe('freeze renderers', () => {
  for (const name of ['freeze-on', 'freeze-off']) {
    it(`${name}: text and job summary`, () => {
      const r = goldenInput(import.meta.url, name, FreezeResult);
      golden(`${name}.txt`, renderFreezeText(r));
      golden(`${name}.md`, renderFreezeMarkdown(r));
    });
  }
  it('says when the recorded state and the guard triggers disagree', () => {
    const r = { ...goldenInput(import.meta.url, 'freeze-on', FreezeResult), guardedTables: ['receptions'], consistent: false };
    golden('freeze-inconsistent.md', renderFreezeMarkdown(r));
  });
});
