import { describe, it, expect } from 'vitest';
import { z } from 'zod';
import { DELAY_UNITS, MAX_DELAY_MILLISECONDS, delayMilliseconds } from '../../core/delay';
import { STEP_TYPES, type StepType } from '../../core/graph';
import { parseStepConfig, stepConfigSchemas } from '../../core/step-configs';

const TEMPLATE_ID = '3f2b8c1e-6a4d-4e8b-9c2f-1a2b3c4d5e6f';
const FIELD_MESSAGE = 'field must be contact.email, contact.subscribed, contact.createdAt, contact.tags, data.<path>, contact.data.<path> or event.<path>';

describe('parseStepConfig accepts', () => {
  it.each([
    ['TRIGGER', {}],
    ['SEND_EMAIL', { templateId: TEMPLATE_ID }],
    ['SEND_EMAIL', { templateId: TEMPLATE_ID, from: 'Ada <ada@example.com>' }],
    ['SEND_SMS', { body: 'Hi {{firstName}}' }],
    ['SEND_SMS', { body: 'x'.repeat(1600), to: '{{data.mobile}}' }],
    ['DELAY', { amount: 1, unit: 'minutes' }],
    ['DELAY', { amount: 525_600, unit: 'minutes' }],
    ['DELAY', { amount: 8760, unit: 'hours' }],
    ['DELAY', { amount: 365, unit: 'days' }],
    ['DELAY', { amount: 52, unit: 'weeks' }],
    ['WAIT_FOR_EVENT', { eventName: 'order.paid' }],
    ['WAIT_FOR_EVENT', { eventName: 'email.opened', timeout: 86_400 }],
    ['WAIT_FOR_EVENT', { eventName: 'x', timeout: 31_536_000 }],
    ['CONDITION', { field: 'data.plan', operator: 'equals', value: 'pro' }],
    ['CONDITION', { field: 'event.amount', operator: 'greaterThan', value: '10' }],
    ['CONDITION', { logic: 'OR', groups: [{ filters: [{ field: 'contact.subscribed', operator: 'equals', value: true }] }] }],
    ['WEBHOOK', { url: 'https://example.com/hook' }],
    ['WEBHOOK', { url: 'http://localhost:8080/x?y=1' }],
    ['WEBHOOK', { url: 'HTTPS://EXAMPLE.COM' }],
    ['WEBHOOK', { url: '{{data.hookUrl}}' }],
    ['WEBHOOK', { url: 'https://{{data.tenant}}.example.com/x' }],
    [
      'WEBHOOK',
      {
        url: 'https://example.com',
        method: 'PUT',
        headers: { Authorization: 'Bearer {{data.token}}', 'X-Trace-Id': '1' },
        body: { id: '{{id}}', nested: [1, null, true, { a: 'b' }] },
      },
    ],
    ['WEBHOOK', { url: 'https://example.com', method: 'GET', body: 'text' }],
    ['WEBHOOK', { url: 'https://example.com', body: null }],
    ['UPDATE_CONTACT', { data: { plan: 'pro' } }],
    ['UPDATE_CONTACT', { data: { plan: null, nested: { a: [1] }, greeting: 'Hi {{email}}' } }],
    ['UPDATE_CONTACT', { subscribed: false }],
    ['UPDATE_CONTACT', { data: {}, subscribed: true }],
    ['EXIT', {}],
    ['EXIT', { reason: 'converted' }],
  ] as [StepType, Record<string, unknown>][])('%s %j', (type, config) => {
    expect(parseStepConfig(type, config)).toEqual({ ok: true, config });
  });
});

