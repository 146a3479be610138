import { describe, it, expect } from 'vitest';
import {
  evaluateFilter,
  filterFields,
  isFilterField,
  parseIsoDate,
  readField,
  toNumber,
  usesEventFields,
  type Comparison,
  type Filter,
  type FilterSubject,
  type FilterTree,
} from '../../core/filter';
import { filterSchema } from '../../core/filter-schema';

const NOW = Date.parse('2024-06-01T00:00:00.000Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const subject: FilterSubject = {
  contact: {
    email: 'ada@example.com',
    subscribed: true,
    createdAt: '2024-01-01T00:00:00.000Z',
    data: {
      plan: 'pro',
      age: 42,
      ageText: '42',
      score: '3.5',
      padded: ' 7 ',
      blank: '',
      count: 0,
      flag: false,
      nothing: null,
      tags: ['vip', 'beta', 5, { a: 1 }],
      profile: { city: 'Paris', zip: '75001', nested: { deep: true } },
      items: [{ sku: 'A' }, { sku: 'B' }],
      obj: { a: 1, b: [1, 2] },
      signedUpAt: '2024-05-31T12:00:00Z',
      renewsOn: '2024-07-01',
      lastSeen: NOW - 2 * HOUR,
      future: '2024-06-02T00:00:00Z',
      badDate: '2024-02-30',
    },
  },
  event: { orderId: 'o-1', amount: 99.5, amountText: '99.5', meta: { source: 'web' }, lines: [10, 20], nothing: null },
};

const cmp = (field: string, operator: Comparison['operator'], value?: unknown, unit?: Comparison['unit']): Comparison => {
  const c: Comparison = { field, operator };
  if (value !== undefined) c.value = value;
  if (unit !== undefined) c.unit = unit;
  return c;
};
const test = (filter: Filter, s: FilterSubject = subject): boolean => evaluateFilter(filter, s, NOW);

describe('reading fields', () => {
  it.each([
    ['contact.email', 'ada@example.com'],
    ['contact.subscribed', true],
    ['contact.createdAt', '2024-01-01T00:00:00.000Z'],
    ['data.plan', 'pro'],
    ['contact.data.plan', 'pro'],
    ['data.profile.city', 'Paris'],
    ['contact.data.profile.nested.deep', true],
    ['data.items.1.sku', 'B'],
    ['data.tags.0', 'vip'],
    ['data.nothing', null],
    ['event.orderId', 'o-1'],
    ['event.meta.source', 'web'],
    ['event.lines.1', 20],
  ])('%s reads %j', (field, expected) => {
    expect(readField(field, subject)).toEqual(expected);
  });

  it.each([
    'data.unknown',
    'data.profile.country',
    'data.profile.city.length',
    'data.items.2.sku',
    'data.items.01',
    'data.items.-1',
    'data.items.x',
    'data.tags.length',
    'data.profile.constructor',
    'data.__proto__',
    'data.plan.0',
    'event.unknown',
    'contact.id',
    'contact.data',
    'data',
    'event',
    'custom.plan',
    'plan',
    '',
  ])('%s is missing', (field) => {
    expect(readField(field, subject)).toBeUndefined();
  });
});

describe('missing fields', () => {
  it.each([
    ['equals', 'x'],
    ['notEquals', 'x'],
    ['contains', 'x'],
    ['notContains', 'x'],
    ['greaterThan', 1],
    ['lessThan', 1],
    ['greaterThanOrEqual', 1],
    ['lessThanOrEqual', 1],
    ['exists', undefined],
    ['within', 1],
    ['olderThan', 1],
  ] as const)('%s is false on a missing field', (operator, value) => {
    const unit = operator === 'within' || operator === 'olderThan' ? 'days' : undefined;
    expect(test(cmp('data.unknown', operator, value, unit))).toBe(false);
    expect(test(cmp('event.unknown', operator, value, unit))).toBe(false);
    expect(test(cmp('other.field', operator, value, unit))).toBe(false);
  });

  it('notExists is true on a missing field, a field of an unknown prefix and a null field', () => {
    expect(test(cmp('data.unknown', 'notExists'))).toBe(true);
    expect(test(cmp('event.unknown', 'notExists'))).toBe(true);
    expect(test(cmp('other.field', 'notExists'))).toBe(true);
    expect(test(cmp('data.nothing', 'notExists'))).toBe(true);
    expect(test(cmp('event.nothing', 'notExists'))).toBe(true);
  });
});

