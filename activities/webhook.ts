/**
 * WEBHOOK: renders the request, performs one attempt, and classifies it for Temporal's retry policy.
 * The call is made only while the execution is active, is aborted by a cancel, and its answer is
 * recorded only while the execution is still active. The first attempt is a local activity
 * (temporal/interpreter/steps/webhook.ts), the rest activity tasks.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { JsonObject, StepActivityBase, StepActivityResult } from '../core/execution';
import type { WebhookConfig } from '../core/step-configs';
import { detachedFromAbort, retryingDeadlocks } from '../db/client';
import type { ContactRow } from '../db/contacts';
import type { ActivityDeps } from './deps';
import { classifyResponse, describeFailure, type HttpRequest, HttpRequestError } from './http';
import { buildVariables, TemplateError } from '../core/render';
import { assertCallFits, assertNotShuttingDown, closeStepIfActive, openLocalAttemptAlone, openStep, outsideCallSignal } from './step';

export interface WebhookRequest extends StepActivityBase {
  config: WebhookConfig;
  context: JsonObject;
  workflow: { id: string; name: string };
}

export function webhookActivities({ database, http, renderer, shuttingDown }: ActivityDeps) {
  /** The request the step makes for `contact`; a template it cannot render fails the step. */
  async function renderCall(req: WebhookRequest, contact: ContactRow): Promise<HttpRequest> {
    const { config } = req;
    const method = (config.method ?? 'POST').toUpperCase();
    const vars = buildVariables({ contact, context: req.context });
    let url: string;
    let headers: Record<string, string>;
    let body: string | undefined;
    try {
      const headerEntries = Object.entries(config.headers ?? {});
      const rendered = await renderer.values(vars, [config.url, ...headerEntries.map(([, v]) => v)], config.body);
      url = rendered.lines[0]!;
      headers = Object.fromEntries(headerEntries.map(([k], i) => [k, rendered.lines[i + 1]!]));
      const payload =
        config.body !== undefined
          ? rendered.json
          : {
              contact: { id: contact.id, email: contact.email, subscribed: contact.subscribed, data: contact.data },
              workflow: req.workflow,
              execution: { id: req.executionId },
              event: req.context,
            };
      if (method !== 'GET') body = JSON.stringify(payload);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw ApplicationFailure.nonRetryable(message, err instanceof TemplateError ? 'TemplateError' : 'WebhookRefused');
    }
    const has = (name: string) => Object.keys(headers).some((h) => h.toLowerCase() === name);
    if (body !== undefined && !has('content-type')) headers['content-type'] = 'application/json';
    // The same on every attempt of this visit, so that the receiver can tell a retry (of a call it
    // may have taken already) from another call; a key of the step's own headers wins.
    if (!has('idempotency-key')) headers['idempotency-key'] = `${req.executionId}:${req.visit.seq}`;
    return { url, method, headers, body };
  }

  return {
    async callWebhook(req: WebhookRequest): Promise<StepActivityResult> {
      assertNotShuttingDown(shuttingDown);
      // A local first attempt claims by one statement committed on its own, then renders the
      // request (openLocalAttemptAlone). Otherwise the claim's transaction stays open while the
      // request is rendered: its row lock is the re-check before the call, as SEND_EMAIL's (a cancel
      // committing meanwhile waits for the commit; one committed before the claim leaves nothing to
      // claim), and a request that cannot be rendered, or an attempt too late for the call, rolls
      // the claim back.
      let prepared: HttpRequest | StepActivityResult;
      const claimedAlone = await openLocalAttemptAlone(database.db, req);
      if (claimedAlone) {
        prepared = await renderCall(req, claimedAlone.contact!);
        assertCallFits(http.timeoutMs);
      } else {
        prepared = await database.db.transaction(async (tx) => {
          const owner = await openStep(tx, req, { contact: 'read' });
          if (!owner.open) return owner.result;
          const call = await renderCall(req, owner.contact!);
          assertCallFits(http.timeoutMs);
          return call;
        });
      }
      if ('done' in prepared) return prepared;

      let result: Awaited<ReturnType<typeof http.request>>;
      // A cancel aborts the call: Temporal's (an activity task heartbeats for it: see cancellation.ts),
      // and for a local first attempt also one committed in Postgres (the API's), which Temporal would
      // hand it only once its workflow task ends.
      const call = outsideCallSignal(database.db, req.executionId);
      try {
        result = await http.request(prepared, { signal: call.signal });
      } catch (err) {
        // Nothing to record: the cancel's transaction wrote the step and the execution.
        if (call.inactive()) return { done: false, reason: 'inactive' };
        if (err instanceof HttpRequestError) {
          if (err.retryable) throw ApplicationFailure.retryable(err.message, 'WebhookUnavailable');
          throw ApplicationFailure.nonRetryable(err.message, err.name === 'BlockedAddressError' ? 'BlockedAddress' : 'InvalidUrl');
        }
        throw err;
      } finally {
        call.stop();
      }
      const verdict = classifyResponse(result.status);
      if (verdict === 'retry') throw ApplicationFailure.retryable(describeFailure(result), 'WebhookUnavailable');
      if (verdict === 'fail') throw ApplicationFailure.nonRetryable(describeFailure(result), 'WebhookRefused');

      const output = { status: result.status, body: result.json ?? (result.body === '' ? null : result.body) };
      // The call was made: its answer (one statement, closeStepIfActive) is not given up for a
      // deadlock, nor tied to the attempt's cancel as a local attempt's other statements are (attempt.ts).
      const recorded = await detachedFromAbort(() => retryingDeadlocks(() => closeStepIfActive(database.db, req, output)));
      return recorded ? { done: true, output } : { done: false, reason: 'inactive' };
    },
  };
}
