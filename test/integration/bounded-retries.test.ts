/**
 * Retries end: a failure that no retry can fix fails the execution at once, naming the step and the
 * cause; an SMTP server that stays down past the retry bound fails it with the server's last answer,
 * while one that comes back within the bound gets the email once. On the time-skipping server, where
 * the retries' backoff passes in moments.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/local-servers';
import { buildWorkflow, createTemplate } from '../support/builders';
import { onlyExecutionIn } from '../support/executions';
import { startSmtp, type TestSmtp } from '../support/smtp';
import { startSkippingApp, type SkippingApp } from '../support/time-skipping';

describe('bounded retries', () => {
  let app: SkippingApp;
  let smtpPort: number;
  let smtp: TestSmtp | undefined;

  beforeAll(async () => {
    // Nothing listens on the SMTP port until a test starts the server there.
    smtpPort = await freePort();
    app = await startSkippingApp({ SMTP_URL: `smtp://127.0.0.1:${smtpPort}` });
  });
  afterAll(async () => {
    await app?.close();
    await smtp?.close();
  });

  it('fails a step that fails the same way on every attempt at once, with the step and the cause', async () => {
    const wf = await buildWorkflow(app.api, {
      eventName: 'too.big',
      steps: [{ key: 'huge', type: 'UPDATE_CONTACT', name: 'Write a huge value', config: { data: { huge: '{% for i in (1..100000000) %}x{% endfor %}' } } }],
      edges: [['trigger', 'huge']],
    });
    const tracked = await app.api.post('/v1/track', { event: 'too.big', email: 'huge@example.com' });
    const failed = await onlyExecutionIn(app.api, wf.id, tracked.body.data.contact, ['FAILED'], 60_000);
    expect(failed.error).toBe('step "Write a huge value" (UPDATE_CONTACT) failed: memory alloc limit exceeded (line 1, column 1)');
    const detail = await app.api.get(`/workflows/${wf.id}/executions/${failed.id}`);
    expect(detail.body.steps.map((s: { type: string; status: string; error: string | null }) => [s.type, s.status, s.error])).toEqual([
      ['TRIGGER', 'COMPLETED', null],
      ['UPDATE_CONTACT', 'FAILED', 'memory alloc limit exceeded (line 1, column 1)'],
    ]);
    expect((await app.api.get(`/contacts/${tracked.body.data.contact}`)).body.data).toEqual({});
  });

  it('fails a send whose SMTP server stays down past the retry bound, with its last answer', async () => {
    const templateId = await createTemplate(app.api, { subject: 'Hello', body: '<p>hi</p>', type: 'TRANSACTIONAL' });
    const wf = await buildWorkflow(app.api, {
      eventName: 'smtp.down',
      steps: [{ key: 'send', type: 'SEND_EMAIL', name: 'Send hello', config: { templateId } }],
      edges: [['trigger', 'send']],
    });
    const tracked = await app.api.post('/v1/track', { event: 'smtp.down', email: 'down@example.com' });
    await onlyExecutionIn(app.api, wf.id, tracked.body.data.contact, ['RUNNING']);
    await app.env.sleep('30 minutes');
    const failed = await onlyExecutionIn(app.api, wf.id, tracked.body.data.contact, ['FAILED'], 60_000);
    expect(failed.error).toBe(`step "Send hello" (SEND_EMAIL) failed: connect ECONNREFUSED 127.0.0.1:${smtpPort}`);
  });

  it('delivers once when the SMTP server is back within the bound', async () => {
    const templateId = await createTemplate(app.api, { subject: 'Back again', body: '<p>hi</p>', type: 'TRANSACTIONAL' });
    const wf = await buildWorkflow(app.api, {
      eventName: 'smtp.back',
      steps: [{ key: 'send', type: 'SEND_EMAIL', config: { templateId } }],
      edges: [['trigger', 'send']],
    });
    const tracked = await app.api.post('/v1/track', { event: 'smtp.back', email: 'back@example.com' });
    await onlyExecutionIn(app.api, wf.id, tracked.body.data.contact, ['RUNNING']);
    await app.env.sleep('5 minutes');
    smtp = await startSmtp({ port: smtpPort });
    await app.env.sleep('5 minutes');
    const done = await onlyExecutionIn(app.api, wf.id, tracked.body.data.contact, ['COMPLETED'], 60_000);
    expect(done.error).toBeNull();
    expect(smtp.messages.map((m) => [m.to, m.parsed.subject])).toEqual([[['back@example.com'], 'Back again']]);
  });
});