describe('exists / notExists', () => {
  it.each(['data.plan', 'data.count', 'data.flag', 'data.blank', 'data.tags', 'contact.subscribed', 'event.orderId'])('%s exists', (field) => {
    expect(test(cmp(field, 'exists'))).toBe(true);
    expect(test(cmp(field, 'notExists'))).toBe(false);
  });

  it('a null field does not exist', () => {
    expect(test(cmp('data.nothing', 'exists'))).toBe(false);
    expect(test(cmp('data.nothing', 'notExists'))).toBe(true);
  });

  it('ignores a value given with exists', () => {
    expect(test(cmp('data.plan', 'exists', 'anything'))).toBe(true);
  });
});

describe('equals / notEquals', () => {
  it.each([
    ['data.plan', 'pro', true],
    ['data.plan', 'Pro', false],
    ['data.age', 42, true],
    ['data.age', '42', false],
    ['data.ageText', 42, false],
    ['data.ageText', '42', true],
    ['data.count', 0, true],
    ['data.count', false, false],
    ['data.flag', false, true],
    ['data.flag', 0, false],
    ['data.blank', '', true],
    ['data.nothing', null, true],
    ['data.nothing', 'null', false],
    ['contact.subscribed', true, true],
    ['contact.subscribed', 'true', false],
    ['data.obj', { b: [1, 2], a: 1 }, true],
    ['data.obj', { a: 1, b: [2, 1] }, false],
    ['data.obj', { a: 1 }, false],
    ['data.obj', { a: 1, b: [1, 2], c: null }, false],
    ['data.tags', ['vip', 'beta', 5, { a: 1 }], true],
    ['data.tags', ['vip', 'beta', 5], false],
    ['data.profile.nested', { deep: true }, true],
    ['data.items', [{ sku: 'A' }, { sku: 'B' }], true],
    ['data.obj', [1, 2], false],
    ['event.amount', 99.5, true],
    ['event.amount', '99.5', false],
    ['event.meta.source', 'web', true],
  ])('%s equals %j → %s', (field, value, expected) => {
    expect(test(cmp(field, 'equals', value))).toBe(expected);
    expect(test(cmp(field, 'notEquals', value))).toBe(!expected);
  });

  it('contact.email compares case-insensitively', () => {
    expect(test(cmp('contact.email', 'equals', 'ADA@Example.COM'))).toBe(true);
    expect(test(cmp('contact.email', 'notEquals', 'ADA@Example.COM'))).toBe(false);
    expect(test(cmp('contact.email', 'equals', 'bob@example.com'))).toBe(false);
    expect(test(cmp('contact.email', 'notEquals', 'bob@example.com'))).toBe(true);
    const mixed = { ...subject, contact: { ...subject.contact, email: 'Ada@Example.com' } };
    expect(test(cmp('contact.email', 'equals', 'ada@example.com'), mixed)).toBe(true);
  });

  it('other string fields compare case-sensitively', () => {
    expect(test(cmp('data.profile.city', 'equals', 'paris'))).toBe(false);
    expect(test(cmp('data.profile.city', 'notEquals', 'paris'))).toBe(true);
  });

  it('a null field is a value: notEquals something else is true', () => {
    expect(test(cmp('data.nothing', 'notEquals', 'x'))).toBe(true);
  });

  it('a comparison without its value matches nothing', () => {
    expect(test(cmp('data.plan', 'equals'))).toBe(false);
    expect(test(cmp('data.plan', 'notEquals'))).toBe(false);
    expect(test(cmp('data.plan', 'contains'))).toBe(false);
    expect(test(cmp('data.plan', 'notContains'))).toBe(false);
    expect(test(cmp('data.age', 'greaterThan'))).toBe(false);
  });
});

