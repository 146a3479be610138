/** The `/v1/track` limit: a token bucket per project in Postgres, shared by every API process. */
import type { RequestHandler } from 'express';
import type { Db } from '../db/client';
import { takeToken } from '../db/rate-limits';
import { projectOf } from './auth';
import { ApiError } from './errors';

/**
 * Middleware allowing `perSecond` requests a second per project (bursts up to `perSecond`) across all
 * processes; beyond it, 429 RATE_LIMITED with `Retry-After`. `clock` stands for the request's moment
 * (tests hold it still); without it the database's clock is used.
 */
export function trackRateLimit(db: Db, perSecond: number, clock?: () => Date): RequestHandler {
  return async (req, res, next) => {
    const answer = await takeToken(db, `track:${projectOf(req).id}`, perSecond, clock?.());
    if (!answer.ok) {
      res.setHeader('Retry-After', String(answer.retryAfterSeconds));
      throw new ApiError(429, 'RATE_LIMITED', `more than ${perSecond} events per second`);
    }
    next();
  };
}
