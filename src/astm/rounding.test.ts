import { describe, expect, it } from 'vitest';
import { roundHalfUp, roundToIncrementHalfEven, roundToIncrementHalfUp, truncate } from './rounding.js';

describe('decimal rounding on doubles', () => {
  it('treats a decimal half as a half although its double is a hair below', () => {
    // 2.675 is stored as 2.67499999999999982236431605997495353221893310546875
    expect(roundHalfUp(2.675, 2)).toBe(2.68);
    expect(roundHalfUp(843.45, 1)).toBe(843.5);
    expect(roundHalfUp(0.99575, 4)).toBe(0.9958);
  });

  it('rounds halves away from zero, also below zero', () => {
    expect(roundHalfUp(-1.5, 0)).toBe(-2);
    expect(roundHalfUp(-0.00005, 4)).toBe(-0.0001);
    expect(roundHalfUp(1.04, 1)).toBe(1);
  });

  it('truncates toward zero without falling one unit short on binary noise', () => {
    // 0.29 × 100 = 28.999999999999996 in binary
    expect(truncate(0.29, 2)).toBe(0.29);
    expect(truncate(0.72505097, 6)).toBe(0.72505);
    expect(truncate(-1.239, 2)).toBe(-1.23);
  });

  it('rounds exact halves to the even increment (API MPMS 11.1-2004 §11.1.5.4)', () => {
    expect(roundToIncrementHalfEven(28.375, 0.05)).toBe(28.4); // 567.5 increments → 568
    expect(roundToIncrementHalfEven(28.325, 0.05)).toBe(28.3); // 566.5 → 566
    expect(roundToIncrementHalfEven(28.34, 0.05)).toBe(28.35);
    expect(roundToIncrementHalfEven(0.987295, 0.00001)).toBe(0.9873); // 98729.5 → 98730
    expect(roundToIncrementHalfEven(0.987285, 0.00001)).toBe(0.98728); // 98728.5 → 98728
    expect(roundToIncrementHalfEven(2587.5, 5)).toBe(2590); // 517.5 → 518
    expect(roundToIncrementHalfEven(2582.5, 5)).toBe(2580); // 516.5 → 516
    expect(roundToIncrementHalfEven(-28.375, 0.05)).toBe(-28.4);
  });

  it('rounds halves up to an increment for the 1980 inputs', () => {
    expect(roundToIncrementHalfUp(28.325, 0.05)).toBe(28.35);
    expect(roundToIncrementHalfUp(28.37, 0.05)).toBe(28.35);
    expect(roundToIncrementHalfUp(837.45, 0.1)).toBe(837.5);
  });
});
