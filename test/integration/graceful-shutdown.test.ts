/**
 * Graceful shutdown (SIGTERM): Trellis runs as its own process (`app/main.ts`, ROLE=all; a second
 * API runs in this process with ROLE=api). SIGTERM arrives while a SEND_EMAIL is in the SMTP server's
 * hands: the process stops taking HTTP requests and new Temporal tasks at once, lets the send finish
 * and record, and exits 0. A new process then finishes the execution, and each email arrives once.
 * Past the grace period a call still in flight (an SMTP send, a webhook) is given up and made again
 * by the next process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageIdFor } from '../../activities/send-email';
import { temporalWorkflowId } from '../../core/execution';
import { buildWorkflow, createTemplate } from '../support/builders';
import { executionIn } from '../support/executions';
import { startTestApp, waitFor, type TestApp } from '../support/harness';
import { startHttpServer, type TestHttpServer } from '../support/http-server';
import { startSmtp, type TestSmtp } from '../support/smtp';
import { startWorkerProcess, type WorkerProcess } from '../support/worker-process';

const PUBLIC_URL = 'http://trellis.test';

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('SIGTERM', () => {
  let app: TestApp;
  let smtp: TestSmtp;
  let hooks: TestHttpServer;
  const processes: WorkerProcess[] = [];
  const release = deferred();

  beforeAll(async () => {
    smtp = await startSmtp();
    hooks = await startHttpServer();
    app = await startTestApp({ env: { ROLE: 'api', SMTP_URL: smtp.url, PUBLIC_URL } });
  });
  afterAll(async () => {
    release.resolve();
    for (const p of processes) {
      if (p.child.exitCode === null && p.child.signalCode === null) await p.kill();
    }
    await app?.close();
    await smtp?.close();
    await hooks?.close();
  });

  async function startProcess(env: Record<string, string>): Promise<WorkerProcess> {
    const p = await startWorkerProcess(app.trellis.config.taskQueue, { SMTP_URL: smtp.url, PUBLIC_URL, ...env });
    processes.push(p);
    return p;
  }

  it('during an email step loses nothing: the send finishes, the process exits 0, the next one completes the run', { timeout: 180_000 }, async () => {
    const { api } = app;
    const first = await createTemplate(api, { subject: 'sent during shutdown', body: '<p>one</p>', type: 'TRANSACTIONAL' });
    const second = await createTemplate(api, { subject: 'sent after restart', body: '<p>two</p>', type: 'TRANSACTIONAL' });
    const wf = await buildWorkflow(api, {
      manual: true,
      steps: [
        { key: 'first', type: 'SEND_EMAIL', config: { templateId: first } },
        { key: 'second', type: 'SEND_EMAIL', config: { templateId: second } },
      ],
      edges: [
        ['trigger', 'first'],
        ['first', 'second'],
      ],
    });

    // The first email reaches the server, which answers only when the test says so.
    const arrived = deferred();
    smtp.beforeAccept(async (mail) => {
      if (mail.parsed.subject !== 'sent during shutdown') return;
      arrived.resolve();
      await release.promise;
    });

    const trellis = await startProcess({ ROLE: 'all', HOST: '127.0.0.1', PORT: '0' });
    const url = /API at (http:\/\/[0-9.:]+)/.exec(trellis.output())?.[1];
    expect(url, trellis.output()).toBeDefined();
    expect((await fetch(`${url}/healthz`)).status).toBe(200);

    const started = await api.post(`/workflows/${wf.id}/executions`, { email: 'shutdown@example.com' });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const executionId = started.body.id as string;
    await arrived.promise;

    trellis.child.kill('SIGTERM');
    await waitFor(async () => trellis.output().includes('SIGTERM: shutting down'), 'the process to start shutting down');
    // No new HTTP requests (the listener is closed) while the send is still in flight.
    await waitFor(
      async () =>
        fetch(`${url}/healthz`).then(
          () => false,
          () => true,
        ),
      'the API to stop accepting connections',
    );
    expect(trellis.child.exitCode).toBeNull();

    release.resolve();
    await trellis.exited;
    expect(trellis.child.exitCode, trellis.output()).toBe(0);

    // The send was recorded before the exit; the next step was left to another process.
    const between = await api.get(`/workflows/${wf.id}/executions/${executionId}`);
    expect(between.body.status).toBe('RUNNING');
    expect(between.body.steps.map((s: any) => [s.type, s.status, s.output?.status ?? null])).toEqual([
      ['TRIGGER', 'COMPLETED', null],
      ['SEND_EMAIL', 'COMPLETED', 'SENT'],
    ]);
    expect(smtp.messages.map((m) => m.parsed.subject)).toEqual(['sent during shutdown']);

    await startProcess({ ROLE: 'worker' });
    const done = await executionIn(api, wf.id, executionId, ['COMPLETED'], 60_000);
    expect(done.steps.map((s: any) => [s.type, s.status, s.output?.status ?? null])).toEqual([
      ['TRIGGER', 'COMPLETED', null],
      ['SEND_EMAIL', 'COMPLETED', 'SENT'],
      ['SEND_EMAIL', 'COMPLETED', 'SENT'],
    ]);
    await waitFor(
      async () => (await app.trellis.client.workflow.getHandle(temporalWorkflowId(executionId)).describe()).status.name === 'COMPLETED',
      'Temporal to close the run as COMPLETED',
    );

    // Each email exactly once: one copy per Message-ID, none abandoned, both recorded SENT.
    expect(smtp.messages.map((m) => [m.parsed.messageId, m.parsed.subject])).toEqual([
      [messageIdFor(executionId, wf.steps.first!, PUBLIC_URL), 'sent during shutdown'],
      [messageIdFor(executionId, wf.steps.second!, PUBLIC_URL), 'sent after restart'],
    ]);
    expect(smtp.abandoned).toHaveLength(0);
    const emails = await api.get(`/emails?executionId=${executionId}`);
    expect(emails.body.total).toBe(2);
    expect((emails.body.data as any[]).map((e) => e.status)).toEqual(['SENT', 'SENT']);
  });

  it('past SHUTDOWN_GRACE_MS a send still in flight is given up (session closed, nothing recorded) and retried by the next process', {
    timeout: 180_000,
  }, async () => {
    const { api } = app;
    const template = await createTemplate(api, { subject: 'stalled at shutdown', body: '<p>late</p>', type: 'TRANSACTIONAL' });
    const wf = await buildWorkflow(api, {
      manual: true,
      steps: [{ key: 'mail', type: 'SEND_EMAIL', config: { templateId: template } }],
      edges: [['trigger', 'mail']],
    });
    // Only the process started below polls the task queue.
    for (const p of processes.filter((p) => p.child.exitCode === null && p.child.signalCode === null)) {
      p.child.kill('SIGTERM');
      await p.exited;
    }
    // The server never answers the first attempt.
    const stalled = smtp.stallOnData('stalled at shutdown');
    const worker = await startProcess({ ROLE: 'worker', SHUTDOWN_GRACE_MS: '1000' });
    const started = await api.post(`/workflows/${wf.id}/executions`, { email: 'grace@example.com' });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const executionId = started.body.id as string;
    const { dropped } = await stalled;

    const signalledAt = Date.now();
    worker.child.kill('SIGTERM');
    await dropped;
    const droppedAfterMs = Date.now() - signalledAt;
    await worker.exited;
    const exitedAfterMs = Date.now() - signalledAt;
    console.log(`SMTP session closed ${droppedAfterMs} ms, process exited ${exitedAfterMs} ms after SIGTERM (grace 1000 ms)`);
    expect(droppedAfterMs).toBeGreaterThanOrEqual(1000);
    expect(worker.child.exitCode, worker.output()).toBe(0);
    expect(exitedAfterMs).toBeLessThan(10_000);

    // Nothing of the abandoned attempt was recorded.
    const between = await api.get(`/workflows/${wf.id}/executions/${executionId}`);
    expect(between.body.status).toBe('RUNNING');
    expect(between.body.steps.map((s: any) => [s.type, s.status])).toEqual([
      ['TRIGGER', 'COMPLETED'],
      ['SEND_EMAIL', 'RUNNING'],
    ]);
    expect((await api.get(`/emails?executionId=${executionId}`)).body.total).toBe(0);

    await startProcess({ ROLE: 'worker' });
    const done = await executionIn(api, wf.id, executionId, ['COMPLETED'], 60_000);
    expect(done.steps.map((s: any) => [s.type, s.status, s.output?.status ?? null])).toEqual([
      ['TRIGGER', 'COMPLETED', null],
      ['SEND_EMAIL', 'COMPLETED', 'SENT'],
    ]);
    const copies = (list: typeof smtp.messages) => list.filter((m) => m.parsed.subject === 'stalled at shutdown').map((m) => m.parsed.messageId);
    expect(copies(smtp.abandoned)).toEqual([messageIdFor(executionId, wf.steps.mail!, PUBLIC_URL)]);
    expect(copies(smtp.messages)).toEqual([messageIdFor(executionId, wf.steps.mail!, PUBLIC_URL)]);
  });

  it('past SHUTDOWN_GRACE_MS a webhook call in flight (its first attempt, a local activity) is given up and made again by the next process, after its backoff', {
    timeout: 180_000,
  }, async () => {
    const { api } = app;
    const wf = await buildWorkflow(api, {
      manual: true,
      steps: [
        { key: 'hook', type: 'WEBHOOK', config: { url: `${hooks.url}/held-at-shutdown` } },
        { key: 'mark', type: 'UPDATE_CONTACT', config: { data: { hooked: true } } },
      ],
      edges: [
        ['trigger', 'hook'],
        ['hook', 'mark'],
      ],
    });
    // Only the process started below polls the task queue.
    for (const p of processes.filter((p) => p.child.exitCode === null && p.child.signalCode === null)) {
      p.child.kill('SIGTERM');
      await p.exited;
    }
    // The receiver holds the first call unanswered; it answers the next.
    const held = hooks.hold('/held-at-shutdown');
    const worker = await startProcess({ ROLE: 'worker', SHUTDOWN_GRACE_MS: '1000', WEBHOOK_ALLOW_PRIVATE: 'true' });
    const started = await api.post(`/workflows/${wf.id}/executions`, { email: 'hook-grace@example.com' });
    expect(started.status, JSON.stringify(started.body)).toBe(201);
    const executionId = started.body.id as string;
    const { dropped } = await held;
    hooks.release('/held-at-shutdown');

    const signalledAt = Date.now();
    worker.child.kill('SIGTERM');
    await dropped;
    const droppedAfterMs = Date.now() - signalledAt;
    await worker.exited;
    expect(droppedAfterMs).toBeGreaterThanOrEqual(1000);
    expect(worker.child.exitCode, worker.output()).toBe(0);

    // Nothing of the abandoned call was recorded.
    const between = await api.get(`/workflows/${wf.id}/executions/${executionId}`);
    expect(between.body.status).toBe('RUNNING');
    expect(between.body.steps.map((s: any) => [s.type, s.status])).toEqual([
      ['TRIGGER', 'COMPLETED'],
      ['WEBHOOK', 'RUNNING'],
    ]);

    await startProcess({ ROLE: 'worker', WEBHOOK_ALLOW_PRIVATE: 'true' });
    const done = await executionIn(api, wf.id, executionId, ['COMPLETED'], 60_000);
    expect(done.steps.map((s: any) => [s.type, s.status, s.output])).toEqual([
      ['TRIGGER', 'COMPLETED', { type: 'MANUAL' }],
      ['WEBHOOK', 'COMPLETED', { status: 200, body: { ok: true } }],
      ['UPDATE_CONTACT', 'COMPLETED', { data: { hooked: true }, subscribed: true }],
    ]);
    const calls = hooks.requests.filter((r) => r.path === '/held-at-shutdown');
    expect(calls).toHaveLength(2);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(1000);
  });
});
