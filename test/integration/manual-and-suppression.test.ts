import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorkflow, createTemplate } from '../support/builders';
import { finishedExecution, trackToEnd } from '../support/executions';
import { startTestApp, type TestApp } from '../support/harness';
import { startSmtp, type TestSmtp } from '../support/smtp';

async function emailsOf(app: TestApp, executionId: string): Promise<any[]> {
  const r = await app.api.get(`/emails?executionId=${executionId}`);
  expect(r.status).toBe(200);
  return r.body.data;
}

describe('manual starts and email delivery outcomes (SMTP_URL set)', () => {
  let app: TestApp;
  let smtp: TestSmtp;

  beforeAll(async () => {
    smtp = await startSmtp();
    app = await startTestApp({ env: { SMTP_URL: smtp.url, MAIL_FROM: 'Shop <shop@trellis.test>' } });
  });
  afterAll(async () => {
    await app?.close();
    await smtp?.close();
  });

  const mailTo = (address: string) => smtp.messages.filter((m) => m.to.includes(address));

  it("starts a MANUAL workflow with the caller's context, which the email shows", async () => {
    const { api } = app;
    const coupon = await createTemplate(api, { subject: 'Your coupon {{coupon}}', body: '<p>Use {{event.coupon}} at checkout, {{email}}</p>' });
    const wf = await buildWorkflow(api, {
      name: 'coupon drop',
      manual: true,
      steps: [{ key: 'send', type: 'SEND_EMAIL', config: { templateId: coupon } }],
      edges: [['trigger', 'send']],
    });

    const { version } = (await api.get(`/workflows/${wf.id}`)).body;
    const started = await api.post(`/workflows/${wf.id}/executions`, { email: 'Shopper@Example.com', context: { coupon: 'X1' } });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    expect(started.body).toMatchObject({
      workflowId: wf.id,
      status: 'RUNNING',
      context: { coupon: 'X1' },
      workflowVersion: version,
      exitReason: null,
      error: null,
      completedAt: null,
    });
    const contact = await api.get(`/contacts/${started.body.contactId}`);
    expect(contact.body.email).toBe('shopper@example.com');

    const execution = await finishedExecution(app.api, wf.id, started.body.id);
    expect(execution.status).toBe('COMPLETED');
    expect(execution.context).toEqual({ coupon: 'X1' });
    expect(execution.steps.map((s: any) => [s.type, s.status])).toEqual([
      ['TRIGGER', 'COMPLETED'],
      ['SEND_EMAIL', 'COMPLETED'],
    ]);

    const received = mailTo('shopper@example.com');
    expect(received).toHaveLength(1);
    expect(received[0]!.parsed.subject).toBe('Your coupon X1');
    expect(received[0]!.parsed.html).toContain('<p>Use X1 at checkout, shopper@example.com</p>');
    expect(received[0]!.parsed.from?.value).toEqual([{ name: 'Shop', address: 'shop@trellis.test' }]);

    const [email] = await emailsOf(app, execution.id);
    expect(email).toMatchObject({ status: 'SENT', subject: 'Your coupon X1', to: 'shopper@example.com', templateId: coupon, error: null });
  });

  it('suppresses marketing and headless emails to an unsubscribed contact but still sends transactional ones', async () => {
    const { api } = app;
    const promo = await createTemplate(api, { subject: 'Spring sale', body: '<p>20% off</p>' });
    const headless = await createTemplate(api, { subject: 'Headless note', body: '<p>note</p>', type: 'HEADLESS' });
    const receipt = await createTemplate(api, { subject: 'Receipt for {{email}}', body: '<p>paid</p>', type: 'TRANSACTIONAL' });
    const wf = await buildWorkflow(api, {
      name: 'after purchase',
      eventName: 'paid',
      steps: [
        { key: 'promo', type: 'SEND_EMAIL', config: { templateId: promo } },
        { key: 'headless', type: 'SEND_EMAIL', config: { templateId: headless } },
        { key: 'receipt', type: 'SEND_EMAIL', config: { templateId: receipt } },
      ],
      edges: [
        ['trigger', 'promo'],
        ['promo', 'headless'],
        ['headless', 'receipt'],
      ],
    });
    const created = await api.post('/contacts', { email: 'optout@example.com', subscribed: false });
    expect(created.status).toBe(201);

    const execution = await trackToEnd(app.api, wf.id, 'paid', 'optout@example.com');

    expect(execution.status).toBe('COMPLETED');
    expect(execution.steps.map((s: any) => [s.type, s.stepId, s.status, s.output?.status])).toEqual([
      ['TRIGGER', wf.triggerId, 'COMPLETED', undefined],
      ['SEND_EMAIL', wf.steps.promo, 'COMPLETED', 'SUPPRESSED'],
      ['SEND_EMAIL', wf.steps.headless, 'COMPLETED', 'SUPPRESSED'],
      ['SEND_EMAIL', wf.steps.receipt, 'COMPLETED', 'SENT'],
    ]);

    const emails = await emailsOf(app, execution.id);
    const byStep = Object.fromEntries(emails.map((e) => [e.stepId, e]));
    expect(emails).toHaveLength(3);
    expect(byStep[wf.steps.promo!]).toMatchObject({ status: 'SUPPRESSED', subject: 'Spring sale', to: 'optout@example.com', contactId: created.body.id });
    expect(byStep[wf.steps.headless!]).toMatchObject({ status: 'SUPPRESSED', subject: 'Headless note' });
    expect(byStep[wf.steps.receipt!]).toMatchObject({ status: 'SENT', subject: 'Receipt for optout@example.com', error: null });

    const received = mailTo('optout@example.com');
    expect(received.map((m) => m.parsed.subject)).toEqual(['Receipt for optout@example.com']);
    expect(received[0]!.parsed.messageId).toBe(byStep[wf.steps.receipt!].messageId);

    const contact = await api.get(`/contacts/${created.body.id}`);
    expect(contact.body.subscribed).toBe(false);
  });

  it("records a permanent SMTP refusal as FAILED with the server's reply, and the execution continues", async () => {
    const { api } = app;
    smtp.refuse('bounce@example.com', 550, 'mailbox unavailable');
    const hello = await createTemplate(api, { subject: 'Hello there', body: '<p>hi</p>' });
    const wf = await buildWorkflow(api, {
      name: 'bounce',
      eventName: 'joined',
      steps: [
        { key: 'hello', type: 'SEND_EMAIL', config: { templateId: hello } },
        { key: 'mark', type: 'UPDATE_CONTACT', config: { data: { greeted: true } } },
      ],
      edges: [
        ['trigger', 'hello'],
        ['hello', 'mark'],
      ],
    });

    const execution = await trackToEnd(app.api, wf.id, 'joined', 'bounce@example.com');

    expect(execution.status).toBe('COMPLETED');
    expect(execution.error).toBeNull();
    expect(execution.steps.map((s: any) => [s.type, s.status])).toEqual([
      ['TRIGGER', 'COMPLETED'],
      ['SEND_EMAIL', 'COMPLETED'],
      ['UPDATE_CONTACT', 'COMPLETED'],
    ]);
    const emails = await emailsOf(app, execution.id);
    expect(emails).toHaveLength(1);
    expect(emails[0]).toMatchObject({ status: 'FAILED', subject: 'Hello there', to: 'bounce@example.com' });
    expect(emails[0].error).toBe('550 mailbox unavailable');
    expect(execution.steps[1].output).toMatchObject({ status: 'FAILED', error: emails[0].error });
    expect(mailTo('bounce@example.com')).toHaveLength(0);
    expect((await api.get(`/contacts/${execution.contactId}`)).body.data).toEqual({ greeted: true });
  });
});

describe('emails without SMTP_URL', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('stores them as CAPTURED and completes', async () => {
    const { api } = app;
    const welcome = await createTemplate(api, { subject: 'Welcome {{name ?? friend}}', body: '<p>hi</p>' });
    const wf = await buildWorkflow(api, {
      name: 'captured welcome',
      eventName: 'signed_up',
      steps: [{ key: 'welcome', type: 'SEND_EMAIL', config: { templateId: welcome } }],
      edges: [['trigger', 'welcome']],
    });

    const execution = await trackToEnd(app.api, wf.id, 'signed_up', 'captured@example.com');

    expect(execution.status).toBe('COMPLETED');
    expect(execution.steps[1]).toMatchObject({ type: 'SEND_EMAIL', status: 'COMPLETED', output: { status: 'CAPTURED' } });
    const emails = await emailsOf(app, execution.id);
    expect(emails).toHaveLength(1);
    expect(emails[0]).toMatchObject({
      status: 'CAPTURED',
      subject: 'Welcome friend',
      to: 'captured@example.com',
      templateId: welcome,
      executionId: execution.id,
      stepId: wf.steps.welcome,
      contactId: execution.contactId,
      error: null,
    });
  });
});
