/** Activity stubs with the timeouts and retry policy each kind of work needs (SPEC §6, §7.4). */
import {
  ActivityCancellationType,
  ActivityFailure,
  type ActivityOptions,
  ApplicationFailure,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  sleep,
  TimeoutFailure,
} from '@temporalio/workflow';
import type { Activities } from '../../activities';
import { CANCEL_REACHES_CALLS, POSTGRES_STEPS_LOCAL, SEND_EMAIL_FIRST_LOCAL, WEBHOOK_FIRST_LOCAL } from './patches';
import type { Patches } from './state';

/**
 * Bookkeeping and contact updates touch only Postgres: short timeouts so work held by a dead worker
 * moves on within seconds. Retried every 10 s for about an hour of Postgres being unreachable; a
 * failure that retrying cannot fix (activities/failures.ts) fails the step at once.
 */
const postgresOptions = {
  startToCloseTimeout: '10 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '10 seconds',
    maximumAttempts: 400,
    nonRetryableErrorTypes: ['TemplateError', 'DataRefused'],
  },
} satisfies ActivityOptions;

/**
 * START_WORKFLOW stays an activity task: it enrols the contact in another workflow and may wait for
 * that workflow's row lock while a change to it commits; as a task, its attempts stay visible in the
 * history. (UPDATE_CONTACT and TRIGGER_EVENT may wait on enrolment locks too, as local activities:
 * the worker then keeps their workflow task open with heartbeats.)
 */
export const dbTask = proxyActivities<Activities>(postgresOptions);

/**
 * Local activities: run by the worker that runs the workflow task, with the task, and recorded in the
 * history as a marker. A Postgres step then costs Temporal no activity task, no poll and no workflow
 * task of its own. Retries back off inside the worker (a backoff over a minute becomes a timer), and a
 * worker that dies mid-step leaves its workflow task to time out and run again elsewhere — every
 * Postgres step is idempotent (activities/step.ts), as it already had to be for an activity retried
 * after its commit.
 */
const dbLocal = proxyLocalActivities<Activities>(postgresOptions);

/** The stubs for Postgres steps: local activities (activity tasks in runs replaying older code). */
export function db(run: Patches): typeof dbLocal {
  return run.patched(POSTGRES_STEPS_LOCAL) ? dbLocal : dbTask;
}

/**
 * SMTP sends: temporary failures are retried with backoff, up to 20 attempts (an SMTP server down for
 * about a quarter of an hour still gets the email; after that the step fails with the last reply);
 * permanent refusals are recorded by the activity. Each attempt ends within SMTP_SEND_TIMEOUT_MS
 * (at most 25 s), inside the start-to-close timeout, so two attempts never overlap.
 */
const mailOptions = {
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 20,
    nonRetryableErrorTypes: ['TemplateNotFound', 'TemplateError', 'DataRefused'],
  },
} satisfies ActivityOptions;

/** Webhooks and text messages (activities/send-sms.ts SMS_ATTEMPTS): 5 attempts in all, from 1 s doubling; each attempt bounded to 10 s by the HTTP client. */
const httpOptions = {
  startToCloseTimeout: '15 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumAttempts: 5,
    nonRetryableErrorTypes: ['WebhookRefused', 'BlockedAddress', 'InvalidUrl', 'TemplateError', 'DataRefused'],
  },
} satisfies ActivityOptions;

/**
 * Calls to the outside world heartbeat (activities/cancellation.ts), which is how Temporal hands
 * them a cancel, and a cancel waits until the call has stopped: the workflow records CANCELLED only
 * once nothing of the step is still running. A worker that dies mid-call is noticed after the
 * heartbeat timeout rather than the start-to-close one.
 */
const reachable: ActivityOptions = {
  heartbeatTimeout: '10 seconds',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
};

const mail = proxyActivities<Activities>({ ...mailOptions, ...reachable });
const http = proxyActivities<Activities>({ ...httpOptions, ...reachable });
// As runs started before the patch below scheduled them: a cancel did not wait for the call.
const mailBeforePatch = proxyActivities<Activities>(mailOptions);
const httpBeforePatch = proxyActivities<Activities>(httpOptions);

/**
 * SEND_EMAIL's first attempt: a local activity, run by the worker inside the workflow task that
 * reached the step, so that a send costs Temporal no activity task and the run no workflow task of
 * its own. One attempt, within the same 30 s as an activity task's (the SMTP call's own bound fits
 * inside it); a cancel reaches it directly and is waited for. A failure a retry could mend hands the
 * send to `mail` (steps/send-email.ts): its retries back off durably as an activity task's, visible
 * in the Web UI as a pending activity, without holding a workflow task slot meanwhile.
 */
