/**
 * SEND_SMS (SPEC §14.2, §14.4): renders the text and the number, and sends it through the project's
 * Twilio-compatible provider. Once per step, as for email: the message's row id is derived from the
 * execution and the step, the send is recorded right after the provider answers, and a retry that
 * finds the record does not send again. The one window for a duplicate is a crash between the
 * provider's answer and that record.
 *
 * Recorded as SENT (the provider took it), FAILED (no usable number; the provider refused it with a
 * 4xx other than 429, its answer the error; or it was still unavailable at the last attempt),
 * SUPPRESSED (the contact is unsubscribed) or CAPTURED (the project has no provider). 5xx, 429 and
 * network failures are retried like a webhook's. The execution continues in every case.
 */
import { createHash } from 'node:crypto';
import { ApplicationFailure, Context, log } from '@temporalio/activity';
import { eq } from 'drizzle-orm';
import type { JsonObject, StepActivityBase, StepActivityResult } from '../core/execution';
import { e164 } from '../core/phone';
import { buildVariables, TemplateError } from '../core/render';
import type { SendSmsConfig } from '../core/step-configs';
import { installationKey } from '../db/installation-key';
import { lockExecution } from '../db/journal';
import { messages } from '../db/schema';
import { retryingDeadlocks } from '../db/client';
import { smsCredentials, type SmsProvider } from '../db/settings';
import { cancellationSignal } from './cancellation';
import type { ActivityDeps } from './deps';
import { classifyResponse, describeFailure, type HttpClient, HttpRequestError, type HttpResult } from './http';
import { quietHold } from './quiet-hours';
import { closeStep, isRetry, openStep, stillActive } from './step';

export interface SendSmsRequest extends StepActivityBase {
  config: SendSmsConfig;
  context: JsonObject;
  /** Workflow time (ms) of this attempt: what quiet hours are judged by. */
  now: number;
}

export type MessageStatus = 'SENT' | 'FAILED' | 'SUPPRESSED' | 'CAPTURED';

/** Attempts at the provider (the workflow's stub allows as many): the last one records FAILED instead of failing the step. */
export const SMS_ATTEMPTS = 5;

