import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorkflow } from '../support/builders';
import { finishedExecution } from '../support/executions';
import { startTestApp, waitFor, type TestApp } from '../support/harness';

/** Every line the process logs, parsed (a line that is not JSON fails the test that reads it). */
function captureLines(): { stream: Writable; lines: () => Record<string, any>[] } {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return {
    stream,
    lines: () =>
      text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, any>),
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('structured JSON logs with request ids', () => {
  let app: TestApp;
  const log = captureLines();

  beforeAll(async () => {
    app = await startTestApp({ env: { LOG_LEVEL: 'info' }, start: { logDestination: log.stream } });
  });
  afterAll(async () => {
    await app?.close();
  });

  it("keeps a sane X-Request-Id: echoed in the header, the error body and the request's log line", async () => {
    const missing = randomUUID();
    const res = await app.api.request('GET', `/contacts/${missing}`, undefined, { headers: { 'X-Request-Id': 'req-42.a:b' } });
    expect(res.status).toBe(404);
    expect(res.headers.get('x-request-id')).toBe('req-42.a:b');
    expect(res.body).toEqual({ error: { code: 'NOT_FOUND', message: 'contact not found', requestId: 'req-42.a:b' } });

    const lines = await waitFor(async () => {
      const mine = log.lines().filter((l) => l.requestId === 'req-42.a:b');
      return mine.length > 0 && mine;
    }, "the request's log line");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 30, service: 'trellis', req: { method: 'GET', url: `/contacts/${missing}` }, res: { statusCode: 404 } });
    expect(typeof lines[0]!.responseTime).toBe('number');
    expect(new Date(lines[0]!.time).toISOString()).toBe(lines[0]!.time);
    // Keys never reach the log.
    expect(JSON.stringify(log.lines())).not.toContain(app.project.secretKey);
  });

  it('makes a new id when there is none or the incoming one is not plain', async () => {
    const none = await app.api.get('/contacts/not-a-uuid');
    const generated = none.headers.get('x-request-id')!;
    expect(generated).toMatch(UUID);
    expect(none.body.error.requestId).toBe(generated);

    const odd = await app.api.request('GET', '/healthz', undefined, { headers: { 'X-Request-Id': 'x'.repeat(200) } });
    expect(odd.status).toBe(200);
    expect(odd.headers.get('x-request-id')).toMatch(UUID);

    await waitFor(async () => log.lines().some((l) => l.requestId === generated), 'the generated id in the log');
    // Every line about a request carries its id.
    for (const line of log.lines().filter((l) => l.req)) expect(typeof line.requestId).toBe('string');
  });

  it("routes the worker's logs into the same JSON stream: the workflow's log sink names a failed run", async () => {
    const wf = await buildWorkflow(app.api, {
      name: 'log a failure',
      manual: true,
      // A private address with WEBHOOK_ALLOW_PRIVATE unset: the step fails at once.
      steps: [{ key: 'hook', type: 'WEBHOOK', config: { url: 'http://127.0.0.1:9/hook' } }],
      edges: [['trigger', 'hook']],
    });
    const started = await app.api.post(`/workflows/${wf.id}/executions`, { email: 'logged@example.com' });
    expect((await finishedExecution(app.api, wf.id, started.body.id)).status).toBe('FAILED');

    const line = await waitFor(
      async () => log.lines().find((l) => l.msg === 'execution failed' && l.executionId === started.body.id),
      "the workflow's log line",
    );
    expect(line).toMatchObject({
      level: 40,
      component: 'temporal',
      sdkComponent: 'workflow',
      workflowId: `trellis-execution-${started.body.id}`,
      stepType: 'WEBHOOK',
    });
    expect(line.reason).toContain('is private');
  });
});
