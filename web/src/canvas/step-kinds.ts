/**
 * What the canvas knows of each step type: its palette label, the side panel's form fields (one per
 * config field of SPEC §5.4, named by the field's path so the API's errors land at it), a default
 * config for a new step, and a one-line summary for its box.
 */
import type { StepType } from '../api';

/** `filter` and `branches` are structured editors over JSON (StructuredFields.tsx). */
export type FieldKind = 'text' | 'number' | 'select' | 'json' | 'filter' | 'branches' | 'tags' | 'boolean' | 'template' | 'workflow';

export interface FieldSpec {
  /** The config field; '' is the whole config (a CONDITION's filter). */
  name: string;
  label: string;
  kind: FieldKind;
  options?: readonly string[];
  help?: string;
}

export interface StepKind {
  label: string;
  fields: FieldSpec[];
  defaults: Record<string, unknown>;
}

const DELAY_UNITS = ['minutes', 'hours', 'days', 'weeks'] as const;

export const STEP_KINDS: Record<StepType, StepKind> = {
  TRIGGER: { label: 'Trigger', fields: [], defaults: {} },
  SEND_EMAIL: {
    label: 'Send email',
    fields: [
      { name: 'templateId', label: 'Template', kind: 'template' },
      { name: 'from', label: 'From (optional)', kind: 'text', help: 'Overrides the template’s sender, e.g. Team <team@example.com>' },
    ],
    defaults: {},
  },
  DELAY: {
    label: 'Delay',
    fields: [
      { name: 'amount', label: 'Amount', kind: 'number' },
      { name: 'unit', label: 'Unit', kind: 'select', options: DELAY_UNITS },
    ],
    defaults: { amount: 1, unit: 'days' },
  },
  WAIT_FOR_EVENT: {
    label: 'Wait for event',
    fields: [
      { name: 'eventName', label: 'Event name', kind: 'text' },
      { name: 'timeout', label: 'Timeout in seconds (optional)', kind: 'number', help: 'Without one it waits until cancelled.' },
    ],
    defaults: {},
  },
  CONDITION: {
    label: 'Condition',
    fields: [{ name: '', label: 'Filter', kind: 'filter' }],
    defaults: { field: 'data.plan', operator: 'equals', value: 'pro' },
  },
  WEBHOOK: {
    label: 'Webhook',
    fields: [
      { name: 'url', label: 'URL', kind: 'text' },
      { name: 'method', label: 'Method', kind: 'select', options: ['POST', 'GET', 'PUT', 'PATCH', 'DELETE'] },
      { name: 'headers', label: 'Headers (JSON, optional)', kind: 'json' },
      { name: 'body', label: 'Body (JSON, optional)', kind: 'json' },
    ],
    defaults: { method: 'POST' },
  },
  UPDATE_CONTACT: {
    label: 'Update contact',
    fields: [
      { name: 'data', label: 'Data to merge (JSON, optional)', kind: 'json' },
      { name: 'subscribed', label: 'Subscription', kind: 'boolean' },
      { name: 'addTags', label: 'Add tags (comma-separated)', kind: 'tags' },
      { name: 'removeTags', label: 'Remove tags (comma-separated)', kind: 'tags' },
    ],
    defaults: {},
  },
  EXIT: { label: 'Exit', fields: [{ name: 'reason', label: 'Reason (optional)', kind: 'text' }], defaults: {} },
  SPLIT: {
    label: 'Split',
    fields: [{ name: 'branches', label: 'Branches', kind: 'branches' }],
    defaults: {
      branches: [
        { name: 'a', weight: 1 },
        { name: 'b', weight: 1 },
      ],
    },
  },
  TRIGGER_EVENT: {
    label: 'Trigger event',
    fields: [
      { name: 'eventName', label: 'Event name', kind: 'text' },
      { name: 'data', label: 'Data (JSON, optional)', kind: 'json' },
    ],
    defaults: {},
  },
  START_WORKFLOW: {
    label: 'Start workflow',
    fields: [
      { name: 'workflowId', label: 'Workflow', kind: 'workflow' },
      { name: 'context', label: 'Context (JSON, optional)', kind: 'json' },
    ],
    defaults: {},
  },
  WAIT_UNTIL: {
    label: 'Wait until',
    fields: [
      { name: 'time', label: 'Time of day (HH:MM, optional with a date)', kind: 'text' },
      { name: 'days', label: 'Weekdays (optional)', kind: 'tags', help: 'e.g. mon, tue — only with a time of day' },
      { name: 'date', label: 'Date (optional)', kind: 'text', help: 'An ISO date or e.g. {{data.serviceDate}}' },
      { name: 'offset', label: 'Offset (JSON, optional)', kind: 'json', help: 'e.g. {"amount": 30, "unit": "days", "direction": "before"}' },
      { name: 'timezone', label: 'Zone (optional)', kind: 'text', help: 'An IANA zone, or "contact" (the default)' },
    ],
    defaults: { time: '09:00' },
  },
  SEND_SMS: {
    label: 'Send text message',
    fields: [
      { name: 'body', label: 'Message', kind: 'text', help: 'May use {{variables}}, e.g. Hi {{firstName}}' },
      { name: 'to', label: 'To (optional)', kind: 'text', help: 'Defaults to {{phone}}; E.164, e.g. +15551234567' },
    ],
    defaults: { body: 'Hi {{firstName}}' },
  },
};

