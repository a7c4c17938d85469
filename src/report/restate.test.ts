import { describe, expect, it } from 'vitest';
import { RestateResult } from '../results/restate.js';
import { expectGolden, goldenInput } from '../testing/golden.js';
import { renderRestateMarkdown, renderRestateText } from './restate.js';

/** Renderers are pure: compared byte for byte with golden files (UPDATE_GOLDEN=1 rewrites them); inputs were written by the real step. */
const golden = (name: string, actual: string) => expectGolden(import.meta.url, name, actual);

describe('restate renderers', () => {
  it('a restatement of the demo depot under the freeze: every reception, the proof per tank and owner', () => {
    const r = goldenInput(import.meta.url, 'restate', RestateResult);
    golden('restate.txt', renderRestateText(r));
    const md = renderRestateMarkdown(r);
    golden('restate.md', md);
    expect(md.match(/^\| `[0-9a-f-]{36}` \|/gm)).toHaveLength(9);
  });

  it('a second run: nothing to restate, each reception naming the run that restated it', () => {
    const r = goldenInput(import.meta.url, 'restate-again', RestateResult);
    golden('restate-again.txt', renderRestateText(r));
    golden('restate-again.md', renderRestateMarkdown(r));
  });

  it('a failed proof names every problem and says nothing was booked', () => {
    const r = goldenInput(import.meta.url, 'restate', RestateResult);
    const [first, ...rest] = r.totals;
    const broken: RestateResult = {
      ...r,
      status: 'rejected',
      ok: false,
      committed: false,
      message: 'proof failed (1 problem(s)): rolled back, nothing booked',
      totals: [{ ...first!, after_15c_l: first!.before_15c_l, moved_15c_l: 0, holds: false }, ...rest],
      proof: {
        ...r.proof,
        holds: false,
        moved_15c_l: Math.round((r.proof.moved_15c_l - first!.moved_15c_l!) * 1e6) / 1e6,
        problems: [
          `${first!.citerne} / ${first!.proprietaire_type}: v_stock_actuel moved +0.000 L at 15 °C and +0.000 L ambient; its 4 adjustment(s) add −${Math.abs(first!.delta_15c_l).toFixed(3)} L at 15 °C and nothing ambient`,
        ],
      },
    };
    golden('restate-rejected.txt', renderRestateText(broken));
    golden('restate-rejected.md', renderRestateMarkdown(broken));
  });
});