describe('contains / notContains', () => {
  it.each([
    ['data.plan', 'ro', true],
    ['data.plan', 'pro', true],
    ['data.plan', '', true],
    ['data.plan', 'RO', false],
    ['data.plan', 'x', false],
    ['data.profile.zip', 750, true],
    ['data.profile.zip', 76, false],
    ['data.tags', 'vip', true],
    ['data.tags', 'vi', false],
    ['data.tags', 5, true],
    ['data.tags', '5', false],
    ['data.tags', { a: 1 }, true],
    ['data.tags', { a: 2 }, false],
    ['event.lines', 20, true],
    ['event.lines', 30, false],
    ['contact.email', '@example', true],
    ['contact.email', '@EXAMPLE.COM', true],
    ['contact.email', '@other', false],
  ])('%s contains %j → %s', (field, value, expected) => {
    expect(test(cmp(field, 'contains', value))).toBe(expected);
    expect(test(cmp(field, 'notContains', value))).toBe(!expected);
  });

  it.each(['data.age', 'data.flag', 'data.obj', 'data.nothing', 'contact.subscribed'])('both are false on %s, neither a string nor an array', (field) => {
    expect(test(cmp(field, 'contains', '4'))).toBe(false);
    expect(test(cmp(field, 'notContains', '4'))).toBe(false);
  });
});

describe('greaterThan / lessThan / greaterThanOrEqual / lessThanOrEqual', () => {
  const ordering = (field: string, value: unknown) => [
    test(cmp(field, 'greaterThan', value)),
    test(cmp(field, 'greaterThanOrEqual', value)),
    test(cmp(field, 'lessThan', value)),
    test(cmp(field, 'lessThanOrEqual', value)),
  ];
  const ABOVE = [true, true, false, false];
  const EQUAL = [false, true, false, true];
  const BELOW = [false, false, true, true];
  const NONE = [false, false, false, false];

  it.each([
    ['data.age', 41, ABOVE],
    ['data.age', 42, EQUAL],
    ['data.age', 43, BELOW],
    ['data.age', '41', ABOVE],
    ['data.age', ' 42 ', EQUAL],
    ['data.ageText', 42, EQUAL],
    ['data.ageText', '100', BELOW],
    ['data.score', 3.5, EQUAL],
    ['data.score', '3.25', ABOVE],
    ['data.padded', 7, EQUAL],
    ['data.count', -1, ABOVE],
    ['data.count', '1e1', BELOW],
    ['event.amount', 100, BELOW],
    ['event.amountText', '99.5', EQUAL],
  ])('%s against %j', (field, value, expected) => {
    expect(ordering(field, value)).toEqual(expected);
  });

  it.each([
    ['data.plan', 1],
    ['data.blank', 0],
    ['data.age', ''],
    ['data.age', 'abc'],
    ['data.age', '0x2A'],
    ['data.age', 'Infinity'],
    ['data.age', null],
    ['data.age', true],
    ['data.age', [42]],
    ['data.flag', 0],
    ['data.nothing', 0],
    ['data.tags', 1],
    ['data.obj', 1],
    ['data.age', '2024-01-01'],
    ['data.signedUpAt', 5],
  ])('%s against %j is false for all four', (field, value) => {
    expect(ordering(field, value)).toEqual(NONE);
  });

  it('compares two ISO dates as timestamps', () => {
    expect(ordering('data.signedUpAt', '2024-05-31T11:59:59Z')).toEqual(ABOVE);
    expect(ordering('data.signedUpAt', '2024-05-31T14:00:00+02:00')).toEqual(EQUAL);
    expect(ordering('data.signedUpAt', '2024-06-01')).toEqual(BELOW);
    expect(ordering('data.renewsOn', '2024-06-30T23:59:59.999Z')).toEqual(ABOVE);
  });

  it('never compares an invalid date', () => {
    expect(ordering('data.badDate', '2024-01-01')).toEqual(NONE);
    expect(ordering('data.signedUpAt', '2024-13-01')).toEqual(NONE);
    expect(ordering('data.signedUpAt', 'yesterday')).toEqual(NONE);
  });

  it('compares contact.createdAt with an ISO date or an epoch number', () => {
    const created = Date.parse('2024-01-01T00:00:00.000Z');
    expect(ordering('contact.createdAt', '2023-12-31')).toEqual(ABOVE);
    expect(ordering('contact.createdAt', '2024-01-01T00:00:00Z')).toEqual(EQUAL);
    expect(ordering('contact.createdAt', '2024-01-01T01:00:00+00:00')).toEqual(BELOW);
    expect(ordering('contact.createdAt', created)).toEqual(EQUAL);
    expect(ordering('contact.createdAt', created - 1)).toEqual(ABOVE);
    expect(ordering('contact.createdAt', 'soon')).toEqual(NONE);
    expect(ordering('contact.createdAt', String(created))).toEqual(NONE);
  });
});

