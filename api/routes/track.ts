/**
 * POST /v1/track (SPEC §5.6). One transaction stores the contact change, the event, its enrolments
 * and its deliveries (as queued Temporal commands): once it answers 200 all of it is durable, even
 * while Temporal is down. `Idempotency-Key` answers a repeat with the first answer.
 */
import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { isReservedEventName } from '../../core/event-names';
import type { JsonObject } from '../../core/execution';
import { TooManyTags } from '../../core/tags';
import type { Tx } from '../../db/client';
import { upsertContact } from '../../db/contacts';
import { recordEvent } from '../../db/events';
import { keepIdempotentAnswer, takeIdempotencyKey } from '../../db/idempotency';
import { commandsQueued } from '../../db/outbox';
import * as api from '../contracts/track';
import type { ApiDeps } from '../deps';
import { ApiError, badRequest } from '../errors';
import { trackRateLimit } from '../rate-limit';
import { reply, route, type Route } from '../routing';

const MAX_DATA_BYTES = 64 * 1024;

/** Splits tracked data: `{value, persistent: false}` items go to the event only, the rest to both. */
export function splitTrackedData(data: JsonObject): { contactData: JsonObject; eventData: JsonObject } {
  const contactData: JsonObject = {};
  const eventData: JsonObject = {};
  for (const [key, v] of Object.entries(data)) {
    const item = v as { value?: unknown; persistent?: unknown } | null;
    if (item && typeof item === 'object' && !Array.isArray(item) && item.persistent === false && 'value' in item) {
      eventData[key] = item.value;
    } else {
      contactData[key] = v;
      eventData[key] = v;
    }
  }
  return { contactData, eventData };
}

type Answer = { status: number; body: unknown; queued?: boolean };

/** JSON text with object keys sorted, so that the same body sent with its keys reordered is the same request. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

export function trackRoutes({ database, dispatcher, config, clock }: ApiDeps): Route[] {
  // Before the body is validated, as it always was: a flood of bad requests is limited too.
  const rateLimit = trackRateLimit(database.db, config.trackRatePerSecond, clock);

  async function track(tx: Tx, projectId: string, body: z.output<typeof api.track.body>): Promise<Answer> {
    const { contactData, eventData } = splitTrackedData(body.data ?? {});
    const { contact, created } = await upsertContact(tx, projectId, body.email, {
      subscribed: body.subscribed,
      data: body.data !== undefined ? contactData : undefined,
      addTags: body.tags,
    });
    // upsertContact holds the contact's row lock.
    const { event } = await recordEvent(tx, {
      projectId,
      contactId: contact.id,
      name: body.event,
      data: eventData,
      contactIsNew: created,
      contactLocked: true,
    });
    return { status: 200, body: { success: true, data: { contact: contact.id, event: event.id, timestamp: event.createdAt.toISOString() } } };
  }

  return [
    route(
      api.track,
      async ({ project, body, req }) => {
        if (isReservedEventName(body.event)) {
          throw badRequest(`event name "${body.event}" is reserved for system events`, [{ path: 'event', message: 'reserved name' }]);
        }
        if (body.data !== undefined && Buffer.byteLength(JSON.stringify(body.data)) > MAX_DATA_BYTES) {
          throw new ApiError(413, 'PAYLOAD_TOO_LARGE', 'data is over 64 KB');
        }
        const key = req.header('idempotency-key');
        if (key !== undefined && (key.length === 0 || key.length > 255)) {
          throw badRequest('Idempotency-Key must be 1 to 255 characters', [{ path: 'headers.idempotency-key', message: 'bad length' }]);
        }

        const answer = await database.db
          .transaction(async (tx): Promise<Answer> => {
            if (key === undefined) return { ...(await track(tx, project.id, body)), queued: commandsQueued(tx) };
            const hash = createHash('sha256').update(canonicalJson(req.body)).digest('hex');
            // A concurrent request with the same key blocks here until the first commits.
            const claimed = await claimKey(tx, project.id, key, hash);
            if (claimed !== true) return claimed;
            const result = await track(tx, project.id, body);
            await keepIdempotentAnswer(tx, project.id, key, result);
            return { ...result, queued: commandsQueued(tx) };
          })
          .catch((err: unknown) => {
            if (err instanceof TooManyTags) throw badRequest(err.message, [{ path: 'tags', message: err.message }]);
            throw err;
          });
        // Most events start and resume nothing: the dispatcher is asked for a pass only when they did.
        if (answer.queued) dispatcher.kick();
        return reply(answer.status, answer.body);
      },
      { before: [rateLimit] },
    ),
  ];
}

/** Takes an idempotency key for this request, or returns the answer its first use gave. */
async function claimKey(tx: Tx, projectId: string, key: string, hash: string): Promise<true | Answer> {
  const first = await takeIdempotencyKey(tx, projectId, key, hash);
  if (first?.taken) return true;
  if (!first || first.requestHash !== hash) {
    throw new ApiError(409, 'IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used with a different request body');
  }
  return { status: first.statusCode ?? 200, body: first.response };
}
