import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorkflow } from '../support/builders';
import { trackToEnd } from '../support/executions';
import { startTestApp, type TestApp } from '../support/harness';
import { startHttpServer, type TestHttpServer } from '../support/http-server';

/** A WEBHOOK to `url` followed by an UPDATE_CONTACT that only runs when the webhook succeeds. */
function hookThenMark(app: TestApp, eventName: string, url: string) {
  return buildWorkflow(app.api, {
    name: `hook ${eventName}`,
    eventName,
    steps: [
      { key: 'hook', type: 'WEBHOOK', config: { url } },
      { key: 'mark', type: 'UPDATE_CONTACT', config: { data: { hooked: true } } },
    ],
    edges: [
      ['trigger', 'hook'],
      ['hook', 'mark'],
    ],
  });
}

describe('webhook failures (private addresses allowed)', () => {
  let app: TestApp;
  let hooks: TestHttpServer;

  beforeAll(async () => {
    hooks = await startHttpServer();
    app = await startTestApp({ env: { WEBHOOK_ALLOW_PRIVATE: 'true' } });
  });
  afterAll(async () => {
    await app?.close();
    await hooks?.close();
  });

  const calls = (path: string) => hooks.requests.filter((r) => r.path === path);

  it('retries a 5xx answer 5 times in all, then fails the execution naming the status and the body', async () => {
    const body = `upstream exploded: ${'x'.repeat(300)}`;
    hooks.on('/flaky', () => ({ status: 500, body }));
    const wf = await hookThenMark(app, 'hook_500', `${hooks.url}/flaky`);

    // Backoff 1 + 2 + 4 + 8 s between the 5 attempts.
    const execution = await trackToEnd(app.api, wf.id, 'hook_500', 'five-hundred@example.com', undefined, 40_000);

    expect(calls('/flaky')).toHaveLength(5);
    // The first attempt is made in the workflow task (a local activity), the others by an activity
    // task after it: the same backoff all the same, 1 s doubling (a timer never fires early; the
    // bound above allows each gap a second and a half of dispatch).
    const gaps = calls('/flaky')
      .slice(1)
      .map((c, i) => c.at - calls('/flaky')[i]!.at);
    for (const [i, gap] of gaps.entries()) {
      expect(gap).toBeGreaterThanOrEqual(1000 * 2 ** i - 50);
      expect(gap).toBeLessThan(1000 * 2 ** i + 1500);
    }
    const excerpt = `HTTP 500: ${body.slice(0, 200)}`;
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe(`step "hook" (WEBHOOK) failed: ${excerpt}`);
    expect(execution.currentStepId).toBe(wf.steps.hook);
    expect(execution.completedAt).not.toBeNull();
    expect(execution.steps.map((s: any) => [s.type, s.status])).toEqual([
      ['TRIGGER', 'COMPLETED'],
      ['WEBHOOK', 'FAILED'],
    ]);
    expect(execution.steps[1].error).toBe(excerpt);

    const contact = await app.api.get(`/contacts/${execution.contactId}`);
    expect(contact.body.data).toEqual({});

    // Temporal's own status agrees: the workflow failed (it closes just after the projection).
    const handle = app.trellis.client.workflow.getHandle(`trellis-execution-${execution.id}`);
    await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);
    expect((await handle.describe()).status.name).toBe('FAILED');
  });

  it('mends a 503 on the first attempt with the next: after 1 s, as an activity task that knows an attempt came before', async () => {
    let answered = 0;
    hooks.on('/once-busy', () => (++answered === 1 ? { status: 503, body: 'busy' } : { status: 200, body: { took: answered } }));
    const wf = await hookThenMark(app, 'hook_503', `${hooks.url}/once-busy`);

    const execution = await trackToEnd(app.api, wf.id, 'hook_503', 'once-busy@example.com');

    const [first, second] = calls('/once-busy');
    expect(calls('/once-busy')).toHaveLength(2);
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(950);
    // Both attempts carry the visit's key: the receiver can tell the second is a retry.
    expect([first!.headers['idempotency-key'], second!.headers['idempotency-key']]).toEqual([`${execution.id}:1`, `${execution.id}:1`]);
    expect(execution.status).toBe('COMPLETED');
    expect(execution.steps.map((s: any) => [s.type, s.status])).toEqual([
      ['TRIGGER', 'COMPLETED'],
      ['WEBHOOK', 'COMPLETED'],
      ['UPDATE_CONTACT', 'COMPLETED'],
    ]);
    expect(execution.steps[1].output).toEqual({ status: 200, body: { took: 2 } });
    expect((await app.api.get(`/contacts/${execution.contactId}`)).body.data).toEqual({ hooked: true });

    // In Temporal's history: the first attempt a local activity (its marker), the backoff a timer,
    // then one activity task marked as following an earlier attempt.
    const history = await app.trellis.client.workflow.getHandle(`trellis-execution-${execution.id}`).fetchHistory();
    const decode = (p: { data?: Uint8Array | null }) => JSON.parse(Buffer.from(p.data!).toString());
    const calledWebhook = (history.events ?? []).flatMap((e) => {
      const marker = e.markerRecordedEventAttributes;
      if (marker?.markerName === 'core_local_activity' && decode(marker.details!.data!.payloads![0]!).activity_type === 'callWebhook') return ['local'];
      if (e.timerStartedEventAttributes) return [`timer ${Number(e.timerStartedEventAttributes.startToFireTimeout!.seconds)} s`];
      const task = e.activityTaskScheduledEventAttributes;
      if (task?.activityType?.name === 'callWebhook') return [`task, earlierAttempt: ${decode(task.input!.payloads![0]!).earlierAttempt}`];
      return [];
    });
    expect(calledWebhook).toEqual(['local', 'timer 1 s', 'task, earlierAttempt: true']);
  });

  it('fails at once on a 4xx answer other than 408/429', async () => {
    hooks.on('/gone', () => ({ status: 404, body: 'no such hook' }));
    const wf = await hookThenMark(app, 'hook_404', `${hooks.url}/gone`);

    const execution = await trackToEnd(app.api, wf.id, 'hook_404', 'four-oh-four@example.com');

    expect(calls('/gone')).toHaveLength(1);
    expect(execution.status).toBe('FAILED');
    expect(execution.error).toBe('step "hook" (WEBHOOK) failed: HTTP 404: no such hook');
    expect(execution.steps.map((s: any) => [s.type, s.status, s.error])).toEqual([
      ['TRIGGER', 'COMPLETED', null],
      ['WEBHOOK', 'FAILED', 'HTTP 404: no such hook'],
    ]);
    const contact = await app.api.get(`/contacts/${execution.contactId}`);
    expect(contact.body.data).toEqual({});
  });

  it('continues on a 2xx answer', async () => {
    hooks.on('/accepted', () => ({ status: 202, body: 'queued' }));
    const wf = await hookThenMark(app, 'hook_202', `${hooks.url}/accepted`);

    const execution = await trackToEnd(app.api, wf.id, 'hook_202', 'accepted@example.com');

    expect(calls('/accepted')).toHaveLength(1);
    expect(execution.status).toBe('COMPLETED');
    expect(execution.error).toBeNull();
    expect(execution.steps.map((s: any) => [s.type, s.status])).toEqual([
      ['TRIGGER', 'COMPLETED'],
      ['WEBHOOK', 'COMPLETED'],
      ['UPDATE_CONTACT', 'COMPLETED'],
    ]);
    expect(execution.steps[1].output).toEqual({ status: 202, body: 'queued' });
    const contact = await app.api.get(`/contacts/${execution.contactId}`);
    expect(contact.body.data).toEqual({ hooked: true });
  });
});

