/** Zod schemas of each step type's `config` (SPEC §5.4), and their validation with dotted error paths. */
import { z } from 'zod';
import { DELAY_UNITS, MAX_DELAY_MILLISECONDS, delayMilliseconds } from './delay';
import { sender } from './email-address';
import { isReservedEventName } from './event-names';
import { filterSchema } from './filter-schema';
import { STEP_TYPES, type StepType } from './graph';
import { canonicalZone } from './schedule';
import { tagList } from './tags';
import { TIME_OF_DAY, WEEKDAYS, movedDate } from './wait-until';

export const WEBHOOK_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

// An HTTP header name is an RFC 9110 token.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export const triggerConfigSchema = z.strictObject({});

export const sendEmailConfigSchema = z.strictObject({
  templateId: z.uuid({
    error: (issue) => (issue.input === undefined ? 'templateId is required' : 'templateId must be a UUID'),
  }),
  from: sender.optional(),
});

export const delayConfigSchema = z
  .strictObject({
    amount: z.int().positive(),
    unit: z.enum(DELAY_UNITS),
  })
  .refine((config) => delayMilliseconds(config) <= MAX_DELAY_MILLISECONDS, {
    message: 'a delay is at most 365 days',
    path: ['amount'],
  });

export const waitForEventConfigSchema = z.strictObject({
  eventName: z.string().refine((name) => name.trim().length > 0, 'eventName must not be empty'),
  // Seconds; capped like DELAY so that the timer stays within what a durable timer holds comfortably.
  timeout: z
    .int()
    .positive()
    .max(MAX_DELAY_MILLISECONDS / 1000, 'timeout is at most 365 days (31536000 seconds)')
    .optional(),
});

export const conditionConfigSchema = filterSchema;

export const webhookConfigSchema = z.strictObject({
  url: z.string().refine((url) => url.includes('{{') || isAbsoluteHttpUrl(url), 'url must be an absolute http(s) URL, or hold {{variables}} that render one'),
  method: z.enum(WEBHOOK_METHODS).optional(),
  headers: z.record(z.string().regex(HEADER_NAME, 'header names must be HTTP tokens'), z.string()).optional(),
  body: z.json().optional(),
});

export const updateContactConfigSchema = z
  .strictObject({
    data: z.record(z.string(), z.json()).optional(),
    subscribed: z.boolean().optional(),
    addTags: tagList.optional(),
    removeTags: tagList.optional(),
  })
  .refine(
    (config) =>
      config.subscribed !== undefined ||
      (config.data !== undefined && Object.keys(config.data).length > 0) ||
      (config.addTags?.length ?? 0) > 0 ||
      (config.removeTags?.length ?? 0) > 0,
    'UPDATE_CONTACT needs data (with at least one key), subscribed, addTags or removeTags',
  );

export const exitConfigSchema = z.strictObject({
  reason: z.string().optional(),
});

/** A SPLIT branch name: a slug short enough to be a transition's branch label. */
export const branchName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,49}$/, 'must be a slug: lower-case letters, digits, "_" and "-", at most 50 characters');

export const splitConfigSchema = z
  .strictObject({
    branches: z
      .array(z.strictObject({ name: branchName, weight: z.int().positive().max(1_000_000) }))
      .min(2, 'a SPLIT has at least 2 branches')
      .max(10, 'a SPLIT has at most 10 branches'),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.branches.forEach((branch, i) => {
      if (seen.has(branch.name)) ctx.addIssue({ code: 'custom', message: `duplicate branch name "${branch.name}"`, path: ['branches', i, 'name'] });
      seen.add(branch.name);
    });
  });

export const triggerEventConfigSchema = z.strictObject({
  eventName: z
    .string()
    .trim()
    .min(1, 'eventName must not be empty')
    .max(200)
    .refine(
      (name) => !isReservedEventName(name),
      'eventName is reserved for system events (email.*, segment.*, tag.*, contact.subscribed, contact.unsubscribed)',
    ),
  data: z.record(z.string(), z.json()).optional(),
});

export const startWorkflowConfigSchema = z.strictObject({
  workflowId: z.uuid({
    error: (issue) => (issue.input === undefined ? 'workflowId is required' : 'workflowId must be a UUID'),
  }),
  context: z.record(z.string(), z.json()).optional(),
});

/** `HH:MM`, 24-hour. */
export const timeOfDay = z.string().regex(TIME_OF_DAY, 'must be a time of day "HH:MM" (24-hour)');

/** An IANA zone name. */
export const ianaZone = z.string().refine((zone) => canonicalZone(zone) !== undefined, 'must be an IANA time zone such as "Europe/Paris"');

/** An IANA zone name, or `contact`: the contact's own zone (SPEC §14.2). */
export const zoneOrContact = z
  .string()
  .refine((zone) => zone === 'contact' || canonicalZone(zone) !== undefined, 'timezone must be "contact" or an IANA time zone such as "Europe/Paris"');

/** Days of the week, each at most once. */
export const weekdays = z
  .array(z.enum(WEEKDAYS))
  .min(1, 'days must name at least one day')
  .refine((days) => new Set(days).size === days.length, 'days must not repeat a day');

