import { afterAll, describe, expect, it } from 'vitest';
import { buildWorkflow, createTemplate } from '../support/builders';
import { onlyFinished } from '../support/executions';
import { startTestApp, waitFor, type TestApp } from '../support/harness';
import { freePort } from '../../scripts/local-servers';
import { startSmtp, type TestSmtp } from '../support/smtp';

describe('temporary SMTP failures are retried', () => {
  let app: TestApp | undefined;
  let smtp: TestSmtp | undefined;

  afterAll(async () => {
    await app?.close();
    await smtp?.close();
  });

  it('retries a refused connection and a 451 until the server accepts, then sends once', async () => {
    const port = await freePort();
    // The SMTP server is down when the workflow runs.
    app = await startTestApp({ env: { SMTP_URL: `smtp://127.0.0.1:${port}` } });
    const { api } = app;
    const template = await createTemplate(api, { subject: 'Hello {{email}}', body: '<p>hi</p>', type: 'TRANSACTIONAL' });
    const wf = await buildWorkflow(api, {
      eventName: 'joined',
      steps: [{ key: 'hello', type: 'SEND_EMAIL', config: { templateId: template } }],
      edges: [['trigger', 'hello']],
    });
    await api.post('/v1/track', { event: 'joined', email: 'retry@example.com' });
    const [execution] = await waitFor(async () => {
      const r = await api.get(`/workflows/${wf.id}/executions`);
      return r.body.total === 1 ? r.body.data : undefined;
    }, 'the execution');
    const handle = app.trellis.client.workflow.getHandle(`trellis-execution-${execution.id}`);
    await waitFor(async () => ((await handle.describe()).raw.pendingActivities?.[0]?.attempt ?? 0) >= 2, 'a retried attempt');

    // The server comes up, but answers 451 (try later) for a while.
    smtp = await startSmtp({ port });
    smtp.refuse('retry@example.com', 451, 'greylisted, try again later');
    await waitFor(async () => ((await handle.describe()).raw.pendingActivities?.[0]?.attempt ?? 0) >= 3, 'an attempt against the 451');
    expect(smtp.messages).toHaveLength(0);
    expect((await api.get(`/workflows/${wf.id}/executions/${execution.id}`)).body.status).toBe('RUNNING');

    smtp.accept('retry@example.com');
    const done = await waitFor(
      async () => {
        const r = await api.get(`/workflows/${wf.id}/executions/${execution.id}`);
        return r.body.status === 'COMPLETED' ? r.body : undefined;
      },
      'COMPLETED',
      40_000,
    );
    expect(done.steps.map((s: { type: string; status: string }) => `${s.type}:${s.status}`)).toEqual(['TRIGGER:COMPLETED', 'SEND_EMAIL:COMPLETED']);
    expect(smtp.messages.map((m) => m.parsed.subject)).toEqual(['Hello retry@example.com']);
    const emails = await api.get(`/emails?executionId=${execution.id}`);
    expect(emails.body.data.map((e: { status: string }) => e.status)).toEqual(['SENT']);
  }, 60_000);
});

describe('an SMTP attempt has a total deadline (SMTP_SEND_TIMEOUT_MS)', () => {
  let app: TestApp | undefined;
  let smtp: TestSmtp | undefined;

  afterAll(async () => {
    await app?.close();
    await smtp?.close();
  });

  it('drops a session the server stalls past the deadline, then retries; the attempts never overlap', async () => {
    smtp = await startSmtp();
    app = await startTestApp({ env: { SMTP_URL: smtp.url, SMTP_SEND_TIMEOUT_MS: '2000' } });
    const { api } = app;
    const template = await createTemplate(api, { subject: 'stalled past the deadline', body: '<p>hi</p>', type: 'TRANSACTIONAL' });
    const wf = await buildWorkflow(api, {
      eventName: 'deadline',
      steps: [{ key: 'hello', type: 'SEND_EMAIL', config: { templateId: template } }],
      edges: [['trigger', 'hello']],
    });
    let acceptedAt = 0;
    smtp.onAccepted(() => (acceptedAt = Date.now()));
    // The first attempt's message is received in full and never answered.
    const stalled = smtp.stallOnData('stalled past the deadline');
    expect((await api.post('/v1/track', { event: 'deadline', email: 'deadline@example.com' })).status).toBe(200);
    const { dropped } = await stalled;
    const arrivedAt = Date.now();
    await dropped;
    const droppedAt = Date.now();

    const done = await onlyFinished(api, wf.id);
    expect(done.status).toBe('COMPLETED');
    // Dropped by the 2 s deadline (the session was well under way when the message arrived), far
    // inside the send's 30 s timeout; the retry began only after that.
    expect(droppedAt - arrivedAt).toBeLessThan(2000);
    expect(acceptedAt).toBeGreaterThan(droppedAt);
    expect(smtp.abandoned.map((m) => m.parsed.subject)).toEqual(['stalled past the deadline']);
    expect(smtp.messages.map((m) => m.parsed.subject)).toEqual(['stalled past the deadline']);
    const emails = await api.get(`/emails?executionId=${done.id}`);
    expect(emails.body.data.map((e: { status: string }) => e.status)).toEqual(['SENT']);
  }, 60_000);
});
