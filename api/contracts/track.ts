/** POST /v1/track (SPEC §5.6). */
import { z } from 'zod';
import { tagList } from '../../core/tags';
import { endpoint } from '../endpoint';
import { emailInput, jsonObject } from '../schemas/common';
import { TrackResult } from '../schemas/resources';

export const track = endpoint({
  operationId: 'track',
  method: 'post',
  path: '/v1/track',
  auth: 'pk',
  tag: 'Tracking',
  summary: 'Track an event for a contact',
  description:
    'Upserts the contact by email, merges `data` into its data (an item `{value, persistent: false}` goes to the event only), stores the event, enrols the contact in every enabled EVENT workflow on that name and resumes its waits. Durable once answered, also while Temporal is down. Names under `email.`, `segment.`, `contact.subscribed` and `contact.unsubscribed` are reserved. Pages may call it from any origin with the public key (CORS: the preflight is answered, the answer and its `Retry-After` and `X-Request-Id` are readable).',
  headers: {
    'Idempotency-Key': {
      description: 'Optional, 1 to 255 characters, kept 24 h per project: a repeat with the same body answers the first answer and does nothing again.',
      schema: z.string().min(1).max(255),
    },
  },
  body: z.strictObject({
    event: z.string().trim().min(1).max(200),
    email: emailInput(),
    subscribed: z.boolean().optional(),
    data: jsonObject.optional(),
    tags: tagList.optional(),
  }),
  bodyExample: { event: 'signed_up', email: 'ada@example.com', data: { plan: 'pro', coupon: { value: 'WELCOME10', persistent: false } } },
  responses: { 200: TrackResult },
  errors: { 409: ['IDEMPOTENCY_KEY_REUSED'], 413: ['PAYLOAD_TOO_LARGE'], 429: ['RATE_LIMITED'] },
});