/** The stable row id of the message a step of an execution sends: a UUID (version 8) from a hash of both. */
export function messageRowId(executionId: string, stepId: string): string {
  const b = createHash('sha256').update(`trellis.sms:${executionId}:${stepId}`).digest().subarray(0, 16);
  b[6] = (b[6]! & 0x0f) | 0x80;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The provider's refusal, as the message's error: Twilio's `message` (and `code`), else the status and body. */
function refusal(result: HttpResult): string {
  const answer = result.json as { message?: unknown; code?: unknown } | undefined;
  if (answer && typeof answer.message === 'string') {
    return `provider answered ${result.status}: ${answer.message.slice(0, 300)}${answer.code !== undefined ? ` (code ${String(answer.code)})` : ''}`;
  }
  return describeFailure(result);
}

type Outcome = { status: 'SENT'; providerId: string | null } | { status: 'FAILED'; error: string };

/** One attempt at the provider; throws (to be retried) while attempts remain and the provider is unavailable. */
async function deliver(http: HttpClient, provider: SmsProvider & { authToken: string }, to: string, body: string): Promise<Outcome> {
  const lastAttempt = Context.current().info.attempt >= SMS_ATTEMPTS;
  const unavailable = (reason: string): Outcome => {
    if (!lastAttempt) throw ApplicationFailure.retryable(reason, 'SmsProviderUnavailable');
    return { status: 'FAILED', error: `${reason} (after ${SMS_ATTEMPTS} attempts)` };
  };
  const url = `${provider.baseUrl.replace(/\/+$/, '')}/2010-04-01/Accounts/${encodeURIComponent(provider.accountSid)}/Messages.json`;
  const auth = Buffer.from(`${provider.accountSid}:${provider.authToken}`).toString('base64');
  let result: HttpResult;
  try {
    // A cancel aborts the call (the activity heartbeats: see cancellation.ts).
    result = await http.request(
      {
        url,
        method: 'POST',
        headers: { authorization: `Basic ${auth}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ To: to, From: provider.from, Body: body }).toString(),
      },
      { signal: cancellationSignal() },
    );
  } catch (err) {
    if (!(err instanceof HttpRequestError)) throw err;
    if (err.retryable) return unavailable(err.message);
    return { status: 'FAILED', error: err.message };
  }
  const verdict = classifyResponse(result.status);
  if (verdict === 'retry') return unavailable(describeFailure(result));
  if (verdict === 'fail') return { status: 'FAILED', error: refusal(result) };
  const sid = (result.json as { sid?: unknown } | undefined)?.sid;
  return { status: 'SENT', providerId: typeof sid === 'string' ? sid.slice(0, 200) : null };
}

export function sendSmsActivities(deps: ActivityDeps) {
  const { database, http, renderer } = deps;
  return {
    async sendSms(req: SendSmsRequest): Promise<StepActivityResult> {
      const id = messageRowId(req.executionId, req.visit.stepId);
      const prepared = await database.db.transaction(async (tx) => {
        const owner = await openStep(tx, req, { contact: 'read' });
        if (!owner.open) return owner.result;
        const contact = owner.contact!;
        // Only a retry can find its message already recorded.
        const [recorded] = isRetry(req) ? await tx.select().from(messages).where(eq(messages.id, id)) : [];
        // Every text waits out quiet hours, unless it will be suppressed anyway.
        if (!recorded && contact.subscribed) {
          const hold = await quietHold(tx, req.executionId, contact.data, req.now);
          if (hold) return hold;
        }
        const provider = recorded || !contact.subscribed ? null : await smsCredentials(tx, owner.projectId, await installationKey(database));
        return { owner, contact, recorded, provider };
      });
      if ('done' in prepared) return prepared;
      const { owner, contact, recorded, provider } = prepared;

      let message: { to: string; body: string; status: MessageStatus; providerId: string | null; error: string | null };
      if (recorded) {
        // Sent (or refused) by an earlier attempt: never send again.
        message = { ...recorded, status: recorded.status as MessageStatus };
      } else {
        let to: string;
        let body: string;
        try {
          const vars = buildVariables({ contact, context: req.context });
          [body, to] = (await renderer.values(vars, [req.config.body, req.config.to ?? '{{phone}}'])).lines as [string, string];
        } catch (err) {
          const reason = err instanceof Error ? err.message : String(err);
          if (err instanceof TemplateError) throw ApplicationFailure.nonRetryable(reason, 'TemplateError');
          throw ApplicationFailure.retryable(reason, 'RenderError');
        }
        const number = e164(to);
        const base = { to: number ?? to, body, providerId: null, error: null };
        if (!contact.subscribed) message = { ...base, status: 'SUPPRESSED' };
        else if (!number) message = { ...base, status: 'FAILED', error: 'no phone number' };
        else if (!provider) {
          message = { ...base, status: 'CAPTURED' };
          log.info('text message captured (no SMS provider)', { to: number, executionId: req.executionId });
        } else {
          if (!(await stillActive(database.db, req.executionId, http.timeoutMs))) return { done: false, reason: 'inactive' };
          const outcome = await deliver(http, provider, number, body);
          message =
            outcome.status === 'SENT' ? { ...base, status: 'SENT', providerId: outcome.providerId } : { ...base, status: 'FAILED', error: outcome.error };
        }
      }

      // The text may have gone out: its record is not given up for a deadlock.
      return retryingDeadlocks(() =>
        database.db.transaction(async (tx): Promise<StepActivityResult> => {
          // Cancelled meanwhile: the step stays CANCELLED. A text the provider took is still logged.
          const exec = await lockExecution(tx, req.executionId);
          if (!exec.active && (message.status !== 'SENT' || exec.projectId === undefined)) return { done: false, reason: 'inactive' };
          await tx
            .insert(messages)
            .values({ id, projectId: owner.projectId, contactId: owner.contactId, executionId: req.executionId, stepId: req.visit.stepId, ...message })
            // An earlier attempt recorded this very message.
            .onConflictDoNothing();
          if (!exec.active) return { done: false, reason: 'inactive' };
          const { status, providerId, error } = message;
          const output = { messageId: id, status, ...(providerId ? { providerId } : {}), ...(error ? { error } : {}) };
          await closeStep(tx, req, output);
          return { done: true, output };
        }),
      );
    },
  };
}
