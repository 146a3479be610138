import { describe, expect, it } from 'vitest';
import { evaluateFilter } from '../../core/filter';
import { filterSchema } from '../../core/filter-schema';
import { filterTable } from '../support/filter-table';

// The shared table against the CONDITION evaluator; segment-filters.test.ts runs it against stored membership.
const now = Date.parse('2024-06-01T12:00:00.000Z');
const { contacts, cases } = filterTable(now);
const createdAt = new Date(now - 30_000).toISOString();

describe('the shared filter table, evaluated as CONDITION steps evaluate it', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(filterSchema.safeParse(c.filter).success).toBe(true);
    const matching = contacts
      .filter((contact) => evaluateFilter(c.filter, { contact: { ...contact, createdAt }, event: {} }, now))
      .map((contact) => contact.key);
    expect(matching).toEqual(c.matches);
  });
});
