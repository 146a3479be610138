import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWorkflow } from '../support/builders';
import { startTestApp, waitFor, type TestApp } from '../support/harness';

describe('closes that run no workflow code', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ start: { reconcileEveryMs: 1000 } });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('shows a run terminated from the CLI or Web UI as CANCELLED', async () => {
    const { api } = app;
    const wf = await buildWorkflow(api, {
      eventName: 'trial_started',
      steps: [{ key: 'wait', type: 'WAIT_FOR_EVENT', config: { eventName: 'converted' } }],
      edges: [['trigger', 'wait']],
    });
    await api.post('/v1/track', { event: 'trial_started', email: 'term@example.com' });
    const execution = await waitFor(async () => {
      const list = await api.get(`/workflows/${wf.id}/executions?status=WAITING`);
      return list.body.data[0];
    }, 'WAITING');

    await app.trellis.client.workflow.getHandle(`trellis-execution-${execution.id}`).terminate('operator stopped it');

    const closed = await waitFor(async () => {
      const r = await api.get(`/workflows/${wf.id}/executions/${execution.id}`);
      return r.body.status === 'CANCELLED' ? r.body : undefined;
    }, 'CANCELLED after terminate', 60_000);
    expect(closed.completedAt).not.toBeNull();
    expect(closed.steps.map((s: { type: string; status: string }) => `${s.type}:${s.status}`)).toEqual(['TRIGGER:COMPLETED', 'WAIT_FOR_EVENT:CANCELLED']);
    // A second pass finds nothing more to do.
    expect(await app.trellis.reconciler!.pass()).toBe(0);
  });
});
