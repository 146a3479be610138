/**
 * The Temporal server stops and starts again on the same database file while runs sit in a DELAY, in
 * a WAIT_FOR_EVENT and in the middle of a WEBHOOK call (the receiver holds the request, and answers
 * while Temporal is down). Trellis keeps its connections and carries on: every run finishes, and each
 * sends its one email once. The dev server here is this file's own (its own port and database file).
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startTemporalDevServer, type DevServer } from '../../scripts/local-servers';
import { buildWorkflow, createTemplate } from '../support/builders';
import { executionIn, onlyExecutionIn } from '../support/executions';
import { startTestApp, waitFor, type TestApp } from '../support/harness';
import { startSmtp, type TestSmtp } from '../support/smtp';

/** An HTTP receiver that holds every request until the test answers it. */
async function startHoldingReceiver() {
  const held: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    held.push(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    held,
    answerAll(body: unknown) {
      for (const res of held.filter((r) => !r.writableEnded)) res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

describe('a restart of the Temporal server', () => {
  let dir: string;
  let port: number;
  let temporal: DevServer;
  let smtp: TestSmtp;
  let receiver: Awaited<ReturnType<typeof startHoldingReceiver>>;
  let app: TestApp;
  const start = () => startTemporalDevServer({ port, dbFilename: path.join(dir, 'temporal.db') });

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-restart-'));
    port = await freePort();
    temporal = await start();
    smtp = await startSmtp();
    receiver = await startHoldingReceiver();
    app = await startTestApp({
      // While the server is down the SDK logs every reconnect attempt at warn: expected here.
      env: { TEMPORAL_ADDRESS: temporal.address, SMTP_URL: smtp.url, WEBHOOK_ALLOW_PRIVATE: 'true', LOG_LEVEL: process.env.LOG_LEVEL ?? 'error' },
    });
  });
  afterAll(async () => {
    await app?.close();
    await temporal?.stop();
    await receiver?.close();
    await smtp?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('finishes runs that were in a DELAY, a WAIT_FOR_EVENT and a WEBHOOK call, each email sent once', async () => {
    const { api } = app;
    const template = await createTemplate(api, { subject: 'Hello {{ event.kind }}', body: '<p>hello</p>' });
    const email = { key: 'email', type: 'SEND_EMAIL', config: { templateId: template } };
    const delayed = await buildWorkflow(api, {
      eventName: 'delayed',
      steps: [{ key: 'pause', type: 'DELAY', config: { amount: 1, unit: 'minutes' } }, email],
      edges: [
        ['trigger', 'pause'],
        ['pause', 'email'],
      ],
    });
    const waiting = await buildWorkflow(api, {
      eventName: 'waiting',
      steps: [{ key: 'wait', type: 'WAIT_FOR_EVENT', config: { eventName: 'paid', timeout: 3600 } }, email],
      edges: [
        ['trigger', 'wait'],
        ['wait', 'email', 'event'],
      ],
    });
    const hooked = await buildWorkflow(api, {
      eventName: 'hooked',
      steps: [{ key: 'hook', type: 'WEBHOOK', config: { url: receiver.url } }, email],
      edges: [
        ['trigger', 'hook'],
        ['hook', 'email'],
      ],
    });

    for (const kind of ['delayed', 'waiting', 'hooked']) {
      const tracked = await api.post('/v1/track', { event: kind, email: `${kind}@restart.test`, data: { kind } });
      expect(tracked.status).toBe(200);
    }
    const inDelay = await onlyExecutionIn(api, delayed.id, undefined, ['WAITING']);
    const inWait = await onlyExecutionIn(api, waiting.id, undefined, ['WAITING']);
    await waitFor(async () => receiver.held.length === 1, 'the webhook request at the receiver');
    const inHook = await onlyExecutionIn(api, hooked.id, undefined, ['RUNNING']);

    // Temporal goes down; meanwhile the receiver answers and the awaited event arrives (queued in Postgres).
    await temporal.stop();
    receiver.answerAll({ ok: true });
    expect((await api.post('/v1/track', { event: 'paid', email: 'waiting@restart.test', data: { kind: 'paid' } })).status).toBe(200);
    temporal = await start();

    const finished = await Promise.all(
      [
        [delayed, inDelay],
        [waiting, inWait],
        [hooked, inHook],
      ].map(([wf, e]) => executionIn(api, wf.id, e.id, ['COMPLETED', 'FAILED', 'CANCELLED'], 150_000)),
    );
    expect(finished.map((e) => e.status)).toEqual(['COMPLETED', 'COMPLETED', 'COMPLETED']);
    expect(finished.map((e) => e.steps.map((s: { type: string; status: string }) => `${s.type}:${s.status}`))).toEqual([
      ['TRIGGER:COMPLETED', 'DELAY:COMPLETED', 'SEND_EMAIL:COMPLETED'],
      ['TRIGGER:COMPLETED', 'WAIT_FOR_EVENT:COMPLETED', 'SEND_EMAIL:COMPLETED'],
      ['TRIGGER:COMPLETED', 'WEBHOOK:COMPLETED', 'SEND_EMAIL:COMPLETED'],
    ]);
    expect(finished[1].steps[1].output.outcome).toBe('event');
    expect(finished[2].steps[1].output).toEqual({ status: 200, body: { ok: true } });
    // One request to the receiver (a retry finds the recorded answer), one email per run.
    expect(receiver.held).toHaveLength(1);
    expect(smtp.messages.map((m) => [m.to.join(','), m.parsed.subject]).sort()).toEqual([
      ['delayed@restart.test', 'Hello delayed'],
      ['hooked@restart.test', 'Hello hooked'],
      ['waiting@restart.test', 'Hello paid'],
    ]);
    // Temporal's own view after the restart: all three runs complete (just after their last activity
    // wrote COMPLETED in Postgres).
    for (const e of finished) {
      const handle = app.trellis.client.workflow.getHandle(`trellis-execution-${e.id}`);
      await waitFor(async () => (await handle.describe()).status.name === 'COMPLETED', `run ${e.id} COMPLETED in Temporal`);
    }
  }, 240_000);
});
