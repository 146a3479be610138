/**
 * POST /v1/track (SPEC §5.6). One transaction stores the contact change, the event, its enrolments
 * and its deliveries (as queued Temporal commands): once it answers 200 all of it is durable, even
 * while Temporal is down. A new contact's first event that nothing follows from, and an existing
 * contact's event that changes nothing about it and only reaches runs waiting for it, are stored by
 * one statement instead (the same rows, without BEGIN and COMMIT). `Idempotency-Key` answers a
 * repeat with the first answer.
 */
import { createHash } from 'node:crypto';
import cors from 'cors';
import type { z } from 'zod';
import { isReservedEventName } from '../../core/event-names';
import type { JsonObject } from '../../core/execution';
import { TooManyTags } from '../../core/tags';
import type { Tx } from '../../db/client';
import { normalizeEmail, storeFirstEvent, upsertContact } from '../../db/contacts';
import { enrolForNewContactEvent, recordEvent, recordQuietEvent } from '../../db/events';
import { keepIdempotentAnswer, takeIdempotencyKey } from '../../db/idempotency';
import { type ClaimedCommand, commandsQueued, leasedCommands } from '../../db/outbox';
import * as api from '../contracts/track';
import type { ApiDeps } from '../deps';
import { ApiError, badRequest } from '../errors';
import { trackRateLimit } from '../rate-limit';
import { reply, route, type Route } from '../routing';

const MAX_DATA_BYTES = 64 * 1024;

/**
 * A project's public key is for pages: a browser on any site may call /v1/track with it. Its
 * preflight is answered (cached a day), and its answers, errors included, may be read (with
 * `Retry-After` and `X-Request-Id`). No cookies are involved, so no credentials are allowed; the
 * secret routes answer no preflight: a secret key does not belong in a page.
 */
export const browserTracking = cors({
  origin: '*',
  methods: ['POST'],
  allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Request-Id'],
  exposedHeaders: ['Retry-After', 'X-Request-Id'],
  maxAge: 86_400,
});

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

/** `created`: whether the request created its contact (unset for an answer repeated for an Idempotency-Key). */
type Answer = { status: number; body: unknown; queued?: boolean; leased?: ClaimedCommand[]; created?: boolean };

/** JSON text with object keys sorted, so that the same body sent with its keys reordered is the same request. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/** The answer to a stored event. */
function tracked(contactId: string, eventId: string, createdAt: Date): Answer {
  return { status: 200, body: { success: true, data: { contact: contactId, event: eventId, timestamp: createdAt.toISOString() } } };
}

/** Entries each of TrackHints' memories keeps (the oldest goes first). */
export const HINT_ENTRIES = 10_000;
/** How long an event name that had consequences in a project goes the long way without asking again. */
export const CONSEQUENCES_MS = 10_000;

/** One-statement tries in a row that found the contact existing before an event name goes the long way for CONSEQUENCES_MS. */
export const EXISTING_IN_A_ROW = 3;

/**
 * Which requests are worth trying a one-statement path for: a new contact's first event
 * (storeFirstEvent), or an existing contact's event that changes nothing else (recordQuietEvent). A
 * miss costs a round trip, so the process remembers the contacts it has seen exist, the event names
 * that had consequences (segments to evaluate, enrolments that need a decision; for existing
 * contacts, workflows triggered or goals reached), and the names whose first-event tries kept
 * finding their contact existing (contacts imported, or seen by another process: after
 * EXISTING_IN_A_ROW such misses in a row the name goes the long way). Such a name stays there while
 * its events keep finding their contacts existing, each such event keeping it CONSEQUENCES_MS
 * longer, until EXISTING_IN_A_ROW of them in a row find their contact new, or none come for that
 * long; once its time has run out, a single miss sends it back. The statement decides each time: a
 * stale memory costs a round trip, or sends a request the long way, never a different outcome.
 */
export class TrackHints {
  private readonly knownContacts = new Map<string, true>();
  private readonly busyEvents = new Map<string, number>();
  private readonly existingInARow = new Map<string, number>();
  /** Event names whose tries kept finding their contact existing, until when they go the long way (kept once past, until a try stores). */
  private readonly existingNames = new Map<string, number>();
  /** For event names that go the long way for finding contacts existing: how many of their events in a row found their contact new. */
  private readonly newInARow = new Map<string, number>();
  /** Event names that had consequences for an existing contact, until when its events of them go the long way. */
  private readonly busyForExisting = new Map<string, number>();

  worthTrying(projectId: string, email: string, name: string, now: number): boolean {
    if (this.knownContacts.has(`${projectId} ${email}`)) return false;
    return !until(this.busyEvents, `${projectId} ${name}`, now) && !until(this.existingNames, `${projectId} ${name}`, now);
  }

