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
 * limit can only be stricter by them, never looser.
 */
const BATCHES_PER_SECOND = 50;
const LEASE_MS = 1000;
const MAX_LEASES = 10_000;

interface Lease {
  tokens: number;
  until: number;
  /** A take from Postgres in flight: the requests that find the lease empty wait for it rather than each taking a batch. */
  refill?: Promise<unknown>;
}

/**
 * Middleware allowing `perSecond` requests a second per project (bursts up to `perSecond`) across all
 * processes; beyond it, 429 RATE_LIMITED with `Retry-After`. `clock` stands for the request's moment
 * (tests hold it still); without it the database's clock is used.
 */
export function trackRateLimit(db: Db, perSecond: number, clock?: () => Date): RequestHandler {
  const batch = Math.max(1, Math.floor(perSecond / BATCHES_PER_SECOND));
  const leases = new Map<string, Lease>();

  async function take(key: string): Promise<{ ok: true } | { ok: false; retryAfterSeconds: number }> {
    for (;;) {
      let lease = leases.get(key);
      if (lease && lease.tokens > 0 && lease.until > Date.now()) {
        lease.tokens--;
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
          held.until = Date.now() + LEASE_MS;
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

  return async (req, res, next) => {
    const answer = await take(`track:${projectOf(req).id}`);
    if (!answer.ok) {
      res.setHeader('Retry-After', String(answer.retryAfterSeconds));
      throw new ApiError(429, 'RATE_LIMITED', `more than ${perSecond} events per second`);
    }
    next();
  };
}
