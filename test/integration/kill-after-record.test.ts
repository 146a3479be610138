/**
 * SPEC §7.4, the window after the record: the SMTP server accepted the email and the send was
 * recorded, but the worker is killed before Temporal learns that the activity completed. The worker
 * reaches Temporal through a proxy that the test cuts the moment the server accepts, so the record
 * commits (Postgres is reached directly) while the completion cannot be reported; then SIGKILL. The
 * retry on a new worker finds the record and does not send again.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { temporal } from '@temporalio/proto';
import { buildWorkflow, createTemplate } from '../support/builders';
import { startTestApp, waitFor, type TestApp } from '../support/harness';
import { startSmtp, type TestSmtp } from '../support/smtp';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';

describe('a worker killed after the send was recorded', () => {
  let app: TestApp;
  let smtp: TestSmtp;
  let proxy: TcpProxy;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    smtp = await startSmtp();
    proxy = await startTcpProxy(inject('temporalAddress'));
    app = await startTestApp({ env: { ROLE: 'api', SMTP_URL: smtp.url } });
  });
  afterAll(async () => {
    for (const w of workers) await w.kill();
    await app?.close();
    await proxy?.close();
    await smtp?.close();
  });

  it('does not send the email again', async () => {
    const { api } = app;
    const template = await createTemplate(api, { subject: 'Receipt {{event.order}}', body: '<p>thanks</p>', type: 'TRANSACTIONAL' });
    const wf = await buildWorkflow(api, {
      eventName: 'paid',
      steps: [
        { key: 'receipt', type: 'SEND_EMAIL', config: { templateId: template } },
        { key: 'tag', type: 'UPDATE_CONTACT', config: { data: { receipt: 'sent' } } },
      ],
      edges: [
        ['trigger', 'receipt'],
        ['receipt', 'tag'],
      ],
    });
    const env = { SMTP_URL: smtp.url, TEMPORAL_ADDRESS: proxy.address };
    const first = await startWorkerProcess(app.trellis.config.taskQueue, env);
    workers.push(first);
    // The moment the server accepts, the worker loses Temporal (but not Postgres).
    smtp.onAccepted(() => proxy.down());

    const tracked = await api.post('/v1/track', { event: 'paid', email: 'kill@example.com', data: { order: 'R-7' } });
    expect(tracked.status).toBe(200);
    const [email] = await waitFor(async () => {
      const r = await api.get(`/emails?contactId=${tracked.body.data.contact}`);
      return r.body.total === 1 ? r.body.data : undefined;
    }, 'the send to be recorded');
    expect(email.status).toBe('SENT');
    const [execution] = (await api.get(`/workflows/${wf.id}/executions`)).body.data;
    // Temporal never heard of the completion: the workflow task that ran the send (its first
    // attempt is a local activity) is still open there, with no activity task.
    const handle = app.trellis.client.workflow.getHandle(`trellis-execution-${execution.id}`);
    const described = (await handle.describe()).raw;
    expect(described.pendingActivities ?? []).toEqual([]);
    expect(described.pendingWorkflowTask?.state).toBe(temporal.api.enums.v1.PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_STARTED);

    await first.kill();
    smtp.onAccepted(undefined);
    proxy.up();
    workers.push(await startWorkerProcess(app.trellis.config.taskQueue, env));

    // The workflow task times out (10 s) and runs again on the new worker; the send's attempt there
    // finds the record and moves on.
    const done = await waitFor(
      async () => {
        const r = await api.get(`/workflows/${wf.id}/executions/${execution.id}`);
        return r.body.status === 'COMPLETED' ? r.body : undefined;
      },
      'COMPLETED',
      90_000,
    );
    expect(done.steps.map((s: { type: string; status: string }) => `${s.type}:${s.status}`)).toEqual([
      'TRIGGER:COMPLETED',
      'SEND_EMAIL:COMPLETED',
      'UPDATE_CONTACT:COMPLETED',
    ]);
    expect(smtp.messages).toHaveLength(1);
    expect(smtp.messages[0]!.parsed.subject).toBe('Receipt R-7');
    expect(smtp.messages[0]!.parsed.messageId).toBe(email.messageId);
    const emails = await api.get(`/emails?executionId=${execution.id}`);
    expect(emails.body.data.map((e: { status: string }) => e.status)).toEqual(['SENT']);
    // The run closes in Temporal just after the projection.
    expect(await handle.result()).toEqual({ status: 'COMPLETED' });
  }, 150_000);
});