describe('within / olderThan', () => {
  const at = (value: unknown): FilterSubject => ({ ...subject, contact: { ...subject.contact, data: { when: value } } });

  it.each([
    // [field value, amount, unit, within, olderThan]
    [new Date(NOW - 2 * HOUR).toISOString(), 3, 'hours', true, false],
    [new Date(NOW - 2 * HOUR).toISOString(), 1, 'hours', false, true],
    [new Date(NOW - 2 * HOUR).toISOString(), 120, 'minutes', true, false],
    [new Date(NOW - 2 * HOUR - 1).toISOString(), 120, 'minutes', false, true],
    [new Date(NOW - 3 * DAY).toISOString(), 2, 'days', false, true],
    [new Date(NOW - 3 * DAY).toISOString(), 3, 'days', true, false],
    [new Date(NOW - 3 * DAY).toISOString(), 4, 'days', true, false],
    [NOW - 30 * 60_000, 1, 'hours', true, false],
    [NOW - 90 * 60_000, 1, 'hours', false, true],
    [new Date(NOW).toISOString(), 1, 'minutes', true, false],
    [new Date(NOW + 1).toISOString(), 1, 'days', false, false],
    ['2024-05-31', 1, 'days', true, false],
    ['2024-05-30', 1, 'days', false, true],
    [NOW - 1.5 * DAY, 1.5, 'days', true, false],
  ] as const)('%j with %d %s: within %s, olderThan %s', (when, amount, unit, within, olderThan) => {
    expect(test(cmp('data.when', 'within', amount, unit), at(when))).toBe(within);
    expect(test(cmp('data.when', 'olderThan', amount, unit), at(when))).toBe(olderThan);
  });

  it('works on contact.createdAt and event dates', () => {
    expect(test(cmp('contact.createdAt', 'olderThan', 30, 'days'))).toBe(true);
    expect(test(cmp('contact.createdAt', 'within', 30, 'days'))).toBe(false);
    expect(test(cmp('contact.createdAt', 'within', 200, 'days'))).toBe(true);
    expect(test(cmp('data.signedUpAt', 'within', 1, 'days'))).toBe(true);
    expect(test(cmp('data.lastSeen', 'olderThan', 1, 'hours'))).toBe(true);
    expect(test(cmp('data.future', 'within', 7, 'days'))).toBe(false);
    expect(test(cmp('data.future', 'olderThan', 7, 'days'))).toBe(false);
  });

  it.each([
    ['an invalid date', 'data.badDate', 1000, 'days'],
    ['a non-date string', 'data.plan', 1000, 'days'],
    ['a numeric string', 'data.ageText', 1000, 'days'],
    ['a boolean', 'data.flag', 1000, 'days'],
    ['null', 'data.nothing', 1000, 'days'],
    ['an object', 'data.obj', 1000, 'days'],
    ['a zero amount', 'data.signedUpAt', 0, 'days'],
    ['a negative amount', 'data.signedUpAt', -1, 'days'],
    ['an amount given as a string', 'data.signedUpAt', '1', 'days'],
    ['no unit', 'data.signedUpAt', 1, undefined],
    ['an unknown unit', 'data.signedUpAt', 1, 'weeks'],
  ])('both are false with %s', (_label, field, amount, unit) => {
    expect(test(cmp(field, 'within', amount, unit as Comparison['unit']))).toBe(false);
    expect(test(cmp(field, 'olderThan', amount, unit as Comparison['unit']))).toBe(false);
  });
});

