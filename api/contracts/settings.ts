/** /settings (SPEC §14.4): the project's default zone, quiet hours and SMS provider. */
import { z } from 'zod';
import { ianaZone, timeOfDay, weekdays, zoneOrContact } from '../../core/step-configs';
import { endpoint } from '../endpoint';
import { ProjectSettings } from '../schemas/resources';

const quietHours = z
  .strictObject({
    start: timeOfDay,
    end: timeOfDay,
    timezone: zoneOrContact.optional(),
    days: weekdays.optional(),
  })
  .refine((q) => q.start !== q.end, { message: 'end must differ from start', path: ['end'] });

const sms = z.strictObject({
  accountSid: z.string().trim().min(1, 'accountSid must not be empty').max(200),
  authToken: z.string().min(1, 'authToken must not be empty').max(500).optional(),
  from: z
    .string()
    .transform((n) => n.replace(/[\s.()-]/g, ''))
    .refine((n) => /^\+\d{7,15}$/.test(n), 'from must be a phone number in E.164 form, such as +14155550100'),
  baseUrl: z
    .url({ protocol: /^https?$/, error: 'baseUrl must be an absolute http(s) URL' })
    .transform((u) => u.replace(/\/+$/, ''))
    .optional(),
});

export const getSettings = endpoint({
  operationId: 'getSettings',
  method: 'get',
  path: '/settings',
  auth: 'sk',
  tag: 'Settings',
  summary: "Get the project's settings",
  description: "The SMS provider's auth token is write-only: it is never returned.",
  responses: { 200: ProjectSettings },
});

export const updateSettings = endpoint({
  operationId: 'updateSettings',
  method: 'patch',
  path: '/settings',
  auth: 'sk',
  tag: 'Settings',
  summary: "Change the project's settings",
  description:
    'Each field given replaces the stored one; `null` clears quiet hours or the SMS provider. `sms.authToken` is kept encrypted; leave it out to keep the stored token.',
  body: z.strictObject({
    timezone: ianaZone.optional(),
    quietHours: quietHours.nullable().optional(),
    sms: sms.nullable().optional(),
  }),
  bodyExample: {
    timezone: 'America/Chicago',
    quietHours: { start: '21:00', end: '08:00', timezone: 'contact' },
    sms: { accountSid: 'AC0123', authToken: 'secret', from: '+14155550100' },
  },
  responses: { 200: ProjectSettings },
});
