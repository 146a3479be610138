/**
 * The age of an activity attempt. Temporal times an attempt out after its start-to-close timeout and
 * may start a retry while the first attempt still runs (waiting on a row lock, or on a stalled
 * worker); an attempt that knows its age can stand aside before it repeats what its retry does.
 */
import { Context } from '@temporalio/activity';
import { abortableBy } from '../db/client';

/** When each running attempt began in this worker (Temporal started it a moment earlier). */
const begunAt = new WeakMap<Context, number>();

/** How much of its start-to-close timeout an attempt keeps spare after an outside call's own bound. */
const SPARE_MS = 1000;

type ActivityFunction = (...args: never[]) => Promise<unknown>;

/**
 * Wraps activities so that each attempt notes when it began, and a local activity's transactions end
 * with its attempt. The worker cancels a local attempt that outlives its start-to-close timeout and
 * retries it a second later: a transaction of the first attempt still waiting on a row lock would hold
 * its connection beside the retry's, attempt after attempt, until the lock is released or the pool
 * is used up. Aborted, it rolls back and gives its connection up (db/client.ts abortableBy). Every
 * local activity is a Postgres step whose transactions its retry does again, so a rollback at any
 * point leaves nothing half done — or a send's or a webhook's first attempt, whose claim rolls back
 * alike and whose record of a call made runs detached from the cancel (send-email.ts, webhook.ts): a
 * cancel must never roll that back. Activity tasks are not tied.
 */
export function withAttemptClock<T extends Record<string, ActivityFunction>>(activities: T): T {
  const wrapped: Record<string, ActivityFunction> = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = (...args: never[]) => {
      const context = Context.current();
      begunAt.set(context, Date.now());
      return context.info.isLocal ? abortableBy(context.cancellationSignal, () => fn(...args)) : fn(...args);
    };
  }
  return wrapped as T;
}

/** Milliseconds since the current attempt began (0 when it was not started through withAttemptClock). */
function age(): number {
  const begun = begunAt.get(Context.current());
  return begun === undefined ? 0 : Date.now() - begun;
}

/**
 * True for the first attempt of an activity task once it has run half its start-to-close timeout:
 * Temporal may time it out and its retry may get there first. (Local activities and retries always
 * look for an earlier attempt's work instead: activities/step.ts isRetry.)
 */
export function lateFirstAttempt(): boolean {
  const { attempt, isLocal, startToCloseTimeoutMs } = Context.current().info;
  return !isLocal && attempt === 1 && age() > startToCloseTimeoutMs / 2;
}

/**
 * True when an outside call that may take up to `callBoundMs` could outlast the current attempt's
 * start-to-close timeout (with a second to spare): Temporal could time the attempt out and start a
 * retry while the call is still on the wire, and the retry would make it again.
 */
export function callWouldOutlive(callBoundMs: number): boolean {
  return age() + callBoundMs > Context.current().info.startToCloseTimeoutMs - SPARE_MS;
}
