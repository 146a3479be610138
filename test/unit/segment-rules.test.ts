import { describe, expect, it } from 'vitest';
import type { Filter } from '../../core/filter';
import { SEGMENT_SLUG, eventFieldPaths, isTimeRelative, membershipEventName, slugFromName } from '../../core/segment';

describe('segment slugs', () => {
  it.each([
    ['VIP', 'vip'],
    ['Pro Customers (EU)!', 'pro-customers-eu'],
    ['  Café crème  ', 'cafe-creme'],
    ['already-a_slug', 'already-a-slug'],
    ['!!!', 'segment'],
    ['日本', 'segment'],
    [`${'a'.repeat(63)} b`, 'a'.repeat(63)],
    ['x'.repeat(80), 'x'.repeat(64)],
  ])('%j → %j', (name, slug) => {
    expect(slugFromName(name)).toBe(slug);
    expect(SEGMENT_SLUG.test(slug)).toBe(true);
  });

  it('accepts slugs of a-z, 0-9, "_" and "-" starting with a letter or digit, up to 64', () => {
    for (const ok of ['a', '0', 'vip_2024', 'a-b', 'x'.repeat(64)]) expect(SEGMENT_SLUG.test(ok)).toBe(true);
    for (const bad of ['', '-a', '_a', 'A', 'a b', 'a.b', 'x'.repeat(65)]) expect(SEGMENT_SLUG.test(bad)).toBe(false);
  });

  it('names the membership events after the slug', () => {
    expect(membershipEventName('vip', 'entry')).toBe('segment.vip.entry');
    expect(membershipEventName('vip', 'exit')).toBe('segment.vip.exit');
  });
});

describe('what a segment filter needs', () => {
  const tree: Filter = {
    logic: 'OR',
    groups: [
      {
        filters: [
          { field: 'data.plan', operator: 'exists' },
          { field: 'event.amount', operator: 'greaterThan', value: 1 },
        ],
      },
      {
        filters: [],
        conditions: {
          logic: 'AND',
          groups: [
            {
              filters: [
                { field: 'data.seenAt', operator: 'olderThan', value: 2, unit: 'days' },
                { field: 'event.x', operator: 'exists' },
              ],
            },
          ],
        },
      },
    ],
  };

  it('finds the path of every event.* comparison, nested ones included', () => {
    expect(eventFieldPaths(tree)).toEqual([
      ['groups', 0, 'filters', 1, 'field'],
      ['groups', 1, 'conditions', 'groups', 0, 'filters', 1, 'field'],
    ]);
    expect(eventFieldPaths({ field: 'event.a', operator: 'exists' })).toEqual([['field']]);
    expect(eventFieldPaths({ field: 'data.a', operator: 'exists' })).toEqual([]);
  });

  it('knows a filter is time-relative when any comparison uses within or olderThan', () => {
    expect(isTimeRelative(tree)).toBe(true);
    expect(isTimeRelative({ field: 'data.seenAt', operator: 'within', value: 1, unit: 'hours' })).toBe(true);
    expect(isTimeRelative({ field: 'contact.createdAt', operator: 'greaterThan', value: '2024-01-01' })).toBe(false);
    expect(isTimeRelative({ logic: 'AND', groups: [] })).toBe(false);
  });
});
