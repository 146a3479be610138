/**
 * Which activity failures are worth retrying. A template that does not render, or data Postgres
 * refuses (a constraint, a value it cannot store), fails the same way on every attempt: such a
 * failure becomes non-retryable, so the execution ends FAILED at once with the step and the cause
 * instead of retrying for ever. Everything else (a connection refused, a timeout) is retried within
 * the activity's retry policy (temporal/interpreter/activities.ts).
 */
import { ApplicationFailure } from '@temporalio/activity';
import { TemplateError } from '../core/render';

// SQLSTATE classes that depend on the data, not on the moment: data exceptions and integrity constraints.
const DETERMINISTIC_SQLSTATE = /^(22|23)/;

/** The SQLSTATE of a Postgres error, looking through the wrappers (drizzle's query error). */
function sqlState(err: unknown): string | undefined {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) return e.code;
  }
  return undefined;
}

/** The failure an activity's error becomes: non-retryable when retrying cannot change it. */
export function classifyFailure(err: unknown): unknown {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof TemplateError) return ApplicationFailure.nonRetryable(err.message, 'TemplateError');
  const state = sqlState(err);
  if (state && DETERMINISTIC_SQLSTATE.test(state)) {
    const message = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
    return ApplicationFailure.nonRetryable(`the database refused the data (${state}): ${message}`, 'DataRefused');
  }
  return err;
}

type ActivityFunction = (...args: never[]) => Promise<unknown>;

/** Wraps every activity so that its failures are classified (see classifyFailure). */
export function withClassifiedFailures<T extends Record<string, ActivityFunction>>(activities: T): T {
  const wrapped: Record<string, ActivityFunction> = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        throw classifyFailure(err);
      }
    };
  }
  return wrapped as T;
}
