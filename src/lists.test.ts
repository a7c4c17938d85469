import { describe, expect, it } from 'vitest';
import { maxOf, minOf, pushAll } from './lists.js';
import { triggersAfterData } from './runbook/rollback.js';

describe('lists of any length', () => {
  const big = Array.from({ length: 200_000 }, (_, i) => (i * 7919) % 200_003);

  it('max, min and push-all agree with Math.max, Math.min and push(...), where those overflow', () => {
    expect(() => Math.max(...big)).toThrow(RangeError);
    expect(maxOf(big)).toBe(big.reduce((a, b) => (b > a ? b : a)));
    expect(minOf(big)).toBe(0);
    expect(pushAll([-1], big)).toHaveLength(200_001);
    for (const xs of [[], [3], [2, 9, -4], [1, NaN]]) {
      expect(maxOf(xs)).toBe(Math.max(...xs));
      expect(minOf(xs)).toBe(Math.min(...xs));
    }
    expect(maxOf([], 0)).toBe(0);
  });

  it('a restore list with 200 000 entries is checked for trigger order', () => {
    const entry = (type: string) => ({ id: 0, type, schema: 'public', tag: 't' });
    const entries = [...big.map(() => entry('TABLE DATA')), entry('TRIGGER')];
    expect(triggersAfterData(entries)).toEqual({ ok: true, tableData: 200_000, triggers: 1 });
  });
});
