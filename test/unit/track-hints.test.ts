import { describe, expect, it } from 'vitest';
import { CONSEQUENCES_MS, EXISTING_IN_A_ROW, TrackHints, HINT_ENTRIES } from '../../api/routes/track';

describe("/v1/track's memory of which requests to try in one statement", () => {
  it('tries until it has seen the contact exist, for that project only', () => {
    const hints = new TrackHints();
    expect(hints.worthTrying('p1', 'a@x.test', 'signed.up', 0)).toBe(true);
    hints.contactExists('p1', 'a@x.test');
    expect(hints.worthTrying('p1', 'a@x.test', 'signed.up', 0)).toBe(false);
    expect(hints.worthTrying('p1', 'a@x.test', 'other', 0)).toBe(false);
    expect(hints.worthTrying('p2', 'a@x.test', 'signed.up', 0)).toBe(true);
    expect(hints.worthTrying('p1', 'b@x.test', 'signed.up', 0)).toBe(true);
  });

  it('skips an event name that had consequences in a project for CONSEQUENCES_MS, then asks again', () => {
    const hints = new TrackHints();
    hints.hadConsequences('p1', 'enrols', 1000);
    expect(hints.worthTrying('p1', 'a@x.test', 'enrols', 1000)).toBe(false);
    expect(hints.worthTrying('p1', 'a@x.test', 'enrols', 1000 + CONSEQUENCES_MS - 1)).toBe(false);
    expect(hints.worthTrying('p1', 'a@x.test', 'enrols', 1000 + CONSEQUENCES_MS)).toBe(true);
    expect(hints.worthTrying('p1', 'a@x.test', 'quiet', 1000)).toBe(true);
    expect(hints.worthTrying('p2', 'a@x.test', 'enrols', 1000)).toBe(true);
  });

  it('sends an event name the long way for CONSEQUENCES_MS once its tries found the contact existing EXISTING_IN_A_ROW times in a row', () => {
    const hints = new TrackHints();
    for (let i = 1; i < EXISTING_IN_A_ROW; i++) hints.foundExisting('p1', `old${i}@x.test`, 'opened', 1000);
    // A new contact's event in between starts the count again.
    hints.stored('p1', 'new@x.test', 'opened');
    for (let i = 1; i < EXISTING_IN_A_ROW; i++) hints.foundExisting('p1', `older${i}@x.test`, 'opened', 1000);
    expect(hints.worthTrying('p1', 'next@x.test', 'opened', 1000)).toBe(true);
    expect(hints.worthTrying('p1', `older1@x.test`, 'opened', 1000)).toBe(false);
    hints.foundExisting('p1', 'last@x.test', 'opened', 1000);
    expect(hints.worthTrying('p1', 'next@x.test', 'opened', 1000)).toBe(false);
    expect(hints.worthTrying('p1', 'next@x.test', 'opened', 1000 + CONSEQUENCES_MS - 1)).toBe(false);
    expect(hints.worthTrying('p1', 'next@x.test', 'opened', 1000 + CONSEQUENCES_MS)).toBe(true);
    // Other names and other projects are tried as before.
    expect(hints.worthTrying('p1', 'next@x.test', 'signed.up', 1000)).toBe(true);
    expect(hints.worthTrying('p2', 'next@x.test', 'opened', 1000)).toBe(true);
  });

  it('sends a name that went the long way for finding contacts existing the long way again after one more such try, until a try stores', () => {
    const hints = new TrackHints();
    for (let i = 0; i < EXISTING_IN_A_ROW; i++) hints.foundExisting('p1', `old${i}@x.test`, 'opened', 1000);
    const later = 1000 + CONSEQUENCES_MS;
    expect(hints.worthTrying('p1', 'next@x.test', 'opened', later)).toBe(true);
    hints.foundExisting('p1', 'next@x.test', 'opened', later);
    expect(hints.worthTrying('p1', 'another@x.test', 'opened', later)).toBe(false);
    expect(hints.worthTrying('p1', 'another@x.test', 'opened', later + CONSEQUENCES_MS - 1)).toBe(false);
    // A try that stores a new contact's event: the count starts again.
    hints.stored('p1', 'new@x.test', 'opened');
    expect(hints.worthTrying('p1', 'another@x.test', 'opened', later)).toBe(true);
    for (let i = 1; i < EXISTING_IN_A_ROW; i++) hints.foundExisting('p1', `older${i}@x.test`, 'opened', later);
    expect(hints.worthTrying('p1', 'another@x.test', 'opened', later)).toBe(true);
    hints.foundExisting('p1', 'oldest@x.test', 'opened', later);
    expect(hints.worthTrying('p1', 'another@x.test', 'opened', later)).toBe(false);
  });

  it('keeps a name on the long way for finding contacts existing while its events keep finding their contacts existing, with no try', () => {
    const hints = new TrackHints();
    for (let i = 0; i < EXISTING_IN_A_ROW; i++) hints.foundExisting('p1', `old${i}@x.test`, 'opened', 1000);
    // Its last event found its contact existing just before its time ran out: CONSEQUENCES_MS more from then.
    hints.confirmedExisting('p1', 'opened', 1000 + CONSEQUENCES_MS - 1);
    expect(hints.worthTrying('p1', 'next@x.test', 'opened', 1000 + CONSEQUENCES_MS)).toBe(false);
    expect(hints.likelyExists('p1', 'next@x.test', 'opened', 1000 + CONSEQUENCES_MS)).toBe(true);
    expect(hints.worthTrying('p1', 'next@x.test', 'opened', 1000 + 2 * CONSEQUENCES_MS - 2)).toBe(false);
    // None came since: tried again.
    expect(hints.worthTrying('p1', 'next@x.test', 'opened', 1000 + 2 * CONSEQUENCES_MS - 1)).toBe(true);
    // A name that goes the one-statement way is not sent the long way by its contacts existing.
    hints.confirmedExisting('p1', 'signed.up', 1000);
    expect(hints.worthTrying('p1', 'next@x.test', 'signed.up', 1000)).toBe(true);
    expect(hints.likelyExists('p1', 'next@x.test', 'signed.up', 1000)).toBe(false);
  });

  it('tries a name that went the long way for finding contacts existing again once EXISTING_IN_A_ROW of its events in a row created their contact', () => {
    const hints = new TrackHints();
    for (let i = 0; i < EXISTING_IN_A_ROW; i++) hints.foundExisting('p1', `old${i}@x.test`, 'opened', 1000);
    for (let i = 1; i < EXISTING_IN_A_ROW; i++) hints.foundNew('p1', 'opened');
    // An event whose contact existed in between starts the count again.
    hints.confirmedExisting('p1', 'opened', 1000);
    for (let i = 1; i < EXISTING_IN_A_ROW; i++) hints.foundNew('p1', 'opened');
    expect(hints.worthTrying('p1', 'next@x.test', 'opened', 1000)).toBe(false);
    hints.foundNew('p1', 'opened');
    expect(hints.worthTrying('p1', 'next@x.test', 'opened', 1000)).toBe(true);
    expect(hints.likelyExists('p1', 'next@x.test', 'opened', 1000)).toBe(false);
    // Its misses count from naught: EXISTING_IN_A_ROW more in a row send it the long way again.
    for (let i = 1; i < EXISTING_IN_A_ROW; i++) hints.foundExisting('p1', `older${i}@x.test`, 'opened', 1000);
    expect(hints.worthTrying('p1', 'next@x.test', 'opened', 1000)).toBe(true);
    hints.foundExisting('p1', 'oldest@x.test', 'opened', 1000);
    expect(hints.worthTrying('p1', 'next@x.test', 'opened', 1000)).toBe(false);
    // New contacts of a name that goes the one-statement way change nothing.
    hints.foundNew('p1', 'signed.up');
    expect(hints.worthTrying('p1', 'next@x.test', 'signed.up', 1000)).toBe(true);
  });

  it('thinks a contact likely exists when it has seen it, or while its event name goes the long way for finding contacts existing', () => {
    const hints = new TrackHints();
    expect(hints.likelyExists('p1', 'a@x.test', 'opened', 1000)).toBe(false);
    hints.stored('p1', 'a@x.test', 'signed.up');
    expect(hints.likelyExists('p1', 'a@x.test', 'opened', 1000)).toBe(true);
    expect(hints.likelyExists('p2', 'a@x.test', 'opened', 1000)).toBe(false);
    for (let i = 0; i < EXISTING_IN_A_ROW; i++) hints.foundExisting('p1', `old${i}@x.test`, 'opened', 1000);
    expect(hints.likelyExists('p1', 'new@x.test', 'opened', 1000)).toBe(true);
    expect(hints.likelyExists('p1', 'new@x.test', 'opened', 1000 + CONSEQUENCES_MS)).toBe(false);
    // A name that had consequences says nothing about its contacts.
    hints.hadConsequences('p1', 'enrols', 1000);
    expect(hints.likelyExists('p1', 'new@x.test', 'enrols', 1000)).toBe(false);
  });

  it("tries an existing contact's event by itself while the contact likely exists, skipping a name that had consequences for an existing contact for CONSEQUENCES_MS", () => {
    const hints = new TrackHints();
    expect(hints.quietWorthTrying('p1', 'a@x.test', 'opened', 1000)).toBe(false);
    hints.contactExists('p1', 'a@x.test');
    expect(hints.quietWorthTrying('p1', 'a@x.test', 'opened', 1000)).toBe(true);
    hints.hadConsequencesForExisting('p1', 'opened', 1000);
    expect(hints.quietWorthTrying('p1', 'a@x.test', 'opened', 1000 + CONSEQUENCES_MS - 1)).toBe(false);
    expect(hints.quietWorthTrying('p1', 'a@x.test', 'opened', 1000 + CONSEQUENCES_MS)).toBe(true);
    expect(hints.quietWorthTrying('p1', 'a@x.test', 'clicked', 1000)).toBe(true);
    expect(hints.quietWorthTrying('p2', 'a@x.test', 'opened', 1000)).toBe(false);
    // It says nothing about new contacts' first events of that name.
    expect(hints.worthTrying('p1', 'b@x.test', 'opened', 1000)).toBe(true);
  });

  it('keeps at most HINT_ENTRIES contacts, forgetting the oldest first', () => {
    const hints = new TrackHints();
    for (let i = 0; i <= HINT_ENTRIES; i++) hints.contactExists('p', `c${i}@x.test`);
    expect(hints.worthTrying('p', 'c0@x.test', 'e', 0)).toBe(true);
    expect(hints.worthTrying('p', 'c1@x.test', 'e', 0)).toBe(false);
    expect(hints.worthTrying('p', `c${HINT_ENTRIES}@x.test`, 'e', 0)).toBe(false);
  });
});