  /** Whether the request's contact probably exists: seen by this process, or its event name's tries keep finding theirs. */
  likelyExists(projectId: string, email: string, name: string, now: number): boolean {
    return this.knownContacts.has(`${projectId} ${email}`) || until(this.existingNames, `${projectId} ${name}`, now);
  }

  /** Whether an existing contact's event is worth trying by itself (recordQuietEvent). */
  quietWorthTrying(projectId: string, email: string, name: string, now: number): boolean {
    return this.likelyExists(projectId, email, name, now) && !until(this.busyForExisting, `${projectId} ${name}`, now);
  }

  /** An existing contact's event of `name` had consequences beyond its deliveries. */
  hadConsequencesForExisting(projectId: string, name: string, now: number): void {
    remember(this.busyForExisting, `${projectId} ${name}`, now + CONSEQUENCES_MS);
  }

  contactExists(projectId: string, email: string): void {
    remember(this.knownContacts, `${projectId} ${email}`, true);
  }

  /**
   * A try of `name` found its contact existing. A name that went the long way before goes again at
   * once: its window ran out, and the first try since found what the earlier ones did.
   */
  foundExisting(projectId: string, email: string, name: string, now: number): void {
    this.contactExists(projectId, email);
    const key = `${projectId} ${name}`;
    if (this.existingNames.has(key)) {
      remember(this.existingNames, key, now + CONSEQUENCES_MS);
      return;
    }
    const misses = (this.existingInARow.get(key) ?? 0) + 1;
    if (misses < EXISTING_IN_A_ROW) {
      remember(this.existingInARow, key, misses);
      return;
    }
    this.existingInARow.delete(key);
    remember(this.existingNames, key, now + CONSEQUENCES_MS);
  }

  /**
   * An event of `name` found its contact existing (stored by itself, or the long way): a name that
   * goes the long way for finding contacts existing stays there CONSEQUENCES_MS longer, with no try
   * (a try every CONSEQUENCES_MS cost a round trip to a name whose events keep coming for contacts
   * that exist).
   */
  confirmedExisting(projectId: string, name: string, now: number): void {
    const key = `${projectId} ${name}`;
    if (!this.existingNames.has(key)) return;
    this.newInARow.delete(key);
    remember(this.existingNames, key, now + CONSEQUENCES_MS);
  }

  /** An event of `name` created its contact (the long way): after EXISTING_IN_A_ROW in a row, a name that went the long way for finding contacts existing is tried again. */
  foundNew(projectId: string, name: string): void {
    const key = `${projectId} ${name}`;
    if (!this.existingNames.has(key)) return;
    const found = (this.newInARow.get(key) ?? 0) + 1;
    if (found < EXISTING_IN_A_ROW) {
      remember(this.newInARow, key, found);
      return;
    }
    this.newInARow.delete(key);
    this.existingNames.delete(key);
  }

  /** A try of `name` stored a new contact's event: its misses count from naught again. */
  stored(projectId: string, email: string, name: string): void {
    this.contactExists(projectId, email);
    this.existingInARow.delete(`${projectId} ${name}`);
    this.existingNames.delete(`${projectId} ${name}`);
    this.newInARow.delete(`${projectId} ${name}`);
  }

  hadConsequences(projectId: string, name: string, now: number): void {
    remember(this.busyEvents, `${projectId} ${name}`, now + CONSEQUENCES_MS);
  }
}

/** Whether `key`'s moment in `map` is still ahead of `now`. */
function until(map: Map<string, number>, key: string, now: number): boolean {
  const at = map.get(key);
  return at !== undefined && at > now;
}

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > HINT_ENTRIES) map.delete(map.keys().next().value as string);
}

