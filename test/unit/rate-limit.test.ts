import { describe, expect, it } from 'vitest';
import { rateLimiter } from '../../api/rate-limit';

describe('rateLimiter', () => {
  it('allows `perSecond` calls per key in each second, then refuses until the next second', () => {
    let t = 10_000;
    const allow = rateLimiter(3, () => t);
    expect([allow('a'), allow('a'), allow('a'), allow('a'), allow('a')]).toEqual([true, true, true, false, false]);
    // Another key has its own window.
    expect([allow('b'), allow('b'), allow('b'), allow('b')]).toEqual([true, true, true, false]);
    t = 10_999;
    expect(allow('a')).toBe(false);
    t = 11_000;
    expect([allow('a'), allow('a'), allow('a'), allow('a')]).toEqual([true, true, true, false]);
  });
});