describe('parseStepConfig refuses', () => {
  it.each([
    ['TRIGGER', { eventName: 'x' }, [{ path: 'config.eventName', message: 'unknown field "eventName"' }]],
    ['TRIGGER', null, [{ path: 'config', message: 'Invalid input: expected object, received null' }]],
    ['TRIGGER', undefined, [{ path: 'config', message: 'Invalid input: expected object, received undefined' }]],
    ['SEND_EMAIL', {}, [{ path: 'config.templateId', message: 'templateId is required' }]],
    ['SEND_EMAIL', { templateId: 42 }, [{ path: 'config.templateId', message: 'templateId must be a UUID' }]],
    ['SEND_EMAIL', { templateId: 'welcome' }, [{ path: 'config.templateId', message: 'templateId must be a UUID' }]],
    ['SEND_EMAIL', { templateId: TEMPLATE_ID, from: '' }, [{ path: 'config.from', message: 'must be an email address or "Name <address>", on one line' }]],
    [
      'SEND_EMAIL',
      { templateId: TEMPLATE_ID, from: 'Ada\r\nBcc: x <ada@example.com>' },
      [{ path: 'config.from', message: 'must be an email address or "Name <address>", on one line' }],
    ],
    [
      'SEND_EMAIL',
      { templateId: TEMPLATE_ID, subject: 'x', cc: 'y' },
      [
        { path: 'config.subject', message: 'unknown field "subject"' },
        { path: 'config.cc', message: 'unknown field "cc"' },
      ],
    ],
    ['DELAY', { amount: 0, unit: 'days' }, [{ path: 'config.amount', message: 'Too small: expected number to be >0' }]],
    ['DELAY', { amount: -2, unit: 'days' }, [{ path: 'config.amount', message: 'Too small: expected number to be >0' }]],
    ['DELAY', { amount: 1.5, unit: 'days' }, [{ path: 'config.amount', message: 'Invalid input: expected int, received number' }]],
    ['DELAY', { amount: '2', unit: 'days' }, [{ path: 'config.amount', message: 'Invalid input: expected number, received string' }]],
    ['DELAY', { amount: 2, unit: 'months' }, [{ path: 'config.unit', message: 'Invalid option: expected one of "minutes"|"hours"|"days"|"weeks"' }]],
    ['DELAY', { amount: 2 }, [{ path: 'config.unit', message: 'Invalid option: expected one of "minutes"|"hours"|"days"|"weeks"' }]],
    ['DELAY', { amount: 366, unit: 'days' }, [{ path: 'config.amount', message: 'a delay is at most 365 days' }]],
    ['DELAY', { amount: 53, unit: 'weeks' }, [{ path: 'config.amount', message: 'a delay is at most 365 days' }]],
    ['DELAY', { amount: 8761, unit: 'hours' }, [{ path: 'config.amount', message: 'a delay is at most 365 days' }]],
    ['DELAY', { amount: 525_601, unit: 'minutes' }, [{ path: 'config.amount', message: 'a delay is at most 365 days' }]],
    ['WAIT_FOR_EVENT', {}, [{ path: 'config.eventName', message: 'Invalid input: expected string, received undefined' }]],
    ['WAIT_FOR_EVENT', { eventName: '' }, [{ path: 'config.eventName', message: 'eventName must not be empty' }]],
    ['WAIT_FOR_EVENT', { eventName: '   ' }, [{ path: 'config.eventName', message: 'eventName must not be empty' }]],
    ['WAIT_FOR_EVENT', { eventName: 'x', timeout: 0 }, [{ path: 'config.timeout', message: 'Too small: expected number to be >0' }]],
    ['WAIT_FOR_EVENT', { eventName: 'x', timeout: 1.5 }, [{ path: 'config.timeout', message: 'Invalid input: expected int, received number' }]],
    ['WAIT_FOR_EVENT', { eventName: 'x', timeout: 31_536_001 }, [{ path: 'config.timeout', message: 'timeout is at most 365 days (31536000 seconds)' }]],
    ['WAIT_FOR_EVENT', { eventName: 'x', timeoutUnit: 'days' }, [{ path: 'config.timeoutUnit', message: 'unknown field "timeoutUnit"' }]],
    [
      'CONDITION',
      {},
      [
        { path: 'config.field', message: 'Invalid input: expected string, received undefined' },
        {
          path: 'config.operator',
          message:
            'Invalid option: expected one of "equals"|"notEquals"|"contains"|"notContains"|"greaterThan"|"lessThan"|"greaterThanOrEqual"|"lessThanOrEqual"|"exists"|"notExists"|"within"|"olderThan"',
        },
      ],
    ],
    ['CONDITION', { field: 'plan', operator: 'exists' }, [{ path: 'config.field', message: FIELD_MESSAGE }]],
    ['CONDITION', { field: 'data.plan', operator: 'equals' }, [{ path: 'config.value', message: 'value is required with operator equals' }]],
    [
      'CONDITION',
      { logic: 'AND', groups: [{ filters: [{ field: 'data.a', operator: 'within', value: 2 }], more: 1 }] },
      [
        { path: 'config.groups.0.filters.0.unit', message: 'unit (minutes, hours or days) is required with operator within' },
        { path: 'config.groups.0.more', message: 'unknown field "more"' },
      ],
    ],
    [
      'CONDITION',
      { logic: 'AND', groups: [{ filters: [{ field: 'data.a', operator: 'within', value: 2 }] }] },
      [{ path: 'config.groups.0.filters.0.unit', message: 'unit (minutes, hours or days) is required with operator within' }],
    ],
    ['WEBHOOK', {}, [{ path: 'config.url', message: 'Invalid input: expected string, received undefined' }]],
    ['WEBHOOK', { url: '' }, [{ path: 'config.url', message: 'url must be an absolute http(s) URL, or hold {{variables}} that render one' }]],
    ['WEBHOOK', { url: '/relative/path' }, [{ path: 'config.url', message: 'url must be an absolute http(s) URL, or hold {{variables}} that render one' }]],
    ['WEBHOOK', { url: 'example.com/hook' }, [{ path: 'config.url', message: 'url must be an absolute http(s) URL, or hold {{variables}} that render one' }]],
    ['WEBHOOK', { url: 'ftp://example.com' }, [{ path: 'config.url', message: 'url must be an absolute http(s) URL, or hold {{variables}} that render one' }]],
    ['WEBHOOK', { url: 'http:example.com' }, [{ path: 'config.url', message: 'url must be an absolute http(s) URL, or hold {{variables}} that render one' }]],
    ['WEBHOOK', { url: 'https://' }, [{ path: 'config.url', message: 'url must be an absolute http(s) URL, or hold {{variables}} that render one' }]],
    [
      'WEBHOOK',
      { url: 'https://example.com', method: 'post' },
      [{ path: 'config.method', message: 'Invalid option: expected one of "GET"|"POST"|"PUT"|"PATCH"|"DELETE"' }],
    ],
    [
      'WEBHOOK',
      { url: 'https://example.com', headers: { 'X-Count': 1 } },
      [{ path: 'config.headers.X-Count', message: 'Invalid input: expected string, received number' }],
    ],
    [
      'WEBHOOK',
      { url: 'https://example.com', headers: { 'Bad Name': 'x' } },
      [{ path: 'config.headers.Bad Name', message: 'header names must be HTTP tokens' }],
    ],
    ['WEBHOOK', { url: 'https://example.com', headers: [] }, [{ path: 'config.headers', message: 'Invalid input: expected record, received array' }]],
    ['WEBHOOK', { url: 'https://example.com', timeout: 5 }, [{ path: 'config.timeout', message: 'unknown field "timeout"' }]],
    ['UPDATE_CONTACT', {}, [{ path: 'config', message: 'UPDATE_CONTACT needs data (with at least one key), subscribed, addTags or removeTags' }]],
    ['UPDATE_CONTACT', { data: {} }, [{ path: 'config', message: 'UPDATE_CONTACT needs data (with at least one key), subscribed, addTags or removeTags' }]],
    ['UPDATE_CONTACT', { data: [1] }, [{ path: 'config.data', message: 'Invalid input: expected record, received array' }]],
    ['UPDATE_CONTACT', { data: 'x' }, [{ path: 'config.data', message: 'Invalid input: expected record, received string' }]],
    ['UPDATE_CONTACT', { subscribed: 'yes' }, [{ path: 'config.subscribed', message: 'Invalid input: expected boolean, received string' }]],
    [
      'UPDATE_CONTACT',
      { tags: ['a'] },
      [
        { path: 'config.tags', message: 'unknown field "tags"' },
        { path: 'config', message: 'UPDATE_CONTACT needs data (with at least one key), subscribed, addTags or removeTags' },
      ],
    ],
    ['UPDATE_CONTACT', { tags: ['a'], subscribed: true }, [{ path: 'config.tags', message: 'unknown field "tags"' }]],
    ['EXIT', { reason: 5 }, [{ path: 'config.reason', message: 'Invalid input: expected string, received number' }]],
    ['EXIT', { why: 'x' }, [{ path: 'config.why', message: 'unknown field "why"' }]],
  ] as [StepType, unknown, { path: string; message: string }[]][])('%s %j', (type, config, issues) => {
    expect(parseStepConfig(type, config)).toEqual({ ok: false, issues });
  });

  it('reports every bad field at once', () => {
    expect(parseStepConfig('WEBHOOK', { url: 'nope', method: 'FETCH', extra: true })).toEqual({
      ok: false,
      issues: [
        { path: 'config.url', message: 'url must be an absolute http(s) URL, or hold {{variables}} that render one' },
        { path: 'config.method', message: 'Invalid option: expected one of "GET"|"POST"|"PUT"|"PATCH"|"DELETE"' },
        { path: 'config.extra', message: 'unknown field "extra"' },
      ],
    });
  });

  it('refuses an unknown step type', () => {
    expect(parseStepConfig('SEND_FAX' as StepType, {})).toEqual({
      ok: false,
      issues: [{ path: 'type', message: `type must be one of ${STEP_TYPES.join(', ')}` }],
    });
  });
});

