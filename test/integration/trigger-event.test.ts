import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorkflow } from '../support/builders';
import { onlyFinished } from '../support/executions';
import { startTestApp, waitFor, type TestApp } from '../support/harness';

describe('TRIGGER_EVENT and causal depth', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  it('refuses a reserved or empty event name, naming the path', async () => {
    const wf = await buildWorkflow(app.api, { name: 'bad trigger event', steps: [], edges: [], enabled: false });
    const reserved = await app.api.post(`/workflows/${wf.id}/steps`, { type: 'TRIGGER_EVENT', config: { eventName: 'tag.vip.added', data: [] } });
    expect(reserved.status).toBe(400);
    expect(reserved.body.error.details.map((d: any) => d.path)).toEqual(['config.eventName', 'config.data']);
    const empty = await app.api.post(`/workflows/${wf.id}/steps`, { type: 'TRIGGER_EVENT', config: { eventName: ' ' } });
    expect(empty.status).toBe(400);
    expect(empty.body.error.details).toEqual([{ path: 'config.eventName', message: 'eventName must not be empty' }]);
  });

  it('records the rendered event, which starts the workflows it triggers with its data', async () => {
    const { api } = app;
    const source = await buildWorkflow(api, {
      name: 'upgrade announcer',
      eventName: 'plan_changed',
      steps: [{ key: 'announce', type: 'TRIGGER_EVENT', config: { eventName: 'upgraded', data: { plan: '{{event.plan}}', who: '{{email}}' } } }],
      edges: [['trigger', 'announce']],
    });
    const listener = await buildWorkflow(api, {
      name: 'upgrade listener',
      eventName: 'upgraded',
      steps: [{ key: 'note', type: 'UPDATE_CONTACT', config: { data: { upgradedTo: '{{plan}}' } } }],
      edges: [['trigger', 'note']],
    });
    const tracked = await api.post('/v1/track', { event: 'plan_changed', email: 'upgrader@example.com', data: { plan: { value: 'pro', persistent: false } } });
    const contactId = tracked.body.data.contact;

    const first = await onlyFinished(api, source.id, contactId);
    expect(first.status).toBe('COMPLETED');
    expect(first.steps[1].output).toMatchObject({ enrolled: 1 });
    const second = await onlyFinished(api, listener.id, contactId);
    expect(second.context).toEqual({ plan: 'pro', who: 'upgrader@example.com' });
    expect((await api.get(`/contacts/${contactId}`)).body.data).toEqual({ upgradedTo: 'pro' });

    const events = await api.get(`/events?contactId=${contactId}&name=upgraded`);
    expect(events.body.data).toHaveLength(1);
    expect(events.body.data[0]).toMatchObject({ id: first.steps[1].output.eventId, depth: 1, data: { plan: 'pro', who: 'upgrader@example.com' } });
  });

  it('two workflows that trigger each other with allowReentry stop at depth 10', async () => {
    const { api } = app;
    const ping = await buildWorkflow(api, {
      name: 'ping',
      eventName: 'ping',
      allowReentry: true,
      steps: [{ key: 'send', type: 'TRIGGER_EVENT', config: { eventName: 'pong' } }],
      edges: [['trigger', 'send']],
    });
    const pong = await buildWorkflow(api, {
      name: 'pong',
      eventName: 'pong',
      allowReentry: true,
      steps: [{ key: 'send', type: 'TRIGGER_EVENT', config: { eventName: 'ping' } }],
      edges: [['trigger', 'send']],
    });
    const tracked = await api.post('/v1/track', { event: 'ping', email: 'loop@example.com' });
    const contactId = tracked.body.data.contact;

    // The depth-10 ping execution records pong at depth 11: stored, but it enrols nobody.
    const pongs = await waitFor(
      async () => {
        const r = await api.get(`/events?contactId=${contactId}&name=pong&pageSize=100`);
        return r.body.data.some((e: any) => e.depth === 11) ? r.body.data : undefined;
      },
      'the pong at depth 11',
      60_000,
    );
    expect(pongs.map((e: any) => e.depth).reverse()).toEqual([1, 3, 5, 7, 9, 11]);
    const pings = await api.get(`/events?contactId=${contactId}&name=ping&pageSize=100`);
    expect(pings.body.data.map((e: any) => e.depth).reverse()).toEqual([0, 2, 4, 6, 8, 10]);

    const finished = async (workflowId: string, n: number) =>
      waitFor(async () => {
        const r = await api.get(`/workflows/${workflowId}/executions?pageSize=100`);
        return r.body.total === n && r.body.data.every((e: any) => e.status === 'COMPLETED') ? r.body.data : undefined;
      }, `${n} completed executions`);
    const pingRuns = await finished(ping.id, 6);
    await finished(pong.id, 5);

    const last = await api.get(`/workflows/${ping.id}/executions/${pingRuns[0].id}`);
    expect(last.body.steps[1].output).toEqual({ eventId: pongs[0].id, enrolled: 0, skippedEnrolments: 'depth' });
    const earlier = await api.get(`/workflows/${ping.id}/executions/${pingRuns[1].id}`);
    expect(earlier.body.steps[1].output).toMatchObject({ enrolled: 1 });
  });
});
