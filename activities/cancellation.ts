/**
 * Letting a cancel reach an SMTP or HTTP call in flight. Temporal hands an activity its cancellation
 * only in the answer to a heartbeat, so a side-effecting activity heartbeats while it works and
 * passes the activity's cancellation signal to the call; the interpreter schedules these activities
 * with a heartbeat timeout and waits for them to stop (temporal/interpreter/activities.ts).
 */
import { CancelledFailure, Context } from '@temporalio/activity';

/**
 * How often a working activity heartbeats. Calls shorter than this send no heartbeat at all; the
 * worker forwards at most one a second (its `maxHeartbeatThrottleInterval`), so a cancel reaches a
 * longer call within about two seconds.
 */
export const HEARTBEAT_EVERY_MS = 1000;

type ActivityFunction = (...args: never[]) => Promise<unknown>;

/**
 * Runs `work` heartbeating every HEARTBEAT_EVERY_MS. A failure once the activity is cancelled (the
 * call aborted by the signal, or anything it threw meanwhile) becomes Temporal's CancelledFailure, so
 * the attempt ends cancelled (or, when the worker shuts down, failed and retried elsewhere).
 */
export async function heartbeating<T>(work: () => Promise<T>): Promise<T> {
  const context = Context.current();
  const timer = setInterval(() => context.heartbeat(), HEARTBEAT_EVERY_MS);
  try {
    return await work();
  } catch (err) {
    const signal = context.cancellationSignal;
    if (signal.aborted) throw signal.reason instanceof CancelledFailure ? signal.reason : new CancelledFailure('activity cancelled');
    throw err;
  } finally {
    clearInterval(timer);
  }
}

/** Wraps activities so that each runs under `heartbeating`. */
export function withHeartbeats<T extends Record<string, ActivityFunction>>(activities: T): T {
  const wrapped: Record<string, ActivityFunction> = {};
  for (const [name, fn] of Object.entries(activities)) wrapped[name] = (...args: never[]) => heartbeating(() => fn(...args));
  return wrapped as T;
}

/** The signal that aborts the current activity's outside calls when it is cancelled. */
export function cancellationSignal(): AbortSignal {
  return Context.current().cancellationSignal;
}
