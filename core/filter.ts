/**
 * The filter language of CONDITION steps and segments (SPEC §7.5): its types, how a field is read
 * from a contact and an execution context, and how a filter is evaluated. Pure: workflow code runs it.
 */
import { UNIT_MILLISECONDS } from './delay';

export const OPERATORS = [
  'equals',
  'notEquals',
  'contains',
  'notContains',
  'greaterThan',
  'lessThan',
  'greaterThanOrEqual',
  'lessThanOrEqual',
  'exists',
  'notExists',
  'within',
  'olderThan',
] as const;
export type Operator = (typeof OPERATORS)[number];

/** Operators that take no value. */
export const VALUELESS_OPERATORS = ['exists', 'notExists'] as const;
/** Operators that order two numbers (or two dates). */
export const ORDERING_OPERATORS = ['greaterThan', 'lessThan', 'greaterThanOrEqual', 'lessThanOrEqual'] as const;
/** Operators that place a date relative to now; they take a `unit`. */
export const TIME_OPERATORS = ['within', 'olderThan'] as const;

export const FILTER_UNITS = ['minutes', 'hours', 'days'] as const;
export type FilterUnit = (typeof FILTER_UNITS)[number];

export const FILTER_LOGICS = ['AND', 'OR'] as const;
export type FilterLogic = (typeof FILTER_LOGICS)[number];

export interface Comparison {
  field: string;
  operator: Operator;
  value?: unknown;
  unit?: FilterUnit;
}

export interface FilterGroup {
  filters: Comparison[];
  conditions?: FilterTree;
}

export interface FilterTree {
  logic: FilterLogic;
  groups: FilterGroup[];
}

export type Filter = Comparison | FilterTree;

/** What a filter is evaluated against: the contact, and the execution context as `event`. */
export interface FilterSubject {
  contact: { email: string; subscribed: boolean; createdAt: string; data: Record<string, unknown>; tags?: readonly string[] };
  event: Record<string, unknown>;
}

const FIXED_FIELDS = ['contact.email', 'contact.subscribed', 'contact.createdAt', 'contact.tags'];

/** The operators `contact.tags` takes: membership of one tag, or whether the contact has any. */
export const TAG_OPERATORS = ['contains', 'notContains', 'exists', 'notExists'] as const;
const PATH_PREFIXES = ['contact.data.', 'data.', 'event.'] as const;

/** True when a filter is a tree of groups rather than a single comparison. */
export function isFilterTree(filter: Filter): filter is FilterTree {
  return 'groups' in filter;
}

/** True when `field` is one a filter may name: a fixed contact field or a dotted path under data/event. */
export function isFilterField(field: string): boolean {
  if (FIXED_FIELDS.includes(field)) return true;
  const prefix = PATH_PREFIXES.find((p) => field.startsWith(p));
  return (
    prefix !== undefined &&
    field
      .slice(prefix.length)
      .split('.')
      .every((key) => key.length > 0)
  );
}

/** The value a field names for a subject; undefined when the field is missing. */
export function readField(field: string, subject: FilterSubject): unknown {
  switch (field) {
    case 'contact.email':
      return subject.contact.email;
    case 'contact.subscribed':
      return subject.contact.subscribed;
    case 'contact.createdAt':
      return subject.contact.createdAt;
    case 'contact.tags':
      return subject.contact.tags ?? [];
  }
  if (field.startsWith('contact.data.')) return readPath(subject.contact.data, field.slice('contact.data.'.length));
  if (field.startsWith('data.')) return readPath(subject.contact.data, field.slice('data.'.length));
  if (field.startsWith('event.')) return readPath(subject.event, field.slice('event.'.length));
  return undefined;
}

/** True when the subject matches the filter at time `now` (epoch milliseconds). */
export function evaluateFilter(filter: Filter, subject: FilterSubject, now: number): boolean {
  return isFilterTree(filter) ? evaluateTree(filter, subject, now) : evaluateComparison(filter, subject, now);
}

/** Every field a filter reads, once each, in order of first use. */
export function filterFields(filter: Filter): string[] {
  const fields = new Set<string>();
  const visit = (f: Filter): void => {
    if (!isFilterTree(f)) {
      fields.add(f.field);
      return;
    }
    for (const group of f.groups) {
      for (const comparison of group.filters) fields.add(comparison.field);
      if (group.conditions) visit(group.conditions);
    }
  };
  visit(filter);
  return [...fields];
}

/** True when a filter reads the execution context (`event.*`), which segments cannot. */
export function usesEventFields(filter: Filter): boolean {
  return filterFields(filter).some((field) => field.startsWith('event.'));
}

/**
 * The epoch milliseconds of an ISO-8601 date (`2024-05-01`) or date-time (`2024-05-01T10:00:00.000Z`,
 * `+02:00` offsets); undefined when the text is not one or names an impossible day. A date-time
 * without an offset is read as UTC, so every process evaluates it alike whatever its time zone.
 */
export function parseIsoDate(text: string): number | undefined {
  const m = ISO_DATE.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour = 0, minute = 0, second = 0] = m.slice(1, 7).map((part) => (part ? Number(part) : 0));
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const millis = m[7] ? Number(m[7].slice(0, 3).padEnd(3, '0')) : 0;
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone && zone.toUpperCase() !== 'Z') {
    const hours = Number(zone.slice(1, 3));
    const minutes = Number(zone.slice(-2));
    if (hours > 23 || minutes > 59) return undefined;
    offsetMinutes = (zone[0] === '-' ? -1 : 1) * (hours * 60 + minutes);
  }
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, millis);
  return date.getTime() - offsetMinutes * 60_000;
}

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?([Zz]|[+-]\d{2}:?\d{2})?)?$/;

