/**
 * A cancel reaches work in flight (SPEC §5.5, §6): an execution cancelled through the API while its
 * WEBHOOK call is held by the receiver, or while the SMTP server stalls on DATA, ends CANCELLED with
 * its step CANCELLED; the call is aborted within seconds (the receiver sees the connection closed,
 * the SMTP server the session dropped); no later step runs, and nothing is recorded after the cancel
 * — not even an answer that arrives right after it (an email the SMTP server accepted right after it
 * is logged, since it did go out, but it is not the step's result and records no `email.sent`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { temporalWorkflowId } from '../../core/execution';
import { buildWorkflow, createTemplate, type BuiltWorkflow } from '../support/builders';
import { startTestApp, waitFor, type TestApp } from '../support/harness';
import { startHttpServer, type TestHttpServer } from '../support/http-server';
import { startSmtp, type TestSmtp } from '../support/smtp';

/** How soon after the cancel's answer the call in flight must be gone. */
const ABORTED_WITHIN_MS = 5000;
/**
 * The same for a cancel from Temporal reaching a SEND_EMAIL's or a WEBHOOK's first attempt, a local
 * activity: it hears of it when its workflow task is reported (8 s into the task), plus a heartbeat's
 * slack.
 */
const LOCAL_ATTEMPT_ABORTED_WITHIN_MS = 12_000;

/** `promise`, or a failure naming `what` after `ms`. */
function within<T>(promise: Promise<T>, what: string, ms = 20_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)));
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

