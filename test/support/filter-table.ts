/**
 * One table of filters (SPEC §7.5) and the contacts each matches, run both by the CONDITION evaluator
 * (test/unit/filter-table.test.ts) and by stored segment membership through the API and Postgres
 * (test/integration/segment-filters.test.ts). Dates are relative to `now`, with margins of minutes,
 * so a run that takes a few seconds reads the same outcome.
 */
import type { Comparison, Filter } from '../../core/filter';

export interface TableContact {
  key: string;
  email: string;
  subscribed: boolean;
  data: Record<string, unknown>;
  /** Contact tags (SPEC §14.1), unlike `data.tags`, which is plain data. */
  tags: string[];
}

export interface FilterCase {
  name: string;
  filter: Filter;
  /** Keys of the contacts that match, in table order. */
  matches: string[];
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const cmp = (field: string, operator: Comparison['operator'], value?: unknown, unit?: Comparison['unit']): Comparison => ({
  field,
  operator,
  ...(value !== undefined ? { value } : {}),
  ...(unit !== undefined ? { unit } : {}),
});

/** The contacts (their createdAt is "just now": within the last minute) and the cases, for a moment `now`. */
export function filterTable(now: number): { contacts: TableContact[]; cases: FilterCase[] } {
  const ago = (ms: number) => new Date(now - ms).toISOString();
  const contacts: TableContact[] = [
    {
      key: 'ada',
      email: 'ada@example.com',
      subscribed: true,
      data: {
        plan: 'pro',
        age: 42,
        score: '3.5',
        tags: ['vip', 'beta'],
        profile: { city: 'Paris' },
        lastSeenAt: ago(2 * HOUR),
        signedUpAt: ago(40 * DAY),
      },
      tags: ['vip', 'early-bird'],
    },
    {
      key: 'bob',
      email: 'bob@example.org',
      subscribed: false,
      data: { plan: 'free', age: '17', tags: ['beta'], profile: { city: 'Berlin' }, lastSeenAt: ago(3 * DAY), signedUpAt: ago(90 * MINUTE) },
      tags: ['vip'],
    },
    {
      key: 'cy',
      email: 'cy@example.com',
      subscribed: true,
      data: { plan: 'Pro', age: 65.5, score: 10, tags: 'vip-list', lastSeenAt: 'not a date' },
      tags: ['beta'],
    },
    { key: 'dee', email: 'dee@example.net', subscribed: true, data: {}, tags: [] },
    {
      key: 'eve',
      email: 'eve@example.org',
      subscribed: true,
      // A top-level null removes a key when written, so the null sits one level down.
      data: { age: 'old', tags: [], profile: { city: 'paris', zip: null }, lastSeenAt: now - 30 * MINUTE },
      tags: ['beta', 'vip'],
    },
  ];

  const cases: FilterCase[] = [
    // equals / notEquals: strict JSON comparison, case-sensitive except contact.email.
    { name: 'equals a string', filter: cmp('data.plan', 'equals', 'pro'), matches: ['ada'] },
    { name: 'equals a number is not its numeric string', filter: cmp('data.age', 'equals', 17), matches: [] },
    { name: 'equals a numeric string', filter: cmp('data.age', 'equals', '17'), matches: ['bob'] },
    { name: 'equals an array', filter: cmp('data.tags', 'equals', ['vip', 'beta']), matches: ['ada'] },
    { name: 'notEquals (false on a missing field)', filter: cmp('data.plan', 'notEquals', 'pro'), matches: ['bob', 'cy'] },
    { name: 'notEquals (true on null)', filter: cmp('data.profile.zip', 'notEquals', '75001'), matches: ['eve'] },
    { name: 'contact.data alias', filter: cmp('contact.data.plan', 'equals', 'pro'), matches: ['ada'] },
    { name: 'array index path', filter: cmp('data.tags.0', 'equals', 'vip'), matches: ['ada'] },
    // contains / notContains: substring on strings, membership on arrays.
    { name: 'contains a substring', filter: cmp('data.profile.city', 'contains', 'aris'), matches: ['ada', 'eve'] },
    { name: 'contains: array member or substring', filter: cmp('data.tags', 'contains', 'vip'), matches: ['ada', 'cy'] },
    { name: 'notContains (false on a missing field)', filter: cmp('data.tags', 'notContains', 'vip'), matches: ['bob', 'eve'] },
    // The four ordering operators convert numeric strings.
    { name: 'greaterThan', filter: cmp('data.age', 'greaterThan', 18), matches: ['ada', 'cy'] },
    { name: 'lessThan with a numeric-string value', filter: cmp('data.age', 'lessThan', '18'), matches: ['bob'] },
    { name: 'greaterThanOrEqual', filter: cmp('data.age', 'greaterThanOrEqual', 42), matches: ['ada', 'cy'] },
    { name: 'lessThanOrEqual', filter: cmp('data.age', 'lessThanOrEqual', 17), matches: ['bob'] },
    { name: 'greaterThan on numeric strings', filter: cmp('data.score', 'greaterThan', '3'), matches: ['ada', 'cy'] },
    { name: 'lessThan on ISO dates', filter: cmp('data.signedUpAt', 'lessThan', ago(DAY)), matches: ['ada'] },
    // exists / notExists: null does not exist.
    { name: 'exists', filter: cmp('data.plan', 'exists'), matches: ['ada', 'bob', 'cy'] },
    { name: 'notExists (missing)', filter: cmp('data.plan', 'notExists'), matches: ['dee', 'eve'] },
    { name: 'a null or missing nested path does not exist', filter: cmp('data.profile.zip', 'exists'), matches: [] },
    { name: 'notExists (null or missing)', filter: cmp('data.profile.zip', 'notExists'), matches: ['ada', 'bob', 'cy', 'dee', 'eve'] },
    // within / olderThan in each unit; ISO strings and epoch numbers are dates, other text is not.
    { name: 'within days', filter: cmp('data.lastSeenAt', 'within', 1, 'days'), matches: ['ada', 'eve'] },
    { name: 'within hours', filter: cmp('data.lastSeenAt', 'within', 3, 'hours'), matches: ['ada', 'eve'] },
    { name: 'within minutes', filter: cmp('data.lastSeenAt', 'within', 45, 'minutes'), matches: ['eve'] },
    { name: 'olderThan days', filter: cmp('data.lastSeenAt', 'olderThan', 1, 'days'), matches: ['bob'] },
    { name: 'olderThan hours', filter: cmp('data.signedUpAt', 'olderThan', 1, 'hours'), matches: ['ada', 'bob'] },
    { name: 'olderThan minutes', filter: cmp('data.signedUpAt', 'olderThan', 120, 'minutes'), matches: ['ada'] },
    // Contact fields.
    { name: 'contact.email equals, case-insensitive', filter: cmp('contact.email', 'equals', 'ADA@Example.com'), matches: ['ada'] },
    { name: 'contact.email contains, case-insensitive', filter: cmp('contact.email', 'contains', 'EXAMPLE.ORG'), matches: ['bob', 'eve'] },
    { name: 'contact.subscribed', filter: cmp('contact.subscribed', 'equals', false), matches: ['bob'] },
    { name: 'contact.createdAt within', filter: cmp('contact.createdAt', 'within', 1, 'hours'), matches: ['ada', 'bob', 'cy', 'dee', 'eve'] },
    { name: 'contact.createdAt olderThan', filter: cmp('contact.createdAt', 'olderThan', 1, 'days'), matches: [] },
    { name: 'contact.createdAt after a date', filter: cmp('contact.createdAt', 'greaterThan', '2020-01-01'), matches: ['ada', 'bob', 'cy', 'dee', 'eve'] },
    // contact.tags: membership of one tag (compared lower-cased), `exists` when the contact has any.
    { name: 'contact.tags contains', filter: cmp('contact.tags', 'contains', 'vip'), matches: ['ada', 'bob', 'eve'] },
    { name: 'contact.tags contains, lower-cased', filter: cmp('contact.tags', 'contains', 'Early-Bird'), matches: ['ada'] },
    { name: 'contact.tags notContains (true without tags)', filter: cmp('contact.tags', 'notContains', 'vip'), matches: ['cy', 'dee'] },
    { name: 'contact.tags contains no substring', filter: cmp('contact.tags', 'contains', 'vi'), matches: [] },
    { name: 'contact.tags exists', filter: cmp('contact.tags', 'exists'), matches: ['ada', 'bob', 'cy', 'eve'] },
    { name: 'contact.tags notExists', filter: cmp('contact.tags', 'notExists'), matches: ['dee'] },
    {
      name: 'contact.tags with data in one group',
      filter: { logic: 'AND', groups: [{ filters: [cmp('contact.tags', 'contains', 'beta'), cmp('data.plan', 'exists')] }] },
      matches: ['cy'],
    },
    // Trees: filters in a group are ANDed, groups joined by logic, conditions nest.
    {
      name: 'AND of groups',
      filter: { logic: 'AND', groups: [{ filters: [cmp('data.tags', 'contains', 'vip')] }, { filters: [cmp('data.age', 'greaterThan', 50)] }] },
      matches: ['cy'],
    },
    {
      name: 'OR of groups, one with a nested AND',
      filter: {
        logic: 'OR',
        groups: [
          { filters: [cmp('data.plan', 'equals', 'pro')] },
          { filters: [cmp('contact.subscribed', 'equals', false)], conditions: { logic: 'AND', groups: [{ filters: [cmp('data.age', 'lessThan', 18)] }] } },
        ],
      },
      matches: ['ada', 'bob'],
    },
    {
      name: 'a group ANDed with a nested OR',
      filter: {
        logic: 'AND',
        groups: [
          {
            filters: [cmp('contact.email', 'contains', 'example.org')],
            conditions: {
              logic: 'OR',
              groups: [{ filters: [cmp('data.profile.city', 'contains', 'aris')] }, { filters: [cmp('data.plan', 'equals', 'free')] }],
            },
          },
        ],
      },
      matches: ['bob', 'eve'],
    },
    {
      name: 'several filters in one group are ANDed',
      filter: { logic: 'OR', groups: [{ filters: [cmp('data.tags', 'exists'), cmp('data.age', 'lessThan', 50), cmp('contact.subscribed', 'equals', true)] }] },
      matches: ['ada'],
    },
    { name: 'AND of no groups matches everyone', filter: { logic: 'AND', groups: [] }, matches: ['ada', 'bob', 'cy', 'dee', 'eve'] },
    { name: 'OR of no groups matches no one', filter: { logic: 'OR', groups: [] }, matches: [] },
  ];
  return { contacts, cases };
}