/** The types a palette offers (the TRIGGER is made with the workflow). */
export const PALETTE: StepType[] = [
  'SEND_EMAIL',
  'SEND_SMS',
  'DELAY',
  'WAIT_FOR_EVENT',
  'WAIT_UNTIL',
  'CONDITION',
  'SPLIT',
  'WEBHOOK',
  'UPDATE_CONTACT',
  'TRIGGER_EVENT',
  'START_WORKFLOW',
  'EXIT',
];

function isJson(kind: FieldKind): boolean {
  return kind === 'json' || kind === 'filter' || kind === 'branches';
}

/** The form's text for each field of a config. */
export function formValues(kind: StepKind, config: Record<string, unknown>): Record<string, string> {
  const values: Record<string, string> = {};
  for (const field of kind.fields) {
    const value = field.name === '' ? config : config[field.name];
    if (value === undefined || value === null) values[field.name] = '';
    else if (isJson(field.kind)) values[field.name] = JSON.stringify(value, null, 2);
    else if (field.kind === 'tags') values[field.name] = (value as string[]).join(', ');
    else values[field.name] = String(value);
  }
  return values;
}

/**
 * The config a form's text makes: empty fields left out, numbers and JSON parsed. Text that does not
 * parse is sent as it is, so the API names the field; JSON that does not parse is reported here.
 */
export function configOf(kind: StepKind, values: Record<string, string>): { config: Record<string, unknown>; errors: { path: string; message: string }[] } {
  let config: Record<string, unknown> = {};
  const errors: { path: string; message: string }[] = [];
  for (const field of kind.fields) {
    const text = (values[field.name] ?? '').trim();
    if (text === '') continue;
    let value: unknown = text;
    if (field.kind === 'number') value = /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
    if (field.kind === 'boolean') value = text === 'true';
    if (field.kind === 'tags')
      value = text
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean);
    if (isJson(field.kind)) {
      try {
        value = JSON.parse(text);
      } catch {
        errors.push({ path: field.name === '' ? 'config' : `config.${field.name}`, message: 'is not valid JSON' });
        continue;
      }
    }
    if (field.name === '') config = value as Record<string, unknown>;
    else config[field.name] = value;
  }
  return { config, errors };
}

function plural(amount: unknown, unit: string): string {
  return `${String(amount)} ${amount === 1 ? unit.replace(/s$/, '') : unit}`;
}

function filterSummary(filter: Record<string, unknown>): string {
  if (typeof filter.field === 'string') {
    const value = filter.value === undefined ? '' : ` ${JSON.stringify(filter.value)}`;
    return `${filter.field} ${String(filter.operator)}${value}`;
  }
  const groups = Array.isArray(filter.groups) ? filter.groups.length : 0;
  return `${groups} group${groups === 1 ? '' : 's'} joined by ${String(filter.logic ?? 'AND')}`;
}

/** One line that says what a step does, for its box on the canvas. */
export function summarize(
  step: { type: StepType; config: Record<string, unknown> },
  names: { templates: Map<string, string>; workflows: Map<string, string>; trigger: string },
): string {
  const c = step.config;
  switch (step.type) {
    case 'TRIGGER':
      return names.trigger;
    case 'SEND_EMAIL':
      return `Template: ${names.templates.get(String(c.templateId)) ?? String(c.templateId)}`;
    case 'DELAY':
      return `Wait ${plural(c.amount, String(c.unit))}`;
    case 'WAIT_FOR_EVENT':
      return `Until “${String(c.eventName)}”${typeof c.timeout === 'number' ? ` or ${plural(c.timeout, 'seconds')}` : ''}`;
    case 'CONDITION':
      return filterSummary(c);
    case 'WEBHOOK':
      return `${String(c.method ?? 'POST')} ${String(c.url)}`;
    case 'UPDATE_CONTACT': {
      const parts: string[] = [];
      if (c.data && typeof c.data === 'object') parts.push(`set ${Object.keys(c.data).join(', ')}`);
      if (typeof c.subscribed === 'boolean') parts.push(c.subscribed ? 'subscribe' : 'unsubscribe');
      if (Array.isArray(c.addTags) && c.addTags.length) parts.push(`tag ${c.addTags.join(', ')}`);
      if (Array.isArray(c.removeTags) && c.removeTags.length) parts.push(`untag ${c.removeTags.join(', ')}`);
      return parts.join('; ');
    }
    case 'EXIT':
      return c.reason ? `Reason: ${String(c.reason)}` : 'Ends the run';
    case 'SPLIT':
      return Array.isArray(c.branches) ? (c.branches as { name: string; weight: number }[]).map((b) => `${b.name} ${b.weight}`).join(' / ') : '';
    case 'TRIGGER_EVENT':
      return `Record “${String(c.eventName)}”`;
    case 'START_WORKFLOW':
      return `Start ${names.workflows.get(String(c.workflowId)) ?? String(c.workflowId)}`;
    case 'SEND_SMS':
      return `Text ${String(c.to ?? '{{phone}}')}: ${String(c.body ?? '')}`;
    case 'WAIT_UNTIL':
      return typeof c.date === 'string' ? `Until ${c.date}${c.time ? ` at ${String(c.time)}` : ''}` : `Until ${String(c.time)}`;
  }
}
