/** Activity stubs with the timeouts and retry policy each kind of work needs (SPEC §6, §7.4). */
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities';

/**
 * Bookkeeping and contact updates touch only Postgres: short timeouts so work held by a dead worker
 * moves on within seconds. Retried every 10 s for about an hour of Postgres being unreachable; a
 * failure that retrying cannot fix (activities/failures.ts) fails the step at once.
 */
export const db = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '10 seconds',
    maximumAttempts: 400,
    nonRetryableErrorTypes: ['TemplateError', 'DataRefused'],
  },
});

/**
 * SMTP sends: temporary failures are retried with backoff, up to 20 attempts (an SMTP server down for
 * about a quarter of an hour still gets the email; after that the step fails with the last reply);
 * permanent refusals are recorded by the activity.
 */
export const mail = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 20,
    nonRetryableErrorTypes: ['TemplateNotFound', 'TemplateError', 'DataRefused'],
  },
});

/** Webhooks: 5 attempts in all, from 1 s doubling; each attempt bounded to 10 s by the HTTP client. */
export const http = proxyActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumAttempts: 5,
    nonRetryableErrorTypes: ['WebhookRefused', 'BlockedAddress', 'InvalidUrl', 'TemplateError', 'DataRefused'],
  },
});