describe('trees', () => {
  const T = cmp('data.plan', 'equals', 'pro');
  const F = cmp('data.plan', 'equals', 'free');

  it.each([
    ['AND of true groups', { logic: 'AND', groups: [{ filters: [T] }, { filters: [T, T] }] }, true],
    ['AND with one false group', { logic: 'AND', groups: [{ filters: [T] }, { filters: [F] }] }, false],
    ['OR with one true group', { logic: 'OR', groups: [{ filters: [F] }, { filters: [T] }] }, true],
    ['OR of false groups', { logic: 'OR', groups: [{ filters: [F] }, { filters: [T, F] }] }, false],
    ['filters of a group are ANDed under OR', { logic: 'OR', groups: [{ filters: [T, F] }] }, false],
    ['empty AND', { logic: 'AND', groups: [] }, true],
    ['empty OR', { logic: 'OR', groups: [] }, false],
    ['a group without filters', { logic: 'AND', groups: [{ filters: [] }] }, true],
    [
      'a group of only a true nested tree',
      { logic: 'AND', groups: [{ filters: [], conditions: { logic: 'OR', groups: [{ filters: [F] }, { filters: [T] }] } }] },
      true,
    ],
    [
      'a true group ANDed with a false nested tree',
      { logic: 'OR', groups: [{ filters: [T], conditions: { logic: 'AND', groups: [{ filters: [F] }] } }] },
      false,
    ],
    ['a false group with a true nested tree', { logic: 'OR', groups: [{ filters: [F], conditions: { logic: 'AND', groups: [] } }] }, false],
    ['a nested empty OR makes its group false', { logic: 'AND', groups: [{ filters: [T], conditions: { logic: 'OR', groups: [] } }] }, false],
    [
      'three levels deep',
      {
        logic: 'AND',
        groups: [
          {
            filters: [T],
            conditions: {
              logic: 'OR',
              groups: [{ filters: [F] }, { filters: [], conditions: { logic: 'AND', groups: [{ filters: [cmp('event.meta.source', 'equals', 'web')] }] } }],
            },
          },
        ],
      },
      true,
    ],
  ] as [string, FilterTree, boolean][])('%s → %s', (_label, tree, expected) => {
    expect(test(tree)).toBe(expected);
  });

  it('combines contact, data and event fields', () => {
    const tree: FilterTree = {
      logic: 'AND',
      groups: [
        { filters: [cmp('contact.subscribed', 'equals', true), cmp('contact.email', 'contains', 'EXAMPLE')] },
        { filters: [cmp('event.amount', 'greaterThanOrEqual', '50'), cmp('data.tags', 'contains', 'vip')] },
      ],
    };
    expect(test(tree)).toBe(true);
    const unsubscribed = { ...subject, contact: { ...subject.contact, subscribed: false } };
    expect(test(tree, unsubscribed)).toBe(false);
    expect(test(tree, { ...subject, event: {} })).toBe(false);
  });

  it('a single comparison is a filter of its own', () => {
    expect(test(T)).toBe(true);
    expect(test(F)).toBe(false);
  });
});

describe('filterFields / usesEventFields', () => {
  const tree: FilterTree = {
    logic: 'OR',
    groups: [
      { filters: [cmp('data.plan', 'equals', 'pro'), cmp('contact.email', 'exists')] },
      {
        filters: [cmp('data.plan', 'notEquals', 'free')],
        conditions: { logic: 'AND', groups: [{ filters: [cmp('event.meta.source', 'equals', 'web')] }] },
      },
    ],
  };

  it('lists every field once, in order of first use', () => {
    expect(filterFields(tree)).toEqual(['data.plan', 'contact.email', 'event.meta.source']);
    expect(filterFields(cmp('contact.createdAt', 'olderThan', 1, 'days'))).toEqual(['contact.createdAt']);
    expect(filterFields({ logic: 'AND', groups: [] })).toEqual([]);
  });

  it('finds event fields at any depth', () => {
    expect(usesEventFields(tree)).toBe(true);
    expect(usesEventFields(cmp('event.orderId', 'exists'))).toBe(true);
    expect(usesEventFields(cmp('data.event', 'exists'))).toBe(false);
    expect(usesEventFields(cmp('contact.data.event.x', 'exists'))).toBe(false);
    expect(usesEventFields({ logic: 'AND', groups: [{ filters: [cmp('data.plan', 'exists')] }] })).toBe(false);
  });
});