const NUMERIC_STRING = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function evaluateTree(tree: FilterTree, subject: FilterSubject, now: number): boolean {
  const groupMatches = (group: FilterGroup): boolean =>
    group.filters.every((comparison) => evaluateComparison(comparison, subject, now)) &&
    (group.conditions === undefined || evaluateTree(group.conditions, subject, now));
  return tree.logic === 'OR' ? tree.groups.some(groupMatches) : tree.groups.every(groupMatches);
}

function evaluateComparison(comparison: Comparison, subject: FilterSubject, now: number): boolean {
  const { field, operator, value } = comparison;
  if (field === 'contact.tags') return evaluateTags(operator, subject.contact.tags ?? [], value);
  const actual = readField(field, subject);
  if (actual === undefined) return operator === 'notExists';
  if (operator === 'exists') return actual !== null;
  if (operator === 'notExists') return actual === null;
  // A comparison that lacks the value its operator needs matches nothing.
  if (value === undefined) return false;
  const ignoreCase = field === 'contact.email';
  switch (operator) {
    case 'equals':
      return sameValue(actual, value, ignoreCase);
    case 'notEquals':
      return !sameValue(actual, value, ignoreCase);
    case 'contains':
      return holds(actual, value, ignoreCase) === true;
    case 'notContains':
      return holds(actual, value, ignoreCase) === false;
    case 'greaterThan':
    case 'lessThan':
    case 'greaterThanOrEqual':
    case 'lessThanOrEqual':
      return ordered(operator, field, actual, value);
    case 'within':
    case 'olderThan':
      return relativeToNow(operator, actual, value, comparison.unit, now);
  }
}

/** `contact.tags` is never missing: `exists` means "has any tag", and a tag is compared lower-cased. */
function evaluateTags(operator: Operator, tags: readonly string[], value: unknown): boolean {
  const has = () => typeof value === 'string' && tags.includes(value.trim().toLowerCase());
  switch (operator) {
    case 'exists':
      return tags.length > 0;
    case 'notExists':
      return tags.length === 0;
    case 'contains':
      return has();
    case 'notContains':
      return typeof value === 'string' && !has();
    default:
      return false;
  }
}

function sameValue(actual: unknown, expected: unknown, ignoreCase: boolean): boolean {
  if (ignoreCase && typeof actual === 'string' && typeof expected === 'string') {
    return actual.toLowerCase() === expected.toLowerCase();
  }
  return jsonEqual(actual, expected);
}

/** Substring or membership test; undefined when the field is neither a string nor an array. */
function holds(actual: unknown, expected: unknown, ignoreCase: boolean): boolean | undefined {
  if (typeof actual === 'string') {
    const needle = String(expected);
    return ignoreCase ? actual.toLowerCase().includes(needle.toLowerCase()) : actual.includes(needle);
  }
  if (Array.isArray(actual)) return actual.some((item) => jsonEqual(item, expected));
  return undefined;
}

function ordered(operator: (typeof ORDERING_OPERATORS)[number], field: string, actual: unknown, expected: unknown): boolean {
  const pair = orderedPair(field, actual, expected);
  if (!pair) return false;
  const [a, b] = pair;
  switch (operator) {
    case 'greaterThan':
      return a > b;
    case 'lessThan':
      return a < b;
    case 'greaterThanOrEqual':
      return a >= b;
    case 'lessThanOrEqual':
      return a <= b;
  }
}

/** Both sides as numbers: timestamps for `contact.createdAt` or two ISO dates, else numeric values. */
function orderedPair(field: string, actual: unknown, expected: unknown): [number, number] | undefined {
  if (field === 'contact.createdAt') return both(toTimestamp(actual), toTimestamp(expected));
  const numbers = both(toNumber(actual), toNumber(expected));
  if (numbers) return numbers;
  if (typeof actual === 'string' && typeof expected === 'string') return both(parseIsoDate(actual), parseIsoDate(expected));
  return undefined;
}

function relativeToNow(operator: (typeof TIME_OPERATORS)[number], actual: unknown, amount: unknown, unit: unknown, now: number): boolean {
  const time = toTimestamp(actual);
  if (time === undefined || typeof amount !== 'number' || !Number.isFinite(amount) || amount <= 0) return false;
  if (!(FILTER_UNITS as readonly unknown[]).includes(unit)) return false;
  const cutoff = now - amount * UNIT_MILLISECONDS[unit as FilterUnit];
  return operator === 'within' ? time >= cutoff && time <= now : time < cutoff;
}

function both(a: number | undefined, b: number | undefined): [number, number] | undefined {
  return a === undefined || b === undefined ? undefined : [a, b];
}

/** A number, or a numeric string (`"42"`, `" 3.5 "`) as one; undefined for anything else or non-finite. */
export function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (!NUMERIC_STRING.test(text)) return undefined;
  const number = Number(text);
  return Number.isFinite(number) ? number : undefined;
}

/** A date as epoch milliseconds: an ISO-8601 string or a finite epoch number. */
function toTimestamp(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  return typeof value === 'string' ? parseIsoDate(value) : undefined;
}

function readPath(root: unknown, path: string): unknown {
  let current = root;
  for (const key of path.split('.')) {
    if (Array.isArray(current)) {
      if (!/^(?:0|[1-9]\d*)$/.test(key)) return undefined;
      current = current[Number(key)];
    } else if (isRecord(current) && Object.hasOwn(current, key)) {
      current = current[key];
    } else {
      return undefined;
    }
  }
  return current;
}

function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  }
  if (!isRecord(a) || !isRecord(b)) return false;
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && jsonEqual(a[key], b[key]));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