const mailFirst = proxyLocalActivities<Activities>({
  startToCloseTimeout: mailOptions.startToCloseTimeout,
  retry: { maximumAttempts: 1 },
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});

/** The failure types a send is never retried for (a first attempt's failure of one of them is the step's). */
export const MAIL_FAILS_FOR_GOOD: readonly string[] = mailOptions.retry.nonRetryableErrorTypes;

/** WEBHOOK's first attempt: a local activity, as a send's (`mailFirst`), within the same 15 s as an activity task's. */
const httpFirst = proxyLocalActivities<Activities>({
  startToCloseTimeout: httpOptions.startToCloseTimeout,
  retry: { maximumAttempts: 1 },
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});

/**
 * The backoff before the attempt that follows a webhook's local first one (the workflow sleeps it, a
 * durable timer): the policy's first. The activity task then makes the policy's other attempts, its
 * backoff going on from the second, so a webhook gets the same 5 attempts, 1 s apart doubling.
 */
export const HTTP_FIRST_BACKOFF_MS = 1000;
const httpAfterFirst = proxyActivities<Activities>({
  ...httpOptions,
  ...reachable,
  retry: {
    ...httpOptions.retry,
    initialInterval: HTTP_FIRST_BACKOFF_MS * httpOptions.retry.backoffCoefficient,
    maximumAttempts: httpOptions.retry.maximumAttempts - 1,
  },
});

/** The failure types a webhook is never retried for. */
export const HTTP_FAILS_FOR_GOOD: readonly string[] = httpOptions.retry.nonRetryableErrorTypes;

/**
 * The stubs for SMTP sends and webhooks: a cancel reaches the call in flight, and a send's first
 * attempt runs locally (`mailFirst`; undefined in runs replaying older code, which scheduled every
 * attempt as an activity task).
 */
export function outsideCalls(run: Patches): { mail: typeof mail; mailFirst?: typeof mailFirst; http: typeof http } {
  if (!run.patched(CANCEL_REACHES_CALLS)) return { mail: mailBeforePatch, http: httpBeforePatch };
  return run.patched(SEND_EMAIL_FIRST_LOCAL) ? { mail, mailFirst, http } : { mail, http };
}

/**
 * A webhook's first attempt, run locally, and the activity task that makes the attempts after it;
 * undefined in runs replaying older code (every attempt an activity task: `outsideCalls(run).http`).
 * Asked by WEBHOOK alone, so that a run which began before the patch records its marker where it
 * changes something.
 */
export function webhookFirstLocal(run: Patches): { first: typeof httpFirst; rest: typeof httpAfterFirst } | undefined {
  return run.patched(CANCEL_REACHES_CALLS) && run.patched(WEBHOOK_FIRST_LOCAL) ? { first: httpFirst, rest: httpAfterFirst } : undefined;
}

/**
 * Runs a call's local first attempt and, when it fails in a way a retry could mend (the server down
 * or answering "try later", a timeout, the worker shutting down), the rest of its attempts as an
 * activity task (`rest`, whose attempts look for what the first one did), after `backoffMs` as a
 * durable timer (none when 0). A cancel, and a failure of one of the types `failsForGood` (no retry
 * mends it), end the step as an activity task's would.
 */
export async function firstLocallyThenTask<R>(
  first: () => Promise<R>,
  rest: () => Promise<R>,
  { failsForGood, backoffMs = 0 }: { failsForGood: readonly string[]; backoffMs?: number },
): Promise<R> {
  try {
    return await first();
  } catch (err) {
    if (!retryMayMend(err, failsForGood)) throw err;
  }
  if (backoffMs > 0) await sleep(backoffMs);
  return await rest();
}

/** A local activity's failure reaches the workflow as the activity's own failure, or as an ActivityFailure around it. */
function retryMayMend(err: unknown, failsForGood: readonly string[]): boolean {
  if (isCancellation(err)) return false;
  const failure = err instanceof ActivityFailure ? err.cause : err;
  if (failure instanceof ApplicationFailure) return !(failure.nonRetryable || failsForGood.includes(failure.type ?? ''));
  return failure instanceof TimeoutFailure || err instanceof ActivityFailure;
}