describe('webhook to a private address (WEBHOOK_ALLOW_PRIVATE unset)', () => {
  let app: TestApp;
  let hooks: TestHttpServer;

  beforeAll(async () => {
    hooks = await startHttpServer();
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.close();
    await hooks?.close();
  });

  it('refuses the call: nothing reaches the server and the execution fails naming the address', async () => {
    const port = new URL(hooks.url).port;
    const wf = await hookThenMark(app, 'hook_private', `http://127.0.0.1:${port}/internal`);

    const execution = await trackToEnd(app.api, wf.id, 'hook_private', 'private@example.com');

    expect(hooks.requests).toHaveLength(0);
    expect(execution.status).toBe('FAILED');
    const refusal = 'webhook address 127.0.0.1 (127.0.0.1) is private; set WEBHOOK_ALLOW_PRIVATE=true to allow it';
    expect(execution.error).toBe(`step "hook" (WEBHOOK) failed: ${refusal}`);
    expect(execution.steps.map((s: any) => [s.type, s.status])).toEqual([
      ['TRIGGER', 'COMPLETED'],
      ['WEBHOOK', 'FAILED'],
    ]);
    expect(execution.steps[1].error).toBe(refusal);
    const contact = await app.api.get(`/contacts/${execution.contactId}`);
    expect(contact.body.data).toEqual({});
  });
});
