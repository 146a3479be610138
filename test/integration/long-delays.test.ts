import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorkflow, createTemplate } from '../support/builders';
import { waitFor } from '../support/harness';
import { runStarted } from '../support/executions';
import { startSmtp, type TestSmtp } from '../support/smtp';
import { startSkippingApp, type SkippingApp } from '../support/time-skipping';

describe('long delays on the time-skipping server', () => {
  let app: SkippingApp;
  let smtp: TestSmtp;

  beforeAll(async () => {
    smtp = await startSmtp();
    app = await startSkippingApp({ SMTP_URL: smtp.url });
  });
  afterAll(async () => {
    await app?.close();
    await smtp?.close();
  });

  it('runs the welcome series: email, a 3-day delay, a second email, then COMPLETED', async () => {
    const { api } = app;
    const welcome = await createTemplate(api, { subject: 'Welcome {{firstName}}', body: '<p>hello</p>' });
    const followUp = await createTemplate(api, { subject: 'Day 3 for {{firstName}}', body: '<p>how is it going?</p>' });
    const wf = await buildWorkflow(api, {
      eventName: 'signed_up',
      steps: [
        { key: 'welcome', type: 'SEND_EMAIL', config: { templateId: welcome } },
        { key: 'wait', type: 'DELAY', config: { amount: 3, unit: 'days' } },
        { key: 'followUp', type: 'SEND_EMAIL', config: { templateId: followUp } },
      ],
      edges: [
        ['trigger', 'welcome'],
        ['welcome', 'wait'],
        ['wait', 'followUp'],
      ],
    });
    const tracked = await api.post('/v1/track', { event: 'signed_up', email: 'grace@example.com', data: { firstName: 'Grace' } });
    expect(tracked.status).toBe(200);
    const execution = await waitFor(async () => {
      const list = await api.get(`/workflows/${wf.id}/executions`);
      const e = list.body.data[0];
      return e?.status === 'WAITING' ? e : undefined;
    }, 'the execution to wait');
    expect(smtp.messages.map((m) => m.parsed.subject)).toEqual(['Welcome Grace']);

    // Three days pass in a moment.
    await app.env.sleep('3 days');
    const done = await waitFor(async () => {
      const r = await api.get(`/workflows/${wf.id}/executions/${execution.id}`);
      return r.body.status === 'COMPLETED' ? r.body : undefined;
    }, 'COMPLETED');
    expect(smtp.messages.map((m) => m.parsed.subject)).toEqual(['Welcome Grace', 'Day 3 for Grace']);
    expect(done.steps.map((s: { type: string; status: string }) => `${s.type}:${s.status}`)).toEqual([
      'TRIGGER:COMPLETED',
      'SEND_EMAIL:COMPLETED',
      'DELAY:COMPLETED',
      'SEND_EMAIL:COMPLETED',
    ]);
    expect(done.steps[2].output).toEqual({ waitedMs: 3 * 24 * 3600 * 1000 });
    expect(done.completedAt).not.toBeNull();
    const result = await app.trellis.client.workflow.getHandle(`trellis-execution-${execution.id}`).result();
    expect(result).toEqual({ status: 'COMPLETED' });
  });

  it('takes the timeout branch of a week-long WAIT_FOR_EVENT', async () => {
    const { api } = app;
    const wf = await buildWorkflow(api, {
      eventName: 'cart_abandoned',
      steps: [
        { key: 'wait', type: 'WAIT_FOR_EVENT', config: { eventName: 'purchased', timeout: 7 * 24 * 3600 } },
        { key: 'bought', type: 'UPDATE_CONTACT', config: { data: { outcome: 'bought' } } },
        { key: 'lapsed', type: 'UPDATE_CONTACT', config: { data: { outcome: 'lapsed' } } },
      ],
      edges: [
        ['trigger', 'wait'],
        ['wait', 'bought', 'event'],
        ['wait', 'lapsed', 'timeout'],
      ],
    });
    const tracked = await api.post('/v1/track', { event: 'cart_abandoned', email: 'lin@example.com' });
    const waiting = await waitFor(async () => (await api.get(`/workflows/${wf.id}/executions?status=WAITING`)).body.data[0], 'WAITING');
    // WAITING from its enrolment on: the week is skipped once the run has started its timer.
    await runStarted(app.trellis.client, waiting.id);
    await app.env.sleep('7 days');
    await waitFor(async () => (await api.get(`/workflows/${wf.id}/executions?status=COMPLETED`)).body.total === 1, 'COMPLETED');
    const contact = await api.get(`/contacts/${tracked.body.data.contact}`);
    expect(contact.body.data).toEqual({ outcome: 'lapsed' });
  });
});
