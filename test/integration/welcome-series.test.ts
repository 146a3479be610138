import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorkflow, createTemplate } from '../support/builders';
import { startTestApp, waitFor, type TestApp } from '../support/harness';
import { startSmtp, type TestSmtp } from '../support/smtp';

describe('welcome series on the dev server (its completion: long-delays.test.ts)', () => {
  let app: TestApp;
  let smtp: TestSmtp;

  beforeAll(async () => {
    smtp = await startSmtp();
    app = await startTestApp({ env: { SMTP_URL: smtp.url, MAIL_FROM: 'Trellis <hello@trellis.test>' } });
  });
  afterAll(async () => {
    await app?.close();
    await smtp?.close();
  });

  it('sends the welcome email, renders the context, and waits in the DELAY', async () => {
    const { api } = app;
    const welcome = await createTemplate(api, { subject: 'Welcome, {{ firstName ?? friend }}!', body: '<p>Hi {{firstName}}, plan {{event.plan}}</p>' });
    const tips = await createTemplate(api, { subject: 'Tips for {{email}}', body: '<p>tips</p>', type: 'TRANSACTIONAL' });
    const wf = await buildWorkflow(api, {
      eventName: 'signed_up',
      steps: [
        { key: 'welcome', type: 'SEND_EMAIL', config: { templateId: welcome } },
        { key: 'wait', type: 'DELAY', config: { amount: 1, unit: 'minutes' } },
        { key: 'tips', type: 'SEND_EMAIL', config: { templateId: tips } },
      ],
      edges: [
        ['trigger', 'welcome'],
        ['welcome', 'wait'],
        ['wait', 'tips'],
      ],
    });

    const tracked = await api.post('/v1/track', {
      event: 'signed_up',
      email: 'Ada@Example.com',
      data: { firstName: 'Ada', plan: { value: 'pro', persistent: false } },
    });
    expect(tracked.status).toBe(200);
    expect(tracked.body.success).toBe(true);

    const [execution] = await waitFor(async () => {
      const list = await api.get(`/workflows/${wf.id}/executions`);
      return list.body.total === 1 ? list.body.data : undefined;
    }, 'the execution');
    expect(execution.contactId).toBe(tracked.body.data.contact);
    expect(execution.context).toEqual({ firstName: 'Ada', plan: 'pro' });

    // The first email arrives, then the execution waits in the DELAY.
    const waiting = await waitFor(async () => {
      const r = await api.get(`/workflows/${wf.id}/executions/${execution.id}`);
      return r.body.status === 'WAITING' ? r.body : undefined;
    }, 'WAITING');
    expect(waiting.currentStepId).toBe(wf.steps.wait);
    expect(smtp.messages).toHaveLength(1);
    const first = smtp.messages[0]!;
    expect(first.to).toEqual(['ada@example.com']);
    expect(first.parsed.subject).toBe('Welcome, Ada!');
    expect(first.parsed.html).toContain('<p>Hi Ada, plan pro</p>');

    const contact = await api.get(`/contacts/${execution.contactId}`);
    expect(contact.body.data).toEqual({ firstName: 'Ada' });
  });
});
