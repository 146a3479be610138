/**
 * Letting a cancel reach an SMTP or HTTP call in flight. Temporal hands an activity its cancellation
 * only in the answer to a heartbeat, so a side-effecting activity heartbeats while it works and
 * passes the activity's cancellation signal to the call; the interpreter schedules these activities
 * with a heartbeat timeout and waits for them to stop (temporal/interpreter/activities.ts).
 */
import { ApplicationFailure, CancelledFailure, Context } from '@temporalio/activity';

/**
 * How often a working activity heartbeats. Calls shorter than this send no heartbeat at all; the
 * worker forwards at most one a second (its `maxHeartbeatThrottleInterval`), so a cancel reaches a
 * longer call within about two seconds.
 */
export const HEARTBEAT_EVERY_MS = 1000;

type ActivityFunction = (...args: never[]) => Promise<unknown>;

/** The signal each running activity's calls are given: its cancellation, or the worker's shutdown. */
const callSignals = new WeakMap<Context, AbortSignal>();

/**
 * Runs `work` heartbeating every HEARTBEAT_EVERY_MS. A failure once the activity is cancelled (the
 * call aborted by the signal, or anything it threw meanwhile) becomes Temporal's CancelledFailure, so
 * the attempt ends cancelled. `stopping` is aborted when the worker's shutdown grace period is over:
 * the call is aborted too, and the attempt fails retryably, to be retried on another worker.
 */
export async function heartbeating<T>(work: () => Promise<T>, stopping?: AbortSignal): Promise<T> {
  const context = Context.current();
  const cancelled = context.cancellationSignal;
  callSignals.set(context, stopping ? AbortSignal.any([cancelled, stopping]) : cancelled);
  // A local activity (a send's or a webhook's first attempt) is handed its cancel by its own worker: no heartbeat.
  const timer = context.info.isLocal ? undefined : setInterval(() => context.heartbeat(), HEARTBEAT_EVERY_MS);
  try {
    return await work();
  } catch (err) {
    if (cancelled.aborted) throw cancelled.reason instanceof CancelledFailure ? cancelled.reason : new CancelledFailure('activity cancelled');
    if (stopping?.aborted) throw ApplicationFailure.retryable('the worker shut down during the call', 'WorkerShutdown');
    throw err;
  } finally {
    clearInterval(timer);
  }
}

/** Wraps activities so that each runs under `heartbeating`. */
export function withHeartbeats<T extends Record<string, ActivityFunction>>(activities: T, stopping?: AbortSignal): T {
  const wrapped: Record<string, ActivityFunction> = {};
  for (const [name, fn] of Object.entries(activities)) wrapped[name] = (...args: never[]) => heartbeating(() => fn(...args), stopping);
  return wrapped as T;
}

/** The signal that aborts the current activity's outside calls: when it is cancelled, or when the worker stops. */
export function cancellationSignal(): AbortSignal {
  const context = Context.current();
  return callSignals.get(context) ?? context.cancellationSignal;
}