describe('parseIsoDate / toNumber / isFilterField', () => {
  it.each([
    ['2024-01-01', Date.UTC(2024, 0, 1)],
    ['2024-02-29', Date.UTC(2024, 1, 29)],
    ['2024-01-01T10:20', Date.UTC(2024, 0, 1, 10, 20)],
    ['2024-01-01T10:20:30Z', Date.UTC(2024, 0, 1, 10, 20, 30)],
    ['2024-01-01T10:20:30.5Z', Date.UTC(2024, 0, 1, 10, 20, 30, 500)],
    ['2024-01-01T10:20:30.123456Z', Date.UTC(2024, 0, 1, 10, 20, 30, 123)],
    ['2024-01-01T10:20:30+02:00', Date.UTC(2024, 0, 1, 8, 20, 30)],
    ['2024-01-01T10:20:30-0130', Date.UTC(2024, 0, 1, 11, 50, 30)],
    ['2024-01-01 10:20:30z', Date.UTC(2024, 0, 1, 10, 20, 30)],
  ])('%s → %d', (text, expected) => {
    expect(parseIsoDate(text)).toBe(expected);
  });

  it.each([
    '',
    'yesterday',
    '2024',
    '2024-1-1',
    '2023-02-29',
    '2024-02-30',
    '2024-04-31',
    '2024-13-01',
    '2024-00-10',
    '2024-01-01T24:00:00Z',
    '2024-01-01T10:60Z',
    '2024-01-01T10:00:00+25:00',
    '2024-01-01T10:00:00 Z',
    ' 2024-01-01',
  ])('%j is not a date', (text) => {
    expect(parseIsoDate(text)).toBeUndefined();
  });

  it.each([
    [42, 42],
    [-1.5, -1.5],
    ['42', 42],
    [' 3.5 ', 3.5],
    ['-7', -7],
    ['+7', 7],
    ['.5', 0.5],
    ['1e3', 1000],
    ['', undefined],
    ['  ', undefined],
    ['abc', undefined],
    ['0x10', undefined],
    ['Infinity', undefined],
    ['1e999', undefined],
    [Number.NaN, undefined],
    [Number.POSITIVE_INFINITY, undefined],
    [true, undefined],
    [null, undefined],
    [[1], undefined],
  ])('toNumber(%j) → %j', (value, expected) => {
    expect(toNumber(value)).toBe(expected);
  });

  it.each([
    ['contact.email', true],
    ['contact.subscribed', true],
    ['contact.createdAt', true],
    ['data.plan', true],
    ['data.items.0.sku', true],
    ['contact.data.plan', true],
    ['event.order.id', true],
    ['data', false],
    ['data.', false],
    ['data..plan', false],
    ['data.plan.', false],
    ['event', false],
    ['contact.data', false],
    ['contact.id', false],
    ['contact.Email', false],
    ['plan', false],
    ['', false],
  ])('isFilterField(%j) → %s', (field, expected) => {
    expect(isFilterField(field)).toBe(expected);
  });
});

