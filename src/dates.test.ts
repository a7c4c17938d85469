import { describe, expect, it } from 'vitest';
import { isIsoDate, isRealDateTime } from './dates.js';
import { validateChangelogDate } from './evidence/bundle.js';
import { expectUserErrorSync } from './testing/command.js';

describe('dates a person typed name a real day', () => {
  it.each(['2026-02-28', '2024-02-29', '2026-12-31', '2026-02-24T10:31', '2026-02-24 10:31:07.5+01:00', '2026-02-24T23:59:59Z'])(
    '%s is a date',
    (d) => expect(isRealDateTime(d)).toBe(true),
  );
  it.each([
    '2026-02-31',
    '2025-02-29',
    '2100-02-29',
    '2026-13-01',
    '2026-00-10',
    '2026-04-31',
    '2026-02-00',
    '2026-02-24T24:00',
    '2026-02-24T10:60',
  ])('%s is not', (d) => expect(isRealDateTime(d)).toBe(false));
  it('a plain date takes no time', () => {
    expect(isIsoDate('2026-03-11')).toBe(true);
    expect(isIsoDate('2026-03-11T10:00')).toBe(false);
  });
  it('evidence --date refuses an impossible day, naming the option', () => {
    expect(validateChangelogDate('2026-03-11')).toBe('2026-03-11');
    expect(expectUserErrorSync(() => validateChangelogDate('2026-02-31')).where?.field).toBe('date');
  });
});