export const waitUntilConfigSchema = z
  .strictObject({
    time: timeOfDay.optional(),
    days: weekdays.optional(),
    timezone: zoneOrContact.optional(),
    date: z
      .string()
      .refine(
        (date) => date.includes('{{') || movedDate(date, 'UTC') !== undefined,
        'date must be an ISO date or hold a {{variable}} such as "{{data.serviceDate}}"',
      )
      .optional(),
    offset: z
      .strictObject({
        amount: z.int().positive(),
        unit: z.enum(DELAY_UNITS),
        direction: z.enum(['before', 'after']),
      })
      .refine((offset) => delayMilliseconds(offset) <= MAX_DELAY_MILLISECONDS, { message: 'an offset is at most 365 days', path: ['amount'] })
      .optional(),
  })
  .superRefine((config, ctx) => {
    if (config.date === undefined) {
      if (config.time === undefined) ctx.addIssue({ code: 'custom', message: 'WAIT_UNTIL needs a time ("HH:MM") or a date', path: ['time'] });
      if (config.offset !== undefined) ctx.addIssue({ code: 'custom', message: 'offset applies only with a date', path: ['offset'] });
    } else if (config.days !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'days applies only to a time of day without a date', path: ['days'] });
    }
  });

/** SEND_SMS (SPEC §14.2): the text and the number, both with {{variables}}; `to` defaults to `{{phone}}`. */
export const sendSmsConfigSchema = z.strictObject({
  body: z
    .string()
    .refine((body) => body.trim().length > 0, 'body must not be empty')
    .pipe(z.string().max(1600, 'body is at most 1,600 characters')),
  to: z.string().trim().min(1, 'to must not be empty').max(200).optional(),
});

export type SendEmailConfig = z.infer<typeof sendEmailConfigSchema>;
export type SendSmsConfig = z.infer<typeof sendSmsConfigSchema>;
export type DelayConfig = z.infer<typeof delayConfigSchema>;
export type WaitForEventConfig = z.infer<typeof waitForEventConfigSchema>;
export type WebhookConfig = z.infer<typeof webhookConfigSchema>;
export type UpdateContactConfig = z.infer<typeof updateContactConfigSchema>;
export type ExitConfig = z.infer<typeof exitConfigSchema>;
export type SplitConfig = z.infer<typeof splitConfigSchema>;
export type TriggerEventConfig = z.infer<typeof triggerEventConfigSchema>;
export type StartWorkflowConfig = z.infer<typeof startWorkflowConfigSchema>;
export type WaitUntilConfig = z.infer<typeof waitUntilConfigSchema>;

/** Each step type's config schema, each keeping its own type. */
export const stepConfigSchemas = {
  TRIGGER: triggerConfigSchema,
  SEND_EMAIL: sendEmailConfigSchema,
  DELAY: delayConfigSchema,
  WAIT_FOR_EVENT: waitForEventConfigSchema,
  CONDITION: conditionConfigSchema,
  WEBHOOK: webhookConfigSchema,
  UPDATE_CONTACT: updateContactConfigSchema,
  EXIT: exitConfigSchema,
  SPLIT: splitConfigSchema,
  TRIGGER_EVENT: triggerEventConfigSchema,
  START_WORKFLOW: startWorkflowConfigSchema,
  WAIT_UNTIL: waitUntilConfigSchema,
  SEND_SMS: sendSmsConfigSchema,
} as const satisfies Record<StepType, z.ZodType>;

/** The config type of each step type. */
export type StepConfigs = { [T in StepType]: z.output<(typeof stepConfigSchemas)[T]> };

export interface ConfigIssue {
  path: string;
  message: string;
}

export type ParsedStepConfig = { ok: true; config: Record<string, unknown> } | { ok: false; issues: ConfigIssue[] };

/** Validates a step's config for its type; every issue carries a dotted path such as `config.amount`. */
export function parseStepConfig(type: StepType, config: unknown): ParsedStepConfig {
  if (!(STEP_TYPES as readonly string[]).includes(type)) {
    return { ok: false, issues: [{ path: 'type', message: `type must be one of ${STEP_TYPES.join(', ')}` }] };
  }
  const result = (stepConfigSchemas[type] as z.ZodType).safeParse(config);
  if (result.success) return { ok: true, config: result.data as Record<string, unknown> };
  return { ok: false, issues: result.error.issues.flatMap((issue) => toConfigIssues(issue)) };
}

/** One issue per bad field: an unknown key is reported at its own path rather than at its object's. */
function toConfigIssues(issue: z.core.$ZodIssue): ConfigIssue[] {
  const base = ['config', ...issue.path.map(String)];
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ path: [...base, key].join('.'), message: `unknown field "${key}"` }));
  }
  if (issue.code === 'invalid_key') return [{ path: base.join('.'), message: issue.issues[0]?.message ?? issue.message }];
  return [{ path: base.join('.'), message: issue.message }];
}

function isAbsoluteHttpUrl(text: string): boolean {
  if (!/^https?:\/\//i.test(text)) return false;
  try {
    return new URL(text).hostname !== '';
  } catch {
    return false;
  }
}