describe('stepConfigSchemas', () => {
  it('has one schema per step type', () => {
    expect(Object.keys(stepConfigSchemas).sort()).toEqual([...STEP_TYPES].sort());
  });

  it.each(STEP_TYPES)('the %s schema converts to JSON Schema', (type) => {
    expect(() => z.toJSONSchema(stepConfigSchemas[type])).not.toThrow();
  });
});

describe('delayMilliseconds', () => {
  it.each([
    [{ amount: 1, unit: 'minutes' }, 60_000],
    [{ amount: 90, unit: 'minutes' }, 5_400_000],
    [{ amount: 2, unit: 'hours' }, 7_200_000],
    [{ amount: 3, unit: 'days' }, 259_200_000],
    [{ amount: 2, unit: 'weeks' }, 1_209_600_000],
  ] as const)('%j → %d ms', (config, expected) => {
    expect(delayMilliseconds(config)).toBe(expected);
  });

  it('caps at 365 days', () => {
    expect(MAX_DELAY_MILLISECONDS).toBe(31_536_000_000);
    expect(DELAY_UNITS).toEqual(['minutes', 'hours', 'days', 'weeks']);
  });
});

describe('SEND_SMS config', () => {
  it.each([
    [{}, 'config.body', 'Invalid input: expected string, received undefined'],
    [{ body: '  ' }, 'config.body', 'body must not be empty'],
    [{ body: 'x'.repeat(1601) }, 'config.body', 'body is at most 1,600 characters'],
    [{ body: 'hi', to: '' }, 'config.to', 'to must not be empty'],
    [{ body: 'hi', media: 'x' }, 'config.media', 'unknown field "media"'],
  ])('refuses %j at %s', (config, path, message) => {
    expect(parseStepConfig('SEND_SMS', config)).toEqual({ ok: false, issues: [{ path, message }] });
  });
});