describe('cancelling an execution while its call is in flight', () => {
  let app: TestApp;
  let hooks: TestHttpServer;
  let smtp: TestSmtp;

  beforeAll(async () => {
    hooks = await startHttpServer();
    smtp = await startSmtp();
    app = await startTestApp({ env: { WEBHOOK_ALLOW_PRIVATE: 'true', SMTP_URL: smtp.url } });
  });
  afterAll(async () => {
    await app?.close();
    await hooks?.close();
    await smtp?.close();
  });

  /** `first` (the step in flight), then an UPDATE_CONTACT that must never run. */
  function thenMark(first: { type: string; config: unknown }): Promise<BuiltWorkflow> {
    return buildWorkflow(app.api, {
      manual: true,
      steps: [
        { key: 'call', ...first },
        { key: 'mark', type: 'UPDATE_CONTACT', config: { data: { reached: true } } },
      ],
      edges: [
        ['trigger', 'call'],
        ['call', 'mark'],
      ],
    });
  }

  async function start(wf: BuiltWorkflow, email: string): Promise<any> {
    const r = await app.api.post(`/workflows/${wf.id}/executions`, { email });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body;
  }

  async function cancel(wf: BuiltWorkflow, executionId: string): Promise<{ body: any; at: number }> {
    const r = await app.api.delete(`/workflows/${wf.id}/executions/${executionId}`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.status).toBe('CANCELLED');
    return { body: r.body, at: Date.now() };
  }

  /** Waits until Temporal has closed the run as cancelled: from then on nothing of it can run or write. */
  async function closedInTemporal(executionId: string): Promise<void> {
    const handle = app.trellis.client.workflow.getHandle(temporalWorkflowId(executionId));
    await waitFor(async () => (await handle.describe()).status.name === 'CANCELLED', 'Temporal to close the run as CANCELLED', 30_000);
  }

  /**
   * Cancels `execution` through Temporal's client (what the Web UI's and the CLI's cancel do: Postgres
   * learns of it from the workflow itself) while its `stepType` first attempt is held, waits until
   * `dropped`, and checks what a cancel leaves: the call dropped within the bound, the run CANCELLED
   * at the step, the contact untouched, and the call not handed over to an activity task (no backoff
   * timer, no task in the history).
   */
  async function cancelledFromTemporal(wf: BuiltWorkflow, execution: { id: string; contactId: string }, stepType: string, dropped: Promise<unknown>) {
    const handle = app.trellis.client.workflow.getHandle(temporalWorkflowId(execution.id));
    const cancelledAt = Date.now();
    await handle.cancel();
    await within(dropped, `the ${stepType} call to be dropped`);
    expect(Date.now() - cancelledAt).toBeLessThan(LOCAL_ATTEMPT_ABORTED_WITHIN_MS);

    await closedInTemporal(execution.id);
    const after = await app.api.get(`/workflows/${wf.id}/executions/${execution.id}`);
    expect(after.body).toMatchObject({ status: 'CANCELLED', currentStepId: wf.steps.call, error: null });
    expect(after.body.steps.map((s: any) => [s.type, s.status, s.output])).toEqual([
      ['TRIGGER', 'COMPLETED', { type: 'MANUAL' }],
      [stepType, 'CANCELLED', null],
    ]);
    expect((await app.api.get(`/contacts/${execution.contactId}`)).body.data).toEqual({});
    const events = (await handle.fetchHistory()).events ?? [];
    expect(events.filter((e) => e.activityTaskScheduledEventAttributes || e.timerStartedEventAttributes)).toEqual([]);
  }

  /** The execution is exactly as the cancel left it: CANCELLED on `wf`'s first step, which is CANCELLED with no output; no later step. */
  async function expectLeftAsCancelled(wf: BuiltWorkflow, cancelled: any, type: string): Promise<any> {
    const after = await app.api.get(`/workflows/${wf.id}/executions/${cancelled.id}`);
    expect(after.body).toMatchObject({
      status: 'CANCELLED',
      currentStepId: wf.steps.call,
      completedAt: cancelled.completedAt,
      error: null,
    });
    expect(after.body.steps.map((s: any) => [s.stepId, s.type, s.status, s.output])).toEqual([
      [wf.triggerId, 'TRIGGER', 'COMPLETED', { type: 'MANUAL' }],
      [wf.steps.call, type, 'CANCELLED', null],
    ]);
    expect(Date.parse(after.body.steps[1].completedAt)).toBeLessThanOrEqual(Date.parse(cancelled.completedAt));
    // The step after it never ran.
    const contact = await app.api.get(`/contacts/${cancelled.contactId}`);
    expect(contact.body.data).toEqual({});
    // No event recorded for the contact (no `email.sent`, no change of the contact).
    const events = await app.api.get(`/events?contactId=${cancelled.contactId}`);
    expect(events.body.total).toBe(0);
    return after.body;
  }

  it('WEBHOOK held by the receiver: the request is aborted, the step ends CANCELLED, no later step runs', { timeout: 60_000 }, async () => {
    const held = hooks.hold('/held');
    const wf = await thenMark({ type: 'WEBHOOK', config: { url: `${hooks.url}/held` } });
    const execution = await start(wf, 'hook-held@example.com');
    const request = await within(held, 'the webhook request');
    expect(request.request.json.execution).toEqual({ id: execution.id });

    const { body: cancelled, at } = await cancel(wf, execution.id);
    await within(request.dropped, 'the webhook request to be dropped');
    const abortedAfterMs = Date.now() - at;
    console.log(`webhook aborted ${abortedAfterMs} ms after the cancel answered`);
    expect(abortedAfterMs).toBeLessThan(ABORTED_WITHIN_MS);

    await closedInTemporal(execution.id);
    await expectLeftAsCancelled(wf, cancelled, 'WEBHOOK');
    // One attempt, never retried.
    expect(hooks.requests.filter((r) => r.path === '/held')).toHaveLength(1);
  });

  it('WEBHOOK answered right after the cancel: the answer is not recorded as the step result', { timeout: 60_000 }, async () => {
    const held = hooks.hold('/late');
    const wf = await thenMark({ type: 'WEBHOOK', config: { url: `${hooks.url}/late` } });
    const execution = await start(wf, 'hook-late@example.com');
    const request = await within(held, 'the webhook request');

    const { body: cancelled } = await cancel(wf, execution.id);
    // The answer reaches the activity before Temporal's cancellation does (that takes a heartbeat).
    request.answer(200, { late: true });

    await closedInTemporal(execution.id);
    await expectLeftAsCancelled(wf, cancelled, 'WEBHOOK');
    expect(hooks.requests.filter((r) => r.path === '/late')).toHaveLength(1);
  });

  it('WEBHOOK cancelled from Temporal (Web UI, CLI) during its first attempt: the call is aborted once the workflow task reports, then the step and the execution end CANCELLED', {
    timeout: 60_000,
  }, async () => {
    const held = hooks.hold('/held-temporal');
    const wf = await thenMark({ type: 'WEBHOOK', config: { url: `${hooks.url}/held-temporal` } });
    const execution = await start(wf, 'hook-temporal@example.com');
    const request = await within(held, 'the webhook request');

    // The first attempt runs inside its workflow task, which the worker reports 8 s into its 10 s
    // timeout: before the HTTP client's own 10 s bound would end the call.
    await cancelledFromTemporal(wf, execution, 'WEBHOOK', request.dropped);
    expect(hooks.requests.filter((r) => r.path === '/held-temporal')).toHaveLength(1);
  });

  it('SEND_EMAIL cancelled from Temporal while its first attempt stalls on DATA: the session is dropped once the workflow task reports, nothing is sent or recorded', {
    timeout: 60_000,
  }, async () => {
    const template = await createTemplate(app.api, { subject: 'stalled, cancelled in Temporal', body: '<p>never delivered</p>', type: 'TRANSACTIONAL' });
    const stalled = smtp.stallOnData('stalled, cancelled in Temporal');
    const wf = await thenMark({ type: 'SEND_EMAIL', config: { templateId: template } });
    const execution = await start(wf, 'smtp-temporal@example.com');
    const { dropped } = await within(stalled, 'the email to reach DATA');

    // The first attempt runs inside its workflow task: the cancel reaches it when the worker
    // reports the long task to Temporal (every 8 s of a 10 s task timeout), not by a heartbeat.
    await cancelledFromTemporal(wf, execution, 'SEND_EMAIL', dropped);
    expect((await app.api.get(`/emails?executionId=${execution.id}`)).body.total).toBe(0);
    expect((await app.api.get(`/events?contactId=${execution.contactId}`)).body.total).toBe(0);
    // One session, abandoned: the send was not handed over to an activity task and tried again.
    expect(smtp.messages.filter((m) => m.parsed.subject === 'stalled, cancelled in Temporal')).toHaveLength(0);
    expect(smtp.abandoned.filter((m) => m.parsed.subject === 'stalled, cancelled in Temporal')).toHaveLength(1);
  });

  it('SEND_EMAIL accepted right after the cancel: the email is logged SENT, the step stays CANCELLED, no email.sent', { timeout: 60_000 }, async () => {
    const template = await createTemplate(app.api, { subject: 'accepted late', body: '<p>it did go out</p>', type: 'TRANSACTIONAL' });
    let arrived!: () => void;
    const atData = new Promise<void>((resolve) => (arrived = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    smtp.beforeAccept(async (mail) => {
      if (mail.parsed.subject !== 'accepted late') return;
      arrived();
      await released;
    });
    try {
      const wf = await thenMark({ type: 'SEND_EMAIL', config: { templateId: template } });
      const execution = await start(wf, 'smtp-late@example.com');
      await within(atData, 'the email to reach DATA');

      const { body: cancelled } = await cancel(wf, execution.id);
      // The server accepts before Temporal's cancellation reaches the session (that takes a heartbeat).
      release();

      await closedInTemporal(execution.id);
      // The step and the execution stay as the cancel left them, and no `email.sent` is recorded.
      await expectLeftAsCancelled(wf, cancelled, 'SEND_EMAIL');
      // The message went out all the same: it is logged, once.
      expect(smtp.messages.filter((m) => m.parsed.subject === 'accepted late')).toHaveLength(1);
      const emails = await app.api.get(`/emails?executionId=${execution.id}`);
      expect(emails.body.total).toBe(1);
      expect(emails.body.data[0]).toMatchObject({ to: 'smtp-late@example.com', subject: 'accepted late', status: 'SENT', error: null });
    } finally {
      smtp.beforeAccept(undefined);
    }
  });

  it('SEND_EMAIL while the SMTP server stalls on DATA: the session is dropped, nothing is sent or recorded', { timeout: 60_000 }, async () => {
    const template = await createTemplate(app.api, { subject: 'stalled on DATA', body: '<p>never delivered</p>', type: 'TRANSACTIONAL' });
    const stalled = smtp.stallOnData('stalled on DATA');
    const wf = await thenMark({ type: 'SEND_EMAIL', config: { templateId: template } });
    const execution = await start(wf, 'smtp-stalled@example.com');
    const { mail, dropped } = await within(stalled, 'the email to reach DATA');
    expect(mail.to).toEqual(['smtp-stalled@example.com']);

    const { body: cancelled, at } = await cancel(wf, execution.id);
    await within(dropped, 'the SMTP session to be dropped');
    const abortedAfterMs = Date.now() - at;
    console.log(`SMTP session dropped ${abortedAfterMs} ms after the cancel answered`);
    expect(abortedAfterMs).toBeLessThan(ABORTED_WITHIN_MS);

    await closedInTemporal(execution.id);
    await expectLeftAsCancelled(wf, cancelled, 'SEND_EMAIL');
    // Never accepted, never recorded: no email row, no `email.sent` (checked above), one attempt.
    const emails = await app.api.get(`/emails?executionId=${execution.id}`);
    expect(emails.body.total).toBe(0);
    expect(smtp.messages.filter((m) => m.parsed.subject === 'stalled on DATA')).toHaveLength(0);
    expect(smtp.abandoned.filter((m) => m.parsed.subject === 'stalled on DATA')).toHaveLength(1);
  });
});
