/**
 * The age of an activity attempt. Temporal times an attempt out after its start-to-close timeout and
 * may start a retry while the first attempt still runs (waiting on a row lock, or on a stalled
 * worker); an attempt that knows its age can stand aside before it repeats what its retry does.
 */
import { Context } from '@temporalio/activity';

/** When each running attempt began in this worker (Temporal started it a moment earlier). */
const begunAt = new WeakMap<Context, number>();

/** How long before its start-to-close timeout an attempt stops short of an outside call. */
const OUTLIVED_MARGIN_MS = 1000;

type ActivityFunction = (...args: never[]) => Promise<unknown>;

/** Wraps activities so that each attempt notes when it began. */
export function withAttemptClock<T extends Record<string, ActivityFunction>>(activities: T): T {
  const wrapped: Record<string, ActivityFunction> = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = (...args: never[]) => {
      begunAt.set(Context.current(), Date.now());
      return fn(...args);
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
 * True when the current attempt has run (nearly) as long as its start-to-close timeout: Temporal has
 * timed it out, or soon will, and may have started a retry; a call made now could be made twice.
 */
export function outlivedTimeout(): boolean {
  return age() > Context.current().info.startToCloseTimeoutMs - OUTLIVED_MARGIN_MS;
}
