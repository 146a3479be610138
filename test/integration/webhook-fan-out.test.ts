import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorkflow, createTemplate } from '../support/builders';
import { onlyFinished } from '../support/executions';
import { startTestApp, type TestApp } from '../support/harness';
import { startHttpServer, type TestHttpServer } from '../support/http-server';
import { startSmtp, type TestSmtp } from '../support/smtp';

describe('order fan-out: EVENT → WEBHOOK → UPDATE_CONTACT → SEND_EMAIL', () => {
  let app: TestApp;
  let smtp: TestSmtp;
  let hooks: TestHttpServer;

  beforeAll(async () => {
    smtp = await startSmtp();
    hooks = await startHttpServer();
    // The receiving server listens on 127.0.0.1, which webhooks may only reach when allowed.
    app = await startTestApp({ env: { SMTP_URL: smtp.url, WEBHOOK_ALLOW_PRIVATE: 'true' } });
  });
  afterAll(async () => {
    await app?.close();
    await smtp?.close();
    await hooks?.close();
  });

  it('calls the webhook with the rendered request, merges the contact data and sends the email', async () => {
    const { api } = app;
    hooks.on('/orders/A-1001', () => ({ status: 200, body: { received: true, ticket: 'T-9' } }));
    const confirmation = await createTemplate(api, {
      subject: 'Order {{lastOrder}} confirmed',
      body: '<p>Thanks {{email}}, order {{data.lastOrder}} ({{plan}})</p>',
    });
    const wf = await buildWorkflow(api, {
      name: 'order fan-out',
      eventName: 'order_placed',
      steps: [
        {
          key: 'notify',
          type: 'WEBHOOK',
          config: {
            url: `${hooks.url}/orders/{{event.orderId}}`,
            method: 'PUT',
            headers: { 'X-Order': '{{event.orderId}}', 'Idempotency-Key': 'order-{{event.orderId}}' },
            body: { customer: '{{email}}', order: '{{event.orderId}}', plan: '{{data.plan}}', items: [2, true, null], note: 'fixed' },
          },
        },
        { key: 'remember', type: 'UPDATE_CONTACT', config: { data: { lastOrder: '{{event.orderId}}', cartToken: null } } },
        { key: 'confirm', type: 'SEND_EMAIL', config: { templateId: confirmation } },
      ],
      edges: [
        ['trigger', 'notify'],
        ['notify', 'remember'],
        ['remember', 'confirm'],
      ],
    });

    const tracked = await api.post('/v1/track', {
      event: 'order_placed',
      email: 'buyer@example.com',
      data: { plan: 'pro', cartToken: 'c-77', orderId: { value: 'A-1001', persistent: false } },
    });
    expect(tracked.status).toBe(200);

    const execution = await onlyFinished(app.api, wf.id);
    expect(execution.status).toBe('COMPLETED');
    expect(execution.error).toBeNull();
    expect(execution.completedAt).not.toBeNull();
    // The webhook's answer is recorded on its step, not merged into the context.
    expect(execution.context).toEqual({ plan: 'pro', cartToken: 'c-77', orderId: 'A-1001' });

    expect(hooks.requests).toHaveLength(1);
    const call = hooks.requests[0]!;
    expect(call.method).toBe('PUT');
    expect(call.path).toBe('/orders/A-1001');
    expect(call.headers['x-order']).toBe('A-1001');
    // The step's own key, rendered, instead of the visit's.
    expect(call.headers['idempotency-key']).toBe('order-A-1001');
    expect(call.headers['content-type']).toBe('application/json');
    // Every string is rendered; numbers, booleans and null keep their JSON types.
    expect(JSON.parse(call.body)).toStrictEqual({ customer: 'buyer@example.com', order: 'A-1001', plan: 'pro', items: [2, true, null], note: 'fixed' });

    const contact = await api.get(`/contacts/${tracked.body.data.contact}`);
    expect(contact.body.data).toEqual({ plan: 'pro', lastOrder: 'A-1001' });

    expect(smtp.messages).toHaveLength(1);
    const mail = smtp.messages[0]!;
    expect(mail.to).toEqual(['buyer@example.com']);
    expect(mail.parsed.subject).toBe('Order A-1001 confirmed');
    expect(mail.parsed.html).toContain('<p>Thanks buyer@example.com, order A-1001 (pro)</p>');

    expect(execution.steps.map((s: any) => [s.type, s.stepId, s.name, s.status])).toEqual([
      ['TRIGGER', wf.triggerId, expect.any(String), 'COMPLETED'],
      ['WEBHOOK', wf.steps.notify, 'notify', 'COMPLETED'],
      ['UPDATE_CONTACT', wf.steps.remember, 'remember', 'COMPLETED'],
      ['SEND_EMAIL', wf.steps.confirm, 'confirm', 'COMPLETED'],
    ]);
    const [, hookStep, updateStep, emailStep] = execution.steps;
    expect(hookStep.output).toEqual({ status: 200, body: { received: true, ticket: 'T-9' } });
    expect(hookStep.error).toBeNull();
    expect(updateStep.output).toMatchObject({ data: { lastOrder: 'A-1001' } });
    expect(emailStep.output).toMatchObject({ status: 'SENT' });
    for (const s of execution.steps) expect(s.completedAt).not.toBeNull();

    const emails = await api.get(`/emails?executionId=${execution.id}`);
    expect(emails.body.total).toBe(1);
    expect(emails.body.data[0]).toMatchObject({ status: 'SENT', subject: 'Order A-1001 confirmed', to: 'buyer@example.com', stepId: wf.steps.confirm });
  });

  it('posts the default body when none is configured', async () => {
    const { api } = app;
    hooks.on('/default', () => ({ status: 204 }));
    const wf = await buildWorkflow(api, {
      name: 'default body',
      eventName: 'trial_started',
      steps: [{ key: 'notify', type: 'WEBHOOK', config: { url: `${hooks.url}/default` } }],
      edges: [['trigger', 'notify']],
    });
    const before = hooks.requests.length;

    const tracked = await api.post('/v1/track', {
      event: 'trial_started',
      email: 'Trial@Example.com',
      data: { company: 'Acme', seats: { value: 5, persistent: false } },
    });
    expect(tracked.status).toBe(200);

    const execution = await onlyFinished(app.api, wf.id);
    expect(execution.status).toBe('COMPLETED');
    const calls = hooks.requests.slice(before);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.method).toBe('POST');
    expect(calls[0]!.path).toBe('/default');
    expect(calls[0]!.json).toEqual({
      contact: { id: tracked.body.data.contact, email: 'trial@example.com', subscribed: true, data: { company: 'Acme' } },
      workflow: { id: wf.id, name: 'default body' },
      execution: { id: execution.id },
      event: { company: 'Acme', seats: 5 },
    });
    expect(execution.steps.map((s: any) => [s.type, s.status])).toEqual([
      ['TRIGGER', 'COMPLETED'],
      ['WEBHOOK', 'COMPLETED'],
    ]);
    expect(execution.steps[1].output).toEqual({ status: 204, body: null });
  });
});
