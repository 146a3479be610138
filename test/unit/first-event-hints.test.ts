import { describe, expect, it } from 'vitest';
import { CONSEQUENCES_MS, FirstEventHints, HINT_ENTRIES } from '../../api/routes/track';

describe("/v1/track's memory of which requests to try in one statement", () => {
  it('tries until it has seen the contact exist, for that project only', () => {
    const hints = new FirstEventHints();
    expect(hints.worthTrying('p1', 'a@x.test', 'signed.up', 0)).toBe(true);
    hints.contactExists('p1', 'a@x.test');
    expect(hints.worthTrying('p1', 'a@x.test', 'signed.up', 0)).toBe(false);
    expect(hints.worthTrying('p1', 'a@x.test', 'other', 0)).toBe(false);
    expect(hints.worthTrying('p2', 'a@x.test', 'signed.up', 0)).toBe(true);
    expect(hints.worthTrying('p1', 'b@x.test', 'signed.up', 0)).toBe(true);
  });

  it('skips an event name that had consequences in a project for CONSEQUENCES_MS, then asks again', () => {
    const hints = new FirstEventHints();
    hints.hadConsequences('p1', 'enrols', 1000);
    expect(hints.worthTrying('p1', 'a@x.test', 'enrols', 1000)).toBe(false);
    expect(hints.worthTrying('p1', 'a@x.test', 'enrols', 1000 + CONSEQUENCES_MS - 1)).toBe(false);
    expect(hints.worthTrying('p1', 'a@x.test', 'enrols', 1000 + CONSEQUENCES_MS)).toBe(true);
    expect(hints.worthTrying('p1', 'a@x.test', 'quiet', 1000)).toBe(true);
    expect(hints.worthTrying('p2', 'a@x.test', 'enrols', 1000)).toBe(true);
  });

  it('keeps at most HINT_ENTRIES contacts, forgetting the oldest first', () => {
    const hints = new FirstEventHints();
    for (let i = 0; i <= HINT_ENTRIES; i++) hints.contactExists('p', `c${i}@x.test`);
    expect(hints.worthTrying('p', 'c0@x.test', 'e', 0)).toBe(true);
    expect(hints.worthTrying('p', 'c1@x.test', 'e', 0)).toBe(false);
    expect(hints.worthTrying('p', `c${HINT_ENTRIES}@x.test`, 'e', 0)).toBe(false);
  });
});