export function trackRoutes({ database, dispatcher, config, clock }: ApiDeps): Route[] {
  // Before the body is validated, as it always was: a flood of bad requests is limited too.
  const rateLimit = trackRateLimit(database.db, config.trackRatePerSecond, clock);
  const hints = new TrackHints();

  /** `email`: the body's, normalized. */
  async function track(tx: Tx, projectId: string, email: string, body: z.output<typeof api.track.body>): Promise<Answer> {
    const { contactData, eventData } = splitTrackedData(body.data ?? {});
    const change = { subscribed: body.subscribed, data: body.data !== undefined ? contactData : undefined, addTags: body.tags };
    const likelyExists = hints.likelyExists(projectId, email, body.event, Date.now());
    const { contact, created, event: stored } = await upsertContact(tx, projectId, email, change, { name: body.event, data: eventData }, { likelyExists });
    // A new contact's event, stored with it.
    if (stored) {
      await enrolForNewContactEvent(tx, { contactId: contact.id, name: body.event, data: eventData }, stored.row, stored.triggered);
      return { ...tracked(contact.id, stored.row.id, stored.row.createdAt), created: true };
    }
    // upsertContact holds the contact's row lock.
    const { event } = await recordEvent(tx, {
      projectId,
      contactId: contact.id,
      name: body.event,
      data: eventData,
      contactIsNew: created,
      contactLocked: true,
      // Sent by this process as soon as the transaction commits, without a dispatcher's claim.
      sendSignals: true,
    });
    return { ...tracked(contact.id, event.id, event.createdAt), created };
  }

  /**
   * Sends the deliveries the request's statement leased, and lets their Temporal calls leave before
   * the answer is written: Node writes the client's HTTP/2 frames in the event loop's next check
   * phase, which without this came after the answer and its log line (P2, 2026-12-07: the signal
   * left 2.6 ms after the answer under strace, and before it with this).
   */
  async function deliver(leased: ClaimedCommand[]): Promise<void> {
    dispatcher.send(leased);
    await new Promise((resolve) => setImmediate(resolve));
  }

  /** Stores a new contact's first event (and its plain enrolments) in one statement when that is all it does; undefined otherwise. */
  async function firstEvent(projectId: string, email: string, body: z.output<typeof api.track.body>): Promise<Answer | undefined> {
    const now = Date.now();
    if (!hints.worthTrying(projectId, email, body.event, now)) return undefined;
    const { contactData, eventData } = splitTrackedData(body.data ?? {});
    const result = await storeFirstEvent(database.db, { projectId, email, subscribed: body.subscribed, contactData, name: body.event, eventData });
    if (!result.stored) {
      if (result.reason === 'contact-exists') hints.foundExisting(projectId, email, body.event, now);
      else hints.hadConsequences(projectId, body.event, now);
      return undefined;
    }
    // Its next event finds it existing.
    hints.stored(projectId, email, body.event);
    if (result.enrolled > 0) dispatcher.kick();
    return tracked(result.contactId, result.eventId, result.createdAt);
  }

  /** An existing contact's event that changes nothing else, by one statement; undefined when it has to go the long way. */
  async function quietEvent(projectId: string, email: string, name: string): Promise<Answer | undefined> {
    const now = Date.now();
    if (!hints.quietWorthTrying(projectId, email, name, now)) return undefined;
    const result = await recordQuietEvent(database.db, { projectId, email, name, data: {} });
    if (!result.stored) {
      if (result.reason === 'consequences') hints.hadConsequencesForExisting(projectId, name, now);
      return undefined;
    }
    hints.confirmedExisting(projectId, name, now);
    if (result.leased.length) await deliver(result.leased);
    if (result.queued) dispatcher.kick();
    return tracked(result.contactId, result.event.id, result.event.createdAt);
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
        const email = normalizeEmail(body.email);

        // The first event of a new contact that nothing follows from but plain enrolments: one statement, no transaction.
        if (key === undefined && !body.tags?.length) {
          const first = await firstEvent(project.id, email, body);
          if (first) return reply(first.status, first.body);
        }
        // An existing contact's event with nothing to change about the contact: one statement too, when that is all it does.
        if (key === undefined && !body.tags?.length && body.data === undefined && body.subscribed === undefined) {
          const quiet = await quietEvent(project.id, email, body.event);
          if (quiet) return reply(quiet.status, quiet.body);
        }

        const answer = await database.db
          .transaction(async (tx): Promise<Answer> => {
            if (key === undefined) return { ...(await track(tx, project.id, email, body)), queued: commandsQueued(tx), leased: leasedCommands(tx) };
            const hash = createHash('sha256').update(canonicalJson(req.body)).digest('hex');
            // A concurrent request with the same key blocks here until the first commits.
            const claimed = await claimKey(tx, project.id, key, hash);
            if (claimed !== true) return claimed;
            const result = await track(tx, project.id, email, body);
            await keepIdempotentAnswer(tx, project.id, key, result);
            return { ...result, queued: commandsQueued(tx), leased: leasedCommands(tx) };
          })
          .catch((err: unknown) => {
            if (err instanceof TooManyTags) throw badRequest(err.message, [{ path: 'tags', message: err.message }]);
            throw err;
          });
        // Most events start and resume nothing: the dispatcher is asked for a pass only when they did.
        // The deliveries this transaction leased go out at once.
        if (answer.leased?.length) await deliver(answer.leased);
        if (answer.queued) dispatcher.kick();
        // The contact exists now: its next event goes straight to the transaction.
        if (answer.status === 200) hints.contactExists(project.id, email);
        if (answer.created === true) hints.foundNew(project.id, body.event);
        if (answer.created === false) hints.confirmedExisting(project.id, body.event, Date.now());
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
