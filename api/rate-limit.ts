/** The `/v1/track` limit: a token bucket per project in Postgres, shared by every API process. */
import type { RequestHandler } from 'express';
import type { Db } from '../db/client';
import { takeTokens } from '../db/rate-limits';
import { projectOf } from './auth';
import { ApiError } from './errors';

/**
 * A process takes tokens from the shared bucket a fiftieth of the limit at a time (one at a time
 * below 100 a second) and spends them on its next requests, so a busy process asks Postgres once
 * per batch rather than once per request. Tokens it has not spent within LEASE_MS are dropped: the
 * limit can only be stricter by them, never looser. A lease spent from in the second half of its
 * time takes the next batch ahead, in the background, so that requests that keep coming never
 * wait on Postgres for tokens (each batch still lives LEASE_MS from its take).
 */
const BATCHES_PER_SECOND = 50;
export const LEASE_MS = 1000;
const MAX_LEASES = 10_000;

interface Lease {
  tokens: number;
  until: number;
  /** A take from Postgres in flight: the requests that find the lease empty wait for it rather than each taking a batch. */
  refill?: Promise<unknown>;
  /** The batch taken ahead, spent once the current one is spent or has run out. */
  next?: { tokens: number; until: number };
}

/** A take's answer: go on, or refused with how many seconds until a token is back. */
export type TakeAnswer = { ok: true } | { ok: false; retryAfterSeconds: number };

/**
 * The process's leases on the shared buckets, `perSecond` tokens a second each. `clock` stands for
 * the request's moment in the bucket (tests hold it still; without it the database's clock is
 * used); `now` is the process's own time, which leases run out by.
 */
export function tokenLeases(
  db: Db,
  perSecond: number,
  { clock, now = Date.now }: { clock?: () => Date; now?: () => number } = {},
): { take(key: string): Promise<TakeAnswer> } {
  const batch = Math.max(1, Math.floor(perSecond / BATCHES_PER_SECOND));
  const leases = new Map<string, Lease>();

  async function take(key: string): Promise<TakeAnswer> {
    for (;;) {
      let lease = leases.get(key);
      const at = now();
      if (lease?.next && (lease.tokens <= 0 || lease.until <= at)) {
        ({ tokens: lease.tokens, until: lease.until } = lease.next);
        lease.next = undefined;
      }
      if (lease && lease.tokens > 0 && lease.until > at) {
        lease.tokens--;
        if (!lease.refill && !lease.next && lease.until - at < LEASE_MS / 2) takeAhead(key, lease);
        return { ok: true };
      }
      if (lease?.refill) {
        await lease.refill;
        continue;
      }
      if (!lease) {
        if (leases.size >= MAX_LEASES) leases.clear();
        lease = { tokens: 0, until: 0 };
        leases.set(key, lease);
      }
      const held = lease;
      const refill = takeTokens(db, key, perSecond, batch, clock?.())
        .then((answer) => {
          // This request spends one of the tokens taken; the rest wait for the next requests.
          held.tokens = answer.ok ? answer.taken - 1 : 0;
          held.until = now() + LEASE_MS;
          return answer;
        })
        .finally(() => {
          held.refill = undefined;
        });
      held.refill = refill;
      const answer = await refill;
      return answer.ok ? { ok: true } : answer;
    }
  }

  /**
   * Takes the next batch while the current one is still being spent; a failure leaves it to the
   * request that finds the lease empty. The batch lives LEASE_MS from when it was asked for.
   */
  function takeAhead(key: string, lease: Lease): void {
    const askedAt = now();
    lease.refill = takeTokens(db, key, perSecond, batch, clock?.())
      .then(
        (answer) => {
          if (answer.ok) lease.next = { tokens: answer.taken, until: askedAt + LEASE_MS };
        },
        () => undefined,
      )
      .finally(() => {
        lease.refill = undefined;
      });
  }

  return { take };
}

/**
 * Middleware allowing `perSecond` requests a second per project (bursts up to `perSecond`) across all
 * processes; beyond it, 429 RATE_LIMITED with `Retry-After`. `clock` stands for the request's moment
 * (tests hold it still); without it the database's clock is used.
 */
export function trackRateLimit(db: Db, perSecond: number, clock?: () => Date): RequestHandler {
  const leases = tokenLeases(db, perSecond, { clock });
  return async (req, res, next) => {
    const answer = await leases.take(`track:${projectOf(req).id}`);
    if (!answer.ok) {
      res.setHeader('Retry-After', String(answer.retryAfterSeconds));
      throw new ApiError(429, 'RATE_LIMITED', `more than ${perSecond} events per second`);
    }
    next();
  };
}