describe('filterSchema', () => {
  const issues = (input: unknown) => {
    const result = filterSchema.safeParse(input);
    return result.success ? [] : result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  };
  const FIELD_MESSAGE = 'field must be contact.email, contact.subscribed, contact.createdAt, contact.tags, data.<path>, contact.data.<path> or event.<path>';

  it.each([
    cmp('data.plan', 'equals', 'pro'),
    cmp('data.nothing', 'equals', null),
    cmp('data.obj', 'equals', { a: 1, b: [1, 2] }),
    cmp('contact.email', 'contains', '@'),
    cmp('data.tags', 'notContains', 5),
    cmp('data.age', 'greaterThan', 5),
    cmp('data.age', 'lessThan', '5.5'),
    cmp('contact.createdAt', 'greaterThanOrEqual', '2024-01-01'),
    cmp('contact.createdAt', 'lessThanOrEqual', 1704067200000),
    cmp('data.plan', 'exists'),
    cmp('event.x', 'notExists'),
    cmp('data.plan', 'exists', ''),
    cmp('data.when', 'within', 3, 'days'),
    cmp('data.when', 'olderThan', 1.5, 'hours'),
    cmp('contact.data.when', 'within', 10, 'minutes'),
    { logic: 'AND', groups: [] },
    { logic: 'OR', groups: [{ filters: [] }] },
    {
      logic: 'AND',
      groups: [{ filters: [cmp('data.a', 'exists')], conditions: { logic: 'OR', groups: [{ filters: [cmp('event.b', 'equals', 1)] }] } }],
    },
  ])('accepts %j', (filter) => {
    expect(issues(filter)).toEqual([]);
    expect(filterSchema.parse(filter)).toEqual(filter);
  });

  it.each([
    ['an unknown prefix', { field: 'contact.id', operator: 'exists' }, [{ path: 'field', message: FIELD_MESSAGE }]],
    ['an empty path', { field: 'data.', operator: 'exists' }, [{ path: 'field', message: FIELD_MESSAGE }]],
    ['a missing value', { field: 'data.a', operator: 'equals' }, [{ path: 'value', message: 'value is required with operator equals' }]],
    ['a missing value for contains', { field: 'data.a', operator: 'contains' }, [{ path: 'value', message: 'value is required with operator contains' }]],
    [
      'a non-numeric value for greaterThan',
      { field: 'data.a', operator: 'greaterThan', value: 'abc' },
      [{ path: 'value', message: 'value must be a number, a numeric string or an ISO-8601 date with operator greaterThan' }],
    ],
    [
      'within without a unit',
      { field: 'data.a', operator: 'within', value: 3 },
      [{ path: 'unit', message: 'unit (minutes, hours or days) is required with operator within' }],
    ],
    [
      'olderThan with a negative value',
      { field: 'data.a', operator: 'olderThan', value: -3, unit: 'days' },
      [{ path: 'value', message: 'value must be a positive number with operator olderThan' }],
    ],
    [
      'within with a string value',
      { field: 'data.a', operator: 'within', value: '3', unit: 'days' },
      [{ path: 'value', message: 'value must be a positive number with operator within' }],
    ],
    [
      'a unit on equals',
      { field: 'data.a', operator: 'equals', value: 1, unit: 'days' },
      [{ path: 'unit', message: 'unit is only allowed with operators within and olderThan' }],
    ],
    ['an unknown key', { field: 'data.a', operator: 'exists', extra: 1 }, [{ path: '', message: 'Unrecognized key: "extra"' }]],
    ['not an object', 'data.a', [{ path: '', message: 'a filter must be a comparison {field, operator, value} or a tree {logic, groups}' }]],
    ['null', null, [{ path: '', message: 'a filter must be a comparison {field, operator, value} or a tree {logic, groups}' }]],
  ])('refuses %s', (_label, input, expected) => {
    expect(issues(input)).toEqual(expected);
  });

  it('refuses an unknown operator, logic and unit at their paths', () => {
    expect(issues({ field: 'data.a', operator: 'like', value: 'x' }).map((i) => i.path)).toEqual(['operator']);
    expect(issues({ field: 'data.a', operator: 'within', value: 1, unit: 'weeks' }).map((i) => i.path)).toEqual(['unit']);
    expect(issues({ logic: 'XOR', groups: [] }).map((i) => i.path)).toEqual(['logic']);
    expect(issues({ logic: 'AND' }).map((i) => i.path)).toEqual(['groups']);
  });

  it('names the path of every bad field deep in a tree', () => {
    const input = {
      logic: 'AND',
      groups: [
        { filters: [cmp('data.a', 'exists'), { field: 'oops', operator: 'exists' }] },
        {
          filters: [],
          conditions: { logic: 'OR', groups: [{ filters: [{ field: 'data.b', operator: 'within', value: 0, unit: 'days' }], extra: true }] },
        },
      ],
    };
    expect(issues(input)).toEqual([
      { path: 'groups.0.filters.1.field', message: FIELD_MESSAGE },
      { path: 'groups.1.conditions.groups.0.filters.0.value', message: 'value must be a positive number with operator within' },
      { path: 'groups.1.conditions.groups.0', message: 'Unrecognized key: "extra"' },
    ]);
  });
});
